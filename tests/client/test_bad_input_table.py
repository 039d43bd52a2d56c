"""
The bad-input table: attrs, queries, ``conf`` values, ledger paths, path templates, URLs and
``jobs`` calls. Each case asserts the exception type, a message saying what to change, and how
many requests reached the emulator (none wherever the client can know before sending).

The cases of ``test_bad_inputs_fido.py`` and ``test_validation.py`` are not repeated here.
"""

import contextlib
import os
import re
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from test_bad_inputs_fido import search_error  # the sunpy-version-proof way to get a search's error

import astropy.units as u
from astropy.table import Column

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import jobs
from sunpy_jsoc_cutout.config import ENV_URL, conf, use_jsoc
from sunpy_jsoc_cutout.exceptions import (
    ConfigurationError,
    CutoutQueryError,
    JSOCExportError,
    LedgerError,
    PathTemplateError,
)

EMAIL = "table@example.com"
TIME = a.Time("2014-02-05 08:00", "2014-02-05 08:01")
EUV, HMI = a.jsoc.Series("aia.lev1_euv_12s"), a.jsoc.Series("hmi.M_45s")
W171 = a.Wavelength(171 * u.AA)
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
QUERY = (TIME, EUV, W171, BOX, a.jsoc.Notify(EMAIL))
SETTINGS_ADVICE = r"Change it with conf\.set_temp"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from sunpy_jsoc_cutout.testing import JSOCEmulator  # noqa: PLC0415

    root = tmp_path_factory.mktemp("sums")
    with JSOCEmulator(image_size=64, registered=(EMAIL,), root=root) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def result(emu):
    with use_jsoc(emu.url):
        return Fido.search(*QUERY)


@pytest.fixture
def ctx(emu, result, tmp_path):
    (tmp_path / "a_file.txt").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a SQLite database, just text\n" * 50)
    (tmp_path / "torn.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with conf.set_temp("ledger", str(tmp_path / "ledger.sqlite")), conf.set_temp("min_poll", 0.2):
        yield SimpleNamespace(emu=emu, result=result, tmp=tmp_path)


@contextlib.contextmanager
def settings(**values):
    with contextlib.ExitStack() as stack:
        for name, value in values.items():
            stack.enter_context(conf.set_temp(name, value))
        yield


def search(**values):
    def run(c):
        with use_jsoc(c.emu.url), settings(**values):
            raise search_error(*QUERY)

    return run


def search_query(*query):
    def run(c):
        with use_jsoc(c.emu.url):
            raise search_error(*query)

    return run


def search_url(url, how="conf"):
    """A search whose JSOC URL comes from ``conf.url``, the environment or ``use_jsoc``."""

    def run(c):
        with contextlib.ExitStack() as stack:
            env = {ENV_URL: url} if how == "env" else {}
            stack.enter_context(mock.patch.dict(os.environ, env))
            if how != "env":
                os.environ.pop(ENV_URL, None)
            stack.enter_context(use_jsoc(url) if how == "use_jsoc" else conf.set_temp("url", url))
            raise search_error(*QUERY)

    return run


def fetch(path="out/{file}", **values):
    def run(c):
        target = path.format(tmp=c.tmp) if path.startswith("{tmp}") else str(c.tmp / path)
        with use_jsoc(c.emu.url), settings(**values):
            Fido.fetch(c.result, path=target)

    return run


def fetch_ledger(name):
    def run(c):
        ledger = name if name.startswith("/") else str(c.tmp / name)
        with use_jsoc(c.emu.url), conf.set_temp("ledger", ledger):
            Fido.fetch(c.result, path=str(c.tmp / "out" / "{file}"))

    return run


def jobs_call(function, *args, ledger=None, **values):
    def run(c):
        kwargs = {} if ledger is None else {"ledger": ledger if ledger.startswith("/") else str(c.tmp / ledger)}
        with use_jsoc(c.emu.url), settings(**values):
            function(*args, **kwargs)

    return run


def attr(build):
    return lambda c: build()


def case(name, action, error, message, sent=0, marks=()):
    return pytest.param(action, error, message, sent, id=name, marks=marks)


def _refused(*query) -> bool:
    """Whether the client's checks already refuse ``query`` (or an attr built by a callable)."""
    from sunpy.net.attr import and_  # noqa: PLC0415

    from sunpy_jsoc_cutout._plan.checks import check_block  # noqa: PLC0415
    from sunpy_jsoc_cutout._query.walker import walker  # noqa: PLC0415

    try:
        if len(query) == 1 and callable(query[0]):
            query[0]()
        else:
            for block in walker.create(and_(*query)):
                check_block(block)
    except CutoutQueryError:
        return True
    return False


def landed(*query):
    """Skip a case whose pre-send refusal another change of _validation.py is adding (until it lands)."""
    return pytest.mark.skipif(not _refused(*query), reason="this pre-send refusal has not landed yet")


C, Q, L, P = ConfigurationError, CutoutQueryError, LedgerError, PathTemplateError
WIDTH = "Give the full width of the box"

ATTRS = [
    case("box-width-0pix", attr(lambda: jc.Box([0, 0] * u.pix, 0 * u.pix)), Q, WIDTH),
    case("box-height-0pix", attr(lambda: jc.Box([0, 0] * u.pix, 10 * u.pix, 0 * u.pix)), Q, "full height"),
    case("box-centre-text", attr(lambda: jc.Box("centre", 10 * u.arcsec)), Q, r"a pair \[x, y\]\*u\.arcsec"),
    case("box-centre-scalar", attr(lambda: jc.Box(5 * u.arcsec, 10 * u.arcsec)), Q, r"\[x, y\]\*u\.pix"),
    case("box-width-seconds", attr(lambda: jc.Box([0, 0] * u.arcsec, 10 * u.s)), Q, "give a size in arcsec"),
    case("box-stony-width-0", attr(lambda: jc.Box.stonyhurst(10 * u.deg, 0 * u.deg, 0 * u.deg)), Q, WIDTH),
    case("box-carr-width-neg", attr(lambda: jc.Box.carrington(10 * u.deg, 0 * u.deg, -1 * u.deg)), Q, WIDTH),
    case("box-width-nan", attr(lambda: jc.Box([0, 0] * u.arcsec, float("nan") * u.arcsec)), Q, WIDTH),
    case(
        "box-width-inf",
        attr(lambda: jc.Box([0, 0] * u.arcsec, float("inf") * u.arcsec)),
        Q,
        WIDTH,
        marks=landed(lambda: jc.Box([0, 0] * u.arcsec, float("inf") * u.arcsec)),
    ),
    case(
        "box-centre-nan",
        attr(lambda: jc.Box([float("nan"), 0] * u.arcsec, 10 * u.arcsec)),
        Q,
        "finite position",
        marks=landed(lambda: jc.Box([float("nan"), 0] * u.arcsec, 10 * u.arcsec)),
    ),
    case("ar-zero", attr(lambda: jc.ActiveRegion(0, 100 * u.arcsec)), Q, "positive integer such as 11158"),
    case("ar-fraction", attr(lambda: jc.ActiveRegion(11158.5, 100 * u.arcsec)), Q, "such as 11158"),
    case("ar-text", attr(lambda: jc.ActiveRegion("x", 100 * u.arcsec)), Q, "such as 11158"),
    case("ar-width-0", attr(lambda: jc.ActiveRegion(11158, 0 * u.arcsec)), Q, WIDTH),
    case("tracking-start-west", attr(lambda: jc.Tracking(start="west_limb")), Q, "a time or 'east_limb'"),
    case("tracking-start-junk", attr(lambda: jc.Tracking(start="tomorrow-ish")), Q, "a time or 'east_limb'"),
    case("tracking-stop-junk", attr(lambda: jc.Tracking(stop="xx")), Q, "a time or 'west_limb'"),
    case("method-empty", attr(lambda: jc.Method("")), Q, "must be 'url' or 'url-tar'"),
    case("method-url-direct", attr(lambda: jc.Method("url_direct")), Q, "must be 'url' or 'url-tar'"),
    case("protocol-empty", attr(lambda: jc.ExportProtocol("")), Q, "one of fits, jpg, mpg"),
    case("protocol-scaling", attr(lambda: jc.ExportProtocol("jpg", scaling="CUBIC")), Q, "one of MINMAX, LOG"),
    case("protocol-size-0", attr(lambda: jc.ExportProtocol("jpg", size=0)), Q, "of at least 1"),
    case("fnfmt-empty", attr(lambda: jc.FilenameFormat("")), Q, "non-empty string"),
    case("fnfmt-quote", attr(lambda: jc.FilenameFormat("a'b{segment}")), Q, "remove them"),
    case("fnfmt-unclosed", attr(lambda: jc.FilenameFormat("{seriesname")), Q, r"balanced \{KEYWORD\}"),
    case("fnfmt-number", attr(lambda: jc.FilenameFormat(5)), Q, "non-empty string"),
    case("limit-fraction", attr(lambda: jc.RecordLimit(2.5)), Q, "non-zero integer"),
    case("limit-text", attr(lambda: jc.RecordLimit("10")), Q, "non-zero integer"),
    case("limit-bool", attr(lambda: jc.RecordLimit(True)), Q, "non-zero integer"),
    case("rebin-negative", attr(lambda: jc.Rebin(-1)), Q, "positive number such as 0.5"),
    case("rebin-method", attr(lambda: jc.Rebin(0.5, method="cubic")), Q, "'boxcar' or 'gaussian'"),
    case("rebin-nan", attr(lambda: jc.Rebin(float("nan"))), Q, "positive number such as 0.5"),
    case("rebin-nvector", attr(lambda: jc.Rebin(0.5, nvector=-1)), Q, "drop them or switch method"),
    case("lev15-empty", attr(lambda: jc.Level1p5("")), Q, "such as 'aia.master_pointing3h'"),
    case("waves-none", attr(lambda: jc.Wavelengths()), Q, r"such as 171\*u\.AA"),
    case("waves-unitless", attr(lambda: jc.Wavelengths(171)), Q, r"such as 171\*u\.AA"),
    case("waves-seconds", attr(lambda: jc.Wavelengths(171 * u.s)), Q, r"such as 171\*u\.AA"),
    case("waves-negative", attr(lambda: jc.Wavelengths(-171 * u.AA)), Q, r"such as 171\*u\.AA"),
    case("coaligned-twice", attr(lambda: jc.CoalignedSeries("aia.lev1_euv_12s", "aia.lev1_euv_12s")), Q, "twice"),
    case("register-text", attr(lambda: jc.Register("yes")), Q, "True or False"),
    case("crop-int", attr(lambda: jc.Crop(1)), Q, "True or False"),
    case("fullheaders-text", attr(lambda: jc.FullHeaders("yes")), Q, "True or False"),
    case("requestor-empty", attr(lambda: jc.Requestor("")), Q, "non-empty string"),
    case("requestor-semicolon", attr(lambda: jc.Requestor("a;b")), Q, "remove them"),
    case("reftime-junk", attr(lambda: jc.ReferenceTime("not a time")), Q, "a time such as '2014-02-05 08:00'"),
    case("reftime-int", attr(lambda: jc.ReferenceTime(5)), Q, "a time such as"),
]

QUERIES = [
    case(
        "wave-170",
        search_query(TIME, EUV, BOX, a.Wavelength(170 * u.AA), a.jsoc.Notify(EMAIL)),
        Q,
        "Pick one",
        marks=landed(TIME, EUV, BOX, a.Wavelength(170 * u.AA), a.jsoc.Notify(EMAIL)),
    ),
    case(
        "wave-1600-euv",
        search_query(TIME, EUV, BOX, a.Wavelength(1600 * u.AA)),
        Q,
        "is in aia.lev1_uv_24s",
        marks=landed(TIME, EUV, BOX, a.Wavelength(1600 * u.AA)),
    ),
    case(
        "waves-170",
        search_query(TIME, EUV, BOX, jc.Wavelengths(170 * u.AA)),
        Q,
        "Pick one of them",
        marks=landed(TIME, EUV, BOX, jc.Wavelengths(170 * u.AA)),
    ),
    case("waves-hmi", search_query(TIME, HMI, BOX, jc.Wavelengths(171 * u.AA)), Q, "drop a.Wavelength"),
    case(
        "sample-negative",
        search_query(TIME, EUV, BOX, W171, a.Sample(-60 * u.s)),
        Q,
        r"a\.Sample\(60\*u\.s\)",
        marks=landed(TIME, EUV, BOX, W171, a.Sample(-60 * u.s)),
    ),
    case(
        "sample-zero",
        search_query(TIME, EUV, BOX, W171, a.Sample(0 * u.s)),
        Q,
        "give a positive time",
        marks=landed(TIME, EUV, BOX, W171, a.Sample(0 * u.s)),
    ),
    case(
        "sample-nan",
        search_query(TIME, EUV, BOX, W171, a.Sample(float("nan") * u.s)),
        Q,
        "give a positive",
        marks=landed(TIME, EUV, BOX, W171, a.Sample(float("nan") * u.s)),
    ),
    case("fullheaders-mp4", search_query(TIME, EUV, BOX, jc.ExportProtocol("mp4"), jc.FullHeaders(True)), Q, "'fits'"),
    case("coaligned-unknown", search_query(TIME, jc.CoalignedSeries(EUV.value, "hmi.nothing"), BOX), Q, "prime keys"),
    case("series-aia-lev2", search_query(TIME, a.jsoc.Series("aia.lev2"), BOX), Q, "use an AIA/HMI series"),
    case("lev15-hmi", search_query(TIME, HMI, BOX, jc.Level1p5()), Q, "drop it"),
]


def _conf_cases(name, values, expected):
    return [
        case(f"conf-{name}={v!r}", search(**{name: v}), C, rf"conf\.{name} .*{expected}.*{SETTINGS_ADVICE}")
        for v in values
    ]


NAN, INF = float("nan"), float("inf")
SEARCH_CONF = [
    *_conf_cases("page_size", [0, -1, True], "whole number of at least 1"),
    *_conf_cases("record_limit_aia", [0, -5], "whole number of at least 1"),
    *_conf_cases("record_limit_hmi", [0], "whole number of at least 1"),
    *_conf_cases("request_byte_limit", [0, -1.0, 1000.0, INF], "number of at least 1e"),
    *_conf_cases("download_rate", [0, -1.0, INF, NAN], "number above 0"),
    *_conf_cases("request_overhead", [0, -1.0, NAN], "number above 0"),
    *_conf_cases("staging_per_record", [-1.0, NAN, INF], "number of at least 0"),
    *_conf_cases("tape_staging_time", [-1.0, NAN], "number of at least 0"),
    *_conf_cases("info_timeout", [0, -1.0, NAN, INF], "number above 0"),
    *_conf_cases("noaa_series", ["", "   "], "non-empty text"),
    case("conf-url-empty", search_url(""), C, rf"conf\.url is ''.*{SETTINGS_ADVICE}"),
]
URL_ADVICE = r"give one such as 'http://jsoc\.stanford\.edu/'"
URLS = [
    case(f"url-{how}-{url}", search_url(url, how), C, rf"The JSOC URL .* \(from {source}\).*{URL_ADVICE}")
    for how, source in (
        ("conf", r"conf\.url"),
        ("env", f"the environment variable {ENV_URL}"),
        ("use_jsoc", r"use_jsoc\(\.\.\.\)"),
    )
    for url in ("ftp://jsoc.stanford.edu/", "jsoc.stanford.edu", "http://", "http://127.0.0.1:0/", "http://h/?x=1")
]
FETCH_CONF = [
    *[
        case(f"fetch-{n}={v!r}", fetch(**{n: v}), C, rf"conf\.{n} .*{e}.*{SETTINGS_ADVICE}")
        for n, v, e in [
            ("max_conn", 0, "at least 1"),
            ("max_conn", -1, "at least 1"),
            ("max_conn", True, "at least 1"),
            ("download_batch", True, "at least 1"),
            ("min_poll", 0, "above 0"),
            ("min_poll", -1.0, "above 0"),
            ("min_poll", NAN, "above 0"),
            ("min_poll", INF, "above 0"),
            ("max_poll", 0, "above 0"),
            ("max_poll", 0.1, r"at least conf\.min_poll"),
            ("export_timeout", 0, "above 0"),
            ("export_timeout", -5.0, "above 0"),
            ("export_timeout", NAN, "above 0"),
            ("fetch_timeout", 0, "above 0"),
            ("fetch_timeout", NAN, "above 0"),
            ("fetch_timeout", INF, "above 0"),
        ]
    ],
]
LEDGER_ADVICE = r"cannot be opened: {}.*Set conf\.ledger \(or pass ledger=\)"
LEDGERS = [
    (".", "it is a folder"),
    ("folder", "it is a folder"),
    ("/dev/null", "it is not a regular file"),
    ("junk.sqlite", "it is not a ledger"),
    ("torn.sqlite", "it is not a ledger"),
    ("a_file.txt/ledger.sqlite", "its folder cannot be made"),
    ("a_file.txt/deeper/ledger.sqlite", "its folder cannot be made"),
    ("/proc/jsoc_cutout_ledger.sqlite", "it cannot be created"),  # a read-only place, even for root
]
LEDGER_CASES = [
    *[case(f"fetch-ledger-{p}", fetch_ledger(p), L, LEDGER_ADVICE.format(w)) for p, w in LEDGERS],
    *[
        case(f"jobs-list-ledger-{p}", jobs_call(jobs.list_requests, ledger=p), L, LEDGER_ADVICE.format(w))
        for p, w in LEDGERS
    ],
]
NOT_ALLOWED = "not allowed in path templates; use the column alone"
PATHS = [
    case("path-attr-class", fetch("out/{T_REC.__class__}/{file}"), P, NOT_ALLOWED),
    case("path-attr-jd", fetch("out/{T_REC.jd}/{file}"), P, NOT_ALLOWED),
    case("path-attr-unit", fetch("out/{Wavelength.unit}/{file}"), P, NOT_ALLOWED),
    case("path-attr-file", fetch("out/{file.__len__}"), P, NOT_ALLOWED),
    case("path-index", fetch("out/{Series[0]}/{file}"), P, NOT_ALLOWED),
    case("path-index-key", fetch("out/{T_REC[year]}/{file}"), P, NOT_ALLOWED),
    case("path-conv-r", fetch("out/{T_REC!r}/{file}"), P, NOT_ALLOWED),
    case("path-conv-s", fetch("out/{Series!s}/{file}"), P, NOT_ALLOWED),
    case("path-nested-attr", fetch("out/{T_REC:{T_REC.__doc__}}/{file}"), P, NOT_ALLOWED),
    case("path-unknown-key", fetch("out/{channel}/{file}"), P, "Available keys:"),
    case("path-positional", fetch("out/{}/{file}"), P, "not a valid template"),
    case("path-positional-0", fetch("out/{0}/{file}"), P, "not a valid template"),
    case("path-unclosed", fetch("out/{T_REC/{file}"), P, "not a valid template"),
    case("path-lone-brace", fetch("out/x}/{file}"), P, "not a valid template"),
    case("path-bad-spec", fetch("out/{Size:q}/{file}"), P, "not a valid template"),
    case("path-under-file", fetch("a_file.txt/{file}"), P, "which is a file, not a folder; choose a path"),
    case("path-under-file-deep", fetch("a_file.txt/x/{wavelength}/{file}"), P, "which is a file, not a folder"),
    case("path-under-file-dir", fetch("a_file.txt"), P, "which is a file, not a folder"),
]
JOBS = [
    case("jobs-files-junk-ledger", jobs_call(jobs.request_files, "JSOC_1", ledger="junk.sqlite"), L, "not a ledger"),
    case("jobs-cancel-unknown", jobs_call(jobs.cancel, "JSOC_20140205_999"), JSOCExportError, "jobs.list_requests"),
    case("jobs-restage-unknown", jobs_call(jobs.restage, "JSOC_20140205_999"), JSOCExportError, "jobs.list_requests"),
    case("jobs-download-max_conn-0", jobs_call(jobs.download, "JSOC_20140205_999", max_conn=0), C, "max_conn"),
    case("jobs-download-bad-url", lambda c: _download_with_url(c, "ftp://x/"), C, URL_ADVICE),
    case(
        "jobs-download-under-file",
        lambda c: jobs.download("JSOC_1", path=str(c.tmp / "a_file.txt" / "{file}")),
        P,
        "not a folder",
    ),
    case("jobs-files-ledger-dir", jobs_call(jobs.request_files, "JSOC_1", ledger="folder"), L, "it is a folder"),
    case("jobs-cancel-ledger-null", jobs_call(jobs.cancel, "JSOC_1", ledger="/dev/null"), L, "not a regular file"),
    # the client cannot tell a request ID JSOC does not know: JSOC says so (one exp_status)
    case("jobs-download-unknown-id", jobs_call(jobs.download, "JSOC_20140205_999"), JSOCExportError, "not ready", 1),
]


def _download_with_url(c, url):
    with use_jsoc(url):
        jobs.download("JSOC_20140205_999")


CASES = ATTRS + QUERIES + SEARCH_CONF + URLS + FETCH_CONF + LEDGER_CASES + PATHS + JOBS


def test_the_table_is_large_enough():
    assert len(CASES) >= 150
    assert len({p.id for p in CASES}) == len(CASES)


@pytest.mark.parametrize(("action", "error", "message", "sent"), CASES)
def test_bad_input(ctx, action, error, message, sent):
    before = len(ctx.emu.request_log)
    with pytest.raises(error) as info:
        action(ctx)
    assert type(info.value) is error or isinstance(info.value, error)
    assert re.search(message, str(info.value)), str(info.value)
    assert len(ctx.emu.request_log) - before == sent, ctx.emu.request_log.since(before)


def test_positive_controls(ctx):
    """The same calls with good inputs do reach the emulator and deliver files."""
    before = len(ctx.emu.request_log)
    with use_jsoc(ctx.emu.url):
        found = Fido.search(*QUERY)
        assert len(ctx.emu.request_log) > before
        files = Fido.fetch(found, path=str(ctx.tmp / "good" / "{wavelength}" / "{file}"))
    assert len(files) == len(found[0]) > 0
    assert not files.errors
    assert all(Path(f).parent == ctx.tmp / "good" / "171" for f in files)


def test_column_values_cannot_leave_the_folder(ctx):
    """A column value holding ``../`` or an absolute path stays one folder inside the chosen path."""
    with use_jsoc(ctx.emu.url):
        found = Fido.search(*QUERY)
        block = found[0]
        block.add_column(Column(["../../escaped"] * len(block), name="Observer"))
        block.add_column(Column([str(ctx.tmp / "absolute")] * len(block), name="Where"))
        files = Fido.fetch(found, path=str(ctx.tmp / "out" / "{Observer}" / "{Where}" / "{file}"))
    assert len(files) == len(block) > 0
    for f in files:
        assert Path(f).resolve().is_relative_to((ctx.tmp / "out").resolve())
        assert Path(f).parent.parent.name == "____escaped"
    assert not (ctx.tmp.parent / "escaped").exists()
    assert not (ctx.tmp / "absolute").exists()

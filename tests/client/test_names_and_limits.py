"""
No record vanishes (#10 item 6): a filename format that gives several planned files one name is
refused before any export is sent, and ``RecordLimit`` applies to the whole query, so that the
table, the requests' ``n=`` and the files agree.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from test_refusals import search_error

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time, parse_drms_times
from sunpy_jsoc_cutout._plan.names import file_names, format_fields, render_name, sprint_time
from sunpy_jsoc_cutout._plan.plans import ExportPlan, distinct_plans
from sunpy_jsoc_cutout._plan.process import Process, Step
from sunpy_jsoc_cutout.config import conf
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

BOX = jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec)


def exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def sent_limits(emulator):
    return [int(re.match(r"n=(-?\d+)", e["params"]["process"]).group(1)) for e in exp_requests(emulator)]


def query(
    email, *extra, series="aia.lev1_euv_12s", start="2014-02-05 08:00", end="2014-02-05 08:00:40", waves=(171, 193)
):
    return (
        a.Time(start, end),
        a.jsoc.Series(series),
        jc.Wavelengths(*(w * u.AA for w in waves)),
        BOX,
        a.jsoc.Notify(email),
        *extra,
    )


def search(email, *extra, **kwargs):
    return Fido.search(*query(email, *extra, **kwargs))[0]


def refused(match: str, email, *extra, **kwargs) -> CutoutQueryError:
    """The search's refusal, raised (sunpy 7.0) or kept in ``.errors`` (sunpy >= 7.1)."""
    error = search_error(*query(email, *extra, **kwargs))
    assert isinstance(error, CutoutQueryError), repr(error)
    assert re.search(match, str(error)), str(error)
    return error


def fetched(table, tmp_path, name="out"):
    return Fido.fetch(table, path=str(tmp_path / name / "{file}"), progress=False)


def identities_of_files(files):
    out = []
    for path in files:
        with fits.open(path) as hdul:
            head = next(h.header for h in hdul if h.data is not None)
        out.append((round(parse_drms_time(head["T_REC"]).unix * 1000), int(head["WAVELNTH"])))
    return sorted(out)


def identities_of_rows(table):
    return sorted(zip(np.round(table["T_REC"].unix * 1000).astype(int), table["Wavelength"].value.astype(int)))


# ---------------------------------------------------------------- names, as exputil.c makes them


@pytest.mark.parametrize(
    ("fmt", "keywords", "expected"),
    [
        # JSOC's own names (sunpy cassettes test_check_request / test_post_wavelength, exputil.c L5-330)
        ("hmi.m_45s.{T_REC:A}.{CAMERA}.{segment}", {"T_REC": "2012.01.01_01:01:30_TAI", "CAMERA": "2"},
         "hmi.m_45s.20120101_010130_TAI.2.magnetogram.fits"),
        ("aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}", {"T_REC": "2010-07-30T13:30:09Z", "WAVELNTH": "335"},
         "aia.lev1_euv_12s.2010-07-30T133009Z.335.magnetogram.fits"),
        # exputil.c's rules comment: {T_REC:A-1} of mdi.fd_M gives 19960624_1230_TAI
        ("{T_REC:A-1}", {"T_REC": "1996.06.24_12:30:00_TAI"}, "19960624_1230_TAI"),
        ("{T_REC:D}", {"T_REC": "2012.01.01_01:01:30_TAI"}, "@2012@01@01@010130_TAI"),
        ("{T_REC:2,UTC}", {"T_REC": "2012.01.01_00:01:04.5_TAI"}, "2012.01.01_00:00:30.50_UTC"),
        ("{T_REC:-3}", {"T_REC": "2010-07-30T13:30:09Z"}, "2010-07-30"),
        ("{WAVELNTH:%04d}_{recnum:%08lld}_{#:%03d}", {"WAVELNTH": "94"}, "0094_00000042_007"),
        ("{seriesname}{}x", {}, "s_modx"),
    ],
)  # fmt: skip
def test_names_follow_exputil(fmt, keywords, expected):
    name = render_name(fmt, keywords, seriesname="s_mod", recnum=42, segment="magnetogram.fits", counter=7)
    assert name == expected


@pytest.mark.parametrize(
    "fmt", ["{T_REC:A}.{WAVELNTH}.{#}", "{T_REC:D}", "{T_REC:2,UTC}_{recnum:%08lld}", "{T_REC:-3}"]
)
def test_names_of_many_rows_at_once_are_each_rows_name(fmt):
    # file_names prints a keyword's values together, grouped by zone and time scale: rows whose times
    # JSOC printed in different zones (and absent or plain values) keep each their own name
    t_rec = [
        "2012.01.01_01:01:30_TAI",
        "2010-07-30T13:30:09Z",
        "2012.01.01_00:01:04.5_TAI",
        "2014.02.05_08:00:59.8_UTC",
    ]
    columns = {
        "recnum": np.array([5, 6, 7, 8]),
        "Skip": np.array(["", "", "", ""]),
        "kw:T_REC": np.array(t_rec, dtype=object),
        "kw:WAVELNTH": np.array(["171", "94", "MISSING", "1600"], dtype=object),
    }
    names = file_names(fmt, columns, series="aia.lev1")
    expected = [
        render_name(
            fmt, {"T_REC": t, "WAVELNTH": w}, seriesname="aia.lev1_mod", recnum=r, segment="image.fits", counter=k
        )
        for k, (t, w, r) in enumerate(zip(t_rec, columns["kw:WAVELNTH"], columns["recnum"], strict=True))
    ]
    assert list(names) == expected
    assert len(set(expected)) == len(expected) or fmt == "{T_REC:-3}"


@pytest.mark.parametrize(
    "t_rec",
    [
        ["2014-02-05T08:00:01Z", "2014-02-05T08:00:13Z", "2014-02-05T23:59:59Z"],  # printed as listed
        ["2012.01.01_01:01:30_TAI", "2012.01.01_01:01:42_TAI"],
        ["2014-02-05T08:00:01Z", "2014-02-05T08:00:13.5Z"],  # not whole seconds: printed one by one
        ["2014-02-05T08:00:01Z", "2012.01.01_01:01:30_TAI"],  # two zones
    ],
)
def test_a_column_of_fixed_width_text_names_as_the_same_values_listed_one_by_one(t_rec):
    """The search keeps listed strings as numpy text; ``{T_REC:A}`` of such a column, printed at once,
    is each value's name as one-by-one rendering makes it."""
    columns = {
        "recnum": np.arange(len(t_rec)),
        "Skip": np.full(len(t_rec), ""),
        "kw:T_REC": np.array(t_rec, dtype=str),
        "kw:WAVELNTH": np.array(["171"] * len(t_rec), dtype=str),
    }
    names = file_names("{T_REC:A}.{WAVELNTH}", columns, series="aia.lev1")
    expected = [
        render_name(
            "{T_REC:A}.{WAVELNTH}",
            {"T_REC": t, "WAVELNTH": "171"},
            seriesname="aia.lev1_mod",
            recnum=k,
            segment="image.fits",
            counter=k,
        )
        for k, t in enumerate(t_rec)
    ]
    assert list(names) == expected


@pytest.mark.parametrize(
    "column",
    [
        ["2014.02.05_08:00:35_TAI", "2014.02.05_08:00:47.57_TAI", " 2014.02.05_08:00:59_TAI "],
        ["2014-02-05T08:00:01Z", "2014-02-05T08:00:13.57Z"],
        ["2014.02.05_08:00:35_UTC", "2014.02.05_08:00:47_UTC"],
        ["2014.02.05_08:00:35_UT"],
        ["2014.02.05_08:00:35", "2014.02.05"],  # no zone, a date alone: read one by one
    ],
)
def test_a_time_column_reads_as_each_of_its_times(column):
    times = parse_drms_times(column)
    assert list(times.isot) == [parse_drms_time(text).isot for text in column]


def test_layout_starts_after_the_last_colon_and_the_name_ends_at_the_first():
    (field,) = format_fields("{T_REC:x:A}")
    assert (field.name, field.layout) == ("T_REC", "A")


def test_rounding_carries_into_the_minute_but_dropped_fields_are_cut():
    t = Time("2014-02-05T08:00:59.8", scale="utc")
    assert sprint_time(t, "ISO", 0) == "2014-02-05T08:01:00Z"
    assert sprint_time(t, "ISO", -1) == "2014-02-05T08:00Z"


# ---------------------------------------------------------------- colliding filename formats


def test_format_giving_sixteen_records_one_name_is_refused_before_any_export(jsoc, email):
    match = r"16 planned files only 1 name.*'171\.fits'.*\{T_REC:A\}"
    refused(match, email, jc.FilenameFormat("{WAVELNTH}.fits"), end="2014-02-05 08:03:05", waves=(171,))
    assert exp_requests(jsoc) == []


def test_format_without_the_wavelength_names_the_rows_that_collide(jsoc, email):
    error = refused(r"\[171\].*\[193\].*Add \{WAVELNTH\}", email, jc.FilenameFormat("{T_REC:A}.fits"))
    assert "8 planned files only 4 name(s)" in str(error)
    assert exp_requests(jsoc) == []


def test_counter_names_collide_across_the_requests_of_a_split_job(jsoc, email):
    with conf.set_temp("record_limit_aia", 4):
        refused(r"'00000\.fits'", email, jc.FilenameFormat("{#}.fits"))
    assert exp_requests(jsoc) == []


def test_keyword_the_series_lacks_is_refused(jsoc, email):
    refused(r"\{CHANNEL\}, which aia.lev1_euv_12s does not have", email, jc.FilenameFormat("{T_REC:A}.{CHANNEL}.fits"))


def test_predicted_names_are_the_delivered_ones(jsoc, email, tmp_path):
    table = search(email, jc.FilenameFormat("{T_REC:A-1}.{T_OBS:A2}.{WAVELNTH:%04d}.{#}.fits"))
    files = fetched(table, tmp_path)
    assert sorted(Path(f).name for f in files) == sorted(table["Filename"])
    assert len(set(table["Filename"])) == len(table) == 8


# ---------------------------------------------------------------- RecordLimit over the whole query


@pytest.mark.parametrize(("limit", "n_sent"), [(2, 0), (3, 3), (-3, -3)])
def test_record_limit_rows_requests_and_files_agree(jsoc, email, tmp_path, limit, n_sent):
    full = search(email)
    table = search(email, jc.RecordLimit(limit))
    assert len(table) == abs(limit)
    wanted = identities_of_rows(full)[:limit] if limit > 0 else identities_of_rows(full)[limit:]
    assert identities_of_rows(table) == wanted
    files = fetched(table, tmp_path)
    assert sent_limits(jsoc) == [n_sent]
    assert identities_of_files(files) == wanted


def test_record_limit_over_a_split_job_counts_once(jsoc, email, tmp_path):
    with conf.set_temp("record_limit_aia", 6):  # 8 slots of 2 wavelengths: pieces of 3, 3 and 2 slots
        assert len(search(email, end="2014-02-05 08:01:30").plans) == 3
        table = search(email, jc.RecordLimit(7), end="2014-02-05 08:01:30")
    assert len(table) == 7
    files = fetched(table, tmp_path)
    assert sorted(sent_limits(jsoc)) == [0, 1]  # the first piece whole, the second to its first record
    assert identities_of_files(files) == identities_of_rows(table)


def test_record_limit_over_the_wavelength_requests_of_aia_lev1(jsoc, email, tmp_path):
    table = search(
        email,
        a.Sample(1 * u.min),
        jc.RecordLimit(2),
        series="aia.lev1",
        end="2014-02-05 08:10",
        waves=(94, 171, 193, 211),
    )
    assert len(table) == 2
    files = fetched(table, tmp_path)
    assert len(files) == 2
    assert set(sent_limits(jsoc)) == {0}
    assert identities_of_files(files) == identities_of_rows(table)


def test_zero_padding_keeps_a_negative_limit():
    steps = Process((Step("im_patch", (("x", "1"),)),), limit=-3)
    plan = ExportPlan("s", "s[t]", steps, "0.1", "url", "fits", "{recnum}.fits", None, None)
    first, second = distinct_plans([plan, plan])
    assert (first.process, second.process) == ("n=-3|im_patch,x=1", "n=-03|im_patch,x=1")

"""
Every delivered file is its row's, under its row's path (#10): a property test over query shapes.

Through ``Fido.search`` and ``Fido.fetch`` against the emulator, over the series (12 s AIA,
``aia.lev1`` with a cadence, HMI 45 s and 720 s, AIA and HMI co-aligned), one to four wavelengths,
``url`` and ``url-tar``, an optional record limit and filename format, and ``path`` templates made
of any of the table's columns: every planned file arrives once, and for every delivered file

* its name is the one the search predicted for one row (``Filename``),
* its FITS header is that row's: the series (``SOURCE``, the input record im_patch names),
  ``WAVELNTH`` and ``T_REC``,
* its path is the template filled from that row (`~sunpy_jsoc_cutout._transfer.paths.target_path`).

The row of a file is found here by its predicted name, independently of the client's own
record matching. Examples are drawn deterministically (``derandomize``) and few, with short time
ranges and a small box, so that the test stays quick.
"""

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import astropy.units as u
from astropy.io import fits

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time
from sunpy_jsoc_cutout._transfer.paths import target_path
from sunpy_jsoc_cutout.config import conf

#: Query shapes: series attrs, the length of the time range, whether AIA wavelengths apply.
SHAPES = {
    "aia.lev1_euv_12s": ([a.jsoc.Series("aia.lev1_euv_12s")], 30, True),
    "aia.lev1": ([a.jsoc.Series("aia.lev1"), a.Sample(1 * u.min)], 130, True),
    "hmi.M_45s": ([a.jsoc.Series("hmi.M_45s")], 80, False),
    "hmi.M_720s": ([a.jsoc.Series("hmi.M_720s")], 13 * 60, False),
    "co-aligned": ([jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s")], 50, True),
}
#: Path-template fields, one per table column (both spellings; times with strftime specifications).
FIELDS = (
    "{Series}", "{series}", "{wavelength}", "{Wavelength}", "{T_REC:%Y%m%d}", "{t_rec:%H%M%S}", "{T_OBS:%H%M}",
    "{Instrument}", "{QUALITY}", "{recnum}", "{FSN}", "{CAMERA}", "{Request}", "{Online}", "{Skip}x", "{size}",
)  # fmt: skip
#: ``a.jsoc_cutout.FilenameFormat`` values that give every record its own name (None: the default).
FORMATS = (None, None, "{T_REC:A}.{recnum}.{segment}", "{seriesname}.{T_REC:D}.{recnum:%09lld}.fits")
STARTS = ("2014-02-05T08:00:00", "2014-02-05T13:17:00", "2015-06-30T23:55:00")


def case_of(shape, waves=(171,), start=STARTS[0], method="url", limit=None, fmt=None, fields=()):
    """One query shape and path template."""
    attrs, seconds, aia = SHAPES[shape]
    return {
        "shape": shape,
        "attrs": list(attrs),
        "waves": list(waves) if aia else [],
        "start": start,
        "seconds": seconds,
        "method": method,
        "limit": limit,
        "format": fmt,
        "template": "/".join([*fields, "{file}"]),
    }


@st.composite
def queries(draw):
    """A drawn query shape and path template."""
    return case_of(
        draw(st.sampled_from(sorted(SHAPES))),
        draw(st.lists(st.sampled_from([94, 131, 171, 193, 211, 304, 335]), min_size=1, max_size=4, unique=True)),
        draw(st.sampled_from(STARTS)),
        draw(st.sampled_from(["url", "url-tar"])),
        draw(st.sampled_from([None, None, None, 3, -2])),
        draw(st.sampled_from(FORMATS)),
        draw(st.lists(st.sampled_from(FIELDS), max_size=3)),
    )


def _query(case, email):
    t0 = np.datetime64(case["start"])
    attrs = [
        a.Time(str(t0), str(t0 + np.timedelta64(case["seconds"], "s"))),
        *case["attrs"],
        jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
        jc.Method(case["method"]),
        a.jsoc.Notify(email),
    ]
    if case["waves"]:
        attrs.append(jc.Wavelengths(*(w * u.AA for w in case["waves"])))
    if case["limit"] is not None:
        attrs.append(jc.RecordLimit(case["limit"]))
    if case["format"] is not None:
        attrs.append(jc.FilenameFormat(case["format"]))
    return attrs


def _header(path):
    with fits.open(path) as hdul:
        return next(h.header for h in hdul if h.data is not None)


def check_delivery(table, files, template):
    """Every planned file arrived once; each is its row's, under its row's path."""
    assert not files.errors, files.errors
    planned = [str(name) for name in table["Filename"] if name]
    assert len(planned) == int(np.sum(np.asarray(table["Skip"]) == "")), "a planned file has no predicted name"
    names = [Path(f).name for f in files]
    assert sorted(names) == sorted(planned)
    row_of = {str(name): i for i, name in enumerate(table["Filename"]) if name}
    for path in files:
        row = table[row_of[Path(path).name]]
        head = _header(path)
        assert str(head["SOURCE"]).split("[")[0].lower() == str(row["Series"]).lower()
        assert float(head["WAVELNTH"]) == float(row["Wavelength"].to_value(u.AA))
        assert round(parse_drms_time(head["T_REC"]).unix * 1000) == round(row["T_REC"].unix * 1000)
        assert Path(path).resolve() == target_path(template, Path(path).name, row).resolve()


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=queries())
# every shape is covered whatever is drawn: the 720 s series, and record limits across requests
@example(case=case_of("hmi.M_720s", method="url-tar", fields=("{Series}", "{T_REC:%Y%m%d}")))
@example(case=case_of("aia.lev1", waves=(171, 193, 211), limit=-2, fields=("{wavelength}",)))
@example(case=case_of("aia.lev1_euv_12s", waves=(171, 193), limit=3, fields=("{wavelength}",)))
def test_every_file_is_its_rows_under_its_rows_path(jsoc, email, tmp_path_factory, case):
    work = tmp_path_factory.mktemp("delivery")
    with conf.set_temp("ledger", str(work / "ledger.sqlite")):
        table = Fido.search(*_query(case, email))[0]
        template = str(work / "out" / case["template"])
        files = Fido.fetch(table, path=template, progress=False)
    if case["limit"] is not None:
        per_series = {s: int(np.sum(np.asarray(table["Series"]) == s)) for s in set(table["Series"])}
        assert all(n <= abs(case["limit"]) for n in per_series.values()), per_series
    check_delivery(table, files, template)

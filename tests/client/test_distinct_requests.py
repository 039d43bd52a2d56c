"""
JSOC's duplicate rule must never merge two requests of one job.

Before accepting a request, jsoc_fetch looks for one made in the last 24 hours with the same MD5
of the canonical record list (``series[:#recnum,...]``, so the ``[? WAVELNTH=... ?]`` filter is
gone), ``filenamefmt``, ``process``, ``protocol`` and ``method`` (``jsoc_fetch.c``,
``GetExistReqID``, ``DUP_EXPORT_WINDOW``), and answers with that request's ID. On ``aia.lev1``
the ``@`` cadence filter keeps few or no records at that stage (T_REC is slotted at 1 s), so the
requests of several wavelengths (or several pieces of one wavelength) looked alike. The emulator
implements the rule; these tests fetch through Fido and check every file's header.
"""

import numpy as np
import pytest

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc

TUTORIAL = (
    a.Time("2014-02-05 08:00", "2014-02-05 16:00"),
    a.jsoc.Series("aia.lev1"),
    jc.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA),
    jc.Box.carrington(100 * u.deg, 10 * u.deg, 40 * u.pix),
    jc.Tracking(True),
    jc.FilenameFormat("aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"),
)


def header(path):
    with fits.open(path) as hdul:
        return next(h.header for h in hdul if h.header.get("NAXIS", 0) == 2)


def exp_requests(emulator):
    """(process, filenamefmt) of every exp_request the emulator was sent."""
    return [
        (e["params"].get("process"), e["params"].get("filenamefmt"))
        for e in emulator.request_log
        if e["params"].get("op") == "exp_request"
    ]


def made_requests(emulator):
    """IDs of the requests the emulator made (a duplicate answer makes none)."""
    return [r["requestid"] for r in emulator.state()["exports"]["requests"]]


def check_files_against_rows(files, table, out):
    """Every file's header WAVELNTH and T_REC are those of a row of its wavelength folder."""
    rows = {}
    for wave, t_rec in zip(np.asarray(table["Wavelength"].to_value(u.AA)).astype(int), table["T_REC"], strict=True):
        rows.setdefault(wave, set()).add(Time(t_rec).utc.isot[:19])
    seen = {}
    for path in map(str, files):
        folder = int(path.split(str(out) + "/", 1)[1].split("/", 1)[0])
        hdr = header(path)
        assert int(hdr["WAVELNTH"]) == folder, path
        t_rec = Time(hdr["T_REC"].replace("Z", ""), scale="utc").isot[:19]
        assert t_rec in rows[folder], (path, t_rec)
        seen.setdefault(folder, set()).add(t_rec)
    assert seen == rows


@pytest.mark.parametrize("method", ["url", "url-tar"])
def test_tutorial_query_gives_each_wavelength_its_own_files(jsoc, email, tmp_path, method):
    # Before: 211 and 304 were answered with the 193 request's ID; 16 files, 0 errors, wrong data.
    result = Fido.search(*TUTORIAL, a.Sample(2 * u.h), jc.Method(method), a.jsoc.Notify(email))
    table = result["jsoccutout"]
    out = tmp_path / "out"
    files = Fido.fetch(result, path=out / "{wavelength}" / "{file}")
    assert not files.errors
    assert len(files) == len(table) == 16
    check_files_against_rows(files, table, out)
    sent = exp_requests(jsoc)
    assert len(sent) == 4
    assert len(set(made_requests(jsoc))) == 4, sent
    # what JSOC hashes differs between the requests (the files are named by the user's format)
    assert len(set(sent)) == 4


def test_split_pieces_of_one_wavelength_are_not_merged(jsoc, email, tmp_path):
    # Several requests per wavelength (pipelining / record limits) on aia.lev1 with a cadence.
    from sunpy_jsoc_cutout.config import conf  # noqa: PLC0415

    query = (*TUTORIAL[:2], jc.Wavelengths(171 * u.AA, 193 * u.AA), *TUTORIAL[3:])
    with conf.set_temp("record_limit_aia", 12):
        result = Fido.search(*query, a.Sample(10 * u.min), a.jsoc.Notify(email))
        table = result["jsoccutout"]
        assert len(table.plans) >= 8
        out = tmp_path / "out"
        files = Fido.fetch(result, path=out / "{wavelength}" / "{file}")
    assert not files.errors
    assert len(files) == len(table) == 96
    check_files_against_rows(files, table, out)
    assert len(set(made_requests(jsoc))) == len(exp_requests(jsoc)) == len(table.plans)


def test_distinct_plans_levers():
    from sunpy_jsoc_cutout._plan.plans import ExportPlan, distinct_plans  # noqa: PLC0415
    from sunpy_jsoc_cutout._plan.process import Process, Step  # noqa: PLC0415

    process = "n=0|im_patch,t=0,cadence=60s"
    steps = Process((Step("im_patch", (("t", "0"), ("cadence", "60s"))),))
    fmt = "aia.lev1.{T_REC:A}.{WAVELNTH}.fits"

    def plan(wave, fmt=fmt, ds="aia.lev1[t@60s]"):
        return ExportPlan("aia.lev1", f"{ds}[? WAVELNTH={wave} ?]", steps, "1", "url", "fits", fmt, None, wave)

    # several wavelengths: each writes its own wavelength into the format; names are unchanged
    out = distinct_plans([plan(171), plan(193), plan(171, ds="aia.lev1[u@60s]")])
    assert [p.filenamefmt for p in out] == [
        "aia.lev1.{T_REC:A}.171.fits",
        "aia.lev1.{T_REC:A}.193.fits",
        "aia.lev1.{T_REC:A}.171.fits",
    ]
    # the two 171 pieces still hash alike apart from the record list: the second pads n=
    assert [p.process for p in out] == [process, process, "n=00|im_patch,t=0,cadence=60s"]
    # a format without {WAVELNTH} keeps the user's text; n= padding alone separates them
    out = distinct_plans([plan(171, fmt="{recnum}.fits"), plan(193, fmt="{recnum}.fits")])
    assert [(p.filenamefmt, p.process) for p in out] == [
        ("{recnum}.fits", process),
        ("{recnum}.fits", "n=00" + process[3:]),
    ]
    # plans that already differ are left alone
    single = [plan(171)]
    assert distinct_plans(single) == single

"""
Every file is the one asked for, where it was asked for, or a clear error (#10, #9): files are
mapped to rows by their record's full identity, completed requests are checked against their plan
before any file is accepted, and the job report counts everything that did not arrive.
"""

from dataclasses import replace
from pathlib import Path

import drms
import numpy as np
import pytest

import astropy.units as u
from astropy.io import fits

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._jsoc.export_files import RecordMatcher, export_warnings
from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time, parse_drms_times
from sunpy_jsoc_cutout._transfer import deliver as _deliver
from sunpy_jsoc_cutout._transfer.ledger import Ledger, ledger_params, request_key
from sunpy_jsoc_cutout.config import conf, ledger_path
from sunpy_jsoc_cutout.exceptions import ConfigurationError, ExportMismatchError, PendingExportError

BOX = jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec)
FOREIGN = "hmi.M_45s[2014.01.01_00:00:00_TAI/2m]"


def two_wavelengths(email, *extra):
    """8 rows of aia.lev1_euv_12s: four 12 s slots at 171 and 193 A, in one export request."""
    return Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:00:40"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA),
        BOX,
        a.jsoc.Notify(email),
        *extra,
    )


def header(path):
    with fits.open(path) as hdul:
        return next(h.header for h in hdul if h.data is not None)


def identity(path):
    """(T_REC in ms, WAVELNTH) from a file's FITS header."""
    head = header(path)
    return round(parse_drms_time(head["T_REC"]).unix * 1000), int(head["WAVELNTH"])


def row_identities(table):
    return sorted(zip(np.round(table["T_REC"].unix * 1000).astype(int), table["Wavelength"].value.astype(int)))


def exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def file_gets(emulator):
    return [e for e in emulator.request_log if e["endpoint"] == "files" and e["method"] == "GET"]


def on_emulator_clock(emulator):
    def sleep(seconds):
        assert emulator.exports.wait_idle(30)
        emulator.clock.advance(seconds)

    return {"clock": emulator.clock.now, "sleep": sleep}


def foreign_export(emulator, email):
    """Another program's full-disk export for the same address, left pending (FAST: done only when polled)."""
    return drms.Client(server=emulator.server_config, email=email).export(FOREIGN, method="url", protocol="fits")


# A: files under their own row ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["url", "url-tar"])
def test_each_wavelength_under_its_own_folder(jsoc, email, tmp_path, method):
    result = two_wavelengths(email, jc.Method(method))
    table = result["jsoccutout"]
    assert len(table.plans) == 1  # both wavelengths share every T_REC and one request
    out = tmp_path / "out"
    files = Fido.fetch(result, path=out / "{wavelength}" / "{file}")
    assert not files.errors
    assert len(files) == len(table) == 8
    for path in map(Path, files):
        _, wavelength = identity(path)
        assert path.parent == out / str(wavelength)
    # one file per row, each row's own record
    assert sorted(identity(p) for p in files) == row_identities(table)


def test_record_matcher_uses_every_prime_key():
    rows = {
        "T_REC": parse_drms_times(["2014-02-05T08:00:01Z"] * 2 + ["2014-02-05T08:00:13Z"]),
        "Wavelength": [171.0, 193.0, 171.0] * u.AA,
    }
    matcher = RecordMatcher("aia.lev1_euv_12s", ("T_REC", "WAVELNTH"), rows)
    assert matcher.match("aia.lev1_euv_12s_mod[2014-02-05T08:00:01Z][193]") == (1, "")
    assert matcher.match("aia.lev1_euv_12s[2014-02-05T08:00:13Z][171]{image}") == (2, "")
    # processed output may carry the request ID as one more prime key
    assert matcher.match("aia.lev1_euv_12s_mod[2014-02-05T08:00:01Z][171][JSOC_20140205_001]")[0] == 0
    index, reason = matcher.match("aia.lev1_euv_12s_mod[2014-02-05T08:00:13Z][193]")
    assert index is None
    assert "matches no row" in reason
    index, reason = matcher.match("hmi.M_45s[2014.02.05_08:00:00_TAI][2]")
    assert index is None
    assert "series hmi.M_45s" in reason
    assert matcher.match("aia.lev1_euv_12s[2014-02-05T08:00:01Z]")[0] is None  # a prime key short
    # without a column for WAVELNTH, two rows look alike: their records are ambiguous, not guessed
    by_time = RecordMatcher("aia.lev1_euv_12s", ("T_REC", "WAVELNTH"), {"T_REC": rows["T_REC"]})
    assert by_time.missing_keys == ("WAVELNTH",)
    index, reason = by_time.match("aia.lev1_euv_12s_mod[2014-02-05T08:00:01Z][171]")
    assert index is None
    assert "matches 2 rows" in reason
    hmi = RecordMatcher(
        "hmi.M_45s",
        ("T_REC", "CAMERA"),
        {"T_REC": parse_drms_times(["2012.01.01_01:01:30_TAI"] * 2), "CAMERA": np.array([1, 2])},
    )
    assert hmi.match("hmi.M_45s[2012.01.01_01:01:30_TAI][2]") == (1, "")


# B: only the planned export is accepted --------------------------------------------------------


def test_a_run_that_gave_up_under_status_7_leaves_nothing_to_adopt(jsoc, email, tmp_path):
    result = two_wavelengths(email)
    plan = result["jsoccutout"].plans[0]
    foreign = foreign_export(jsoc, email)
    with conf.set_temp("export_timeout", 1.0):
        first = Fido.fetch(result, path=tmp_path / "first" / "{file}")
    (error,) = first.errors
    assert isinstance(error.exception, PendingExportError)
    assert foreign.id in str(error.exception)
    ledger = Ledger(ledger_path())
    assert ledger.intent(request_key(ledger_params(plan, email))) is None  # the refusal cleared it
    # the next run meets the same foreign request pending: it waits it out, never adopts it
    second = Fido.fetch(result, path=tmp_path / "second" / "{file}", **on_emulator_clock(jsoc))
    assert not second.errors
    assert sorted(identity(p) for p in second) == row_identities(result["jsoccutout"])
    assert ledger.get(foreign.id) is None
    assert all(e.requestid != foreign.id for e in ledger.requests())


def test_a_foreign_request_adopted_by_intent_is_refused_by_its_records(jsoc, email, tmp_path):
    result = two_wavelengths(email)
    plan = result["jsoccutout"].plans[0]
    ledger = Ledger(ledger_path())
    ledger.add_intent(request_key(ledger_params(plan, email)))  # a killed run was about to submit
    foreign = foreign_export(jsoc, email)  # ... but the pending request JSOC names is another program's
    out = tmp_path / "out"
    files = Fido.fetch(result, path=out / "{file}", **on_emulator_clock(jsoc))
    assert len(files) == 0
    (error,) = files.errors
    assert isinstance(error.exception, ExportMismatchError)
    assert error.url.startswith("http://127.0.0.1")
    text = str(error.exception)
    assert foreign.id in text
    assert "hmi.M_45s" in text
    assert not list(out.rglob("*.fits"))
    assert ledger.get(foreign.id).status == "failed"  # never complete under the AIA plan
    report = result["jsoccutout"].client.last_report
    assert not report.ok
    assert report.shortfall == 8


# C: truthful accounting ------------------------------------------------------------------------


def test_an_export_without_files_is_an_error_with_jsoc_text(jsoc, email, tmp_path):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:00:30"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([2048, 2048] * u.pix, 50 * u.pix),
        jc.Tracking(False),
        a.jsoc.Notify(email),
    )
    table = result["jsoccutout"]
    assert (table["Skip"] == "").all()
    # JSOC makes no cutout of a box wholly off the image (as if the planner had mispredicted)
    table.plans[0] = replace(table.plans[0], processing=table.plans[0].process.replace("x=2048", "x=9000"))
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert len(files) == 0
    (error,) = files.errors
    assert "No FITS files were exported" in str(error.exception)
    report = table.client.last_report
    assert not report.ok
    assert "No FITS files were exported" in report.failed[0].message
    assert f"0 of {len(table)} planned files arrived" in str(report)
    assert Ledger(ledger_path()).requests()[0].status == "failed"


def test_export_warnings_are_read_from_the_data_rows():
    text = "No FITS files were exported. The requested FITS files no longer exist."
    assert export_warnings({"data": [{"record": f"warning={text}", "filename": ""}]}) == [text]
    assert export_warnings({"data": [{"record": f"warning={text}"}]}) == [text]
    assert export_warnings({"data": [{"record": "aia.lev1_euv_12s[2014-02-05T08:00:01Z][171]", "filename": "a"}]}) == []


def test_failed_downloads_are_counted(jsoc, email, tmp_path):
    result = two_wavelengths(email)
    jsoc.faults.set("http500", "files", times=2)
    with conf.set_temp("download_retries", 0):  # the failures stand (retries: test_fault_matrix.py)
        files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert len(files) == 6
    assert len(files.errors) == 2
    report = result["jsoccutout"].client.last_report
    assert not report.ok
    assert len(report.missing) == 2
    assert all("download failed" in m.reason for m in report.missing)
    assert "6 of 8 planned files arrived" in str(report)


def test_an_export_that_expired_before_its_download_is_counted(jsoc, email, tmp_path, monkeypatch):
    result = two_wavelengths(email)
    download = _deliver.download_request

    def expire_first(ledger, requestid, *args, **kwargs):
        assert jsoc.expire(requestid) == "expired"  # JSOC deletes it between completion and download
        return download(ledger, requestid, *args, **kwargs)

    monkeypatch.setattr(_deliver, "download_request", expire_first)
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert len(files) == 0
    assert len(files.errors) == 8
    report = result["jsoccutout"].client.last_report
    assert not report.ok
    assert [f.status for f in report.failed] == ["expired"]
    assert "0 of 8 planned files arrived" in str(report)
    assert Ledger(ledger_path()).requests()[0].status == "expired"


@pytest.mark.parametrize("batch", [-1, 0])
def test_a_download_batch_below_one_is_refused(jsoc, email, tmp_path, batch):
    result = two_wavelengths(email)
    with (
        conf.set_temp("download_batch", batch),
        pytest.raises(ConfigurationError, match=r"conf\.download_batch.*at least 1"),
    ):
        Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert not exp_requests(jsoc)


# E: a re-fetch into another path ---------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_refetch_into_another_path_puts_the_files_there(jsoc, email, tmp_path, overwrite):
    result = two_wavelengths(email)
    first = Fido.fetch(result, path=tmp_path / "first" / "{wavelength}" / "{file}")
    assert len(first) == 8
    gets, submits = len(file_gets(jsoc)), len(exp_requests(jsoc))
    second = Fido.fetch(result, path=tmp_path / "second" / "{file}", overwrite=overwrite)
    assert not second.errors
    assert sorted(Path(p).parent for p in second) == [tmp_path / "second"] * 8
    assert sorted(Path(p).name for p in second) == sorted(Path(p).name for p in first)
    for path in map(Path, second):
        assert path.read_bytes() == (tmp_path / "first" / str(identity(path)[1]) / path.name).read_bytes()
    assert len(exp_requests(jsoc)) == submits  # no new export
    assert len(file_gets(jsoc)) == gets  # copied from the ledger's known files
    assert all(Path(p).exists() for p in first)

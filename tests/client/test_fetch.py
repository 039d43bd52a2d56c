"""Fido.fetch through JSOCCutoutClient against the emulator with JSOC's rules on."""

import re
from pathlib import Path

import parfive
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.map
import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington
from sunpy.net import Fido
from sunpy.net.jsoc import JSOCClient

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import jobs
from sunpy_jsoc_cutout.config import conf
from sunpy_jsoc_cutout.exceptions import MissingNotifyError, PathTemplateError, UnsafeArchiveError

GUIDE_FORMAT = "aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"  # the guide's {WAVELNTH} format, plus .fits
GUIDE_NAME = re.compile(r"^aia\.lev1\.2014-02-05T\d{6}Z\.(171|193|211|304)\.noproj\.fits$")
CENTRE = (100 * u.deg, 10 * u.deg)


def guide_query(email, *extra):
    return (
        a.Time("2014-02-05 08:00", "2014-02-05 16:00"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA),
        jc.Box.carrington(*CENTRE, 40 * u.pix, 40 * u.pix),
        jc.Tracking(True),
        jc.FilenameFormat(GUIDE_FORMAT),
        a.jsoc.Notify(email),
        *extra,
    )


def exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def test_guide_request_end_to_end(jsoc, email, tmp_path):
    result = Fido.search(*guide_query(email, a.Sample(10 * u.min), jc.Method("url-tar")))
    table = result["jsoccutout"]
    assert len(table) == 4 * 48
    out = tmp_path / "out"  # (the emulator's own files live in tmp_path / "sums")
    files = Fido.fetch(result, path=out / "{wavelength}" / "{file}")
    assert not files.errors
    assert len(files) == 4 * 48
    assert not list(out.rglob("*.tar"))  # tars removed after extraction
    for path in map(str, files):
        name = path.rsplit("/", 1)[1]
        assert GUIDE_NAME.match(name), name
        assert f"/{name.split('.')[-3]}/" in path  # the {wavelength} folder
    # every file opens as a map whose WCS puts the tracked Carrington point at the cutout centre
    for path in sorted(map(str, files))[::16]:
        cutout = sunpy.map.Map(path)
        assert cutout.data.shape == (40, 40)
        assert cutout.data.dtype.kind == "f"
        assert cutout.data.dtype.itemsize == 4  # float32 (big-endian in FITS)
        point = SkyCoord(
            *CENTRE, frame=HeliographicCarrington, observer=cutout.observer_coordinate, obstime=cutout.date
        )
        x, y = cutout.wcs.world_to_pixel(point)
        assert abs(x - 19.5) < 1.5
        assert abs(y - 19.5) < 1.5
    assert jsoc.connections.snapshot()["max_connections"] == 1


def test_fetch_without_notify_says_what_to_add(jsoc, tmp_path):
    result = Fido.search(*guide_query("unused@example.com")[:6])  # no a.jsoc.Notify
    with pytest.raises(MissingNotifyError, match=r"a\.jsoc\.Notify"):
        Fido.fetch(result, path=tmp_path / "{file}")
    assert not exp_requests(jsoc)


def test_one_failing_export_does_not_stop_the_others(jsoc, email, tmp_path):
    query = guide_query(email, a.Sample(30 * u.min))
    result = Fido.search(a.Time("2014-02-05 08:00", "2014-02-05 09:00"), *query[1:])
    jsoc.set_export_faults(fail_after=0, fail_requests=1, fail_message="Simulated im_patch failure")
    files = Fido.fetch(result, path=tmp_path / "{file}")
    assert len(files.errors) == 1
    error = files.errors[0]
    assert error.url.startswith("http://127.0.0.1")
    assert "Simulated im_patch failure" in str(error.exception)
    requestid = re.search(r"JSOC_\d{8}_\d+", str(error.exception)).group(0)
    assert requestid in error.url
    assert len(files) == 3 * 2  # the three other wavelengths, two frames each
    report = result["jsoccutout"].client.last_report
    assert isinstance(report, jobs.JobReport)
    assert any(f.requestid == requestid for f in report.failed)
    # the documented retry: does not raise, one connection
    again = Fido.fetch(files, max_conn=1)
    assert isinstance(again, parfive.Results)
    assert jsoc.connections.snapshot()["max_connections"] == 1


def test_stock_client_with_two_blocks_gets_status_7_ours_completes(jsoc, email, tmp_path):
    wavelengths = a.Wavelength(171 * u.AA) | a.Wavelength(193 * u.AA)
    span = a.Time("2014-02-05 08:00", "2014-02-05 08:00:30")
    with jsoc.use_for_drms_jsoc():
        stock = JSOCClient()
        response = stock.search(span, a.jsoc.Series("aia.lev1_euv_12s"), wavelengths, a.jsoc.Notify(email))
        assert len(response.query_args) == 2
        # sunpy submits one export per block at once: JSOC refuses the second (drms#60)
        requests = stock.request_data(response)
    assert [r.status for r in requests] == [2, 7]
    assert [e.get("jsoc_status") for e in exp_requests(jsoc)] == [2, 7]
    # the same data through ours: one request at a time (the stock client's pending one is cancelled)
    box = jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec)
    with conf.set_temp("min_poll", 0.2):
        result = Fido.search(span, a.jsoc.Series("aia.lev1_euv_12s"), wavelengths, box, a.jsoc.Notify(email))
        files = Fido.fetch(result, path=tmp_path / "{file}", cancel_foreign=True)
    assert not files.errors
    assert len(files) == len(result[0]) + len(result[1])
    ours = exp_requests(jsoc)[2:]
    # the stock client's first export was still pending: status 7 once, cancelled, then one request per block
    assert [e.get("jsoc_status") for e in ours] == [7, 2, 2]
    assert [e["params"].get("operation") for e in jsoc.request_log if e["endpoint"] == "manage_request"].count(
        "cancel"
    ) == 1


def test_malicious_tar_is_refused_and_the_others_arrive(jsoc, email, tmp_path):
    query = guide_query(email, a.Sample(30 * u.min), jc.Method("url-tar"))
    result = Fido.search(a.Time("2014-02-05 08:00", "2014-02-05 08:30"), *query[1:])
    absolute = Path("/tmp/jsoc_emulator_unsafe_absolute.txt")
    absolute.unlink(missing_ok=True)
    jsoc.set_export_faults(unsafe_tar=["dotdot", "absolute", "symlink"])
    out = tmp_path / "out"
    files = Fido.fetch(result, path=out / "{file}")
    assert len(files.errors) == 4  # every tar of this job was poisoned: each refused, none raised
    assert all(isinstance(e.exception, UnsafeArchiveError) for e in files.errors)
    assert not list(out.rglob("*.fits"))  # nothing extracted from a refused tar
    assert not list(out.rglob("*.tar"))
    assert not absolute.exists()
    assert not list(tmp_path.rglob("jsoc_emulator_unsafe_*"))
    assert not list(tmp_path.rglob("unsafe_symlink*"))


def test_bad_path_template_fails_before_anything_is_sent(jsoc, email, tmp_path):
    result = Fido.search(*guide_query(email, a.Sample(60 * u.min)))
    with pytest.raises(PathTemplateError, match="passband"):
        Fido.fetch(result, path=tmp_path / "{passband}" / "{file}")
    assert not exp_requests(jsoc)


def test_every_listed_row_arrives_when_the_last_slot_is_past_the_time_range(jsoc, email, tmp_path):
    # aia.lev1_euv_12s slots are labelled a second after the minute: 09:00:01 is in the record set
    # of 08:00-09:00 at 20 min; im_patch's t_stop must not drop it.
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 09:00"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
        a.Sample(20 * u.min),
        a.jsoc.Notify(email),
    )
    table = result["jsoccutout"]
    assert len(table) == 4
    assert table["T_REC"][-1].isot.startswith("2014-02-05T09:00:01")
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert not files.errors
    assert len(files) == 4
    assert not result["jsoccutout"].client.last_report.missing


@pytest.mark.parametrize("method", ["url", "url-tar"])
def test_fido_draws_no_empty_progress_bar_after_ours(jsoc, email, tmp_path, monkeypatch, capsys, method):
    # Before: after the client's bars, Fido's own downloader (nothing queued on it) drew
    # "Files Downloaded: 0file [00:00, ?file/s]", and a url-tar export's bar stayed at "0file".
    monkeypatch.delenv("PARFIVE_HIDE_PROGRESS", raising=False)  # tests/client/conftest.py hides the bars
    box = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
    time = a.Time("2014-02-05 08:00", "2014-02-05 08:00:20")
    result = Fido.search(
        time, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), box, jc.Method(method), a.jsoc.Notify(email)
    )
    files = Fido.fetch(result, path=tmp_path / "{file}")
    assert len(files) == 3
    assert not files.errors
    drawn = capsys.readouterr().err
    assert "Staging JSOC exports" in drawn  # the client's bars are shown
    assert re.search(r"Files of JSOC_\d+_\d+: 100%.* 3/3 ", drawn), drawn[-500:]
    assert "Files Downloaded" not in drawn  # parfive's main bar, drawn only by Fido's downloader

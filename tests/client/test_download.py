"""
Downloads of completed exports against the emulator: URLs, paths, partial names, the ledger,
url-tar extraction, the free-space check and the job report.
"""

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import drms
import pytest

from astropy.time import Time

from sunpy_jsoc_cutout._transfer.download import (
    check_free_space,
    download_request,
    file_urls,
    make_downloader,
    target_path,
)
from sunpy_jsoc_cutout._transfer.ledger import Ledger
from sunpy_jsoc_cutout._transfer.report import SKIP_QUALITY, JobReport
from sunpy_jsoc_cutout._transfer.session import DownloadSession
from sunpy_jsoc_cutout.exceptions import DiskSpaceError, PathTemplateError, UnsafeArchiveError

HMI = "hmi.M_45s[2014.01.01_00:00:00_TAI/3m]{magnetogram}"


def completed_export(emulator, email, spec=HMI, method="url", protocol="fits"):
    """Export through drms, wait, and return (drms request, the completed exp_status reply)."""
    client = drms.Client(server=emulator.server_config, email=email)
    request = client.export(spec, method=method, protocol=protocol)
    assert request.wait(sleep=0)
    query = urllib.parse.urlencode({"op": "exp_status", "requestid": request.id})
    with urllib.request.urlopen(f"{emulator.server_config.url_jsoc_fetch}?{query}") as reply:
        return request, json.load(reply)


def file_downloads(emulator):
    """The file GETs the emulator served (parfive also sends a HEAD first)."""
    return [e for e in emulator.request_log if e.get("path", "").startswith("/SUM") and e.get("method") == "GET"]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def into(directory):
    return lambda record, filename: target_path(directory / "{file}", filename, {})


# file_urls ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["url", "url-tar", "url_quick"])
def test_file_urls_match_drms(emulator, email, method):
    protocol = "as-is" if method == "url_quick" else "fits"
    request, index = completed_export(emulator, email, method=method, protocol=protocol)
    if method == "url_quick":
        index = request._d  # url_quick replies at once: there is no request ID to poll
    urls = request.urls
    expected = [(r or "", f, u) for r, f, u in zip(urls.record, urls.filename, urls.url, strict=True)]
    assert file_urls(index, emulator.server_config.http_download_baseurl) == expected
    if method == "url-tar":
        assert len(expected) == 1
        assert expected[0][1].endswith(".tar")


def test_file_urls_rules():
    index = {
        "method": "url",
        "protocol": "fits",
        "dir": "/SUM1/D2/S00000",
        "data": [{"record": "r[1]", "filename": "a.fits"}, {"record": "r[2]", "filename": "NoDataFile"}],
    }
    assert file_urls(index, "http://host/base") == [("r[1]", "a.fits", "http://host/base/SUM1/D2/S00000/a.fits")]
    quick = {"method": "url_quick", "dir": "", "data": [{"record": "r", "filename": "/SUM9/D1/S0/m.fits"}]}
    assert file_urls(quick, "http://h/") == [("r", "m.fits", "http://h/SUM9/D1/S0/m.fits")]
    with pytest.raises(ValueError, match="ftp"):
        file_urls({**index, "method": "ftp"}, "http://h/")


# target_path ----------------------------------------------------------------------------------


def test_target_path_fills_row_keys(tmp_path):
    row = {"T_REC": Time("2014-01-01T00:00:01"), "Wavelength": 171, "INSTRUME": "AIA_3"}
    path = target_path(str(tmp_path / "{wavelength}" / "{T_REC:%Y%m%d}" / "{INSTRUME}_{file}"), "x.fits", row)
    assert path == tmp_path / "171" / "20140101" / "AIA_3_x.fits"
    assert target_path(tmp_path, "x.fits", row) == tmp_path / "x.fits"
    assert target_path("~/{t_rec:%Y}/{file}", "x.fits", row).parts[-2:] == ("2014", "x.fits")
    with pytest.raises(PathTemplateError, match=r"\{date\}.*Available keys: INSTRUME, T_REC, Wavelength"):
        target_path(tmp_path / "{date}" / "{file}", "x.fits", row)
    with pytest.raises(PathTemplateError, match="not a valid template"):
        target_path(tmp_path / "{file" / "x", "x.fits", row)


# check_free_space -----------------------------------------------------------------------------


def test_check_free_space(tmp_path):
    free = check_free_space(tmp_path / "not" / "yet", 1)
    assert free > 1
    with pytest.raises(DiskSpaceError, match=r"needs 1000000000000000000 bytes .* only \d+ bytes") as info:
        check_free_space(tmp_path, 10**18)
    assert info.value.needed == 10**18
    assert 0 < info.value.free < 10**18


# url exports ----------------------------------------------------------------------------------


def test_url_export_downloads_once_over_one_connection(emulator, email, tmp_path):
    _, index = completed_export(emulator, email)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    base = emulator.server_config.http_download_baseurl
    results = download_request(ledger, index["requestid"], index, base, into(tmp_path / "out"))
    assert not results.errors
    names = sorted(p.rsplit("/", 1)[-1] for p in results)
    assert names == sorted(f for _, f, _ in file_urls(index, base))
    assert len(names) == 4
    assert emulator.connections.snapshot()["max_connections"] <= 1
    assert not list((tmp_path / "out").glob("*.part"))
    for record, filename, url in file_urls(index, base):
        entry = ledger.done_file(index["requestid"], filename)
        final = tmp_path / "out" / filename
        assert entry.path == str(final)
        assert entry.record == record
        with urllib.request.urlopen(url) as reply:
            assert final.read_bytes() == reply.read()
        assert entry.sha256 == sha256(final)
    # the same download again is skipped entirely: the ledger holds every file
    before = len(file_downloads(emulator))
    again = download_request(ledger, index["requestid"], index, base, into(tmp_path / "out"))
    assert sorted(again) == sorted(results)
    assert len(file_downloads(emulator)) == before


def test_truncated_download_never_takes_the_final_name(emulator, email, tmp_path):
    _, index = completed_export(emulator, email)
    rid, base = index["requestid"], emulator.server_config.http_download_baseurl
    ledger = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "out"
    # a stale partial file from a killed run must not be taken for a finished one
    last_name = file_urls(index, base)[-1][1]
    out.mkdir()
    (out / (last_name + ".part")).write_bytes(b"garbage from a killed run")
    emulator.faults.set("truncate", "files", times=1)
    with DownloadSession(retries=0) as session:  # the truncation stands (retries: test_fault_matrix.py)
        results = download_request(ledger, rid, index, base, into(out), session=session)
    (error,) = results.errors
    assert error.url.startswith("http")
    failed = error.url.rsplit("/", 1)[-1]
    assert not (out / failed).exists()
    assert ledger.done_file(rid, failed) is None
    assert len(results) == 3
    assert not list(out.glob("*.part"))
    assert failed != last_name
    assert (out / last_name).read_bytes()[:6] == b"SIMPLE"
    # a parfive retry (what Fido.fetch(results) does) writes <name>.unverified, never the final name
    retried = make_downloader(progress=False).retry(results)
    assert not retried.errors
    assert not (out / failed).exists()
    assert (out / f"{failed}.unverified").read_bytes()[:6] == b"SIMPLE"
    # and a re-run verifies that copy and files it: nothing is downloaded
    before = len(file_downloads(emulator))
    rerun = download_request(ledger, rid, index, base, into(out))
    assert len(rerun) == 4
    assert not rerun.errors
    assert len(file_downloads(emulator)) == before
    assert not (out / f"{failed}.unverified").exists()
    assert ledger.done_file(rid, failed).sha256 == sha256(out / failed)


_KILLED = """
import json, sys
from sunpy_jsoc_cutout._transfer.download import download_request, target_path
from sunpy_jsoc_cutout._transfer.ledger import Ledger
ledger_path, index_path, base, out = sys.argv[1:]
index = json.load(open(index_path))
download_request(Ledger(ledger_path), index["requestid"], index, base,
                 lambda rec, name: target_path(out + "/{file}", name, {}))
"""


def test_killed_download_leaves_no_final_file(emulator, email, tmp_path):
    _, index = completed_export(emulator, email)
    rid, base = index["requestid"], emulator.server_config.http_download_baseurl
    (tmp_path / "index.json").write_text(json.dumps(index))
    out = tmp_path / "out"
    emulator.faults.set("slow", "files", delay=5.0)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    args = [
        sys.executable,
        "-c",
        _KILLED,
        str(tmp_path / "ledger.sqlite"),
        str(tmp_path / "index.json"),
        base,
        str(out),
    ]
    worker = subprocess.Popen(args, env={**env, "PARFIVE_HIDE_PROGRESS": "1"})
    try:
        for _ in range(400):  # the partial file appears once the first reply's headers arrived
            if list(out.glob("*.part")) or worker.poll() is not None:
                break
            time.sleep(0.05)
        assert worker.poll() is None
        assert len(list(out.glob("*.part"))) == 1
    finally:
        worker.kill()
        worker.wait()
    assert [p for p in out.iterdir() if not p.name.endswith(".part")] == []
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert all(not f.done for f in ledger.files(rid))
    emulator.faults.clear()
    results = download_request(ledger, rid, index, base, into(out))
    assert len(results) == 4
    assert not results.errors
    assert sorted(p.name for p in out.iterdir()) == sorted(f for _, f, _ in file_urls(index, base))


# url-tar exports ------------------------------------------------------------------------------


@pytest.mark.parametrize("keep_tar", [False, True])
def test_url_tar_is_extracted_and_the_tar_removed(emulator, email, tmp_path, keep_tar):
    _, index = completed_export(emulator, email, method="url-tar")
    rid, base = index["requestid"], emulator.server_config.http_download_baseurl
    ledger = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "out"
    results = download_request(ledger, rid, index, base, into(out), keep_tar=keep_tar)
    assert not results.errors
    expected = sorted(row["filename"] for row in index["data"])
    assert sorted(p.rsplit("/", 1)[-1] for p in results) == expected
    leftovers = sorted(p.name for p in out.iterdir())
    assert leftovers == sorted(expected + ([f"{rid}.tar"] if keep_tar else []))
    for name in expected:
        assert (out / name).read_bytes()[:6] == b"SIMPLE"
        assert ledger.done_file(rid, name).sha256 == sha256(out / name)
    before = len(file_downloads(emulator))
    assert sorted(download_request(ledger, rid, index, base, into(out))) == sorted(results)
    assert len(file_downloads(emulator)) == before


def test_missing_files_go_to_the_report(emulator, email, tmp_path):
    _, index = completed_export(emulator, email, method="url-tar")
    index["data"] += [
        {"record": "hmi.M_45s[2014.01.01_00:09:00_TAI][2]", "filename": "NoDataFile"},
        {"record": "hmi.M_45s[2014.01.01_00:09:45_TAI][2]", "filename": "ghost.fits"},
    ]
    report = JobReport()
    results = download_request(
        Ledger(tmp_path / "l.sqlite"),
        index["requestid"],
        index,
        emulator.server_config.http_download_baseurl,
        into(tmp_path / "out"),
        report=report,
    )
    assert len(results) == 4
    assert not results.errors
    assert [(m.record, m.filename) for m in report.missing] == [
        ("hmi.M_45s[2014.01.01_00:09:00_TAI][2]", ""),
        ("hmi.M_45s[2014.01.01_00:09:45_TAI][2]", "ghost.fits"),
    ]
    assert "NoDataFile" in report.missing[0].reason
    assert "not in the tar file" in report.missing[1].reason


def test_malicious_tar_from_the_server_writes_nothing(emulator, email, tmp_path):
    emulator.set_export_faults(unsafe_tar=("absolute", "dotdot", "symlink", "hardlink"))
    _, index = completed_export(emulator, email, method="url-tar")
    ledger = Ledger(tmp_path / "work" / "ledger.sqlite")
    out = tmp_path / "work" / "out"
    report = JobReport()
    with pytest.raises(UnsafeArchiveError, match="unsafe"):
        download_request(
            ledger, index["requestid"], index, emulator.server_config.http_download_baseurl, into(out), report=report
        )
    assert list(out.iterdir()) == []
    assert not (tmp_path / "jsoc_emulator_unsafe_dotdot.txt").exists()
    assert not (tmp_path / "work" / "jsoc_emulator_unsafe_dotdot.txt").exists()
    assert all(not f.done for f in ledger.files(index["requestid"]) if f.filename.endswith(".fits"))


# the job report -------------------------------------------------------------------------------


def test_job_report(caplog):
    report = JobReport()
    assert report.ok
    assert "nothing skipped" in str(report)
    for i in range(7):
        report.skip(SKIP_QUALITY, f"aia[{i}]")
    report.skip("no image", "aia[9]")
    report.fail("JSOC_20260101_007", "Request too large", "failed")
    report.missing_file("JSOC_20260101_008", "hmi[1]", "", "JSOC lists no data file (NoDataFile)")
    assert not report.ok
    assert report.counts() == {"QUALITY < 0": 7, "no image": 1}
    text = str(report)
    assert "skipped 7 (QUALITY < 0): aia[0], aia[1], aia[2], aia[3], aia[4], ..." in text
    assert "request JSOC_20260101_007 failed: Request too large" in text
    assert "NoDataFile" in text
    with caplog.at_level(logging.INFO, logger="sunpy"):
        report.log()
    assert any("JSOC_20260101_007" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


# verification, partial names, write errors -------------------------------------------------------


def _fits_bytes(tmp_path, name="v.fits", checksum=True, compressed=False):
    import numpy as np  # noqa: PLC0415

    from astropy.io import fits  # noqa: PLC0415

    data = np.arange(64 * 64, dtype=">f4").reshape(64, 64)
    hdus = [fits.PrimaryHDU(data)]
    if compressed:
        hdus = [fits.PrimaryHDU(), fits.CompImageHDU(data.astype(">i2"), compression_type="RICE_1")]
    path = tmp_path / name
    fits.HDUList(hdus).writeto(path, checksum=checksum)
    return path


@pytest.mark.parametrize("compressed", [False, True])
def test_fits_checksums_are_verified_as_astropy_writes_them(tmp_path, compressed):
    from sunpy_jsoc_cutout._transfer.verify import verify_fits  # noqa: PLC0415
    from sunpy_jsoc_cutout.testing.server.faults import corrupt_bytes  # noqa: PLC0415

    good = _fits_bytes(tmp_path, compressed=compressed)
    assert verify_fits(good) is None
    bad = tmp_path / "bad.fits"
    bad.write_bytes(corrupt_bytes(good.read_bytes()))  # same length, data flipped
    assert "DATASUM" in verify_fits(bad)
    header = bytearray(good.read_bytes())
    header[200] ^= 0x01  # a header byte: only CHECKSUM sees it
    bad.write_bytes(bytes(header))
    assert "CHECKSUM" in verify_fits(bad)
    bad.write_bytes(good.read_bytes()[:-2880])
    assert "short" in verify_fits(bad)
    bad.write_bytes(good.read_bytes()[:-1])
    assert "2880" in verify_fits(bad)
    plain = _fits_bytes(tmp_path, "plain.fits", checksum=False, compressed=compressed)
    bad.write_bytes(corrupt_bytes(plain.read_bytes()))
    assert verify_fits(bad) is None  # without checksums only the structure can be checked


def test_tar_structure_and_members_are_verified(tmp_path):
    import tarfile  # noqa: PLC0415

    from sunpy_jsoc_cutout._transfer.verify import verify_tar  # noqa: PLC0415
    from sunpy_jsoc_cutout.testing.server.faults import corrupt_bytes  # noqa: PLC0415

    members = [_fits_bytes(tmp_path, f"{i}.fits") for i in range(3)]
    tar = tmp_path / "x.tar"
    with tarfile.open(tar, "w") as out:
        for path in members:
            out.add(path, arcname=f"./{path.name}")
    assert verify_tar(tar) is None
    with tarfile.open(tar) as read:
        second = read.getmembers()[1].offset
    raw = bytearray(tar.read_bytes())
    raw[second + 100] ^= 0xFF  # the second header no longer matches its checksum
    (tmp_path / "bad.tar").write_bytes(bytes(raw))
    assert "structure breaks after 1 members" in verify_tar(tmp_path / "bad.tar")
    (tmp_path / "bad.tar").write_bytes(corrupt_bytes(tar.read_bytes()))
    assert "is corrupt" in verify_tar(tmp_path / "bad.tar")
    (tmp_path / "bad.tar").write_bytes(b"\1" * 1024)
    assert "not a readable tar file" in verify_tar(tmp_path / "bad.tar")


def test_partial_names_are_unique_and_stale_ones_found(tmp_path):
    from sunpy_jsoc_cutout._transfer.writer import open_partial, partial_path, stale_partials  # noqa: PLC0415

    final = tmp_path / "a[1].fits"
    first, second = partial_path(final), partial_path(final)
    assert first != second
    assert first.name.startswith(f"a[1].fits.{os.getpid()}-")
    assert first.name.endswith(".part")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    left = tmp_path / f"a[1].fits.{int(dead.stdout)}-0123abcd.part"
    legacy = tmp_path / "a[1].fits.part"
    for path in (first, left, legacy):
        path.write_bytes(b"x")
    assert sorted(stale_partials(final)) == sorted([left, legacy])  # ours (a live pid) is not stale
    with pytest.raises(FileExistsError):
        open_partial(first)  # never an existing file
    (tmp_path / "link.part").symlink_to("/dev/full")
    with pytest.raises(FileExistsError):
        open_partial(tmp_path / "link.part")  # never through a link


def test_write_errors_say_what_to_do(tmp_path):
    import errno  # noqa: PLC0415

    from sunpy_jsoc_cutout._transfer.writer import write_error  # noqa: PLC0415
    from sunpy_jsoc_cutout.exceptions import DownloadWriteError  # noqa: PLC0415

    with pytest.raises(OSError) as full, open("/dev/full", "wb", buffering=0) as device:  # noqa: PT011
        device.write(b"x")
    error = write_error(full.value, tmp_path / "x.fits")
    assert isinstance(error, DiskSpaceError)
    assert error.errno == errno.ENOSPC
    assert "is full" in str(error)
    assert "run the same fetch again" in str(error)
    readonly = write_error(OSError(errno.EROFS, "Read-only file system"), tmp_path / "x.fits")
    assert isinstance(readonly, DownloadWriteError)
    assert readonly.errno == errno.EROFS
    assert "Read-only file system" in str(readonly)


def test_only_transport_faults_are_retried():
    import asyncio  # noqa: PLC0415

    import aiohttp  # noqa: PLC0415

    from sunpy_jsoc_cutout._transfer.download import retryable  # noqa: PLC0415
    from sunpy_jsoc_cutout.exceptions import DiskSpaceError, DownloadWriteError  # noqa: PLC0415

    def status(code):
        return aiohttp.ClientResponseError(None, (), status=code)

    assert [retryable(status(c)) for c in (500, 503, 429, 408, 404, 403)] == [True, True, True, True, False, False]
    assert retryable(aiohttp.ClientConnectionError("reset"))
    assert retryable(aiohttp.ClientPayloadError("truncated"))
    assert retryable(TimeoutError())
    assert not retryable(DiskSpaceError("full"))
    assert not retryable(DownloadWriteError("read-only"))
    assert not retryable(asyncio.CancelledError())

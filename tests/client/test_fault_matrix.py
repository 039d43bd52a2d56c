"""
The fault matrix (issue 11): one test per fault, driven by the emulator's knobs, real OS errors
and signals sent to child processes. Each asserts

* the outcome (what ``Fido.fetch`` returned or how the process ended, and how fast),
* file integrity (the data of every file equal to a fault-free run's, `reference`),
* the ledger (every final file recorded done with its sha256, nothing done that is not whole),
* the number of exports JSOC accepted, over the faulty run and the rerun that completes the job.

docs/explanation/faults.rst renders this module as a table; keep the two in step.
"""

import hashlib
import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from sunpy.net import Fido

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._transfer import batches as _batches
from sunpy_jsoc_cutout._transfer import deliver as _deliver
from sunpy_jsoc_cutout._transfer import writer as _writer
from sunpy_jsoc_cutout._transfer.ledger import Ledger
from sunpy_jsoc_cutout.config import conf, ledger_path
from sunpy_jsoc_cutout.exceptions import (
    CorruptFileError,
    DiskSpaceError,
    DownloadWriteError,
    PathTemplateError,
    UnsafeArchiveError,
)
from sunpy_jsoc_cutout.testing import JSOCEmulator

sys.path.insert(0, str(Path(__file__).parent))
from test_bad_inputs_fido import search_error  # raised (sunpy 7.0) or kept (sunpy >= 7.1)
from test_resume import (  # a sibling test module: its child-process helpers
    EMAIL,
    JOB,
    QUERY,
    accepted_requests,
    child_env,
    data_hashes,
    finish,
    start,
    wait_for,
)

#: Planned files of QUERY (two requests, 171 and 193 Å).
PLANNED = 21
RESUME_LINE = "run the same Fido.fetch (or jobs.download) again to resume without a new export"


# ------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The data hashes of a fault-free run of QUERY (in a child process, as the faulty runs)."""
    tmp_path = tmp_path_factory.mktemp("reference")
    with JSOCEmulator(time_model="fast", image_size=256, registered=(EMAIL,), root=tmp_path / "sums") as emu:
        finish(start(emu, tmp_path, "0.2"))
    hashes = data_hashes(tmp_path / "out")
    assert len(hashes) == PLANNED
    return hashes


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_gets(emulator) -> list[str]:
    return [e["path"] for e in emulator.request_log if e["endpoint"] == "files" and e["method"] == "GET"]


def check_ledger(ledger_file: Path, out: Path) -> dict:
    """Every final file is done in the ledger with its size and sha256; returns the done entries on disk."""
    ledger = Ledger(ledger_file)
    done = {}
    for request in ledger.requests():
        for entry in ledger.files(request.requestid):
            if entry.done and entry.path and Path(entry.path).is_file():
                done[Path(entry.path).name] = entry
    for path in out.glob("*.fits") if out.is_dir() else []:
        assert path.name in done, f"{path.name} is under its final name but not done in the ledger"
        assert (path.stat().st_size, sha256(path)) == (done[path.name].size, done[path.name].sha256)
    return done


def check_data(out: Path, reference: dict) -> dict:
    """The data of every FITS file in ``out`` equal the fault-free run's."""
    got = data_hashes(out)
    assert got == {name: reference[name] for name in got}
    return got


def fetch(result, out: Path, **kwargs):
    return Fido.fetch(result, path=out / "{file}", progress=False, **kwargs)


def complete_rerun(jsoc, out: Path, reference: dict, exports: int) -> None:
    """A rerun without the fault completes the job with no new export and fault-free data."""
    files = fetch(Fido.search(*QUERY), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert len(accepted_requests(jsoc)) == exports
    assert data_hashes(out) == reference
    assert not list(out.glob("*.part"))
    check_ledger(ledger_path(), out)


def after_promotions(monkeypatch, count: int, action) -> None:
    """Run ``action`` once ``count`` files took their final names (the moment a fault strikes mid-fetch)."""
    promote, seen = _batches.promote, itertools.count(1)

    def promoting(item, ledger):
        path = promote(item, ledger)
        if next(seen) == count:
            action()
        return path

    monkeypatch.setattr(_batches, "promote", promoting)


@contextmanager
def tmpfs(path: Path, size: str):
    """A small real file system (tmpfs) at ``path``; skipped where mounting is not allowed."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> None:
    """Fill the file system of ``disk`` to the last byte, as another program would."""
    with open(disk / "filler", "wb", buffering=0) as handle:
        for block in (65536, 1):
            try:
                while True:
                    handle.write(b"\0" * block)
            except OSError:
                pass


# ------------------------------------------------------------------------------------ signals
def _partial_after_a_finished_file(out: Path):
    return lambda: out.exists() and list(out.glob("*.fits")) and any(p.stat().st_size for p in out.glob("*.part"))


def _stop(job, sig) -> tuple[float, str]:
    """Send ``sig``; how long the process took to end and what it wrote to stderr."""
    sent = time.monotonic()
    job.send_signal(sig)
    _, stderr = job.communicate(timeout=30)
    return time.monotonic() - sent, stderr.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_download(jsoc, tmp_path, reference, sig):
    """Ctrl-C/SIGTERM after a file has been downloaded (parfive's dead handlers used to swallow it)."""
    out = tmp_path / "out"
    jsoc.download_bandwidth = 40000.0  # bytes/s: a 112 kB cutout takes about 3 s
    job = start(jsoc, tmp_path, "0.2")
    assert wait_for(_partial_after_a_finished_file(out), timeout=120)
    took, stderr = _stop(job, sig)
    assert took < 2.0, f"the fetch took {took:.2f} s to stop"
    assert job.returncode == (-signal.SIGTERM if sig == signal.SIGTERM else 1)
    assert RESUME_LINE in stderr
    assert not list(out.glob("*.part"))  # the cancelled download's partial file was removed
    done = check_ledger(tmp_path / "ledger.sqlite", out)
    assert set(check_data(out, reference)) == {name for name in done if name.endswith(".fits")}
    jsoc.download_bandwidth = None
    before = len(accepted_requests(jsoc))
    finish(start(jsoc, tmp_path, "0.2"))
    assert len(accepted_requests(jsoc)) == 2 >= before
    gets = file_gets(jsoc)
    assert all(gets.count("/" + entry.url.split("/", 3)[3]) == 1 for entry in done.values())
    assert data_hashes(out) == reference


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_staging(jsoc, tmp_path, reference, sig):
    job = start(jsoc, tmp_path)  # min_poll 2 s: the request stages for at least one pause
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert wait_for(lambda: len(accepted_requests(jsoc)) == 1 and ledger.requests())
    took, stderr = _stop(job, sig)
    assert took < 2.0, f"the fetch took {took:.2f} s to stop"
    assert RESUME_LINE in stderr
    assert [r.status for r in ledger.requests()] == ["submitted"]
    finish(start(jsoc, tmp_path, "0.2"))
    assert len(accepted_requests(jsoc)) == 2  # the interrupted run's request was adopted
    assert data_hashes(tmp_path / "out") == reference


def test_sigkill_mid_download(jsoc, tmp_path, reference):
    """The guarantee kept: SIGKILL leaves at most a partial file, and the rerun makes no new export."""
    out = tmp_path / "out"
    jsoc.download_bandwidth = 40000.0
    job = start(jsoc, tmp_path, "0.2")
    assert wait_for(_partial_after_a_finished_file(out), timeout=120)
    job.kill()
    job.communicate(timeout=30)
    done = check_ledger(tmp_path / "ledger.sqlite", out)
    check_data(out, reference)
    jsoc.download_bandwidth = None
    finish(start(jsoc, tmp_path, "0.2"))
    assert len(accepted_requests(jsoc)) == 2
    gets = file_gets(jsoc)
    assert all(gets.count("/" + entry.url.split("/", 3)[3]) == 1 for entry in done.values())
    assert not list(out.glob("*.part"))  # the killed run's partial file was cleaned up
    assert data_hashes(out) == reference


_AFTER_FETCH = textwrap.dedent(
    """
    import gc, signal, sys, threading
    sys.path.insert(0, sys.argv[4])
    from fetch_job import QUERY
    from sunpy.net import Fido
    from sunpy_jsoc_cutout.config import conf, use_jsoc
    url, ledger, out = sys.argv[1:4]
    with use_jsoc(url), conf.set_temp("ledger", ledger), conf.set_temp("min_poll", 0.2):
        for _ in range(2):
            files = Fido.fetch(Fido.search(*QUERY), path=out + "/{file}", progress=False)
    print("FILES", len(files), len(files.errors))
    print("SIGINT", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    print("SIGTERM", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    print("WAKEUP", signal.set_wakeup_fd(-1))
    collector = threading.Thread(target=gc.collect)  # loops left open are closed by gc: off the main thread
    collector.start()
    collector.join()
    """
)


def test_handlers_restored_and_loops_closed_after_fetch(jsoc, tmp_path):
    """After Fido.fetch, Ctrl-C and SIGTERM work again and no event loop is left for gc to close."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(PARFIVE_HIDE_PROGRESS="1", PYTHONWARNINGS="always::ResourceWarning")
    args = [sys.executable, "-c", _AFTER_FETCH, jsoc.url, str(tmp_path / "l.sqlite"), str(tmp_path / "out")]
    done = subprocess.run([*args, str(JOB.parent)], env=env, capture_output=True, timeout=180, check=False)
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, stderr[-3000:]
    assert f"FILES {PLANNED} 0" in stdout
    assert "SIGINT True" in stdout
    assert "SIGTERM True" in stdout
    assert "WAKEUP -1" in stdout  # no wakeup fd of a dead loop
    assert "Exception ignored" not in stderr
    assert "unclosed event loop" not in stderr


# ------------------------------------------------------------------------------------ disks
def _disk_full_outcome(jsoc, files, out, reference, finished: int) -> None:
    disk_full = [e for e in files.errors if isinstance(e.exception, DiskSpaceError)]
    assert disk_full
    assert len(disk_full) == len(files.errors)
    assert "is full" in str(disk_full[0].exception)
    assert len(files) == finished
    assert not list(out.glob("*.part"))
    assert set(check_data(out, reference)) == set(check_ledger(ledger_path(), out))
    assert len(accepted_requests(jsoc)) <= 2  # the next request may already stage: no more


def test_disk_full_dev_full(jsoc, tmp_path, reference, monkeypatch):
    """ENOSPC from the kernel (writes to /dev/full) from the third file on: error entries, no hang."""
    opened, real = itertools.count(), _writer.open_partial
    monkeypatch.setattr(
        _writer, "open_partial", lambda path: real(path) if next(opened) < 2 else open("/dev/full", "wb")
    )
    out = tmp_path / "out"
    result = Fido.search(*QUERY)
    began = time.monotonic()
    files = fetch(result, out)
    assert time.monotonic() - began < 30
    _disk_full_outcome(jsoc, files, out, reference, finished=2)
    assert {e.exception.errno for e in files.errors} == {28}  # ENOSPC
    report = result["jsoccutout"].client.last_report
    assert any("disk full" in f.status for f in report.failed)
    monkeypatch.undo()
    complete_rerun(jsoc, out, reference, exports=2)


def test_disk_full_real_filesystem(jsoc, tmp_path, reference, monkeypatch):
    """A real small disk that another program fills after two files."""
    with tmpfs(tmp_path / "disk", "8m") as disk:
        out = disk / "out"
        after_promotions(monkeypatch, 2, lambda: fill(disk))
        files = fetch(Fido.search(*QUERY), out)
        _disk_full_outcome(jsoc, files, out, reference, finished=2)
        monkeypatch.undo()
        (disk / "filler").unlink()
        complete_rerun(jsoc, out, reference, exports=2)


def test_folder_replaced_by_a_file(jsoc, tmp_path, reference, monkeypatch):
    """The output folder vanishes mid-fetch (replaced by a file): error entries, not a raw OSError."""
    out = tmp_path / "out"

    def replace():
        shutil.rmtree(out)
        out.write_bytes(b"not a folder")

    after_promotions(monkeypatch, 1, replace)
    files = fetch(Fido.search(*QUERY), out)
    assert len(files) == 1
    assert len(files.errors) == PLANNED - 1
    # the first request's files fail as they are written, the second's when their path is made
    assert all(isinstance(e.exception, DownloadWriteError | PathTemplateError) for e in files.errors)
    assert "not a folder" in out.read_text()
    monkeypatch.undo()
    out.unlink()
    complete_rerun(jsoc, out, reference, exports=2)


def test_folder_read_only(jsoc, tmp_path, reference, monkeypatch):
    """The file system turns read-only mid-fetch (EROFS, which root cannot ignore, unlike chmod)."""
    with tmpfs(tmp_path / "disk", "8m") as disk:
        out = disk / "out"
        after_promotions(monkeypatch, 1, lambda: subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True))
        files = fetch(Fido.search(*QUERY), out)
        assert len(files) == 1
        assert len(files.errors) == PLANNED - 1
        assert all(isinstance(e.exception, DownloadWriteError) for e in files.errors)
        assert {e.exception.errno for e in files.errors} == {30}  # EROFS
        check_ledger(ledger_path(), out)
        check_data(out, reference)
        monkeypatch.undo()
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        complete_rerun(jsoc, out, reference, exports=2)


# ------------------------------------------------------------------------------------ integrity
def test_corrupt_file_is_downloaded_again(jsoc, tmp_path, reference, caplog):
    """Same-length corruption (the emulator's knob) fails the FITS DATASUM/CHECKSUM; the second copy is whole."""
    jsoc.faults.set("corrupt", "files", times=1)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="sunpy"):
        files = fetch(Fido.search(*QUERY), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert any("failed verification" in r.getMessage() and "DATASUM" in r.getMessage() for r in caplog.records)
    gets = file_gets(jsoc)
    assert len(gets) == PLANNED + 1
    assert data_hashes(out) == reference
    check_ledger(ledger_path(), out)
    assert len(accepted_requests(jsoc)) == 2


def test_file_corrupt_twice_is_reported(jsoc, tmp_path, reference):
    jsoc.faults.set("corrupt", "files", times=2)  # the first file and its second download
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY), out)
    (error,) = files.errors
    assert isinstance(error.exception, CorruptFileError)
    assert "corrupt" in str(error.exception)
    assert len(files) == PLANNED - 1
    name = error.url.rsplit("/", 1)[-1]
    assert not (out / name).exists()
    assert data_hashes(out) == {k: v for k, v in reference.items() if k != name}
    check_ledger(ledger_path(), out)
    complete_rerun(jsoc, out, reference, exports=2)


def test_corrupt_tar_is_downloaded_again(jsoc, tmp_path, reference):
    jsoc.faults.set("corrupt", "files", times=1)
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY, jc.Method("url-tar")), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert len(file_gets(jsoc)) == 3  # two tars, one of them twice
    assert data_hashes(out) == reference
    assert not list(out.glob("*.tar"))


# ------------------------------------------------------------------------------------ Fido's retry
RETRY_JOB = JOB.parent / "fido_retry_job.py"


def test_fido_retry_writes_unverified_copies_that_the_rerun_files(jsoc, tmp_path, reference):
    """``Fido.fetch(files)`` writes ``<name>.unverified``, never a final name; the rerun verifies and files them."""
    jsoc.faults.set("http500", "files", times=3)
    out = tmp_path / "out"
    with conf.set_temp("download_retries", 0):
        files = fetch(Fido.search(*QUERY), out)
    failed = sorted(error.url.rsplit("/", 1)[-1] for error in files.errors)
    assert len(failed) == 3
    retried = Fido.fetch(files, max_conn=1, progress=False)
    assert not retried.errors
    assert sorted(Path(p).name for p in retried if str(p).endswith(".unverified")) == [
        f"{name}.unverified" for name in failed
    ]
    assert not any((out / name).exists() for name in failed)
    check_ledger(ledger_path(), out)  # what Fido wrote is not in the ledger, nor under a final name
    gets = len(file_gets(jsoc))
    complete_rerun(jsoc, out, reference, exports=2)
    assert len(file_gets(jsoc)) == gets  # the three copies were verified and filed, not downloaded again
    assert not list(out.glob("*.unverified"))


def test_fido_retry_of_a_tar_never_leaves_it_under_a_final_name(jsoc, tmp_path, reference):
    """A failed ``url-tar`` download retried by Fido lands as ``<tar>.unverified``; the rerun unpacks it."""
    jsoc.faults.set("http500", "files", times=1)
    out = tmp_path / "out"
    query = (*QUERY, jc.Method("url-tar"))
    with conf.set_temp("download_retries", 0):
        files = fetch(Fido.search(*query), out)
    assert len(files.errors) == 1
    unpacked = sorted(p.name for p in out.glob("*.fits"))
    retried = Fido.fetch(files, max_conn=1, progress=False)
    assert not retried.errors
    (spare,) = out.glob("*.unverified")
    assert spare.name.endswith(".tar.unverified")
    assert not list(out.glob("*.tar"))
    assert sorted(p.name for p in out.glob("*.fits")) == unpacked  # nothing of the raw tar under a final name
    gets = len(file_gets(jsoc))
    files = fetch(Fido.search(*query), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert len(file_gets(jsoc)) == gets  # the tar Fido fetched was verified and unpacked
    assert data_hashes(out) == reference
    assert not list(out.glob("*.unverified"))
    assert not list(out.glob("*.tar"))
    check_ledger(ledger_path(), out)
    assert len(accepted_requests(jsoc)) == 2


def test_fido_retry_killed_mid_file_leaves_no_truncated_final_file(jsoc, tmp_path, reference):
    """SIGKILL during ``Fido.fetch(files)``: the truncated copy is ``.unverified``; the rerun discards it."""
    jsoc.faults.set("http500", "files", times=2)
    out = tmp_path / "out"
    args = [sys.executable, str(RETRY_JOB), jsoc.url, str(ledger_path()), str(out), "url"]
    job = subprocess.Popen(args, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = iter(job.stdout.readline, b"")  # sunpy's log shares stdout
        line = next((text for text in map(bytes.decode, lines) if text.startswith("RETRYING")), "")
        assert line.strip() == "RETRYING 2", line or job.stderr.read().decode()[-2000:]
        jsoc.download_bandwidth = 10_000  # Fido's retry now takes seconds per file
        spares = lambda: [p for p in out.glob("*.unverified") if p.stat().st_size]  # noqa: E731
        assert wait_for(spares, timeout=60)
        job.kill()
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
        job.communicate(timeout=30)
        jsoc.download_bandwidth = None
    (spare,) = spares()
    name = spare.name.removesuffix(".unverified")
    assert not (out / name).exists()
    assert len(list(out.glob("*.fits"))) == PLANNED - 2
    gets = len(file_gets(jsoc))
    complete_rerun(jsoc, out, reference, exports=2)
    assert len(file_gets(jsoc)) - gets == 2  # the truncated copy failed verification: both downloaded
    assert not list(out.glob("*.unverified"))


# ------------------------------------------------------------------------------------ two processes
def test_two_processes_one_folder(jsoc, tmp_path, reference):
    """Two fetches of one result into one folder with one ledger: every file downloaded once, no error."""
    jsoc.download_bandwidth = 400000.0  # long enough for the two to overlap
    jobs = [start(jsoc, tmp_path, "0.2") for _ in range(2)]
    outputs = []
    for job in jobs:
        stdout, stderr = job.communicate(timeout=180)
        outputs.append(stdout.decode())
        assert job.returncode == 0, stderr.decode()[-3000:]
        assert "No such file" not in stderr.decode()
    assert all(f"FILES {PLANNED} ERRORS 0" in stdout for stdout in outputs)
    gets = file_gets(jsoc)
    assert len(gets) == len(set(gets)) == PLANNED  # nobody downloaded a file twice
    assert len(accepted_requests(jsoc)) == 2
    out = tmp_path / "out"
    assert not list(out.glob("*.part"))
    assert data_hashes(out) == reference
    check_ledger(tmp_path / "ledger.sqlite", out)


# ------------------------------------------------------------------------------------ expiry
def test_expired_before_download_is_staged_again(jsoc, tmp_path, reference, monkeypatch, caplog):
    """JSOC deletes an export between its completion and its download: the same fetch stages it again."""
    download, expired = _deliver.download_request, []

    def expire_first(ledger, requestid, *args, **kwargs):
        if not expired:
            expired.append(requestid)
            assert jsoc.expire(requestid) == "expired"
        return download(ledger, requestid, *args, **kwargs)

    monkeypatch.setattr(_deliver, "download_request", expire_first)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="sunpy"):
        files = fetch(Fido.search(*QUERY), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert any("expired before its files were downloaded" in r.getMessage() for r in caplog.records)
    assert len(accepted_requests(jsoc)) == 3  # the expired one, its new staging, the other plan
    statuses = {e.requestid: e.status for e in Ledger(ledger_path()).requests()}
    assert statuses[expired[0]] == "expired"
    assert sorted(statuses.values()) == ["complete", "complete", "expired"]
    assert data_hashes(out) == reference
    check_ledger(ledger_path(), out)


# ------------------------------------------------------------------------------------ survived before
@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_transport_fault_on_jsoc_fetch(jsoc, tmp_path, reference, kind):
    jsoc.faults.set(kind, "jsoc_fetch", times=2)
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY), out)
    assert not files.errors
    assert data_hashes(out) == reference
    check_ledger(ledger_path(), out)
    assert len(accepted_requests(jsoc)) == 2


@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_transport_fault_on_jsoc_info_during_the_search(jsoc, tmp_path, reference, kind):
    """A search whose metadata calls fail twice still plans the same files; the fetch completes."""
    jsoc.faults.set(kind, "jsoc_info", times=2)
    result = Fido.search(*QUERY)
    faulted = [e for e in jsoc.request_log if e["endpoint"] == "jsoc_info" and e.get("fault")]
    assert len(faulted) == 2
    out = tmp_path / "out"
    files = fetch(result, out)
    assert not files.errors
    assert data_hashes(out) == reference
    assert len(accepted_requests(jsoc)) == 2


def test_jsoc_info_fault_that_persists_fails_the_search_after_the_retries(jsoc):
    jsoc.faults.set("http500", "jsoc_info")
    with conf.set_temp("info_retries", 2):
        error = search_error(*QUERY)
    assert "Could not read JSOC metadata" in str(error)
    assert "check the network or the JSOC URL" in str(error)
    calls = [e for e in jsoc.request_log if e["endpoint"] == "jsoc_info"]
    assert len(calls) == 3  # one try and two retries
    assert not accepted_requests(jsoc)


@pytest.mark.parametrize("kind", ["http500", "reset", "truncate"])
def test_transport_fault_on_files(jsoc, tmp_path, reference, kind):
    # Two faulty file GETs are retried within the fetch (conf.download_retries, backoff from
    # conf.retry_wait): one Fido.fetch completes, with no new export.
    jsoc.faults.set(kind, "files", times=2)
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY), out)
    assert not files.errors
    assert len(files) == PLANNED
    assert not list(out.glob("*.part"))
    check_data(out, reference)
    check_ledger(ledger_path(), out)
    assert len(accepted_requests(jsoc)) == 2


@pytest.mark.parametrize("kind", ["http500", "reset"])
def test_transport_fault_that_persists_is_reported_after_the_retries(jsoc, tmp_path, reference, kind):
    jsoc.faults.set(kind, "files")  # every file GET fails
    out = tmp_path / "out"
    with conf.set_temp("download_retries", 2):
        files = fetch(Fido.search(*QUERY), out)
    assert len(files) == 0
    assert len(files.errors) == PLANNED
    gets = [e for e in jsoc.request_log if e["endpoint"] == "files"]
    assert len(gets) >= PLANNED * 3  # one try and two retries of each file (aiohttp may add its own)
    assert not list(out.glob("*.part"))
    jsoc.faults.clear()
    complete_rerun(jsoc, out, reference, exports=2)


def test_status_4_part_way(jsoc, tmp_path, reference):
    jsoc.set_export_faults(fail_after=3, fail_requests=1, fail_message="Simulated im_patch failure")
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY), out)
    (error,) = files.errors
    assert "Simulated im_patch failure" in str(error.exception)
    check_data(out, reference)
    statuses = sorted(e.status for e in Ledger(ledger_path()).requests())
    assert statuses == ["complete", "failed"]
    complete_rerun(jsoc, out, reference, exports=3)  # the failed request is asked again, once


def test_unsafe_tar(jsoc, tmp_path):
    jsoc.set_export_faults(unsafe_tar=["dotdot", "absolute", "symlink"])
    out = tmp_path / "out"
    files = fetch(Fido.search(*QUERY, jc.Method("url-tar")), out)
    assert len(files) == 0
    assert len(files.errors) == 2
    assert all(isinstance(e.exception, UnsafeArchiveError) for e in files.errors)
    assert not list(out.rglob("*.fits"))
    assert not list(tmp_path.rglob("jsoc_emulator_unsafe_*"))
    assert not check_ledger(ledger_path(), out)  # nothing done
    assert len(accepted_requests(jsoc)) == 2


def test_size_estimate_above_free_space(jsoc, tmp_path):
    """Free space is still checked before anything is sent."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        with pytest.raises(DiskSpaceError, match="Not enough free disk space"):
            fetch(Fido.search(*QUERY), disk / "out")
    assert not accepted_requests(jsoc)

"""
SIGKILL a fetch at fixed points, run it again: nothing is asked or downloaded twice, and the
result equals an uninterrupted run (names and data hashes).
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from astropy.io import fits

from sunpy.net import Fido

from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI
from sunpy_jsoc_cutout._transfer.ledger import Ledger, ledger_params, request_key
from sunpy_jsoc_cutout.config import ledger_path
from sunpy_jsoc_cutout.testing import JSOCEmulator

JOB = Path(__file__).parent / "jobs" / "fetch_job.py"
sys.path.insert(0, str(JOB.parent))
from fetch_job import QUERY

EMAIL = "user@example.com"


def child_env(*drop: str) -> dict:
    """The environment of a child process: no proxies (loopback only), no progress bars, minus ``drop``."""
    env = {**os.environ, "PARFIVE_HIDE_PROGRESS": "1"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", *drop):
        env.pop(name, None)
    return env


def start(emulator, tmp_path, min_poll="2"):
    args = [sys.executable, str(JOB), emulator.url, str(tmp_path / "ledger.sqlite"), str(tmp_path / "out"), min_poll]
    return subprocess.Popen(args, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def accepted_requests(emulator):
    return [
        e for e in emulator.request_log if e["params"].get("op") == "exp_request" and e.get("jsoc_status") in (1, 2)
    ]


def data_hashes(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.glob("*.fits")):
        with fits.open(path) as hdul:
            data = next(h.data for h in hdul if h.data is not None)
            out[path.name] = hashlib.sha256(np.ascontiguousarray(data, dtype=">f4").tobytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("reference")
    with JSOCEmulator(time_model="fast", image_size=256, registered=(EMAIL,), root=tmp_path / "sums") as emu:
        finish(start(emu, tmp_path, "0.2"))
    hashes = data_hashes(tmp_path / "out")
    assert len(hashes) >= 20
    return hashes


def finish(job):
    _stdout, stderr = job.communicate(timeout=120)
    assert job.returncode == 0, stderr.decode()[-3000:]


def kill(job):
    job.send_signal(signal.SIGKILL)
    job.wait(30)
    job.stdout.close()
    job.stderr.close()


def test_kill_while_staging_then_resume(jsoc, tmp_path, uninterrupted):
    job = start(jsoc, tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    # the fixed point: JSOC accepted the first request and the client wrote its ID down
    assert wait_for(lambda: len(accepted_requests(jsoc)) == 1 and ledger.requests())
    kill(job)  # the request is staging: min_poll 2 s, and the FAST model finishes only after polls
    first = accepted_requests(jsoc)[0]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.fits"))
    finish(start(jsoc, tmp_path, "0.2"))
    accepted = accepted_requests(jsoc)
    assert len(accepted) == 2  # one per plan over both runs: the killed run's request was adopted
    assert accepted[0]["index"] == first["index"]
    assert jsoc.exports.state()["requests"][0]["state"] == "done"
    assert data_hashes(tmp_path / "out") == uninterrupted


def test_kill_mid_file_then_resume(jsoc, tmp_path, uninterrupted):
    out = tmp_path / "out"
    jsoc.download_bandwidth = 40000.0  # bytes/s: a 100 kB cutout arrives in two chunks 1.6 s apart
    job = start(jsoc, tmp_path, "0.2")

    def partial_after_a_finished_file():
        return out.exists() and list(out.glob("*.fits")) and any(p.stat().st_size for p in out.glob("*.part"))

    assert wait_for(partial_after_a_finished_file, timeout=120)
    kill(job)
    finished_before = {p.name for p in out.glob("*.fits")}
    assert finished_before
    assert list(out.glob("*.part"))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    done_urls = {f.url for r in ledger.requests() for f in ledger.files(r.requestid) if f.done}
    assert done_urls
    jsoc.download_bandwidth = None
    requests_before = len(accepted_requests(jsoc))
    finish(start(jsoc, tmp_path, "0.2"))
    assert len(accepted_requests(jsoc)) <= 2
    assert len(accepted_requests(jsoc)) >= requests_before
    # no complete file was downloaded twice
    gets = [e["path"] for e in jsoc.request_log if e["endpoint"] == "files" and e["method"] == "GET"]
    for url in done_urls:
        path = "/" + url.split("/", 3)[3]
        assert gets.count(path) == 1, path
    assert not list(out.glob("*.part"))
    assert data_hashes(out) == uninterrupted


def test_killed_between_jsoc_accepting_and_the_ledger_write(jsoc, email, tmp_path):
    """The narrowest kill: JSOC has the request, the ledger only the intent to submit it."""
    result = Fido.search(*QUERY)
    plan = result["jsoccutout"].plans[0]
    ledger = Ledger(ledger_path())
    ledger.add_intent(request_key(ledger_params(plan, email)))  # what the killed run wrote first
    with JSOCExportAPI(jsoc.url) as api:
        lost = api.exp_request(plan, email)["requestid"]  # JSOC accepted it; the run died here
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert not files.errors
    accepted = accepted_requests(jsoc)
    assert len(accepted) == 2  # the lost request and the second plan: no duplicate of the first
    assert ledger.get(lost).status == "complete"
    assert len(files) == int((result["jsoccutout"]["Skip"] == "").sum())

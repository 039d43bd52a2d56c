"""
The ``jsoc-cutout`` command line (issue 13), against the emulator (``tests/emulator/test_cli.py``
tests the emulator's own ``python -m sunpy_jsoc_cutout.testing``; the basename must differ).

Most tests call `sunpy_jsoc_cutout.cli.main` in the test process (the ``jsoc`` fixture points
the client at the emulator and gives a ledger of its own); the console script, ``python -m``,
the emulator subcommand and Ctrl-C run in child processes.
"""

import json
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import requests
from test_resume import child_env as resume_child_env  # a sibling test module: its child-process environment

import astropy.units as u

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import cli, jobs
from sunpy_jsoc_cutout.config import conf

#: A small query: one request (171 Å), 6 records of a 64-pixel tracked Carrington box.
QUERY = [
    "--series",
    "aia.lev1",
    "--time",
    "2014-02-05T08:00",
    "2014-02-05T08:01",
    "--wavelength",
    "171",
    "--box-carrington",
    "100",
    "10",
    "--size",
    "64px",
]
FILES = 6


def run(capsys, *argv):
    """``main(argv)``: its exit status, stdout and stderr."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def accepted_exports(emulator) -> list:
    return [
        e for e in emulator.request_log if e["params"].get("op") == "exp_request" and e.get("jsoc_status") in (1, 2)
    ]


def exp_requests(emulator) -> list:
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def child_env() -> dict:
    return resume_child_env("JSOC_EMAIL")


def wait_for(condition, timeout=60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def fetched(jsoc, email, tmp_path, capsys):
    """One completed fetch of QUERY into tmp_path/out; its ``--json`` document."""
    status, out, _ = run(capsys, "fetch", *QUERY, "--notify", email, "--path", tmp_path / "out", "--json")
    assert status == cli.EXIT_OK
    return json.loads(out)


# ------------------------------------------------------------------------- argument parsing
@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("500px", None, 500 * u.pix),
        ("500 pix", None, 500 * u.pix),
        ("300arcsec", None, 300 * u.arcsec),
        ("10deg", None, 10 * u.deg),
        ("171", "Angstrom", 171 * u.AA),
        ("17.1nm", "Angstrom", 17.1 * u.nm),
    ],
)
def test_parse_quantity(text, default, expected):
    value = cli.parse_quantity(text, default)
    assert value.unit == expected.unit
    assert value.value == pytest.approx(expected.value)


def test_build_query_mirrors_the_attrs():
    """Each option becomes its attr: the box, wavelengths, cadence, tracking, processing, method, notify."""
    parser = cli.build_parser()
    options = ["--box-carrington", "100", "10", "--size", "500px", "400px", "--cadence", "1m", "--no-track"]
    options += ["--register", "--crop", "--method", "url-tar", "--notify", "a@b.org"]
    args = parser.parse_args(["search", *QUERY[:7], "193", *options])
    query = {type(attr): attr for attr in cli.build_query(args, parser)}
    box = query[jc.Box]
    assert (box.locunits, box.width, box.height) == ("carrlong", 500 * u.pix, 400 * u.pix)
    assert list(box.position.to_value(u.deg)) == [100, 10]
    assert query[jc.Wavelengths].values == [171, 193]
    sample = next(attr for kind, attr in query.items() if kind.__name__ == "Sample")
    assert sample.value == pytest.approx(60)
    assert query[jc.Tracking].enabled is False
    assert query[jc.Register].value is True
    assert query[jc.Crop].value is True
    assert query[jc.Method].value == "url-tar"
    assert next(attr for kind, attr in query.items() if kind.__name__ == "Notify").value == "a@b.org"


def test_box_arcsec_and_noaa():
    parser = cli.build_parser()
    base = ["search", "--series", "hmi.M_720s", "--start", "2011-02-15T00:00", "--end", "2011-02-15T01:00"]
    args = parser.parse_args([*base, "--box-arcsec", "-517", "-246", "--size", "300arcsec"])
    box = next(a for a in cli.build_query(args, parser) if isinstance(a, jc.Box))
    assert (box.locunits, list(box.position.to_value(u.arcsec)), box.width) == ("arcsec", [-517, -246], 300 * u.arcsec)
    args = parser.parse_args([*base, "--noaa", "11158", "--size", "200arcsec", "100arcsec"])
    region = next(a for a in cli.build_query(args, parser) if isinstance(a, jc.ActiveRegion))
    assert (region.number, region.width, region.height) == (11158, 200 * u.arcsec, 100 * u.arcsec)


def test_notify_defaults_to_jsoc_email(monkeypatch):
    monkeypatch.setenv("JSOC_EMAIL", "env@example.org")
    args = cli.build_parser().parse_args(["fetch", *QUERY])
    assert args.notify == "env@example.org"


def test_help_lists_subcommands_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ("search", "fetch", "status", "list", "download", "resume", "restage", "cancel", "emulator", "demo"):
        assert word in out
    assert "examples:" in out
    assert "exit codes:" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", *QUERY[2:]], "--series"),  # no series
        (["search", *QUERY[:-1], "64furlong"], "furlong"),  # a unit astropy does not know
        (["search", *QUERY[:-1], "64"], "needs a unit"),  # a size without unit
        (["search", *QUERY[:2], "--start", "2014-02-05T08:00", *QUERY[5:]], "--start and --end"),
        (["search", *QUERY, "--start", "2014-02-05T08:00", "--end", "2014-02-05T09:00"], "not both"),
        (["search", *QUERY[:2], *QUERY[5:]], "time range"),  # no time at all
        (["search", *QUERY, "--cadence", "5furlong"], "furlong"),
        (["search", *QUERY, "--start", "yesterday-ish"], "not a time"),
        (["search", *QUERY[:-2]], "--size"),  # no size
        (["search", *QUERY, "1px", "2px"], "at most one HEIGHT"),
        (["search", *QUERY, "--box-arcsec", "0", "0"], "not allowed with"),  # two boxes
        (["search", *QUERY, "--jsoc", "ftp://example.org"], "http://"),
        (["search", *QUERY, "--method", "ftp"], "invalid choice"),
        (["fetch", *QUERY], "--notify"),  # fetch without an address (JSOC_EMAIL unset)
        (["status", "--ledger"], "expected one argument"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(capsys, monkeypatch, argv, message):
    monkeypatch.delenv("JSOC_EMAIL", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (["--box-carrington", "100", "10", "--size=-64px"], "must be positive"),  # Box refuses it
        (["--box-carrington", "400", "10", "--size", "64px"], "between 0 and 360"),
        (["--box-carrington", "100", "10", "--size", "64px", "10arcsec"], "both be angles or both be pixels"),
    ],
)
def test_refused_query_exit_3(jsoc, capsys, box, message):
    status, _, err = run(capsys, "search", *QUERY[:7], *box)
    assert status == cli.EXIT_REFUSED == 3
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1  # one line: "jsoc-cutout search: error: ..."
    assert not exp_requests(jsoc)


def test_unknown_active_region_and_unreachable_jsoc_exit_3(jsoc, capsys, tmp_path):
    base = ["search", *QUERY[:7]]
    status, _, err = run(capsys, *base, "--noaa", "9999", "--size", "100arcsec")
    assert status == 3
    assert "9999" in err
    assert "Traceback" not in err
    status, out, err = run(capsys, *base, "--box-arcsec", "0", "0", "--size", "64px", "--jsoc", "http://127.0.0.1:9/")
    assert status == 3
    assert "127.0.0.1:9" in err
    status, out, err = run(
        capsys, *base, "--box-arcsec", "0", "0", "--size", "64px", "--jsoc", "http://127.0.0.1:9/", "--json"
    )
    document = json.loads(out)
    assert document == {"command": "search", "version": 1, "ok": False, "exit_status": 3, "error": document["error"]}


# ------------------------------------------------------------------------- search
def test_search_prints_fido_table_and_plan(jsoc, capsys):
    status, out, _ = run(capsys, "search", *QUERY)
    assert status == 0
    assert "Results from 1 Provider" in out
    assert f"{FILES} Results from the JSOCCutoutClient" in out
    assert "Export plan: 1 JSOC request(s), 6 files" in out
    assert "T_REC" in out
    assert not exp_requests(jsoc)  # a search exports nothing


def test_search_summary(jsoc, capsys):
    status, out, _ = run(capsys, "search", *QUERY, "--summary")
    assert status == 0
    assert out.startswith("Export plan: 1 JSOC request(s), 6 files")
    assert "im_patch" in out
    assert "T_REC" not in out


def test_search_json_shape(jsoc, capsys, email):
    status, out, _ = run(capsys, "search", *QUERY, "--notify", email, "--json")
    assert status == 0
    document = json.loads(out)
    assert set(document) == {"command", "version", "notify", "method", "summary", "requests", "rows"}
    assert (document["command"], document["version"], document["notify"], document["method"]) == (
        "search",
        1,
        email,
        "url",
    )
    assert document["summary"]["requests"] == 1
    assert document["summary"]["records"] == document["summary"]["files"] == FILES
    (request,) = document["requests"]
    assert {"index", "ds", "process", "method", "protocol", "wavelength", "records", "files", "size_mib"} <= set(
        request
    )
    assert request["wavelength"] == 171
    assert "im_patch" in request["process"]
    assert len(document["rows"]) == FILES
    assert set(document["rows"][0]) == {
        "T_REC",
        "T_OBS",
        "wavelength",
        "instrument",
        "series",
        "quality",
        "skip",
        "size_mib",
        "online",
        "request",
        "filename",
    }
    assert {row["wavelength"] for row in document["rows"]} == {171.0}


# ------------------------------------------------------------------------- fetch and the ledger
def test_fetch_json_shape_and_path_template(jsoc, email, tmp_path, capsys):
    status, out, err = run(
        capsys, "fetch", *QUERY, "--notify", email, "--path", tmp_path / "out" / "{wavelength}" / "{file}", "--json"
    )
    assert status == 0, err
    document = json.loads(out)
    assert set(document) == {"command", "version", "ok", "files", "errors", "requests"}
    assert (document["command"], document["version"], document["ok"], document["errors"]) == ("fetch", 1, True, [])
    assert len(document["files"]) == FILES
    assert all(Path(f).parent == tmp_path / "out" / "171" and Path(f).is_file() for f in document["files"])
    (request,) = document["requests"]
    assert request["status"] == "complete"
    assert (request["files_total"], request["files_done"]) == (FILES, FILES)
    assert [entry.requestid for entry in jobs.list_requests()] == [request["requestid"]]
    assert len(accepted_exports(jsoc)) == 1


def test_fetch_text_output(jsoc, email, tmp_path, capsys):
    status, out, err = run(capsys, "fetch", *QUERY, "--notify", email, "--path", tmp_path / "out", "--no-progress")
    assert status == 0
    assert len(out.splitlines()) == FILES  # one downloaded path a line, for pipes
    assert all(Path(line).is_file() for line in out.splitlines())
    assert "Export plan" in err
    assert f"{FILES} file(s) downloaded, 0 failed." in err


def test_failed_export_exit_1(jsoc, email, tmp_path, capsys):
    jsoc.set_export_faults(fail_after=0, fail_requests=1, fail_message="Simulated im_patch failure")
    status, out, _ = run(capsys, "fetch", *QUERY, "--notify", email, "--path", tmp_path / "out", "--json")
    assert status == cli.EXIT_FAILED == 1
    document = json.loads(out)
    assert document["ok"] is False
    assert document["files"] == []
    assert document["errors"]
    assert "Simulated im_patch failure" in document["errors"][0]["message"]
    assert document["requests"][0]["status"] == "failed"


def test_list_and_status(fetched, capsys):
    requestid = fetched["requests"][0]["requestid"]
    status, out, _ = run(capsys, "list")
    assert status == 0
    assert requestid in out
    assert "complete" in out
    status, out, _ = run(capsys, "list", "--json")
    document = json.loads(out)
    assert set(document) == {"command", "version", "ledger", "requests"}
    assert document["ledger"] == conf.ledger
    (request,) = document["requests"]
    assert {
        "requestid",
        "status",
        "message",
        "submitted",
        "updated",
        "ds",
        "process",
        "files_total",
        "files_done",
    } <= set(request)
    assert "files" not in request
    status, out, _ = run(capsys, "list", "--status", "failed", "--json")
    assert json.loads(out)["requests"] == []
    status, out, _ = run(capsys, "status", requestid, "--json")
    (request,) = json.loads(out)["requests"]
    assert len(request["files"]) == FILES
    assert set(request["files"][0]) == {"record", "filename", "url", "path", "size", "sha256", "done"}
    assert all(f["done"] and Path(f["path"]).is_file() for f in request["files"])
    status, out, _ = run(capsys, "status", requestid)
    assert out.count("done  ") == FILES


def test_status_of_unknown_request_exit_3(jsoc, capsys):
    status, _, err = run(capsys, "status", "JSOC_20140205_999")
    assert status == 3
    assert "no request JSOC_20140205_999" in err


def test_download_and_resume_by_request_id(fetched, jsoc, tmp_path, capsys):
    requestid = fetched["requests"][0]["requestid"]
    status, out, _ = run(capsys, "download", requestid, "--path", tmp_path / "again", "--json")
    assert status == 0
    document = json.loads(out)
    assert (document["command"], document["ok"], document["requests"][0]["requestid"]) == ("download", True, requestid)
    status, _, _ = run(capsys, "resume", requestid, "--path", tmp_path / "again")
    assert status == 0
    assert len(accepted_exports(jsoc)) == 1  # downloading again makes no new export
    status, _, err = run(capsys, "download", "JSOC_20140205_999", "--path", tmp_path / "again")
    assert status == 3  # JSOC does not have it
    assert "JSOC_20140205_999" in err


def test_restage_and_cancel(fetched, jsoc, email, capsys):
    requestid = fetched["requests"][0]["requestid"]
    status, _, err = run(capsys, "restage", requestid)
    assert status == 3  # the ledger no longer holds a finished request's address
    assert "notify" in err
    status, out, _ = run(capsys, "restage", requestid, "--notify", email)
    assert status == 0
    assert out.strip() == requestid  # still complete at JSOC: returned as it is
    status, _, err = run(capsys, "cancel", requestid)
    assert status == 1  # complete, not pending: nothing to cancel
    assert "not pending" in err
    status, _, err = run(capsys, "cancel", "JSOC_20140205_999")
    assert status == 3


def test_demo_delegates(monkeypatch, capsys):
    from sunpy_jsoc_cutout import demo  # noqa: PLC0415

    seen = []
    monkeypatch.setattr(demo, "main", lambda argv: seen.append(argv) or 0)
    status, _, _ = run(capsys, "demo", "--out", "somewhere", "--image-size", "256")
    assert status == 0
    assert seen == [["--out", "somewhere", "--image-size", "256", "--time-model", "fast"]]
    run(capsys, "demo", "--mp4")
    assert seen[-1] == ["--out", "jsoc_cutout_demo", "--image-size", "1024", "--time-model", "fast", "--mp4"]


# ------------------------------------------------------------------------- child processes
def test_console_script_entry_point():
    (script,) = entry_points(group="console_scripts", name="jsoc-cutout")
    assert script.value == "sunpy_jsoc_cutout.cli:main"


def test_emulator_subcommand_serves_until_ctrl_c(tmp_path):
    args = [sys.executable, "-m", "sunpy_jsoc_cutout.cli", "emulator", "--image-size", "256"]
    job = subprocess.Popen(args, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = job.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        reply = requests.get(
            url + "cgi-bin/ajax/jsoc_info", params={"op": "series_struct", "ds": "aia.lev1"}, timeout=30
        )
        assert reply.json()["status"] == 0
    finally:
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=30)
    assert job.returncode == 0, err


def test_fetch_interrupted_then_resumed_without_a_new_export(jsoc, email, tmp_path, capsys):
    """Ctrl-C once a file exists: exit 130 with a resume hint; the same command resumes, no new exp_request."""
    out = tmp_path / "out"
    ledger = tmp_path / "cli-ledger.sqlite"
    argv = ["fetch", *QUERY, "--notify", email, "--path", str(out), "--no-progress", "--ledger", str(ledger)]
    jsoc.download_bandwidth = 20000.0  # bytes/s: a 26 kB cutout takes about a second
    job = subprocess.Popen(
        [sys.executable, "-m", "sunpy_jsoc_cutout.cli", *argv, "--jsoc", jsoc.url],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: out.is_dir() and list(out.glob("*.fits")), timeout=120)
    finally:
        job.send_signal(signal.SIGINT)
        _, err = job.communicate(timeout=60)
    assert job.returncode == cli.EXIT_INTERRUPTED == 130, err
    assert "interrupted" in err
    assert "run the same command again" in err
    assert "Traceback" not in err
    assert len(exp_requests(jsoc)) == 1
    before = len(list(out.glob("*.fits")))
    assert 1 <= before < FILES
    jsoc.download_bandwidth = None
    status, stdout, stderr = run(capsys, *argv, "--json")
    assert status == 0, stderr
    document = json.loads(stdout)
    assert len(document["files"]) == FILES
    assert len(exp_requests(jsoc)) == 1  # resumed: the interrupted run's request was adopted
    assert len(list(out.glob("*.fits"))) == FILES
    assert not list(out.glob("*.part"))

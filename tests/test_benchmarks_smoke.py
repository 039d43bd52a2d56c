"""
The side-by-side benchmark runner (``benchmarks/run_all.py``, issue #14) works at tiny sizes: its
client tasks measure real fetches and searches against the emulator, its child processes report
their own figures (or are killed on cue), and its arithmetic and tables say what the figures say.
No performance is asserted.
"""

import sys
from pathlib import Path

import pytest

from sunpy_jsoc_cutout.testing import EmulatorControl
from sunpy_jsoc_cutout.testing.exports.timemodel import REALISTIC

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from sidebyside import clients, figures, report
from sidebyside.child import run_task
from sidebyside.emulator import EMAIL, EmulatorProcess
from sidebyside.queries import campaign
from sidebyside.workloads import _collect


def attached(emu, root: Path) -> EmulatorProcess:
    """An `EmulatorProcess` view of an emulator of this process (its control API and files)."""
    view = EmulatorProcess(root)
    view.url, view.control = emu.url, EmulatorControl(emu.url)
    return view


def test_a_tiny_campaign_is_measured_for_our_client_and_drms_and_tabled(emulator, tmp_path):
    emulator.register_address(EMAIL)
    view = attached(emulator, tmp_path / "sums")
    spec = campaign(hours=2 / 60, box_px=500)  # four wavelengths, 2 minutes at 60 s
    ours = clients.measured(
        clients.ours_fetch,
        url=emulator.url,
        spec=spec,
        out=str(tmp_path / "ours"),
        image_size=256,
        settings={"min_poll": 0.05},
    )
    ours = _collect(view, ours)
    assert ours["files"] == ours["planned"] > 0
    assert ours["bytes"] == sum(p.stat().st_size for p in (tmp_path / "ours" / "files").glob("*.fits"))
    assert ours["exports"] == len({p["ds"] for p in ours["plans"]})
    assert ours["calls"]["jsoc_fetch exp_request"] == ours["exports"]
    assert ours["wall"] > ours["search"] > 0
    assert ours["cpu"] > 0
    assert ours["peak_rss_mb"] >= ours["rss_before_mb"] > 0
    since = len(emulator.request_log)
    by_hand = clients.measured(
        clients.drms_fetch, url=emulator.url, plans=ours.pop("plans"), out=str(tmp_path / "drms"), poll=0.05
    )
    assert (by_hand["files"], by_hand["errors"]) == (ours["files"], 0)
    entries = emulator.request_log.since(since)
    assert figures.calls_by_endpoint(entries)["jsoc_fetch exp_request"] == len(spec["waves"])
    bound = figures.lower_bound(REALISTIC, ours["files"], ["im_patch"], True, 4e6, 4e6)
    results = {
        "settings": {"started": "now", "machine": "here", "load": "0", "command": "pytest", "scale": 1, "image_size": 256},
        "W1": {"500": {"ours": ours, "drms": by_hand | _collect(view, {}, since), "lower_bound": bound,
                       "records": ours["files"], "bytes_factor": 16.0}},
    }  # fmt: skip
    for run in (ours, results["W1"]["500"]["drms"]):
        run["observed_bound"] = run["staging"] + bound["last_download"]
    text = report.markdown(results)
    assert f"| wall time, s | {ours['wall']:.1f} |" in text
    assert f"| files | {ours['files']} | {by_hand['files']} | {ours['files']} |" in text
    assert "W5: client CPU seconds" in text
    assert ".. list-table:: W1" in report.rst(results)


def test_the_lower_bound_serialises_staging_and_adds_the_last_download():
    bound = figures.lower_bound(REALISTIC, 480, ["im_patch"], True, 2e6, 4e6)
    # one pickup (3 s + half the 5 s jitter) and 10 s overhead, then 0.35 + 1.5 + 0.1 s a record
    assert bound["staging"] == pytest.approx(5.5 + 10 + 480 * 1.95)
    assert bound["last_download"] == pytest.approx(0.5)
    assert bound["total"] == pytest.approx(bound["staging"] + 0.5)
    scaled = figures.lower_bound(REALISTIC.scaled(50), 480, ["im_patch"], True, 2e6, REALISTIC.scaled(50).bandwidth)
    assert scaled["total"] == pytest.approx(bound["total"] / 50)


def test_staging_union_and_calls_by_endpoint():
    assert figures.union_length([(0, 10), (5, 12), (20, 25)]) == 17
    requests = [
        {"submitted": 0, "completed_at": 4},
        {"submitted": 5, "completed_at": None},
        {"submitted": 9, "completed_at": 11},
    ]
    assert figures.staging_intervals(requests, since=1) == [(9, 11)]
    entries = [
        {"endpoint": "jsoc_fetch", "params": {"op": "exp_status"}},
        {"endpoint": "jsoc_fetch", "params": {"op": "exp_status"}},
        {"endpoint": "files", "method": "GET", "params": {}, "path": "/SUM1/D1/S0/a.fits"},
        {"endpoint": "files", "method": "GET", "params": {}, "path": "/SUM1/D1/S0/a.fits"},
        {"endpoint": "checkAddress", "params": {}},
    ]
    assert figures.calls_by_endpoint(entries) == {
        "checkAddress": 1, "files GET": 2, "jsoc_fetch exp_status": 2, "total": 5,
    }  # fmt: skip
    nbytes, paths = figures.served_bytes(entries, lambda path: 100)
    assert (nbytes, paths["/SUM1/D1/S0/a.fits"]) == (200, 2)


def test_a_child_reports_its_own_figures_or_is_killed_on_cue(emulator):
    ds = "aia.lev1_euv_12s[2014-02-05T08:00:00Z/2m][171]"
    out = run_task("drms_search", {"url": emulator.url, "datasets": [ds], "key": "T_REC,QUALITY"}, timeout=120)
    assert out["rows"] == 10
    assert out["wall"] > 0
    assert out["peak_rss_mb"] > 50  # an interpreter with drms and sunpy loaded
    killed = run_task("drms_search", {"url": emulator.url, "datasets": [ds], "key": "T_REC"}, kill_when=lambda: True)
    assert killed["killed"]

"""
``python -m sunpy_jsoc_cutout.testing``: prints its URL, serves, stops cleanly on a signal.
"""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from sunpy_jsoc_cutout.testing import EmulatorControl
from sunpy_jsoc_cutout.testing.__main__ import parse_args, time_model_of

REPO = Path(__file__).resolve().parents[2]


def _start(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-m", "sunpy_jsoc_cutout.testing", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled(stop_signal, tmp_path):
    root = tmp_path / "sums"
    process = _start("--port", "0", "--image-size", "64", "--register", "cli@example.com", "--root", str(root))
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/")
        control = EmulatorControl(url)
        assert control.state()["image_size"] == 64
        with urllib.request.urlopen(url + "cgi-bin/ajax/checkAddress.sh?address=cli%40example.com&checkonly=1") as r:
            assert b'"status": 2' in r.read()
        assert [entry["endpoint"] for entry in control.log()] == ["checkAddress"]
    finally:
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopped" in stderr
    assert root.is_dir()  # a root given on the command line is kept


def test_cli_arguments():
    args = parse_args(["--port", "8123", "--time-model", "realistic", "--register", "a@b.org", "--register", "c@d.org"])
    assert (args.port, args.time_model, args.image_size) == (8123, "realistic", 4096)
    assert args.register == ["a@b.org", "c@d.org"]
    assert args.hide_series == []
    assert parse_args(["--hide-series", "su_rsb.NOAA_ActiveRegions"]).hide_series == ["su_rsb.NOAA_ActiveRegions"]
    with pytest.raises(SystemExit):
        parse_args(["--time-model", "sluggish"])


def test_cli_time_scale_and_bandwidth():
    model = time_model_of(parse_args(["--time-model", "realistic", "--time-scale", "50"]))
    assert model.name == "realistic/50"
    assert (model.fresh_wait, model.overhead, model.bandwidth) == (10 / 50, 10 / 50, 4e6 * 50)
    assert time_model_of(parse_args(["--time-model", "realistic"])).name == "realistic"
    for bad in (["--time-scale", "0"], ["--time-scale", "-2"], ["--bandwidth", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_cli_serves_the_scaled_model(tmp_path):
    process = _start(
        "--image-size", "64", "--time-model", "realistic", "--time-scale", "40", "--bandwidth", "1234", "--root",
        str(tmp_path / "sums"),
    )  # fmt: skip
    try:
        state = EmulatorControl(process.stdout.readline().strip()).state()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert state["time_model"]["name"] == "realistic/40"
    assert state["time_model"]["overhead"] == 10 / 40
    assert state["download_bandwidth"] == 1234

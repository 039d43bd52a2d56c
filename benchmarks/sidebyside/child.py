"""Run one client task (`clients.TASKS`) in a child process and read back its figures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .emulator import child_env

__all__ = ["ChildFailed", "run_task", "start_task"]


class ChildFailed(RuntimeError):
    """A child task exited with an error (its standard error is the message)."""


def start_task(task: str, args: dict, result: Path) -> subprocess.Popen:
    """Start ``python -m sidebyside.clients task args result`` (standard error to ``result.with_suffix('.err')``)."""
    cmd = [sys.executable, "-m", "sidebyside.clients", task, json.dumps(args), str(result)]
    with open(result.with_suffix(".err"), "w") as err:  # the child keeps its own copy of the file
        return subprocess.Popen(cmd, env=child_env(), stdout=subprocess.DEVNULL, stderr=err)


def run_task(
    task: str,
    args: dict,
    timeout: float = 3600.0,
    kill_when: Callable[[], bool] | None = None,
) -> dict:
    """
    Run ``task`` in a child process; its figures (`clients.measured`).

    With ``kill_when``, the child is killed with SIGKILL as soon as ``kill_when()`` is true
    (checked every 20 ms) and ``{"killed": True, "wall": seconds}`` is returned.
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        result = Path(tmp) / "result.json"
        t0 = time.perf_counter()
        process = start_task(task, args, result)
        try:
            while process.poll() is None:
                if kill_when is not None and kill_when():
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                    return {"killed": True, "wall": time.perf_counter() - t0}
                if time.perf_counter() - t0 > timeout:
                    process.kill()
                    process.wait()
                    raise ChildFailed(f"{task} took more than {timeout:.0f} s")
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0 or not result.exists():
            raise ChildFailed(
                f"{task} failed (exit {process.returncode}):\n{result.with_suffix('.err').read_text()[-4000:]}"
            )
        return json.loads(result.read_text())

"""The JSOC emulator in its own process (``python -m sunpy_jsoc_cutout.testing``) and its control API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sunpy_jsoc_cutout.testing import EmulatorControl

__all__ = ["EMAIL", "EmulatorProcess", "child_env"]

#: The notification address every benchmark registers and uses.
EMAIL = "bench@example.com"
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def child_env() -> dict[str, str]:
    """The environment of a child process: this package and the repository importable, no proxies."""
    here = Path(__file__).resolve().parent
    paths = [str(here.parent), str(here.parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "PARFIVE_HIDE_PROGRESS": "1"}
    env.setdefault("MPLBACKEND", "agg")
    for name in _PROXIES:
        env.pop(name, None)  # everything here is on 127.0.0.1
    return env


class EmulatorProcess:
    """
    ``python -m sunpy_jsoc_cutout.testing`` on 127.0.0.1 as a context manager.

    Parameters
    ----------
    root : path-like
        The emulator's SUMS directory (kept, so that downloaded files can be sized).
    time_model : {"fast", "realistic"}
        The preset.
    scale : float or None
        ``--time-scale``: the model this many times faster.
    image_size : int
        Full-disk side in pixels.
    bandwidth : float or None
        Download bytes per second per connection (None: the model's).
    """

    def __init__(
        self,
        root: Path,
        time_model: str = "fast",
        scale: float | None = None,
        image_size: int = 1024,
        bandwidth: float | None = None,
    ) -> None:
        self.root = Path(root)
        self.args = ["--host", "127.0.0.1", "--time-model", time_model, "--image-size", str(image_size)]
        self.args += ["--register", EMAIL, "--root", str(self.root)]
        if scale is not None:
            self.args += ["--time-scale", str(scale)]
        if bandwidth is not None:
            self.args += ["--bandwidth", str(bandwidth)]
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.control: EmulatorControl | None = None

    def __enter__(self) -> EmulatorProcess:
        cmd = [sys.executable, "-m", "sunpy_jsoc_cutout.testing", *self.args]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env()
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.process.kill()
            raise RuntimeError(f"the emulator did not start ({' '.join(cmd)})")
        self.control = EmulatorControl(self.url, timeout=300)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def file_bytes(self, path: str) -> int:
        """Size of the file the emulator serves at URL path ``path`` (0 if it is not there)."""
        local = self.root / path.lstrip("/")
        return local.stat().st_size if local.is_file() else 0

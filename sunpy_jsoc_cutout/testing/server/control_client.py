"""
`EmulatorControl`: drive a running JSOC emulator (in this or another process) over its control API.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urljoin

__all__ = ["EmulatorControl", "EmulatorControlError"]


class EmulatorControlError(RuntimeError):
    """The emulator refused a control call (HTTP 4xx); the message is its ``error`` text."""


class EmulatorControl:
    """
    A small client of the emulator's control API (``/_emulator/...``), using `urllib`.

    Parameters
    ----------
    url : str
        The emulator's base URL, e.g. ``http://127.0.0.1:8123/``.
    timeout : float
        Socket timeout in seconds.

    Examples
    --------
    >>> from sunpy_jsoc_cutout.testing import JSOCEmulator, EmulatorControl
    >>> with JSOCEmulator(image_size=256) as emu:
    ...     control = EmulatorControl(emu.url)
    ...     control.register("someone@example.com")
    ...     rules = control.set_fault("http500", "jsoc_fetch", times=1)["transport"]
    ...     control.state()["time_model"]["name"]
    {'registered': 'someone@example.com'}
    'fast'
    >>> [(rule["kind"], rule["endpoint"], rule["times"]) for rule in rules]
    [('http500', 'jsoc_fetch', 1)]
    """

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = timeout

    def _call(self, method: str, name: str, payload: dict | None = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(urljoin(self.url, "_emulator/" + name), data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            try:
                message = json.loads(err.read().decode("utf-8")).get("error", str(err))
            except ValueError:
                message = str(err)
            raise EmulatorControlError(f"{method} {name}: {message}") from err

    def state(self) -> dict:
        """The emulator's state: pending table, requests, time model, clock, faults."""
        return self._call("GET", "state")

    def log(self, since: int = 0) -> list[dict]:
        """Request log entries from index ``since`` on."""
        return self._call("GET", f"log?since={int(since)}")["entries"]

    def connections(self) -> dict:
        """Current and maximum concurrent downloads and download connections."""
        return self._call("GET", "connections")

    def reset_connections(self) -> dict:
        """Reset the connection maxima; returns the figures before the reset."""
        return self._call("POST", "connections", {})

    def now(self) -> float:
        """The emulator clock (UTC POSIX seconds)."""
        return self._call("GET", "clock")["now"]

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator clock forward; returns the new time."""
        return self._call("POST", "clock", {"advance": seconds})["now"]

    def faults(self) -> dict:
        """The active transport and export-level fault knobs."""
        return self._call("GET", "faults")

    def set_fault(self, kind: str, endpoint: str = "all", **options) -> dict:
        """Turn one transport fault on (see `~sunpy_jsoc_cutout.testing.TransportFaults.set` for the options)."""
        return self._call("POST", "faults", {"transport": [{"kind": kind, "endpoint": endpoint, **options}]})

    def clear_faults(self, kind: str | None = None, endpoint: str | None = None) -> dict:
        """Turn transport faults off (all of them, or one kind and/or endpoint)."""
        clear = True if kind is None and endpoint is None else {"kind": kind, "endpoint": endpoint}
        return self._call("POST", "faults", {"clear": clear})

    def set_export_faults(self, **knobs) -> dict:
        """Set export-level fault knobs on the export manager."""
        return self._call("POST", "faults", {"export": knobs})

    def set_bandwidth(self, bytes_per_second: float | None) -> dict:
        """Override the per-connection download bandwidth (None: back to the time model's)."""
        return self._call("POST", "bandwidth", {"bytes_per_second": bytes_per_second})

    def register(self, address: str) -> dict:
        """Register a notification address."""
        return self._call("POST", "register", {"address": address})

    def expire(self, requestid: str) -> dict:
        """Make a request expire now (its exp_status becomes 5)."""
        return self._call("POST", "expire", {"requestid": requestid})

    def hidden_series(self) -> list[str]:
        """The stored series the emulator answers as unknown."""
        return self._call("GET", "series")["hidden"]

    def set_hidden_series(self, hide=(), show=()) -> list[str]:
        """Answer the series in ``hide`` as unknown and serve those in ``show`` again; returns
        the hidden series (e.g. ``hide=["su_rsb.NOAA_ActiveRegions"]`` for the public JSOC)."""
        return self._call("POST", "series", {"hide": list(hide), "show": list(show)})["hidden"]

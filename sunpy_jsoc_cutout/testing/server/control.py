"""
The emulator's control API (server side): JSON over HTTP under ``/_emulator/``.

=========================  ===========================================================
``GET state``              pending table, requests and statuses, time model, clock, faults
``GET log[?since=N]``      request log entries from index N (``{"entries", "next"}``)
``GET connections``        current/max concurrent downloads and download connections
``POST connections``       reset the maxima (returns the figures before the reset)
``POST clock``             ``{"advance": seconds}`` moves the emulator clock forward
``GET faults``             the active transport knobs and the export-level knobs
``POST faults``            ``{"transport": [{"kind", "endpoint", ...}], "clear": true |
                           {"kind", "endpoint"}, "export": {...}}``
``POST bandwidth``         ``{"bytes_per_second": x | null}`` overrides the time model's
``POST register``          ``{"address": "..."}`` registers a notification address
``POST expire``            ``{"requestid": "..."}`` makes a completed request expire now
``GET series``             ``{"hidden": [...]}``: the stored series answered as unknown
``POST series``            ``{"hide": [...], "show": [...]}`` changes that set (e.g. hide
                           ``su_rsb.NOAA_ActiveRegions`` as the public JSOC)
=========================  ===========================================================

Errors are replied with HTTP 400 (bad arguments), 403 (a call a web page could have made), 404
(unknown path) or 405 (wrong method) and a JSON body ``{"error": "..."}``.

A web page open in the user's browser can send requests to the emulator's fixed port, so
`refusal` turns away every control call a page could make: a ``POST`` whose ``Content-Type``
is not ``application/json`` (a browser sends ``application/json`` across origins only after a
CORS preflight, which the emulator never grants), any call whose ``Origin`` is not the
emulator's own, and any call whose ``Host`` is not a loopback name with the emulator's port (a
DNS-rebinding page names its own host). Programs (``EmulatorControl``, ``curl``) send none of
these and are served. `~sunpy_jsoc_cutout.testing.server.control_client.EmulatorControl`
is the matching Python client.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from sunpy_jsoc_cutout.testing.catalogue.errors import UnknownSeries
from .faults import InvalidFault
from .protocols import ControlledEmulator

__all__ = ["LOOPBACK_NAMES", "ControlAPI", "ControlError", "refusal"]

#: Host names a control call may be addressed to (with the emulator's port).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def refusal(method: str, headers, host: str, port: int) -> str | None:
    """
    Why a control call must be refused (it could come from a web page), or None.

    Parameters
    ----------
    method : str
        The HTTP method.
    headers : `~email.message.Message` or dict
        The request headers (``Content-Type``, ``Origin``, ``Host``).
    host : str
        The address the emulator is bound to.
    port : int
        The emulator's port.
    """
    allowed = {f"{name}:{port}" for name in (*LOOPBACK_NAMES, host)}
    if (headers.get("Host") or "").lower() not in allowed:
        return f"control calls must be addressed to {host}:{port} (Host {headers.get('Host')!r} refused)"
    origin = headers.get("Origin")
    if origin is not None and origin.lower().removeprefix("http://") not in allowed:
        return f"control calls from a web page (Origin {origin!r}) are refused"
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if method == "POST" and ctype != "application/json":
        return f"control POSTs must be sent as application/json, not {ctype or 'no type'!r}"
    return None


class ControlError(ValueError):
    """A control API call with bad arguments (replied with HTTP 400)."""


class ControlAPI:
    """
    Routes control calls to the emulator.

    Parameters
    ----------
    emulator : ControlledEmulator
        The emulator being controlled.
    """

    def __init__(self, emulator: ControlledEmulator):
        self.emulator = emulator
        self._routes = {
            ("GET", "state"): self._state,
            ("GET", "log"): self._log,
            ("GET", "connections"): self._connections,
            ("POST", "connections"): self._reset_connections,
            ("POST", "clock"): self._clock,
            ("GET", "clock"): self._get_clock,
            ("GET", "faults"): self._get_faults,
            ("POST", "faults"): self._faults,
            ("POST", "bandwidth"): self._bandwidth,
            ("POST", "register"): self._register,
            ("POST", "expire"): self._expire,
            ("GET", "series"): self._get_series,
            ("POST", "series"): self._series,
        }

    def handle(self, method: str, name: str, params: dict[str, str], body: bytes) -> tuple[int, dict]:
        """
        Serve one control call.

        Parameters
        ----------
        method : str
            ``"GET"`` or ``"POST"`` (``HEAD`` is served as ``GET``).
        name : str
            The path after ``/_emulator/``.
        params : dict
            Query parameters.
        body : bytes
            The request body (JSON for POST; empty means ``{}``).

        Returns
        -------
        tuple
            HTTP status and the JSON-serialisable reply.
        """
        method = "GET" if method == "HEAD" else method
        route = self._routes.get((method, name))
        if route is None:
            if any(n == name for _, n in self._routes):
                return HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{method} not allowed on {name}"}
            return HTTPStatus.NOT_FOUND, {"error": f"unknown control endpoint {name!r}"}
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(data, dict):
                raise ControlError("the request body must be a JSON object")
            return HTTPStatus.OK, route(params, data)
        except (ControlError, InvalidFault, json.JSONDecodeError, TypeError, ValueError, KeyError) as err:
            return HTTPStatus.BAD_REQUEST, {"error": str(err)}

    # ------------------------------------------------------------------ routes
    def _state(self, params, data) -> dict:
        return self.emulator.state()

    def _log(self, params, data) -> dict:
        since = int(params.get("since", 0))
        entries = self.emulator.request_log.since(since)
        return {"entries": entries, "next": since + len(entries) if since >= 0 else len(entries)}

    def _connections(self, params, data) -> dict:
        return self.emulator.connections.snapshot()

    def _reset_connections(self, params, data) -> dict:
        return self.emulator.connections.reset()

    def _get_clock(self, params, data) -> dict:
        return {"now": self.emulator.clock.now()}

    def _clock(self, params, data) -> dict:
        if "advance" not in data:
            raise ControlError("expected {'advance': seconds}")
        self.emulator.clock.advance(float(data["advance"]))
        return {"now": self.emulator.clock.now()}

    def _get_faults(self, params, data) -> dict:
        return self.emulator.fault_state()

    def _faults(self, params, data) -> dict:
        unknown = set(data) - {"transport", "clear", "export"}
        if unknown:
            raise ControlError(f"unknown keys {sorted(unknown)}; expected transport, clear, export")
        clear = data.get("clear")
        if clear is True:
            self.emulator.faults.clear()
        elif isinstance(clear, dict):
            self.emulator.faults.clear(clear.get("kind"), clear.get("endpoint"))
        for rule in data.get("transport", []):
            rule = dict(rule)
            self.emulator.faults.set(rule.pop("kind"), rule.pop("endpoint", "all"), **rule)
        if "export" in data:
            self.emulator.set_export_faults(**data["export"])
        return self.emulator.fault_state()

    def _bandwidth(self, params, data) -> dict:
        value = data.get("bytes_per_second")
        self.emulator.download_bandwidth = None if value is None else float(value)
        return {"bytes_per_second": self.emulator.download_bandwidth}

    def _register(self, params, data) -> dict:
        address = data.get("address")
        if not address:
            raise ControlError("expected {'address': email}")
        self.emulator.register_address(address)
        return {"registered": address}

    def _expire(self, params, data) -> dict:
        requestid = data.get("requestid")
        if not requestid:
            raise ControlError("expected {'requestid': id}")
        return {"requestid": requestid, "result": self.emulator.expire(requestid)}

    def _get_series(self, params, data) -> dict:
        return {"hidden": self.emulator.hidden_series}

    def _series(self, params, data) -> dict:
        unknown = set(data) - {"hide", "show"}
        if unknown:
            raise ControlError(f"unknown keys {sorted(unknown)}; expected hide, show")
        for key in ("hide", "show"):
            if not isinstance(data.get(key, []), list):
                raise ControlError(f"{key!r} must be a list of series names")
        for name in data.get("hide", []):
            try:
                self.emulator.hide_series(str(name))
            except UnknownSeries as err:
                raise ControlError(f"no stored series {name!r}") from err
        for name in data.get("show", []):
            self.emulator.show_series(str(name))
        return {"hidden": self.emulator.hidden_series}

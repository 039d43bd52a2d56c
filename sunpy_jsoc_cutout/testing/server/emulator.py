"""
`JSOCEmulator`: the offline JSOC, served over HTTP on the loopback interface.

It ties the pieces together (catalogue, export manager, file store, clock, time model), serves
JSOC's CGI endpoints and the SUMS files with a `~http.server.ThreadingHTTPServer`, records the
traffic, counts download connections, applies transport faults and offers a control API under
``/_emulator/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path

import drms
import drms.config

from sunpy import log

from .control import ControlAPI
from .faults import TransportFaults
from .handler import EmulatorRequestHandler
from .monitor import ConnectionCounter, RequestLog
from .routes import locate_file, route_cgi
from .wiring import build_components, resolve_time_model

__all__ = ["EmulatorServer", "JSOCEmulator", "NotLoopback", "drms_server_config"]


def drms_server_config(url: str) -> drms.ServerConfig:
    """
    A complete `drms.ServerConfig` pointing every endpoint at the emulator serving at ``url``
    (``JSOCEmulator.server_config``; usable for an emulator in another process).

    Every ``url_*`` entry is derived from the emulator's ``cgi_baseurl``; none points at the
    public JSOC.
    """
    return drms.ServerConfig(
        name="jsoc-emulator",
        cgi_baseurl=url + "cgi-bin/ajax/",
        cgi_show_series="show_series",
        cgi_jsoc_info="jsoc_info",
        cgi_jsoc_fetch="jsoc_fetch",
        cgi_check_address="checkAddress.sh",
        cgi_show_series_wrapper="showextseries",
        show_series_wrapper_dbhost="hmidb2",
        http_download_baseurl=url,
    )


class NotLoopback(ValueError):
    """The emulator may only listen on a loopback address."""


class EmulatorServer(ThreadingHTTPServer):
    """`~http.server.ThreadingHTTPServer` that knows its emulator and its open connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, emulator: JSOCEmulator):
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, EmulatorRequestHandler)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Shut down every client connection still open (idle keep-alive ones included)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class JSOCEmulator:
    """
    An offline JSOC: its HTTP export API, SUMS file downloads and a control API.

    Parameters
    ----------
    host : str
        Loopback address to bind (anything else raises `NotLoopback`).
    port : int
        TCP port; 0 picks a free one.
    time_model : {"fast", "realistic"} or TimeModel
        How long exports take. ``"fast"`` advances by poll count and never waits.
    image_size : int
        Side of the full-disk images in pixels (JSOC: 4096); smaller is faster.
    registered : iterable of str
        Notification addresses registered from the start.
    record_limits : dict or None
        Record-count limit per instrument/series for one export (None: JSOC's).
    rs_list_cap : int or None
        Cap on records returned by one ``jsoc_info?op=rs_list`` call (None: no cap).
    root : path-like or None
        Directory holding the emulated SUMS files; None makes a temporary one, removed at `stop`.
    seed : int
        Seed of every random choice (time-model jitter, fault fractions).
    hidden_series : iterable of str
        Stored series this server answers as unknown, as a JSOC whose database lacks them
        (``jsoc_info`` status 1, ``" jsoc_info: series not found."`` for ``rs_list``). For
        example ``("su_rsb.NOAA_ActiveRegions",)`` emulates the public JSOC, which probably
        serves the NOAA regions only as ``jsoc.noaa_active_regions``. Both are served by
        default. `hide_series`/`show_series` (or ``POST /_emulator/series``) change it later.

    Examples
    --------
    >>> import drms
    >>> from sunpy_jsoc_cutout.testing import JSOCEmulator
    >>> with JSOCEmulator(image_size=256, registered=["user@example.com"]) as emu:
    ...     client = drms.Client(server=emu.server_config, email="user@example.com")
    ...     client.series(r"hmi\\.M_45s")
    ['hmi.M_45s']
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_model="fast",
        image_size: int = 4096,
        registered: Iterable[str] = (),
        record_limits: Mapping[str, int] | None = None,
        rs_list_cap: int | None = None,
        root: str | Path | None = None,
        seed: int = 0,
        hidden_series: Iterable[str] = (),
    ):
        if not ipaddress.ip_address(host).is_loopback:
            raise NotLoopback(f"the JSOC emulator only listens on loopback addresses, not {host!r}")
        self.host = host
        self.port = port
        self.image_size = int(image_size)
        self.rs_list_cap = rs_list_cap
        self.seed = seed
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="jsoc-emulator-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.time_model = resolve_time_model(time_model, seed=seed)
        parts = build_components(
            root=self.root,
            image_size=self.image_size,
            time_model=self.time_model,
            record_limits=record_limits,
            seed=seed,
        )
        self.catalogue, self.clock, self.store, self.exports = parts
        self.faults = TransportFaults(seed=seed)
        self.request_log = RequestLog()
        self.connections = ConnectionCounter()
        self.control = ControlAPI(self)
        self._bandwidth_override: float | None = None
        self._bandwidth_set = False
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self.startup_seconds: float | None = None
        for address in registered:
            self.register_address(address)
        for name in hidden_series:
            self.hide_series(name)

    # ------------------------------------------------------------------ life cycle
    def start(self) -> JSOCEmulator:
        """Bind the socket and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        start = time.perf_counter()
        self._server = EmulatorServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"jsoc-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        _call_if_present(self.exports, "start")
        self.startup_seconds = time.perf_counter() - start
        log.debug("JSOC emulator serving on %s (root %s)", self.url, self.root)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and open connections, remove a temporary root."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_open_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None
        for name in ("stop", "close", "shutdown"):
            if _call_if_present(self.exports, name):
                break
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> JSOCEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the HTTP server is serving."""
        return self._server is not None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8123/``."""
        return f"http://{self.host}:{self.port}/"

    @property
    def server_config(self):
        """
        A complete `drms.ServerConfig` pointing every endpoint at the emulator.

        Every ``url_*`` entry is derived from the emulator's ``cgi_baseurl``; none points at the
        public JSOC.
        """
        return drms_server_config(self.url)

    @contextlib.contextmanager
    def use_for_drms_jsoc(self) -> Iterator[JSOCEmulator]:
        """
        Point drms's registered ``jsoc`` server (used by sunpy's stock ``JSOCClient``) at the
        emulator for the duration of the block; the original config is restored afterwards.
        """
        configs = drms.config._server_configs
        missing = object()
        previous = configs.get("jsoc", missing)
        configs["jsoc"] = self.server_config
        try:
            yield self
        finally:
            if previous is missing:
                configs.pop("jsoc", None)
            else:
                configs["jsoc"] = previous

    # ------------------------------------------------------------------ knobs
    @property
    def download_bandwidth(self) -> float | None:
        """Per-connection download bandwidth in bytes/s (None: unthrottled)."""
        if self._bandwidth_set:
            return self._bandwidth_override
        return getattr(self.time_model, "bandwidth", None)

    @download_bandwidth.setter
    def download_bandwidth(self, value: float | None) -> None:
        self._bandwidth_override = value
        self._bandwidth_set = True

    def hide_series(self, name: str) -> None:
        """Answer the stored series ``name`` as unknown from now on (see ``hidden_series``)."""
        self.catalogue.hide_series(name)

    def show_series(self, name: str) -> None:
        """Serve the stored series ``name`` again."""
        self.catalogue.show_series(name)

    @property
    def hidden_series(self) -> list[str]:
        """The stored series answered as unknown."""
        return self.catalogue.hidden_series

    def register_address(self, email: str) -> None:
        """Register a notification address (``checkAddress.sh`` then answers status 2)."""
        self.exports.register_address(email)

    def expire(self, requestid: str):
        """Make a completed request expire now (``exp_status`` then answers status 5)."""
        return self.exports.expire(requestid)

    def set_export_faults(self, **knobs) -> None:
        """Set export-level fault knobs on the export manager."""
        setter = getattr(self.exports, "set_faults", None)
        if setter is None:
            raise ValueError("the export manager has no export-level fault knobs")
        setter(**knobs)

    def fault_state(self) -> dict:
        """Active transport rules and export-level knobs."""
        getter = getattr(self.exports, "fault_state", None)
        return {"transport": self.faults.to_list(), "export": getter() if getter else {}}

    def state(self) -> dict:
        """A JSON-serialisable picture of the emulator (used by the control API)."""
        getter = getattr(self.exports, "state", None)
        return {
            "url": self.url,
            "clock": self.clock.now(),
            "time_model": _describe(self.time_model),
            "image_size": self.image_size,
            "download_bandwidth": self.download_bandwidth,
            "exports": getter() if getter else {},
            "faults": self.fault_state(),
            "connections": self.connections.snapshot(),
            "log_length": len(self.request_log),
        }

    # ------------------------------------------------------------------ serving
    def handle_cgi(self, endpoint: str, params: dict[str, str], client_ip: str) -> dict:
        """
        The JSON reply of one CGI call.

        Parameters
        ----------
        endpoint : str
            ``jsoc_info``, ``jsoc_fetch``, ``checkAddress``, ``show_series``, ``showextseries``
            or ``manage_request``.
        params : dict
            The decoded parameters, passed through untouched (drms's ``process=n`` key included).
        client_ip : str
            The client's address (JSOC limits pending requests per IP).
        """
        return route_cgi(self, endpoint, params, client_ip)

    def locate_file(self, path: str) -> Path | None:
        """The local file serving the URL path ``path`` (materialised now if needed), or None."""
        return locate_file(self, path)


def _call_if_present(obj, name: str) -> bool:
    method = getattr(obj, name, None)
    if callable(method):
        method()
        return True
    return False


def _describe(model) -> dict | str:
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        return {
            k: v for k, v in dataclasses.asdict(model).items() if isinstance(v, (int, float, str, bool, type(None)))
        }
    return str(model)

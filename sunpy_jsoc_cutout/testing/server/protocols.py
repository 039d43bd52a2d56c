"""
What the server's parts need of the emulator, as `typing.Protocol` classes.

The control API (:mod:`.control`), the CGI routes (:mod:`.routes`) and the request handler
(:mod:`.handler`) are given the running `~sunpy_jsoc_cutout.testing.server.emulator.JSOCEmulator`,
but they type it with these protocols instead of importing that module: the emulator module
imports them, so they must not import it back. `JSOCEmulator` satisfies all three.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.exports.clock import Clock
from sunpy_jsoc_cutout.testing.exports.filestore import FileStore
from sunpy_jsoc_cutout.testing.exports.manager import ExportManager
from .faults import TransportFaults
from .monitor import ConnectionCounter, RequestLog

__all__ = ["ControlledEmulator", "EmulatorHTTPServer", "RoutedEmulator", "ServedEmulator"]


class RoutedEmulator(Protocol):
    """The parts that answer JSOC's CGI endpoints and the SUMS file paths (:mod:`.routes`)."""

    catalogue: Catalogue
    exports: ExportManager
    store: FileStore
    rs_list_cap: int | None


class ControlledEmulator(Protocol):
    """What the control API reads and changes (:mod:`.control`)."""

    clock: Clock
    connections: ConnectionCounter
    faults: TransportFaults
    request_log: RequestLog

    @property
    def download_bandwidth(self) -> float | None: ...

    @download_bandwidth.setter
    def download_bandwidth(self, value: float | None) -> None: ...

    @property
    def hidden_series(self) -> list[str]: ...

    def state(self) -> dict: ...

    def fault_state(self) -> dict: ...

    def set_export_faults(self, **knobs: Any) -> None: ...

    def register_address(self, email: str) -> None: ...

    def expire(self, requestid: str) -> str: ...

    def hide_series(self, name: str) -> None: ...

    def show_series(self, name: str) -> None: ...


class ControlHandler(Protocol):
    """The control API as the request handler calls it (`~.control.ControlAPI`)."""

    def handle(self, method: str, name: str, params: dict[str, str], body: bytes) -> tuple[int, dict]: ...


class ServedEmulator(Protocol):
    """What the HTTP request handler uses (:mod:`.handler`)."""

    host: str
    port: int
    clock: Clock
    connections: ConnectionCounter
    faults: TransportFaults
    request_log: RequestLog
    control: ControlHandler

    @property
    def download_bandwidth(self) -> float | None: ...

    def handle_cgi(self, endpoint: str, params: dict[str, str], client_ip: str) -> dict: ...

    def locate_file(self, path: str) -> Path | None: ...


class EmulatorHTTPServer(Protocol):
    """The handler's server (`~.emulator.EmulatorServer`): it knows its emulator."""

    emulator: ServedEmulator

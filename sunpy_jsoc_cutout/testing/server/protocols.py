"""
What the server's parts need of the emulator, as `typing.Protocol` classes.

The control API (:mod:`.control`) and the CGI routes (:mod:`.routes`) are given the running
`~sunpy_jsoc_cutout.testing.server.emulator.JSOCEmulator`, but they type it with these protocols
instead of importing that module: the emulator module imports them, so they must not import it
back. `JSOCEmulator` satisfies both.
"""

from __future__ import annotations

from typing import Any, Protocol

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.exports.clock import Clock
from sunpy_jsoc_cutout.testing.exports.filestore import FileStore
from sunpy_jsoc_cutout.testing.exports.manager import ExportManager
from .faults import TransportFaults
from .monitor import ConnectionCounter, RequestLog

__all__ = ["ControlledEmulator", "RoutedEmulator"]


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

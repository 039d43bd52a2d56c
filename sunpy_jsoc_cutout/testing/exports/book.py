"""
The export table of the emulator's export manager: requests by id, the pending-request and
duplicate tables, request ids, and the status machine of a request.

`ExportBook` is one of the parts an `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager`
owns; the staging worker and the test controls are given it too. Its ``lock`` guards every
request and table; its methods take it themselves, and callers that read or change several
things at once hold it around them (it is re-entrant).

A request goes ``queued`` -> ``staging`` (`claim`) -> ``staged`` (`staged`, files made) ->
``done`` (`complete`: when the time model says so, by the clock or by polls) -> ``deleted`` (7
days later, or `delete`); ``failed`` (`fail`) and ``offline`` (status 25, never queued) end it.
"""

from __future__ import annotations

import threading

from .clock import Clock
from .filestore import FileStore
from .state import RETENTION, DuplicateTable, ExportRequest, PendingTable
from .timemodel import TimeModel

__all__ = ["ExportBook"]


class ExportBook:
    """
    Requests, the pending and duplicate tables and the request ids of the export manager.

    Parameters
    ----------
    clock : Clock
        The emulator clock.
    model : TimeModel
        When staged requests complete (by clock or by polls).
    store : FileStore
        Where a deleted request's export directory is removed.
    """

    def __init__(self, clock: Clock, model: TimeModel, store: FileStore):
        self.clock = clock
        self.model = model
        self.store = store
        self.lock = threading.RLock()
        self.pending = PendingTable()
        self.dups = DuplicateTable()
        self._requests: dict[str, ExportRequest] = {}
        self._daily: dict[str, int] = {}
        self._serial = 0

    # ------------------------------------------------------------------ the table
    def next_id(self, now: float) -> str:
        """The next request id of the day of ``now`` (``JSOC_YYYYMMDD_NNN``)."""
        with self.lock:
            day = self.clock.to_datetime(now).strftime("%Y%m%d")
            self._daily[day] = self._daily.get(day, 0) + 1
            return f"JSOC_{day}_{self._daily[day]:03d}"

    def next_serial(self) -> int:
        """The serial number of the next queued export (it numbers the export directory)."""
        with self.lock:
            self._serial += 1
            return self._serial

    def add(self, request: ExportRequest) -> None:
        """Record a new request."""
        with self.lock:
            self._requests[request.requestid] = request

    def get(self, requestid: str) -> ExportRequest | None:
        """The request with this id, or None."""
        with self.lock:
            return self._requests.get(requestid)

    def describe(self) -> list[dict]:
        """Every request, JSON-serialisable."""
        with self.lock:
            return [r.describe() for r in self._requests.values()]

    # ------------------------------------------------------------------ status machine
    def complete(self, request: ExportRequest, when: float) -> None:
        """The request is done (``exp_status`` 0) since ``when``; its pending row goes."""
        with self.lock:
            request.state, request.completed_at = "done", when
            self.pending.release(request.requestid)

    def refresh(self, request: ExportRequest, now: float) -> None:
        """Clock-driven completion and the 7 day expiry (poll-driven completion is in `poll`)."""
        with self.lock:
            if request.state == "staged" and not self.model.poll_driven and now >= request.ready_at:
                self.complete(request, request.ready_at)
            if request.state == "done" and request.completed_at is not None and now - request.completed_at >= RETENTION:
                self.delete(request)

    def refresh_all(self) -> None:
        """`refresh` every request at the clock's time."""
        with self.lock:
            now = self.clock.now()
            for request in self._requests.values():
                self.refresh(request, now)

    def poll(self, request: ExportRequest, now: float) -> None:
        """An ``exp_status`` call: counts the poll (poll-driven time model), then `refresh`."""
        with self.lock:
            if request.state in ("queued", "staging", "staged") and self.model.poll_driven:
                request.polls += 1
                if request.state == "staged" and request.polls > self.model.polls_processing:
                    self.complete(request, now)
            self.refresh(request, now)

    def delete(self, request: ExportRequest) -> None:
        """The request expires: its export directory is removed."""
        with self.lock:
            request.state = "deleted"
            if request.sums_dir:
                self.store.remove_dir(request.sums_dir)

    # ------------------------------------------------------------------ the staging worker's side
    def claim(self, request: ExportRequest) -> bool:
        """Start staging a queued request; False if it is not queued (any more)."""
        with self.lock:
            if request.state != "queued":
                return False
            request.state = "staging"
            return True

    def staged(self, request: ExportRequest, index: dict, made: tuple[int, int] | None = None) -> None:
        """
        The request's files are made; ``index`` is its ``index.json``.

        ``made``, the ``(files, records)`` the export really wrote, replaces the estimate charged at
        submission, which counts the record set as opened: jsoc_fetch counts every segment of every
        record (``count`` 302 for 151 AIA records, image and spikes), but a processed export writes
        what its last step makes, e.g. im_patch one file per record (its first segment, without the
        ``A`` flag: im_patch.c); and on ``aia.lev1`` with a cadence im_patch reads the frames it picks
        from the whole span, whatever the ``@`` set holds (im_patch.c L800-812). The export manager
        spends its per-file time on the files written and im_patch its per-record time on the
        records it made.
        """
        with self.lock:
            if made is not None:
                files, records = made
                tar = request.method.endswith("-tar")
                delay = self.model.completion_delay(request.serial, files, records, request.chain.step_names, tar)
                delay += self.model.tape_delay if request.tape_sunums else 0.0
                request.ready_at = request.submitted + delay
            request.index = index
            request.state = "staged"
            self.refresh(request, self.clock.now())

    def fail(self, request: ExportRequest, message: str) -> None:
        """The request failed (``exp_status`` 4 with ``message``); its pending and duplicate rows go."""
        with self.lock:
            request.state, request.error = "failed", message
            request.completed_at = self.clock.now()
            self.pending.release(request.requestid)
            self.dups.forget(request.requestid)

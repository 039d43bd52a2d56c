"""Test controls of the emulator's export manager: fault knobs, expiry and inspection.

A mixin of `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager`; these are not JSOC endpoints but
what tests (and the ``/_emulator/`` control API) use to make JSOC misbehave and to look inside.
"""

from __future__ import annotations

from .state import ExportRequest

__all__ = ["ELSEWHERE_IP", "ExportControls"]

#: The IP address recorded for a pending request "made elsewhere" (TEST-NET-1).
ELSEWHERE_IP = "192.0.2.1"


class ExportControls:
    """Fault knobs, expiry and state of the export manager (mixed into ``ExportManager``)."""

    def set_faults(
        self,
        *,
        fail_after: int | None = None,
        fail_message: str | None = None,
        fail_requests: int | None = None,
        unsafe_tar=(),
        pending_elsewhere: str | None = None,
        offline: bool | None = None,
        tape: bool | dict | None = None,
        clear: bool = False,
    ) -> dict:
        """
        Export-level faults.

        Parameters
        ----------
        fail_after : int, optional
            New requests fail with status 4 after this many files were written.
        fail_message : str, optional
            Their error message.
        fail_requests : int, optional
            How many new requests fail (None: every one until cleared).
        unsafe_tar : sequence of str
            Add unsafe members (``absolute``, ``dotdot``, ``symlink``, ``hardlink``) to the tars of
            new ``url-tar`` requests.
        pending_elsewhere : str, optional
            Record a pending request for this address made "elsewhere": its next request gets
            status 7 naming that request's id (for 60 minutes, or until cancelled).
        offline : bool, optional
            Reject requests as the 2022 ``jsoc_fetch.c`` does for offline data: new requests get
            JSOC's status 25 (whatever is on tape; the data stay where they are).
        tape : bool or dict, optional
            The offline-data knob (`~sunpy_jsoc_cutout.testing.catalogue.tape.TapeArchive`): put storage
            units on tape, ``True`` for all, or ``{"series": ..., "start": ..., "end": ...}``
            (any of them) for some; ``False`` brings everything online. ``jsoc_info`` then
            answers ``NoDataDirectory`` and ``online`` 0 for those records, and an export that
            includes them stages them (``tape_delay`` of the time model) so that they are
            online afterwards, as the drms tutorial describes.
        clear : bool
            Reset every knob first.
        """
        with self._lock:
            if clear:
                self._faults.clear()
            self._faults.update(fail_after, fail_message, fail_requests, unsafe_tar, offline)
            self._set_tape(tape, clear)
            if pending_elsewhere:
                now = self.clock.now()
                self._pending.add(pending_elsewhere, ELSEWHERE_IP, self._next_id(now), now)
            return self.fault_state()

    def _set_tape(self, tape: bool | dict | None, clear: bool) -> None:
        archive = self.catalogue.tape
        if clear or tape is False:
            archive.clear()
        if tape is True:
            archive.set_offline()
        elif isinstance(tape, dict):
            archive.set_offline(tape.get("series"), tape.get("start"), tape.get("end"))

    def fault_state(self) -> dict:
        """The export-level knobs (and the storage units on tape)."""
        with self._lock:
            return {**self._faults.describe(), "tape": self.catalogue.tape.describe()}

    def expire(self, requestid: str) -> str:
        """Make a completed request expire now; returns ``expired``, ``not completed`` or ``unknown``."""
        with self._lock:
            request = self._requests.get(requestid)
            if request is None:
                return "unknown"
            self._refresh(request, self.clock.now())
            if request.state == "deleted":
                return "expired"
            if request.state != "done":
                return "not completed"
            self._delete(request)
            return "expired"

    def request(self, requestid: str) -> ExportRequest | None:
        """The request object (for tests and the control API)."""
        with self._lock:
            return self._requests.get(requestid)

    def state(self) -> dict:
        """JSON-serialisable picture of the manager."""
        with self._lock:
            self._refresh_all()
            now = self.clock.now()
            return {
                "requests": [r.describe() for r in self._requests.values()],
                "pending": self._pending.describe(now),
                "duplicates": len(self._dups.rows),
                "registered": self.addresses.registered(),
                "time_model": self.model.name,
                "outstanding": self._outstanding,
                "faults": self.fault_state(),
            }

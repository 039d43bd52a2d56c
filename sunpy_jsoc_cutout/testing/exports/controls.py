"""Test controls of the emulator's export manager: fault knobs and expiry.

`ExportControls` is one of the parts an `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager`
owns (the manager's ``set_faults``, ``fault_state`` and ``expire`` are its methods); these are not
JSOC endpoints but what tests (and the ``/_emulator/`` control API) use to make JSOC misbehave.
"""

from __future__ import annotations

from sunpy_jsoc_cutout.testing.catalogue.tape import TapeArchive
from .book import ExportBook
from .state import ExportFaults

__all__ = ["ELSEWHERE_IP", "ExportControls"]

#: The IP address recorded for a pending request "made elsewhere" (TEST-NET-1).
ELSEWHERE_IP = "192.0.2.1"


class ExportControls:
    """
    Fault knobs and expiry of the export manager.

    Parameters
    ----------
    book : ExportBook
        The export table (expiry, requests "made elsewhere").
    faults : ExportFaults
        The export-level knobs that new requests take.
    tape : TapeArchive
        The catalogue's offline-data knob.
    """

    def __init__(self, book: ExportBook, faults: ExportFaults, tape: TapeArchive):
        self._book = book
        self._faults = faults
        self._tape = tape

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
        book = self._book
        with book.lock:
            if clear:
                self._faults.clear()
            self._faults.update(fail_after, fail_message, fail_requests, unsafe_tar, offline)
            self._set_tape(tape, clear)
            if pending_elsewhere:
                now = book.clock.now()
                book.pending.add(pending_elsewhere, ELSEWHERE_IP, book.next_id(now), now)
            return self.fault_state()

    def _set_tape(self, tape: bool | dict | None, clear: bool) -> None:
        archive = self._tape
        if clear or tape is False:
            archive.clear()
        if tape is True:
            archive.set_offline()
        elif isinstance(tape, dict):
            archive.set_offline(tape.get("series"), tape.get("start"), tape.get("end"))

    def fault_state(self) -> dict:
        """The export-level knobs (and the storage units on tape)."""
        with self._book.lock:
            return {**self._faults.describe(), "tape": self._tape.describe()}

    def expire(self, requestid: str) -> str:
        """Make a completed request expire now; returns ``expired``, ``not completed`` or ``unknown``."""
        book = self._book
        with book.lock:
            request = book.get(requestid)
            if request is None:
                return "unknown"
            book.refresh(request, book.clock.now())
            if request.state == "deleted":
                return "expired"
            if request.state != "done":
                return "not completed"
            book.delete(request)
            return "expired"

"""The staging worker of the emulator's export manager: files are made one export at a time.

A mixin of `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager` (it uses the manager's lock, queue,
store, catalogue and clock): each queued request is validated, staged with
`~sunpy_jsoc_cutout.testing.exports.staging.stage_export`, and marked staged or failed, like JSOC's export
manager running its drms_run scripts one after another.
"""

from __future__ import annotations

from sunpy import log

from sunpy_jsoc_cutout.testing.processing.datatypes import ProcessError
from sunpy_jsoc_cutout.testing.processing.registry import validate_steps
from .staging import StagingError, StagingJob, stage_export
from .state import ExportRequest

__all__ = ["StagingWorker"]


class StagingWorker:
    """Queue and stage export requests (mixed into ``ExportManager``)."""

    def _enqueue(self, request: ExportRequest) -> None:
        self.start()
        self._queue.put(request)

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            try:
                self._stage(request)
            finally:
                with self._idle:
                    self._outstanding -= 1
                    self._idle.notify_all()

    def _stage(self, request: ExportRequest) -> None:
        with self._lock:
            if request.state != "queued":
                return
            request.state = "staging"
        if request.tape_sunums:  # the export brings its storage units back from tape
            staged = self.catalogue.tape.stage(request.tape_sunums)
            log.debug("export %s staged %d storage units from tape", request.requestid, staged)
        try:
            validate_steps(request.chain)
            sums_dir, local = self.store.new_export_dir(request.serial)
            request.sums_dir, request.local_dir = sums_dir, local
            job = StagingJob(
                request.requestid,
                request.records,
                request.chain,
                request.method,
                request.protocol,
                request.filenamefmt,
                sums_dir,
                local,
                self.catalogue,
                self.store.image_size,
                lambda: self.clock.now_datetime().strftime("%Y.%m.%d_%H:%M:%S_UT"),
                request.faults,
                request.dataset,
            )
            result = stage_export(job)
        except (StagingError, ProcessError) as err:
            self._fail(request, str(err))
            return
        except Exception as err:  # noqa: BLE001 - any other error must still fail the request, not hang it
            log.debug("export %s failed: %r", request.requestid, err)
            self._fail(request, f"Failure occurred while processing export Request ID '{request.requestid}'.\n")
            return
        with self._lock:
            request.index = result.index
            request.state = "staged"
            self._refresh(request, self.clock.now())

    def _fail(self, request: ExportRequest, message: str) -> None:
        with self._lock:
            request.state, request.error = "failed", message
            request.completed_at = self.clock.now()
            self._pending.release(request.requestid)
            self._dups.forget(request.requestid)
        log.debug("export %s failed: %s", request.requestid, message)

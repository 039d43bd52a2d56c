"""The staging worker of the emulator's export manager: files are made one export at a time.

`StagingWorker` is one of the parts an `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager`
owns: its threads take each submitted request from a queue, claim it in the
`~sunpy_jsoc_cutout.testing.exports.book.ExportBook`, validate its steps, stage it with
`~sunpy_jsoc_cutout.testing.exports.staging.stage_export`, and mark it staged or failed in the
book, like JSOC's export manager running its drms_run scripts one after another.
"""

from __future__ import annotations

import queue
import threading

from sunpy import log

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.processing.datatypes import ProcessError
from sunpy_jsoc_cutout.testing.processing.registry import validate_steps
from .book import ExportBook
from .filestore import FileStore
from .staging import StagingError, StagingJob, stage_export
from .state import ExportRequest

__all__ = ["StagingWorker"]


class StagingWorker:
    """
    Queue and stage export requests in worker threads.

    Parameters
    ----------
    book : ExportBook
        The export table: requests are claimed, marked staged or failed there.
    catalogue : Catalogue
        The records (and the tape archive that staging brings storage units back from).
    store : FileStore
        Where export directories are made.
    workers : int
        Worker threads (JSOC's manager runs one export at a time: 1).
    """

    def __init__(self, book: ExportBook, catalogue: Catalogue, store: FileStore, workers: int = 1):
        self._book = book
        self._catalogue = catalogue
        self._store = store
        self._nworkers = max(1, int(workers))
        self._queue: queue.Queue[ExportRequest | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Condition()
        self._outstanding = 0

    @property
    def outstanding(self) -> int:
        """Requests submitted and not yet staged or failed."""
        with self._idle:
            return self._outstanding

    def start(self) -> None:
        """Start the worker threads (also done on the first submission)."""
        with self._idle:
            while len(self._threads) < self._nworkers:
                thread = threading.Thread(target=self._work, name=f"jsoc-export-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def close(self) -> None:
        """Stop the worker threads (pending jobs are abandoned)."""
        with self._idle:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=10)

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until no export is queued or being staged; return False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout=timeout)

    def submit(self, request: ExportRequest) -> None:
        """Queue a request for staging (starting the threads if needed)."""
        with self._idle:
            self._outstanding += 1
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
        if not self._book.claim(request):
            return
        if request.tape_sunums:  # the export brings its storage units back from tape
            staged = self._catalogue.tape.stage(request.tape_sunums)
            log.debug("export %s staged %d storage units from tape", request.requestid, staged)
        clock = self._book.clock
        try:
            validate_steps(request.chain)
            sums_dir, local = self._store.new_export_dir(request.serial)
            request.sums_dir, request.local_dir = sums_dir, local
            job = StagingJob(
                requestid=request.requestid,
                records=request.records,
                chain=request.chain,
                method=request.method,
                protocol=request.protocol,
                filenamefmt=request.filenamefmt,
                sums_dir=sums_dir,
                local_dir=local,
                catalogue=self._catalogue,
                image_size=self._store.image_size,
                now_text=lambda: clock.now_datetime().strftime("%Y.%m.%d_%H:%M:%S_UT"),
                faults=request.faults,
                dataset=request.dataset,
            )
            result = stage_export(job)
        except (StagingError, ProcessError) as err:
            self._fail(request, str(err))
            return
        except Exception as err:  # noqa: BLE001 - any other error must still fail the request, not hang it
            log.debug("export %s failed: %r", request.requestid, err)
            self._fail(request, f"Failure occurred while processing export Request ID '{request.requestid}'.\n")
            return
        self._book.staged(request, result.index, made=(len(result.rows), len({record for record, _ in result.rows})))

    def _fail(self, request: ExportRequest, message: str) -> None:
        self._book.fail(request, message)
        log.debug("export %s failed: %s", request.requestid, message)

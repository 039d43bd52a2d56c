"""
Downloading a list of files of one export, a few at a time (`FileBatches`), recorded in the
`~._transfer.ledger.Ledger`.

For each file:

1. a file the ledger holds complete is used (or copied) and not downloaded (`reuse_done_file`);
2. the file is claimed in the ledger (`~._transfer.ledger_claims.ClaimsMixin.claim`): a file another
   running process is downloading is waited for and then taken from the ledger, never downloaded
   twice; partial files that dead processes left behind are removed; a copy another downloader
   (Fido's retry) left at ``<final>.unverified`` is verified and filed instead of downloaded;
3. it is downloaded to a partial name of its own (`~._transfer.writer.partial_path`); a full disk or an
   unwritable folder ends that download at once with `~sunpy_jsoc_cutout.exceptions.DiskSpaceError`
   or `~sunpy_jsoc_cutout.exceptions.DownloadWriteError` in its error entry, and after a full
   disk no further file is attempted;
4. a transport fault (`retryable`) is tried again after a growing pause, a few times;
5. it is verified (`~._transfer.verify`); a file that fails is downloaded once more, then reported
   (`~sunpy_jsoc_cutout.exceptions.CorruptFileError`) and never kept;
6. it is hashed, renamed to its final name and marked done (`promote`), unless the final name
   holds another record's file (`~._transfer.overwrite`): then it is an error entry with
   `~sunpy_jsoc_cutout.exceptions.FileOverwriteError` and that file stays.

A signal (Ctrl-C, SIGTERM) cancels the running batch; the files it finished are still renamed and
recorded before `~._transfer.interrupt.FetchInterrupted` is raised. Failed downloads stay in the
returned Results' ``errors`` with their http URL and ``<final path>.unverified``
(`~._transfer.writer.unverified_path`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiohttp
import parfive

from sunpy import log

from sunpy_jsoc_cutout._jsoc.info import RETRY_CAP, RETRY_STATUS
from sunpy_jsoc_cutout.exceptions import (
    CorruptFileError,
    DiskSpaceError,
    DownloadWriteError,
    FileOverwriteError,
    PathTemplateError,
)
from .file_moves import (
    PathFor,
    QueuedFile,
    promote,
    reuse_done_file,
)
from .ledger import Ledger
from .session import DownloadSession, fixed_path
from .verify import verify_file
from .writer import partial_path, stale_partials, unverified_path, write_error

__all__ = ["ATTEMPTS", "CLAIM_POLL", "FileBatches", "retryable"]

#: Seconds between two looks at the ledger while another process downloads a file this one needs.
CLAIM_POLL = 0.25

#: Downloads of one file, verification failures included.
ATTEMPTS = 2


def retryable(exception: BaseException) -> bool:
    """
    Whether a failed file download is worth repeating: a transport fault (a 5xx, 408 or 429 status,
    a reset, refused, truncated or timed-out connection), not a 404 of an expired export, a full
    disk, an unwritable folder or a cancelled download.
    """
    if isinstance(exception, (DiskSpaceError, DownloadWriteError, asyncio.CancelledError)):
        return False
    response = getattr(exception, "response", exception)  # parfive's MultiPartDownloadError wraps it
    status = getattr(response, "status", None)
    if isinstance(status, int):
        return status in RETRY_STATUS
    return isinstance(exception, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, EOFError))


@dataclass
class _Work:
    """One file on its way: where it goes, its partial name in the current attempt, attempts and retries made."""

    record: str
    filename: str
    url: str
    final: Path
    partial: Path | None = None
    attempts: int = 0
    #: Transport retries made (`retryable` failures).
    retries: int = 0

    @property
    def part(self) -> Path:
        """The partial name of the current attempt (set when the file is claimed)."""
        if self.partial is None:
            raise RuntimeError(f"{self.filename} has no partial name before it is claimed")
        return self.partial


class FileBatches:
    """
    The download steps of the module notes for the files of one request.

    Parameters
    ----------
    session : `~._transfer.session.DownloadSession`
    ledger : `~._transfer.ledger.Ledger`
    requestid : str
    verify : callable
        ``verify(path)``: `None` for a good file, else why not (default `~._transfer.verify.verify_file`).
    """

    def __init__(self, session: DownloadSession, ledger: Ledger, requestid: str, verify=verify_file) -> None:
        self.session, self.ledger, self.requestid, self.verify = session, ledger, requestid, verify
        self.out = parfive.Results()

    def _error(self, work: _Work, exception: BaseException) -> None:
        self.out.add_error(partial(fixed_path, unverified_path(work.final)), work.url, exception)
        if isinstance(exception, DiskSpaceError) and self.session.disk_full is None:
            self.session.disk_full = exception
            log.warning("%s No further file is downloaded in this fetch.", exception)
        log.debug("Download of %s failed: %s", work.url, exception)

    def run(
        self, files: list[tuple[str, str, str]], path_for: PathFor, batch: int = 1, on_batch=None
    ) -> parfive.Results:
        """Download ``(record, filename, url)`` files; returns their final paths and the errors."""
        queue: deque[_Work] = deque()
        waiting: list[_Work] = []
        for record, filename, url in files:
            try:
                final = Path(path_for(record, filename)).expanduser().absolute()
            except (PathTemplateError, OSError) as err:  # e.g. its folder was replaced by a file meanwhile
                self._error(_Work(record, filename, url, Path(filename)), err)
                continue
            work = _Work(record, filename, url, final)
            if reuse_done_file(self.ledger, self.requestid, filename, final):
                self.out.append(path=str(final), url=url)
            else:
                queue.append(work)
        total = len(files)
        while queue or waiting:
            if self.session.disk_full is not None:
                for work in [*queue, *waiting]:
                    self._error(work, self.session.disk_full)
                break
            if not queue:
                time.sleep(CLAIM_POLL)
                queue.extend(self._released(waiting))
                continue
            chunk = self._claim(queue, waiting, batch)
            if chunk:
                self._download(chunk, queue)
            if on_batch is not None:
                on_batch(total - len(queue) - len(waiting), total)
        return self.out

    def _released(self, waiting: list[_Work]) -> list[_Work]:
        """Files another process held: taken from the ledger once done, handed back once released."""
        back = []
        for work in list(waiting):
            if reuse_done_file(self.ledger, self.requestid, work.filename, work.final):
                self.out.append(path=str(work.final), url=work.url)
                waiting.remove(work)
            elif self.ledger.claim_of(self.requestid, work.filename) is None:
                waiting.remove(work)
                back.append(work)
        return back

    def _claim(self, queue: deque[_Work], waiting: list[_Work], batch: int) -> list[_Work]:
        chunk: list[_Work] = []
        while queue and len(chunk) < batch:
            work = queue.popleft()
            holder = self.ledger.claim(self.requestid, work.filename)
            if holder is not None:
                log.info("%s is being downloaded by process %s; waiting for it", work.filename, holder.pid)
                waiting.append(work)
                continue
            if reuse_done_file(self.ledger, self.requestid, work.filename, work.final):  # done meanwhile
                self.ledger.release(self.requestid, work.filename)
                self.out.append(path=str(work.final), url=work.url)
                continue
            for stale in stale_partials(work.final):
                stale.unlink(missing_ok=True)
            if self._adopt(work):
                self.ledger.release(self.requestid, work.filename)
                continue
            work.partial = partial_path(work.final)
            chunk.append(work)
        return chunk

    def _adopt(self, work: _Work) -> bool:
        """
        File the copy a retry outside the client (Fido's) left at `~._transfer.writer.unverified_path`, if
        it passes verification (it is then not downloaded); a copy that fails is removed.
        """
        spare = unverified_path(work.final)
        if not spare.is_file():
            return False
        try:
            problem = self.verify(spare)
        except OSError as err:
            problem = f"it cannot be read back ({err})"
        if problem is None:
            item = QueuedFile(self.requestid, work.record, work.filename, work.url, work.final, spare)
            try:
                self.out.append(path=str(promote(item, self.ledger)), url=work.url)
            except OSError as err:
                log.info("Could not file %s (%s); downloading %s again", spare, err, work.filename)
            else:
                log.info("%s: the copy another downloader left at %s is verified and kept", work.filename, spare)
                return True
        else:
            log.info("Removing %s, left by another downloader: %s", spare, problem)
        _remove(spare)
        return False

    def _download(self, chunk: list[_Work], queue: deque[_Work]) -> None:
        try:
            with self.session.guard.deferred():
                results = self.session.run([(w.url, w.part) for w in chunk])
                arrived = {str(p) for p in results}
                errors = {error.url: error.exception for error in results.errors}
                for work in chunk:
                    failure = self.session.downloader.write_failures.get(str(work.partial))
                    if str(work.partial) in arrived and failure is None:
                        self._arrived(work, queue)
                    elif work.url in errors and not isinstance(errors[work.url], asyncio.CancelledError):
                        self._failed(work, failure or errors[work.url], queue)
                    # else: cancelled by a signal, neither done nor an error
        finally:
            for work in chunk:
                _remove(work.part)
                if not any(queued is work for queued in queue):  # a file to download again stays claimed
                    self.ledger.release(self.requestid, work.filename)

    def _failed(self, work: _Work, exception: BaseException, queue: deque[_Work]) -> None:
        """A failed download: queued again after a backoff while `retryable` and tries remain, else an error."""
        if not retryable(exception) or work.retries >= self.session.retries:
            self._error(work, exception)
            return
        wait = min(self.session.retry_wait * 2**work.retries, RETRY_CAP)
        work.retries += 1
        log.info(
            "Download of %s failed (%s); trying again in %.0f s (%d of %d)",
            work.filename,
            exception,
            wait,
            work.retries,
            self.session.retries,
        )
        time.sleep(wait)
        queue.appendleft(work)

    def _arrived(self, work: _Work, queue: deque[_Work]) -> None:
        try:
            problem = self.verify(work.part)
        except OSError as err:
            problem = f"it cannot be read back ({err})"
        work.attempts += 1
        if problem is not None:
            _remove(work.part)
            if work.attempts < ATTEMPTS:
                log.info(
                    "%s of request %s failed verification (%s); downloading it again",
                    work.filename,
                    self.requestid,
                    problem,
                )
                queue.appendleft(work)
                return
            log.warning("%s of request %s failed verification twice: %s", work.filename, self.requestid, problem)
            self._error(
                work, CorruptFileError(f"{work.filename} of JSOC request {self.requestid} is corrupt: {problem}")
            )
            return
        item = QueuedFile(self.requestid, work.record, work.filename, work.url, work.final, work.part)
        try:
            self.out.append(path=str(promote(item, self.ledger)), url=work.url)
        except FileOverwriteError as err:
            log.warning("%s", err)
            self._error(work, err)
        except OSError as err:
            self._error(work, write_error(err, work.final))


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as err:
        log.debug("Could not remove the partial file %s: %s", path, err)

"""
The parfive downloader of this package: partial names of its own, and write failures that end a
download at once instead of hanging it.

parfive writes each file in a writer task fed by a queue of chunks and waits for the queue to
drain; when a write fails (a full disk, a folder made read-only or replaced by a file) the writer
dies, the queue never drains and ``download()`` never returns. `ClientDownloader` writes through
`open_partial` (a new file only: ``O_EXCL``, never through a link) and, when a write fails, turns
the OS error into `~sunpy_jsoc_cutout.exceptions.DiskSpaceError` (``ENOSPC``, ``EDQUOT``,
``EFBIG``) or `~sunpy_jsoc_cutout.exceptions.DownloadWriteError` (anything else) and cancels that
file's download, which then fails like any other (parfive removes the partial file) with that
exception in its error entry.

Partial names are unique per process and download (`partial_path`): two processes downloading
into one folder never write to, rename or delete each other's partial files. `stale_partials`
finds those left by processes that no longer run.

A failed download's error entry names `unverified_path` (``<final name>.unverified``), never the
final name: Fido's own retry of the errors (``Fido.fetch(files)``), which writes where the entry
points and checks nothing, can then never leave a truncated file or a raw tar under a final name.
The next fetch through the client verifies such a file and files it (or removes it).
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import os
import re
import shutil
import uuid
from pathlib import Path

from parfive.utils import FailedDownload

from sunpy.util.parfive_helpers import Downloader

from sunpy_jsoc_cutout.exceptions import DiskSpaceError, DownloadWriteError

__all__ = [
    "PARTIAL_SUFFIX",
    "UNVERIFIED_SUFFIX",
    "ClientDownloader",
    "open_partial",
    "partial_path",
    "stale_partials",
    "unverified_path",
    "write_error",
]

#: Appended to a file's final name (after the process ID and a random token) while it downloads.
PARTIAL_SUFFIX = ".part"

#: Appended to a file's final name in the error entry of its failed download (see `unverified_path`).
UNVERIFIED_SUFFIX = ".unverified"

#: OS errors that mean the disk (or the user's share of it) is full.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

_PARTIAL = re.compile(r"\.(?P<pid>\d+)-[0-9a-f]{8}\.part$")

#: The download task of the file a writer writes (set by `ClientDownloader._get_http`).
_FILE_TASK: contextvars.ContextVar[asyncio.Task | None] = contextvars.ContextVar("jsoc_cutout_file", default=None)


def partial_path(final: Path) -> Path:
    """A partial name for ``final`` no other download uses: ``<name>.<pid>-<random>.part``."""
    return final.with_name(f"{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")


def unverified_path(final: Path) -> Path:
    """Where a retry outside the client (Fido's) writes ``final``: ``<name>.unverified``, beside it."""
    return final.with_name(final.name + UNVERIFIED_SUFFIX)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def stale_partials(final: Path) -> list[Path]:
    """
    The partial files of ``final`` left by processes that no longer run (and the plain
    ``<name>.part`` of earlier versions of this package).
    """
    found = []
    try:
        candidates = list(final.parent.glob(f"{glob_escape(final.name)}*{PARTIAL_SUFFIX}"))
    except OSError:
        return []
    for path in candidates:
        suffix = path.name[len(final.name) :]
        match = _PARTIAL.fullmatch(suffix)
        if suffix == PARTIAL_SUFFIX or (match and not _running(int(match["pid"]))):
            found.append(path)
    return found


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def open_partial(path: str | os.PathLike):
    """Open a new partial file for writing; an existing file or a link at ``path`` is an error."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags, 0o666), "wb")


def _free_bytes(path: Path) -> int:
    where = path
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return 0


def write_error(err: OSError, path: str | os.PathLike) -> OSError:
    """
    The error to report for a failed write of ``path``: `DiskSpaceError` for a full disk,
    `DownloadWriteError` otherwise; the message says what to do, ``errno`` is kept.
    """
    path = Path(path)
    reason = err.strerror or str(err)
    error: OSError
    if err.errno in DISK_FULL:
        free = _free_bytes(path.parent)
        error = DiskSpaceError(
            f"The disk holding {path.parent} is full ({reason}) while writing {path.name}: {free} bytes "
            "are free. Free some space, then run the same fetch again to resume (finished files are kept).",
            needed=0,
            free=free,
        )
    else:
        error = DownloadWriteError(
            f"Cannot write {path} ({reason}): the folder is read-only, gone, replaced by a file or not yours "
            "to write. Make it writable (or choose another path), then run the same fetch again."
        )
    error.errno = err.errno
    return error


class ClientDownloader(Downloader):
    """
    sunpy's parfive downloader (its User-Agent and proxy settings), writing as the module notes say.

    Attributes
    ----------
    write_failures : dict
        The write error of each partial path whose write failed (read by the caller: a failure
        parfive did not report as one is still one).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.write_failures: dict[str, OSError] = {}
        self._failed_tasks: dict[asyncio.Task, OSError] = {}

    def reset(self) -> None:
        """Empty the queue (parfive keeps it after a download) and forget earlier failures."""
        self._init_queues()
        self.write_failures.clear()
        self._failed_tasks.clear()

    async def _get_http(self, session, **kwargs):
        task = asyncio.current_task()
        token = _FILE_TASK.set(task)
        try:
            return await super()._get_http(session, **kwargs)
        except FailedDownload as err:
            failure = self._failed_tasks.pop(task, None)
            if failure is None:
                raise
            raise FailedDownload(err.filepath_partial, err.url, failure) from None
        finally:
            _FILE_TASK.reset(token)
            self._failed_tasks.pop(task, None)

    async def _write_worker(self, queue, file_pb, filepath):
        owner = _FILE_TASK.get()
        try:
            with open_partial(filepath) as handle:
                while True:
                    offset, chunk = await queue.get()
                    handle.seek(offset)
                    handle.write(chunk)
                    handle.flush()
                    queue.task_done()
                    if file_pb is not None:
                        file_pb.update(len(chunk))
        except OSError as err:
            failure = write_error(err, filepath)
            self.write_failures[str(filepath)] = failure
            if owner is None:  # pragma: no cover (parfive always starts writers from _get_http)
                while True:  # no task to cancel: drain, so that the download ends (and fails, above)
                    await queue.get()
                    queue.task_done()
            self._failed_tasks[owner] = failure
            owner.cancel()

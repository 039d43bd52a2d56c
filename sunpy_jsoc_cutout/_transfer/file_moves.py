"""
Files of an export between parfive and their final names: the ledger entries, the partial names,
the rename and the copy of a file the ledger holds elsewhere.

A file is written under a partial name of its own (`~._transfer.writer.partial_path`,
``<final name>.<pid>-<random>.part``), hashed (sha256), renamed with `os.replace` to its final
name and only then marked done in the ledger (`promote`), so a file under its final name is
always whole and the ledger only calls a file done once it is. A file the ledger holds complete,
in this request or in an earlier request of the same plan (an export that expired and was staged
again), is used where it is or copied to its new final path (`reuse_done_file`), not downloaded.

`queue_request_files` and `finish_downloads` do the same around any parfive downloader (for one
plain ``download()``); failed downloads keep their http URL in ``errors``, their
``filepath_partial`` replaced by the final path's ``.unverified`` name (`~._transfer.writer.unverified_path`).
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import parfive

from sunpy import log

from sunpy_jsoc_cutout._jsoc.export_files import file_hash
from .ledger import Ledger
from .session import fixed_path as _fixed_path
from .writer import partial_path, unverified_path

__all__ = [
    "PathFor",
    "QueuedFile",
    "QueuedRequest",
    "finish_downloads",
    "promote",
    "queue_request_files",
    "reuse_done_file",
]

#: Maps (record, filename) to the final path of a file.
PathFor = Callable[[str, str], "str | os.PathLike"]


@dataclass(frozen=True)
class QueuedFile:
    """A file enqueued on a downloader: where it downloads to and where it ends up."""

    requestid: str
    record: str
    filename: str
    url: str
    final: Path
    partial: Path


@dataclass
class QueuedRequest:
    """
    What `queue_request_files` did for one request.

    Attributes
    ----------
    requestid : `str`
    done : `list` of `tuple`
        ``(path, url)`` of the files the ledger already holds complete (not enqueued).
    queued : `list` of `QueuedFile`
        The files enqueued on the downloader.
    """

    requestid: str
    done: list[tuple[Path, str]] = field(default_factory=list)
    queued: list[QueuedFile] = field(default_factory=list)


def queue_request_files(
    downloader: parfive.Downloader,
    ledger: Ledger,
    requestid: str,
    files: Iterable[tuple[str, str, str]],
    path_for: PathFor,
) -> QueuedRequest:
    """
    Record a request's files in the ledger and enqueue those not already downloaded.

    Parameters
    ----------
    downloader : `parfive.Downloader`
        Files are enqueued on it (nothing is downloaded here).
    ledger : `~._transfer.ledger.Ledger`
    requestid : `str`
    files : iterable of ``(record, filename, url)``
        As given by `file_urls`.
    path_for : callable
        ``path_for(record, filename)`` gives a file's final path (e.g. via `target_path`).

    Returns
    -------
    `QueuedRequest`
        Pass it to `finish_downloads` with the downloader's Results. A file whose final path
        exists but that the ledger does not hold complete is downloaded again and replaced. A file
        the ledger holds complete elsewhere (an earlier fetch with another ``path``) is copied to
        its new final path (see `reuse_done_file`), not downloaded.
    """
    files = list(files)
    ledger.add_files(requestid, files)
    queued = QueuedRequest(requestid)
    for record, filename, url in files:
        final = Path(path_for(record, filename)).expanduser().absolute()
        if reuse_done_file(ledger, requestid, filename, final):
            queued.done.append((final, url))
            continue
        part = partial_path(final)
        downloader.enqueue_file(url, filename=partial(_fixed_path, part), overwrite=True)
        queued.queued.append(QueuedFile(requestid, record, filename, url, final, part))
    log.debug("Request %s: %s files queued, %s already done", requestid, len(queued.queued), len(queued.done))
    return queued


def reuse_done_file(ledger: Ledger, requestid: str, filename: str, final: Path) -> bool:
    """
    Whether the ledger's complete copy of a file can stand for it at ``final``.

    The copy is the ledger's entry of this request, or else of an earlier request of the same
    plan (`~._transfer.ledger.Ledger.done_in_plan`). A copy already at ``final`` is used as it is. A copy
    elsewhere (fetched before with another ``path`` template) is copied to ``final`` through a partial name, after its sha256 was checked
    against the ledger's, and the ledger then holds it at ``final``; a copy that changed on disk
    is not used (the file is downloaded again).
    """
    entry = ledger.done_file(requestid, filename) or ledger.done_in_plan(requestid, filename)
    if entry is None or entry.path is None or entry.size is None or entry.sha256 is None:
        return False
    known = Path(entry.path).expanduser().absolute()
    if known == final:
        if entry.requestid != requestid:
            ledger.mark_done(requestid, filename, str(final), int(entry.size), entry.sha256)
        return True
    try:
        if file_hash(known) != entry.sha256:
            log.info("%s changed since it was downloaded; downloading %s again", known, filename)
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = partial_path(final)
        try:
            shutil.copyfile(known, staging)
            staging.replace(final)
        finally:
            staging.unlink(missing_ok=True)
    except OSError as err:
        log.info("Could not copy %s to %s (%s); downloading it again", known, final, err)
        return False
    ledger.mark_done(requestid, filename, str(final), int(entry.size), entry.sha256)
    log.debug("Request %s: %s copied from %s", requestid, final, known)
    return True


def promote(item: QueuedFile, ledger: Ledger) -> Path:
    """Hash a complete partial file, rename it to its final name and mark it done."""
    size = item.partial.stat().st_size
    digest = file_hash(item.partial)
    item.final.parent.mkdir(parents=True, exist_ok=True)
    try:
        item.partial.replace(item.final)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        # another file system (a tar member moving out of the scratch directory): copy to a
        # partial name there first, so the final name still only ever holds a complete file
        staging = partial_path(item.final)
        try:
            shutil.copyfile(item.partial, staging)
            staging.replace(item.final)
        finally:
            staging.unlink(missing_ok=True)
        item.partial.unlink()
    ledger.mark_done(item.requestid, item.filename, str(item.final), size, digest)
    return item.final


def finish_downloads(
    results: parfive.Results, ledger: Ledger, queued: QueuedRequest | Iterable[QueuedRequest]
) -> parfive.Results:
    """
    Move completed downloads to their final names, record them, and build the Results to return.

    Parameters
    ----------
    results : `parfive.Results`
        What ``downloader.download()`` returned.
    ledger : `~._transfer.ledger.Ledger`
    queued : `QueuedRequest` or iterable of them
        What `queue_request_files` returned for the requests downloaded.

    Returns
    -------
    `parfive.Results`
        The final paths of the files downloaded now and of those the ledger already held, and
        the errors of the failed downloads (each with its http URL; a retry by another
        downloader writes ``<final>.unverified``). Paths parfive returned for files not queued here pass through unchanged.
    """
    requests = [queued] if isinstance(queued, QueuedRequest) else list(queued)
    by_partial = {str(item.partial): item for request in requests for item in request.queued}
    out = parfive.Results()
    for path, url in zip(results.data, results.urls, strict=False):
        item = by_partial.get(str(path))
        out.append(path=str(promote(item, ledger)) if item else path, url=url)
    for request in requests:
        for path, url in request.done:
            out.append(path=str(path), url=url)
    by_url = {item.url: item for item in by_partial.values()}
    for error in results.errors:
        item = by_url.get(error.url)
        filepath = partial(_fixed_path, unverified_path(item.final)) if item else error.filepath_partial
        out.add_error(filepath, error.url, error.exception)
        log.debug("Download of %s failed: %s", error.url, error.exception)
    return out

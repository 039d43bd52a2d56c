"""
Downloading the files of completed JSOC exports with parfive, recorded in the `~._ledger.Ledger`.

How a file reaches its final name
---------------------------------
`queue_request_files` enqueues each file that the ledger does not already hold under a
*partial* name, ``<final name>.part`` (a fixed ``filename=`` callable, with ``overwrite=True``
so that a ``.part`` left by a killed run is never mistaken for a finished file). parfive
removes the partial file of a failed download. After ``Downloader.download()`` returns,
`finish_downloads` post-processes the `parfive.Results`: each completed ``.part`` file is
hashed (sha256), renamed with `os.replace` to its final name and marked done in the ledger,
and its path in the returned Results is the final one. A download that is interrupted (or a
process that is killed) therefore never leaves a file under its final name, and the ledger
only calls a file done once it is complete.

Failed downloads stay in the returned Results' ``errors`` with their http URL, but their
``filepath_partial`` is replaced by the *final* path, so that ``Fido.fetch(results)`` (which
re-enqueues ``err.url`` with that callable on Fido's own downloader, never calling back here)
writes the final name; parfive removes a file whose retry fails.

A parfive `~parfive.Downloader` keeps its queue after ``download()``, so a second
``download()`` would fetch everything again: use a fresh downloader (`make_downloader`) for
each batch.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import parfive

from sunpy import log
from sunpy.util.parfive_helpers import Downloader

from ._export_files import check_free_space, data_rows, file_hash, file_urls
from ._ledger import Ledger
from ._paths import target_path
from ._report import JobReport
from ._tarsafe import safe_extract

__all__ = [
    "PARTIAL_SUFFIX",
    "QueuedFile",
    "QueuedRequest",
    "check_free_space",
    "download_request",
    "extend_results",
    "file_hash",
    "file_urls",
    "finish_downloads",
    "make_downloader",
    "promote",
    "queue_request_files",
    "reuse_done_file",
    "target_path",
]

#: Appended to a file's final name while it downloads.
PARTIAL_SUFFIX = ".part"

#: Maps (record, filename) to the final path of a file.
PathFor = Callable[[str, str], "str | os.PathLike"]


def make_downloader(
    max_conn: int = 1,
    max_splits: int = 1,
    progress: bool = True,
    overwrite: bool | Literal["unique"] = False,
) -> parfive.Downloader:
    """
    A parfive downloader that keeps to JSOC's one-connection rule by default.

    Parameters
    ----------
    max_conn : `int`
        Parallel downloads (JSOC asks for one).
    max_splits : `int`
        Connections per file (JSOC asks for one).
    progress : `bool`
        Show progress bars.
    overwrite : `bool` or ``"unique"``
        parfive's handling of existing files (files this package downloads are always written
        to a partial name first; see the module notes).

    Returns
    -------
    `parfive.Downloader`
        With sunpy's session configuration (its User-Agent and proxy settings).
    """
    return Downloader(max_conn=max_conn, max_splits=max_splits, progress=progress, overwrite=overwrite)


def _fixed_path(path: Path, resp: Any, url: str) -> Path:
    """A parfive ``filename=`` callable that always names ``path``."""
    return path


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
    ledger : `~._ledger.Ledger`
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
        part = final.with_name(final.name + PARTIAL_SUFFIX)
        downloader.enqueue_file(url, filename=partial(_fixed_path, part), overwrite=True)
        queued.queued.append(QueuedFile(requestid, record, filename, url, final, part))
    log.debug("Request %s: %s files queued, %s already done", requestid, len(queued.queued), len(queued.done))
    return queued


def reuse_done_file(ledger: Ledger, requestid: str, filename: str, final: Path) -> bool:
    """
    Whether the ledger's complete copy of a file can stand for it at ``final``.

    A copy already at ``final`` is used as it is. A copy elsewhere (fetched before with another
    ``path`` template) is copied to ``final`` through a partial name, after its sha256 was checked
    against the ledger's, and the ledger then holds it at ``final``; a copy that changed on disk
    is not used (the file is downloaded again).
    """
    entry = ledger.done_file(requestid, filename)
    if entry is None:
        return False
    known = Path(entry.path).expanduser().absolute()
    if known == final:
        return True
    try:
        if file_hash(known) != entry.sha256:
            log.info("%s changed since it was downloaded; downloading %s again", known, filename)
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.with_name(final.name + PARTIAL_SUFFIX)
        shutil.copyfile(known, staging)
        staging.replace(final)
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
        staging = item.final.with_name(item.final.name + PARTIAL_SUFFIX)
        shutil.copyfile(item.partial, staging)
        staging.replace(item.final)
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
    ledger : `~._ledger.Ledger`
    queued : `QueuedRequest` or iterable of them
        What `queue_request_files` returned for the requests downloaded.

    Returns
    -------
    `parfive.Results`
        The final paths of the files downloaded now and of those the ledger already held, and
        the errors of the failed downloads (each with its http URL; a retry writes the final
        name directly). Paths parfive returned for files not queued here pass through unchanged.
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
        filepath = partial(_fixed_path, item.final) if item else error.filepath_partial
        out.add_error(filepath, error.url, error.exception)
        log.debug("Download of %s failed: %s", error.url, error.exception)
    return out


def download_request(
    ledger: Ledger,
    requestid: str,
    index: Mapping[str, Any],
    base_url: str,
    path_for: PathFor,
    *,
    downloader: parfive.Downloader | None = None,
    tar_dir: str | os.PathLike | None = None,
    keep_tar: bool = False,
    report: JobReport | None = None,
    new_downloader: Callable[[], parfive.Downloader] | None = None,
    batch: int | None = None,
    on_batch: Callable[[int, int], object] | None = None,
) -> parfive.Results:
    """
    Download the files of one completed export (``url`` or ``url-tar``) and record them.

    Parameters
    ----------
    ledger : `~._ledger.Ledger`
    requestid : `str`
    index : `~collections.abc.Mapping`
        The ``exp_status`` reply of the completed request.
    base_url : `str`
        The download base URL (see `file_urls`).
    path_for : callable
        ``path_for(record, filename)`` gives a data file's final path.
    downloader : `parfive.Downloader`, optional
        Used for this one download (its queue must be empty); default `make_downloader()`.
    tar_dir : path-like, optional
        Where the tar of an ``url-tar`` export is downloaded and unpacked (default: the
        directory of the first data file's final path).
    keep_tar : `bool`
        Keep the tar file after extracting it.
    report : `~._report.JobReport`, optional
        Records listed as ``NoDataFile`` and data files absent from a tar are added to it.
    new_downloader : callable, optional
        Makes a fresh downloader; with ``batch``, the files of a ``url`` export are downloaded
        ``batch`` at a time, each batch renamed and recorded before the next starts, so that a
        killed run loses at most the files of one batch (with ``batch=1``, none that finished).
    batch : int, optional
        Files per batch (see ``new_downloader``).
    on_batch : callable, optional
        Called as ``on_batch(files_done, files_total)`` after each batch (for a progress bar).

    Returns
    -------
    `parfive.Results`
        The final paths of the request's data files (including those the ledger already
        held) and the errors of failed downloads (each with its http URL).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.UnsafeArchiveError
        If the tar of an ``url-tar`` export holds an unsafe member (nothing is extracted; the
        tar is removed unless ``keep_tar``).
    """
    if downloader is None:
        downloader = make_downloader()
    if downloader.queued_downloads:
        raise ValueError("The downloader already has files queued; use a new one for each request.")
    rows, no_data = data_rows(index)
    for record in no_data:
        if report is not None:
            report.missing_file(requestid, record, "", "JSOC lists no data file (NoDataFile)")
    files = file_urls(index, base_url)
    if not index.get("tarfile"):
        if new_downloader is None or not batch:
            queued = queue_request_files(downloader, ledger, requestid, files, path_for)
            results = downloader.download() if queued.queued else parfive.Results()
            return finish_downloads(results, ledger, queued)
        out = parfive.Results()
        for start in range(0, len(files), batch):
            chunk_downloader = downloader if start == 0 else new_downloader()
            queued = queue_request_files(chunk_downloader, ledger, requestid, files[start : start + batch], path_for)
            results = chunk_downloader.download() if queued.queued else parfive.Results()
            extend_results(out, finish_downloads(results, ledger, queued))
            if on_batch is not None:
                on_batch(min(start + batch, len(files)), len(files))
        return out
    if tar_dir is None:
        tar_dir = Path(path_for(*rows[0])).parent if rows else Path.cwd()
    return _download_tar(downloader, ledger, requestid, files[0], rows, path_for, Path(tar_dir), keep_tar, report)


def extend_results(into: parfive.Results, results: parfive.Results) -> None:
    """Append the files and errors of ``results`` to ``into``."""
    for path, url in zip(results, results.urls, strict=False):
        into.append(path=path, url=url)
    for error in results.errors:
        into.add_error(error.filepath_partial, error.url, error.exception)


def _download_tar(downloader, ledger, requestid, tar_file, rows, path_for, tar_dir, keep_tar, report):
    """Download, check and unpack an export's tar; move its data files to their final paths."""
    _, tar_name, tar_url = tar_file
    ledger.add_files(requestid, [(record, name, tar_url) for record, name in rows])
    finals = {name: Path(path_for(record, name)).expanduser().absolute() for record, name in rows}
    done = {name: finals[name] if reuse_done_file(ledger, requestid, name, finals[name]) else None for name in finals}
    out = parfive.Results()
    if rows and all(done.values()):
        for path in done.values():
            out.append(path=str(path), url=tar_url)
        return out
    queued = queue_request_files(downloader, ledger, requestid, [tar_file], lambda record, name: tar_dir / name)
    fetched = finish_downloads(downloader.download() if queued.queued else parfive.Results(), ledger, queued)
    if fetched.errors:
        return fetched
    tar_path = Path(fetched[0])
    scratch = tar_dir / f".{requestid}.extract"
    try:
        members = {path.name: path for path in safe_extract(tar_path, scratch)}
        for record, name in rows:
            path = done[name]
            if path is None and name in members:
                path = promote(QueuedFile(requestid, record, name, tar_url, finals[name], members[name]), ledger)
            elif path is None:
                log.warning("Request %s: %s is not in its tar file %s", requestid, name, tar_name)
                if report is not None:
                    report.missing_file(requestid, record, name, f"not in the tar file {tar_name}")
                continue
            out.append(path=str(path), url=tar_url)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not keep_tar:
            tar_path.unlink(missing_ok=True)
    return out

"""
Downloading the files of completed JSOC exports with parfive, recorded in the `~._transfer.ledger.Ledger`.

`download_request` downloads one export's files through a `~._transfer.session.DownloadSession`
(one downloader and one event loop for the whole fetch): the files of a ``url`` export through
`~._transfer.batches.FileBatches` (``batch`` files per parfive run, each batch finished and
recorded before the next starts), the tar of a ``url-tar`` export through
`~._transfer.tar_download`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import parfive

from sunpy.util.parfive_helpers import Downloader

from sunpy_jsoc_cutout._jsoc.export_files import check_free_space, data_rows, file_hash, file_urls
from .batches import FileBatches, retryable
from .file_moves import (
    PathFor,
    QueuedFile,
    promote,
    reuse_done_file,
)
from .ledger import Ledger
from .paths import target_path
from .report import JobReport
from .session import DownloadSession
from .tar_download import download_tar
from .writer import PARTIAL_SUFFIX

__all__ = [
    "PARTIAL_SUFFIX",
    "QueuedFile",
    "check_free_space",
    "download_request",
    "extend_results",
    "file_hash",
    "file_urls",
    "make_downloader",
    "promote",
    "retryable",
    "reuse_done_file",
    "target_path",
]


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
        parfive's handling of existing files.

    Returns
    -------
    `parfive.Downloader`
        With sunpy's session configuration (its User-Agent and proxy settings).
    """
    return Downloader(max_conn=max_conn, max_splits=max_splits, progress=progress, overwrite=overwrite)


def download_request(
    ledger: Ledger,
    requestid: str,
    index: Mapping[str, Any],
    base_url: str,
    path_for: PathFor,
    *,
    session: DownloadSession | None = None,
    downloader: parfive.Downloader | None = None,
    tar_dir: str | os.PathLike | None = None,
    keep_tar: bool = False,
    report: JobReport | None = None,
    batch: int | None = None,
    on_batch: Callable[[int, int], object] | None = None,
    **_ignored,
) -> parfive.Results:
    """
    Download the files of one completed export (``url`` or ``url-tar``) and record them.

    Parameters
    ----------
    ledger : `~._transfer.ledger.Ledger`
    requestid : `str`
    index : `~collections.abc.Mapping`
        The ``exp_status`` reply of the completed request.
    base_url : `str`
        The download base URL (see `file_urls`).
    path_for : callable
        ``path_for(record, filename)`` gives a data file's final path.
    session : `~._transfer.session.DownloadSession`, optional
        The fetch's downloader and event loop (default: one made for this call and closed after).
    downloader : `parfive.Downloader`, optional
        Without ``session``: its ``max_conn``, progress and overwrite settings are used.
    tar_dir : path-like, optional
        Where the tar of an ``url-tar`` export is downloaded and unpacked (default: the
        directory of the first data file's final path).
    keep_tar : `bool`
        Keep the tar file after extracting it.
    report : `~._transfer.report.JobReport`, optional
        Records listed as ``NoDataFile`` and data files absent from a tar are added to it.
    batch : int, optional
        Files per parfive run (default 1): each batch is renamed and recorded before the next
        starts, so that a killed run loses at most the files of one batch.
    on_batch : callable, optional
        Called as ``on_batch(files_done, files_total)`` after each batch (for a progress bar);
        for a ``url-tar`` export once, when its tar is unpacked.

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
    own = session is None
    if session is None:
        config = getattr(downloader, "config", None)
        session = DownloadSession(
            max_conn=getattr(config, "max_conn", 1),
            progress=bool(getattr(config, "progress", False)),
            overwrite=getattr(config, "overwrite", False),
        )
    try:
        rows, no_data = data_rows(index)
        for record in no_data:
            if report is not None:
                report.missing_file(requestid, record, "", "JSOC lists no data file (NoDataFile)")
        files = file_urls(index, base_url)
        if not index.get("tarfile"):
            ledger.add_files(requestid, files)
            return FileBatches(session, ledger, requestid).run(files, path_for, max(1, int(batch or 1)), on_batch)
        if tar_dir is None:
            tar_dir = Path(path_for(*rows[0])).parent if rows else Path.cwd()
        results = download_tar(session, ledger, requestid, files[0], rows, path_for, Path(tar_dir), keep_tar, report)
        if on_batch is not None:
            on_batch(len(results), len(rows))  # the tar's files arrive all at once
        return results
    finally:
        if own:
            session.close()


def extend_results(into: parfive.Results, results: parfive.Results) -> None:
    """Append the files and errors of ``results`` to ``into``."""
    for path, url in zip(results, results.urls, strict=False):
        into.append(path=path, url=url)
    for error in results.errors:
        into.add_error(error.filepath_partial, error.url, error.exception)

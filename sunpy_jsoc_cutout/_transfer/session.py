"""
One downloader and one event loop for the downloads of a fetch.

parfive's ``Downloader.download()`` makes a new event loop each time, adds signal handlers to it
and never closes it. `DownloadSession` instead keeps one `~._transfer.writer.ClientDownloader` and one
event loop for a whole fetch (or ``jobs.download``), runs each batch with the downloader's
``run_download()`` on that loop (in a helper thread when the calling thread already runs a loop,
as in a notebook), lets an `~._transfer.interrupt.InterruptGuard` cancel a running batch, and closes the
loop when it is closed itself.

It also remembers the first full-disk error of the fetch (`DownloadSession.disk_full`): after it
no further download is attempted.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Literal

import parfive
from parfive.utils import ParfiveUserWarning

from .interrupt import InterruptGuard
from .writer import ClientDownloader

__all__ = ["DownloadSession", "fixed_path"]


def fixed_path(path: Path, resp: Any, url: str) -> Path:
    """A parfive ``filename=`` callable that always names ``path``."""
    return path


class DownloadSession:
    """
    The downloader and event loop of one fetch (a context manager).

    Parameters
    ----------
    max_conn : int
        Parallel downloads (JSOC asks for one).
    progress : bool
        parfive's progress bars.
    overwrite : bool or ``"unique"``
        parfive's overwrite rule (files are always written to partial names first).
    guard : `~._transfer.interrupt.InterruptGuard`, optional
        Signals cancel a running batch through it.
    retries : int
        How often a file whose download failed in transport (HTTP 5xx, 408, 429, a reset or
        truncated connection, a timeout) is downloaded again within the fetch.
    retry_wait : float
        Seconds before the first retry of a file; each further retry waits twice as long (at most
        60 s).
    """

    def __init__(
        self,
        max_conn: int = 1,
        progress: bool = False,
        overwrite: bool | Literal["unique"] = False,
        guard: InterruptGuard | None = None,
        retries: int = 3,
        retry_wait: float = 2.0,
    ) -> None:
        self.retries, self.retry_wait = int(retries), float(retry_wait)
        self.downloader = ClientDownloader(max_conn=max_conn, max_splits=1, progress=progress, overwrite=overwrite)
        self.guard = guard or InterruptGuard()
        self.loop: asyncio.AbstractEventLoop | None = None
        #: The first full-disk error of the fetch, if any.
        self.disk_full: OSError | None = None

    def __enter__(self) -> DownloadSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the event loop (a session can be used again: a new loop is made)."""
        loop, self.loop = self.loop, None
        if loop is None or loop.is_closed():
            return
        try:
            if not _loop_running():
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def run(self, files: Iterable[tuple[str, Path]]) -> parfive.Results:
        """
        Download ``(url, partial path)`` pairs as one parfive run; a signal cancels it.

        Returns
        -------
        parfive.Results
            The partial paths downloaded and the errors (a cancelled file's error holds a
            `asyncio.CancelledError`). Check ``self.guard`` afterwards.
        """
        downloader = self.downloader
        downloader.reset()
        for url, path in files:
            downloader.enqueue_file(url, filename=partial(fixed_path, path), overwrite=True)
        if not downloader.queued_downloads:
            return parfive.Results()
        if self.loop is None or self.loop.is_closed():
            self.loop = asyncio.new_event_loop()
        loop = self.loop
        task = loop.create_task(downloader.run_download())
        with warnings.catch_warnings(), self.guard.cancelling(lambda: loop.call_soon_threadsafe(task.cancel)):
            # a partial file parfive cannot remove (its folder replaced by a file) is handled by the caller
            warnings.filterwarnings("ignore", "Failed to delete possibly incomplete file", ParfiveUserWarning)
            try:
                if _loop_running():
                    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsoc-cutout-download") as pool:
                        return pool.submit(loop.run_until_complete, task).result()
                return loop.run_until_complete(task)
            except asyncio.CancelledError:  # cancelled before parfive started: nothing was downloaded
                return parfive.Results()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True

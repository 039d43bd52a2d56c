"""
The search-result blocks of one ``Fido.fetch``, staged together once all of them are known.

``Fido.fetch(result)`` calls the client's ``fetch`` once per block (each search result, each block
of an OR query) with one downloader and ``wait=False``, then calls that downloader's
``download()`` (``sunpy/net/fido_factory.py``, ``UnifiedDownloaderFactory.fetch``). A client
that staged and downloaded each block at once could not refuse, before anything is sent, two
blocks whose files would share a path: the first block would be staged before the second is
seen. So `FidoFetch` keeps each block's checked fetch (a callable) on the downloader, checks the
blocks' planned paths against each other as they come (`~._transfer.planned_paths.SharedPaths`),
and runs the fetches in order when Fido calls ``download()``, before the downloader's own queue;
their files and errors are added to what ``download()`` returns. A refused block drops the blocks
kept before it, so the downloader never runs them. The downloader's own ``download()`` runs only
if another client queued files on it: with an empty queue it would only draw parfive's main
progress bar of zero files (``Downloader._get_main_pb``), ``Files Downloaded: 0file``, below
this client's bars; its result would be the same empty ``Results``.
"""

from __future__ import annotations

from collections.abc import Callable

import parfive

from .download import extend_results
from .planned_paths import SharedPaths, planned_paths

__all__ = ["FidoFetch"]

_ATTRIBUTE = "_jsoc_cutout_fetch"


class FidoFetch:
    """The kept block fetches of one Fido downloader (get it with `of`)."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], parfive.Results]] = []
        self.blocks: list[tuple[str, object]] = []
        self.shared = SharedPaths()

    @classmethod
    def of(cls, downloader) -> FidoFetch:
        """The `FidoFetch` of ``downloader``, made (and its ``download`` wrapped) on first use."""
        found = getattr(downloader, _ATTRIBUTE, None)
        if isinstance(found, cls):
            return found
        fetches = cls()
        download = downloader.download

        def download_after_fetches(*args, **kwargs):
            ours = fetches.run()
            # an empty queue (this client queues nothing on Fido's downloader) would only draw
            # parfive's main bar, "Files Downloaded: 0file", below this client's bars
            results = download(*args, **kwargs) if downloader.queued_downloads else parfive.Results()
            extend_results(results, ours)
            return results

        downloader.download = download_after_fetches
        setattr(downloader, _ATTRIBUTE, fetches)
        return fetches

    def add(self, template: str, table, run: Callable[[], parfive.Results]) -> None:
        """
        Keep one block's fetch, after checking its planned paths against the blocks kept before.

        The paths are only worked out once a second block comes (one block was checked by its search).

        Raises
        ------
        sunpy_jsoc_cutout.exceptions.PathCollisionError
            If a path of this block is planned for a different file of an earlier block; the
            blocks kept so far are dropped.
        """
        self.blocks.append((template, table))
        try:
            for index in range(self.shared.blocks, len(self.blocks) if len(self.blocks) > 1 else 0):
                self.shared.add(planned_paths(*self.blocks[index], block=index))
        except Exception:
            self.drop()
            raise
        self.pending.append(run)

    def drop(self) -> None:
        """Forget every kept block (nothing of them runs)."""
        self.pending.clear()
        self.blocks.clear()
        self.shared = SharedPaths()

    def run(self) -> parfive.Results:
        """Run the kept fetches in order (each once) and return their files and errors."""
        pending, out = list(self.pending), parfive.Results()
        self.drop()
        for run in pending:
            extend_results(out, run())
        return out

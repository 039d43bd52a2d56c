"""
Fido's own download after this client's fetch: nothing to download, no empty progress bar.

``Fido.fetch`` makes a `parfive.Downloader`, passes it to each client's ``fetch`` (``wait=False``)
and then calls its ``download()`` whatever the clients queued on it (sunpy
``net/fido_factory.py``, ``Fido.fetch``: ``results = downloader.download()`` after the loop over
the blocks, in sunpy 7.0 as in earlier versions; only its ``progress`` argument, which also
silences this client's bars, would hide the bar). This client downloads with a downloader of its own and
queues nothing on Fido's, so that ``download()`` had nothing to do but drew parfive's main bar,
``Files Downloaded: 0file [00:00, ?file/s]``, below the client's bars. `skip_empty_download`
makes an empty ``download()`` return empty results at once; files another client of the same
query queued are downloaded (and shown) as before.
"""

import parfive

__all__ = ["skip_empty_download"]


def skip_empty_download(downloader) -> None:
    """
    Make ``downloader.download()`` return an empty `parfive.Results` when nothing is queued.

    parfive's ``download()`` with an empty queue only opens an event loop and draws a main
    progress bar of zero files (``Downloader._get_main_pb``); its result is the same empty
    ``Results``. Applied once per downloader; a downloader without ``queued_downloads`` is left
    alone.
    """
    if getattr(downloader, "_jsoc_cutout_skips_empty", False) or not hasattr(downloader, "queued_downloads"):
        return
    download = downloader.download

    def download_if_queued(*args, **kwargs):
        if not downloader.queued_downloads:
            return parfive.Results()
        return download(*args, **kwargs)

    downloader.download = download_if_queued
    downloader._jsoc_cutout_skips_empty = True

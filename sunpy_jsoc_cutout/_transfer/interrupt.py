"""
Ctrl-C and SIGTERM during a fetch: stop within a moment, leave everything consistent, say how to resume.

`InterruptGuard` is entered once per fetch (or ``jobs.download``). In the main thread it installs
a handler for ``SIGINT`` and ``SIGTERM`` (not for a signal the process ignores) and restores the
previous handlers when it exits, whatever happened. A signal

* while JSOC stages (a poll, a pause, a CGI call) raises `FetchInterrupted` at once;
* while files download cancels the download (the event loop of `~._transfer.session.DownloadSession` is
  told thread-safely); the files finished before are renamed and recorded, the partial files
  removed, then `FetchInterrupted` is raised;
* inside a `InterruptGuard.deferred` block (renaming a finished file and recording it) is held
  until the block ends, so a file is never renamed without its ledger entry.

A second signal while the first is being handled raises at once. On exit the guard logs one line
saying how to resume and hands the signal on as the process expects: ``KeyboardInterrupt`` for
``SIGINT`` (`FetchInterrupted` is one), the previous ``SIGTERM`` handler, or for the default
``SIGTERM`` disposition the signal itself, so the process ends as terminated.

parfive installs its own ``SIGINT``/``SIGTERM`` handlers on the event loop of every
``Downloader.download()`` and never removes them (nor closes the loop): after that, Ctrl-C does
nothing. This package never calls ``download()`` (it runs ``run_download()`` on its own loop);
`restore_after_download` makes Fido's own downloader, which Fido runs after the clients' fetches,
restore the handlers and close its loop too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from sunpy import log

__all__ = ["RESUME_HINT", "FetchInterrupted", "InterruptGuard", "restore_after_download"]

#: The signals a fetch stops for.
SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: The one line logged when a fetch was interrupted.
RESUME_HINT = (
    "JSOC cutout fetch interrupted by %s: the files finished so far are kept and recorded in the "
    "ledger %s; run the same Fido.fetch (or jobs.download) again to resume without a new export."
)

#: What ``signal.signal`` takes and gives back.
_Handler = Callable[[int, FrameType | None], Any] | int | None


class FetchInterrupted(KeyboardInterrupt):
    """A fetch was stopped by ``SIGINT`` or ``SIGTERM`` (`signum`)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class InterruptGuard:
    """
    Signal handling for one fetch (a context manager; see the module notes).

    Parameters
    ----------
    where : str
        What the resume line names (the ledger path).
    """

    def __init__(self, where: str = "") -> None:
        self.where = where
        self.signum: int | None = None
        self._previous: dict[int, _Handler] = {}
        self._cancel: Callable[[], object] | None = None
        self._defer = 0

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> InterruptGuard:
        if _in_main_thread():
            for sig in SIGNALS:
                previous = signal.getsignal(sig)
                if previous in (signal.SIG_IGN, None):
                    continue  # ignored by the process (nohup...), or set outside Python: leave it
                self._previous[sig] = previous
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not isinstance(exc, FetchInterrupted):
            return
        log.warning(RESUME_HINT, signal.Signals(exc.signum).name, self.where or "(default)")
        handler = previous.get(exc.signum)
        if exc.signum == signal.SIGINT or handler is None:
            return  # FetchInterrupted is a KeyboardInterrupt: it goes on up
        if handler == signal.SIG_DFL:
            signal.raise_signal(exc.signum)  # the default: the process ends as terminated
        elif callable(handler):
            handler(exc.signum, None)
        raise SystemExit(128 + exc.signum) from None

    # ------------------------------------------------------------------ signals
    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None:
            raise FetchInterrupted(signum)  # a second signal: stop now
        self.signum = signum
        if self._cancel is not None:
            self._cancel()
        elif not self._defer:
            raise FetchInterrupted(signum)

    def check(self) -> None:
        """Raise `FetchInterrupted` if a signal arrived while it could not be raised."""
        if self.signum is not None:
            raise FetchInterrupted(self.signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A block that a signal does not cut short; it is raised when the block ends."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
        if not self._defer and self._cancel is None:
            self.check()

    @contextmanager
    def cancelling(self, cancel: Callable[[], object]) -> Iterator[None]:
        """A block during which a signal calls ``cancel`` (thread-safe) instead of raising."""
        self._cancel = cancel
        try:
            if self.signum is not None:
                cancel()
            yield
        finally:
            self._cancel = None


def restore_after_download(downloader) -> None:
    """
    Make ``downloader.download()`` restore the signal handlers and close its event loop afterwards.

    parfive adds ``SIGINT``/``SIGTERM`` handlers to the loop of each ``download()`` (so that
    Ctrl-C cancels it) and leaves them, and the loop, behind. Fido calls ``download()`` on its
    own downloader after the clients' fetches; with this, Ctrl-C and SIGTERM work as before once
    that download is over, and no unclosed loop is left to be closed by the garbage collector
    (``Exception ignored in BaseEventLoop.__del__``). Applied once per downloader.
    """
    if getattr(downloader, "_jsoc_cutout_restores", False) or not hasattr(downloader, "_add_shutdown_signals"):
        return
    download = downloader.download
    state: dict = {}

    def add_shutdown_signals(loop, task) -> None:
        state["loop"] = loop
        if _in_main_thread():
            state["previous"] = {sig: signal.getsignal(sig) for sig in SIGNALS}
            for sig in SIGNALS:
                loop.add_signal_handler(sig, task.cancel)

    def restoring_download(*args, **kwargs):
        try:
            return download(*args, **kwargs)
        finally:
            loop, previous = state.pop("loop", None), state.pop("previous", {})
            if loop is not None:
                for sig, handler in previous.items():
                    loop.remove_signal_handler(sig)
                    if handler is not None:
                        signal.signal(sig, handler)
                if not loop.is_running() and not loop.is_closed():
                    loop.close()

    downloader._add_shutdown_signals = add_shutdown_signals
    downloader.download = restoring_download
    downloader._jsoc_cutout_restores = True

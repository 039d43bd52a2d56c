"""
Staging in a thread of its own, so that polls and submissions go on while files download.

`~._transfer.scheduler.ExportRunner.iter_ready` is a generator: run in the thread that downloads,
it polls only between downloads, so a request that completes while the previous one's files are
still downloading waits for them, and so does the submission of the next (JSOC's one-pending rule
lets nothing else stage meanwhile). `StagingThread` runs the generator in a daemon thread and hands
its outcomes over through a queue, in order; JSOC still sees one pending request at a time and
the downloads keep their single connection in the calling thread.

The thread's pauses end at once when the caller stops (`StagingThread.close`: after an
interrupt, a full disk or the last outcome), and an exception of the generator is raised in the
caller when it reaches it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

__all__ = ["StagingStopped", "StagingThread"]


class StagingStopped(Exception):
    """Raised in the staging thread by a pause once the caller has stopped."""


class StagingThread:
    """
    The outcomes of ``make(sleep)`` (a generator), produced in a thread and iterated here.

    Parameters
    ----------
    make : callable
        ``make(sleep)`` returns the generator to run; it must pause only through ``sleep``.
    sleep : callable
        The pause to use (``time.sleep`` is replaced by one that the caller can end).
    """

    _DONE = object()

    def __init__(self, make: Callable[[Callable[[float], object]], Iterator], sleep=time.sleep) -> None:
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue()
        self._inner = sleep
        self._thread = threading.Thread(target=self._run, args=(make,), name="jsoc-cutout-staging", daemon=True)
        self._thread.start()

    def _sleep(self, seconds: float) -> None:
        if self._inner is time.sleep:
            stopped = self._stop.wait(max(0.0, seconds))
        else:  # an injected pause (tests drive a clock): run it, then look
            self._inner(seconds)
            stopped = self._stop.is_set()
        if stopped:
            raise StagingStopped

    def _run(self, make) -> None:
        try:
            with closing(make(self._sleep)) as outcomes:
                for outcome in outcomes:
                    self._queue.put((True, outcome))
                    if self._stop.is_set():
                        break
        except StagingStopped:
            pass
        except BaseException as err:  # noqa: BLE001 - handed to the caller, who raises it
            self._queue.put((False, err))
        finally:
            self._queue.put((True, self._DONE))

    def __iter__(self) -> Iterator[Any]:
        while True:
            ok, value = self._queue.get()
            if not ok:
                raise value
            if value is self._DONE:
                return
            yield value

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread (its pauses end at once) and wait for it to finish its current call."""
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> StagingThread:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The emulator's clock: wall time plus an offset that tests can advance.

Every time rule of the export manager (60 minute pending window, 24 hour duplicate window,
7 day expiry, the daily request-ID counter, the time model) reads this clock, so a test can
jump over hours or days with `Clock.advance` without sleeping.
"""

from __future__ import annotations

import datetime
import threading
import time

__all__ = ["Clock"]


class Clock:
    """
    Wall-clock time shifted by an adjustable offset.

    Parameters
    ----------
    offset : float
        Initial offset in seconds added to the wall time.
    start : datetime.datetime, optional
        If given, the clock starts at this UTC time (the offset is chosen accordingly).
        Naive datetimes are taken as UTC.
    """

    def __init__(self, offset: float = 0.0, start: datetime.datetime | None = None):
        self._lock = threading.Lock()
        self._offset = float(offset)
        if start is not None:
            if start.tzinfo is None:
                start = start.replace(tzinfo=datetime.UTC)
            self._offset = start.timestamp() - time.time()

    @property
    def offset(self) -> float:
        """Seconds added to the wall time."""
        with self._lock:
            return self._offset

    def now(self) -> float:
        """Current emulator time as a POSIX timestamp (UTC seconds since 1970)."""
        with self._lock:
            return time.time() + self._offset

    def now_datetime(self) -> datetime.datetime:
        """Current emulator time as an aware UTC `datetime.datetime`."""
        return self.to_datetime(self.now())

    @staticmethod
    def to_datetime(timestamp: float) -> datetime.datetime:
        """An aware UTC `datetime.datetime` for a timestamp of this clock."""
        return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)

    def advance(self, seconds: float) -> float:
        """
        Move the clock forward (or backward, for a negative value).

        Parameters
        ----------
        seconds : float
            Seconds to add to the offset.

        Returns
        -------
        float
            The new `now`.
        """
        with self._lock:
            self._offset += float(seconds)
        return self.now()

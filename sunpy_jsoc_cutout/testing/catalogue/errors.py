"""Exceptions raised inside the JSOC emulator (mapped to JSOC replies by the server)."""

__all__ = ["EmulatorError", "RecordSetError", "TooManyRecords", "UnknownSeries"]


class EmulatorError(Exception):
    """Base class of the emulator's internal errors."""


class RecordSetError(EmulatorError):
    """A record-set specification JSOC would refuse; ``str(err)`` is JSOC's message."""


class UnknownSeries(RecordSetError):
    """The series does not exist in the emulator's catalogue."""

    def __init__(self, series: str):
        self.series = series
        super().__init__(f"series '{series}' not found")


class TooManyRecords(RecordSetError):
    """The query matches more records than allowed (``count`` is the full count)."""

    def __init__(self, count: int, limit: int):
        self.count = count
        self.limit = limit
        super().__init__(f"{count} is too many records in one request")

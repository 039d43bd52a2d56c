"""
When an export should be ready: the pace of this run's earlier exports (pure).

Polling on JSOC's ``wait`` hint with a growing interval finds a finished export late: once the
interval has grown to ``max_poll`` (60 s), the export is found on average half a minute after
it finished, and with the one-pending rule the next request waits that long to be submitted, for
every request of a job. `StagingPace` estimates when a submitted request should be ready, so
that the scheduler polls then (and grows its interval again from ``min_poll`` if it is not):

- before any request of the run has finished, from ``conf.request_overhead`` and
  ``conf.staging_per_record`` times the request's planned files (JSOC's ``rcount`` without them);
- afterwards, from the pace of the requests that finished, measured from the last poll that
  still saw them pending (the earliest they can have finished), so that the estimate errs early,
  which costs a few polls, rather than late, which costs the next request's time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StagingPace"]


@dataclass
class StagingPace:
    """
    Seconds a request of ``records`` records should take, learned from finished requests.

    Parameters
    ----------
    overhead : float
        Fixed seconds of a request (queue pickup, set-up).
    per_record : float
        Seconds per record before any request has finished.
    """

    overhead: float
    per_record: float
    #: ``(records, seconds pending)`` of the last finished request.
    last: tuple[int, float] | None = None

    def expected(self, records: int | None) -> float | None:
        """
        Seconds from submission to completion of a request of ``records`` records (None: unknown).

        After a finished request of *r* records seen pending for *p* s, the smaller of *p* scaled by
        the records (early for a smaller request: the overhead is scaled down too) and the overhead
        plus the per-record rate that *p* leaves (early for a larger one), so that the guess errs early.
        """
        if not records or records <= 0:
            return None
        if self.last is None:
            return self.overhead + records * self.per_record
        done, pending_for = self.last
        rate = max(0.0, pending_for - self.overhead) / done
        return min(pending_for * records / done, self.overhead + records * rate)

    def finished(self, records: int | None, pending_for: float) -> None:
        """A request of ``records`` records was still pending ``pending_for`` seconds after its submission."""
        if records and records > 0 and pending_for > 0:
            self.last = (int(records), float(pending_for))

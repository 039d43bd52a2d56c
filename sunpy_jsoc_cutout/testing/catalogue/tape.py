"""Storage units on tape: the emulator's offline-data knob (`TapeArchive`).

On JSOC a record's files live in a SUMS storage unit (SU) that is either online (on disk) or
only on tape. ``jsoc_info`` then shows ``NoDataDirectory`` as the segment path and ``online``
0 in ``recinfo`` (``lm-jps/drms:base/export/apps/jsoc_info.c``, the rs_list record loop: the
path is the SU's ``online_loc`` only when ``online_status`` is ``Y``; a record's ``online`` is
whether its last listed segment path starts with ``/SUM``). An export that includes such
records brings their SUs back online (the drms tutorial: url_quick with offline data becomes "a
'real' export request (including an ExportID and some wait time)", ``sunpy/drms:
docs/tutorial.rst``), which costs the time model's ``tape_delay``; afterwards they are online.

This is a separate knob from the export fault ``offline`` (status 25), which models the 2022
``jsoc_fetch.c`` instead: "reject all requests that contain offline records"
(``lm-jps/drms:CM/V9.3/release.notes`` L113; ``base/export/apps/jsoc_fetch.c`` L3879-4067, L4405-4414).

The SU of a record is ``series_index * 10**9 + recnum // 100`` (`records.sums_path_for`); rules
say which SUs are offline by series and time range; staged SUs are remembered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time

__all__ = ["TapeArchive"]


@dataclass(frozen=True)
class _Rule:
    series: str | None
    start: float
    end: float

    def describe(self) -> dict:
        return {"series": self.series, "start": self.start, "end": self.end}


class TapeArchive:
    """Which storage units are offline (on tape), and which have been staged back."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._staged: set[int] = set()
        self._lock = threading.Lock()

    def set_offline(self, series: str | None = None, start: str | None = None, end: str | None = None) -> None:
        """
        Put storage units on tape.

        Parameters
        ----------
        series : str, optional
            Only this series (case-insensitive; e.g. ``aia.lev1`` for the files that
            ``aia.lev1_euv_12s`` links to). Default: every series.
        start, end : str, optional
            Only records whose time prime key is in ``[start, end]`` (DRMS times).
        """
        lo = parse_drms_time(start) if start else -np.inf
        hi = parse_drms_time(end) if end else np.inf
        with self._lock:
            self._rules.append(_Rule(series.lower() if series else None, lo, hi))

    def clear(self) -> None:
        """Everything online again (rules and staging history forgotten)."""
        with self._lock:
            self._rules.clear()
            self._staged.clear()

    def online(self, records, sunums: np.ndarray) -> np.ndarray:
        """Whether each record's storage unit (``sunums``, aligned with ``records``) is online."""
        with self._lock:
            rules = [r for r in self._rules if r.series in (None, records.series.name.lower())]
            staged = set(self._staged)
        if not rules or not len(records) or records.series.time_key is None:
            return np.ones(len(records), bool)
        t = np.asarray(records.columns[records.series.time_key], float)
        off = np.zeros(len(records), bool)
        for rule in rules:
            off |= (t >= rule.start) & (t <= rule.end)
        if staged:
            off &= ~np.isin(sunums, list(staged))
        return ~off

    def stage(self, sunums) -> int:
        """Bring these storage units online; returns how many were offline."""
        with self._lock:
            before = len(self._staged)
            self._staged.update(int(s) for s in sunums)
            return len(self._staged) - before

    def describe(self) -> dict:
        with self._lock:
            return {"rules": [r.describe() for r in self._rules], "staged": len(self._staged)}

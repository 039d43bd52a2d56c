"""
Pure arithmetic on what the emulator recorded (its request log and export state) and on its time
model: HTTP calls by endpoint, bytes served, staging intervals, and the time model's lower bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sunpy_jsoc_cutout.testing.exports.timemodel import TimeModel

__all__ = ["calls_by_endpoint", "lower_bound", "served_bytes", "staging_intervals", "union_length"]


def calls_by_endpoint(entries: Iterable[dict]) -> dict[str, int]:
    """
    HTTP calls per endpoint: ``jsoc_info`` and ``jsoc_fetch`` by ``op``, file ``GET``/``HEAD``,
    everything else by endpoint name; ``total`` is every call.
    """
    counts: Counter[str] = Counter()
    for entry in entries:
        endpoint, op = entry.get("endpoint") or "other", entry.get("params", {}).get("op")
        if endpoint == "files":
            counts[f"files {entry.get('method')}"] += 1
        elif endpoint in ("jsoc_info", "jsoc_fetch") and op:
            counts[f"{endpoint} {op}"] += 1
        else:
            counts[endpoint] += 1
        counts["total"] += 1
    return dict(sorted(counts.items()))


def served_bytes(entries: Iterable[dict], size_of: Callable[[str], int]) -> tuple[int, Counter]:
    """Bytes of the files ``GET`` in ``entries`` (``size_of(path)``) and how many times each path was fetched."""
    paths = Counter(e["path"] for e in entries if e.get("endpoint") == "files" and e.get("method") == "GET")
    return sum(size_of(path) * n for path, n in paths.items()), paths


def staging_intervals(requests: Iterable[dict], since: float = float("-inf")) -> list[tuple[float, float]]:
    """``(submitted, completed_at)`` of the completed export requests submitted at or after ``since``."""
    return [(r["submitted"], r["completed_at"]) for r in requests if r.get("completed_at") and r["submitted"] >= since]


def union_length(intervals: Iterable[Sequence[float]]) -> float:
    """Total length of the union of ``(start, end)`` intervals."""
    total, end = 0.0, None
    for lo, hi in sorted((float(i[0]), float(i[1])) for i in intervals):
        if end is None or lo > end:
            total += hi - lo
            end = hi
        elif hi > end:
            total += hi - end
            end = hi
    return total


def lower_bound(
    model: TimeModel, records: int, steps: Sequence[str], tar: bool, last_file_bytes: float, bandwidth: float | None
) -> dict[str, float]:
    """
    The least wall time the time model allows for exporting ``records`` records, one file each.

    JSOC stages one request of an address at a time (the one-pending rule), so the staging of
    every record is serialised: at best one request's queue pickup (its mean, ``queue_delay +
    queue_jitter / 2``) and fixed overhead, plus every record's cost (per file, per processing
    step, per tar member); then at least the last file must still be downloaded after the last
    staging ends (``last_file_bytes / bandwidth``). Every other download can overlap staging.

    Returns
    -------
    dict
        ``staging``, ``last_download`` and ``total`` in seconds.
    """
    queue = model.queue_delay + model.queue_jitter / 2
    staging = queue + model.processing_time(records, records, steps, tar)
    download = last_file_bytes / bandwidth if bandwidth else 0.0
    return {"staging": staging, "last_download": download, "total": staging + download}

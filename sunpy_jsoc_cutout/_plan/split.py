"""
Splitting planned exports into requests JSOC will accept and that pipeline well (pure).

JSOC refuses a request whose record set is too large ("about 15,000 AIA, 32,000 HMI records",
``exportdata.html``; status 4 "too many records") and one whose estimated size is over its byte
limit (status 3; the client sends ``sizeratio`` so that cutouts are not charged as full disks).

Within those limits the job is cut into pieces so that the download of request *k* runs while
JSOC stages request *k+1* (JSOC stages one request per user at a time, so staging is serial
whatever the plan). Each request costs JSOC's fixed overhead *o* (queue pick-up, set-up: tens of
seconds), taken from ``conf.request_overhead``; a record costs *s* seconds of staging
(``conf.staging_per_record``) and *d* of download (its estimated bytes over ``conf.download_rate``).

- Staging outlasts downloads (``d <= s``, cutouts): every download but the last request's hides
  behind the staging of the next, so the job keeps the requests it has (one per wavelength on
  ``aia.lev1``, one per series) and only its last request is cut, into pieces that shrink towards
  the end (`tail_sizes`): the last piece downloads in about *o*, and each piece downloads while the
  next one is staged. The user's guide campaign (four wavelengths of 480 cutouts of 4 MB, at
  JSOC's 4 MB/s) keeps four requests of 480 and cuts the last into 161, 143, 95, 56 and 25
  (with conf's default estimates): the last download falls from about 8 minutes to 25 s, for four more overheads.
- Downloads outlast staging (large images, slow links): what is not hidden is the first request's
  staging and the last request's download, about ``(S + D) / N`` for *N* requests of similar size;
  the total ``(S + D) / N + N o`` is smallest at ``N = sqrt((S + D) / o)``, at most
  `MAX_REQUESTS`, never fewer than the job already has, no piece smaller than `MIN_RECORDS`.

Measured against drms by hand and the time model's lower bound: ``benchmarks/run_all.py`` (W1).

Boundaries fall on the time of a kept row: the new record set starts at that row's ``T_REC`` and
ends at the next piece's first row, so DRMS's ``@`` grid and im_patch's cadence grid (anchored at
the first record of the set) start where they started for that row. They never fall between two
rows of one ``T_REC`` (the wavelengths of one slot of a multi-wavelength request): a piece's record
set takes whole slots, so a slot cut in two would be exported by both pieces.
"""

import math
from dataclasses import dataclass, replace

import numpy as np

import astropy.units as u

from .recordset import RecordSet

__all__ = [
    "MAX_REQUESTS",
    "MAX_TAIL",
    "MIN_RECORDS",
    "MIN_TAIL",
    "JobCosts",
    "piece_sizes",
    "pipeline_requests",
    "split_job",
    "split_request",
    "tail_sizes",
]

MAX_REQUESTS = 8
MIN_RECORDS = 100
#: At most this many pieces are added to the last request of a job, and none is smaller than `MIN_TAIL` rows.
MAX_TAIL = 4
MIN_TAIL = 10


@dataclass(frozen=True)
class JobCosts:
    """The estimates behind the number of requests (see the module notes)."""

    staging_per_record: float = 1.0
    download_rate: float = 5e6
    request_overhead: float = 20.0


def pipeline_requests(records: int, total_bytes: float, costs: JobCosts, existing: int = 1) -> int:
    """How many requests a job of ``records`` files and ``total_bytes`` should be staged as."""
    work = records * costs.staging_per_record + total_bytes / costs.download_rate
    best = round(math.sqrt(work / costs.request_overhead)) if work > 0 else 1
    return max(existing, min(MAX_REQUESTS, best))


def staging_bound(records: int, total_bytes: float, costs: JobCosts) -> bool:
    """Whether a record stages longer than it downloads (then only the last download is not hidden)."""
    if records <= 0:
        return False
    return total_bytes / records / costs.download_rate <= costs.staging_per_record


def tail_sizes(rows: int, bytes_per_record: float, costs: JobCosts) -> list[int]:
    """
    Sizes of the pieces, in order, of a job's last request of ``rows`` rows when staging outlasts downloads.

    Built from the end: the last piece downloads in about one request overhead (``o / d`` rows, at
    least `MIN_TAIL`); the piece before it is the largest whose download hides behind that piece's
    staging (``(o + n s) / d`` rows), and so on, at most `MAX_TAIL` pieces; the first piece takes
    the rest (a rest under `MIN_TAIL` rows joins it). ``[rows]`` when no piece would be added.
    """
    seconds = bytes_per_record / costs.download_rate if costs.download_rate > 0 else 0.0
    if rows <= 0 or seconds <= 0:
        return [rows]
    chain: list[int] = []
    size = max(MIN_TAIL, math.ceil(costs.request_overhead / seconds))
    while sum(chain) + size < rows and len(chain) < MAX_TAIL:
        chain.append(size)
        size = max(size + 1, math.floor((costs.request_overhead + size * costs.staging_per_record) / seconds))
    if not chain:
        return [rows]
    rest = rows - sum(chain)
    if rest < MIN_TAIL:
        chain[-1] += rest
        return chain[::-1]
    return [rest, *chain[::-1]]


def piece_sizes(n: int, record_limit: int, byte_limit: float, bytes_per_record: float, pieces: int = 1) -> int:
    """Records per request for ``n`` records: within both limits, about ``n / pieces``, at least `MIN_RECORDS`."""
    cap = max(1, int(record_limit))
    if bytes_per_record > 0:
        cap = max(1, min(cap, int(byte_limit // bytes_per_record)))
    wanted = max(MIN_RECORDS, math.ceil(n / max(1, pieces)))
    return min(cap, wanted)


def split_job(requests, record_limit, costs: JobCosts, byte_limit: float = 50e9, *, sparse=lambda request: False):
    """
    Split every searched request of a job (``_plan.rows.SearchedRequest``) for the limits and pipelining.

    ``record_limit(request)`` and ``sparse(request)`` give each request's record limit and whether
    its series is ``aia.lev1``/``hmi.lev1``.
    """
    listed = [r for r in requests if len(r.columns.get("T_REC", []))]
    records = sum(len(r.columns["T_REC"]) for r in listed)
    total_bytes = float(sum(np.sum(r.columns["bytes"]) for r in listed))
    if staging_bound(records, total_bytes, costs):  # keep the requests; the last one ends in a shrinking tail
        wanted, last = len(listed), (listed[-1] if listed else None)
    else:
        wanted, last = pipeline_requests(records, total_bytes, costs, existing=max(1, len(listed))), None
    out = []
    for request in requests:
        pieces = math.ceil(wanted / max(1, len(listed)))
        tail = None
        if request is last:
            tail = lambda rows, r=request: tail_sizes(rows, _bytes_per_record(r.columns), costs)  # noqa: E731
        kwargs = {"sparse": sparse(request), "pieces": pieces, "tail": tail}
        out += split_request(request, record_limit(request), byte_limit, **kwargs)
    return out


def _bytes_per_record(columns) -> float:
    """Mean estimated bytes of the rows that make a file (0 if none does)."""
    nbytes = np.asarray(columns["bytes"], dtype=float)
    good = nbytes > 0
    return float(np.mean(nbytes[good])) if good.any() else 0.0


def _piece_starts(t_rec, sizes: list[int]) -> list[int]:
    """
    First row of each piece, never between two rows of one ``T_REC``.

    Piece *i* takes at most ``sizes[i]`` rows (the last size repeats). A piece's record set holds
    whole slots (``t0-t1`` takes every wavelength of a slot), so a slot split between two pieces
    would be exported by both. Rows are in time order.
    """
    seconds = np.round(np.asarray(t_rec.unix, dtype=float) * 1000).astype(np.int64)
    n, starts, first = len(seconds), [], 0
    while first < n:
        starts.append(first)
        end = first + sizes[min(len(starts), len(sizes)) - 1]
        if end >= n:
            break
        while end > first + 1 and seconds[end] == seconds[end - 1]:
            end -= 1  # back to the start of the slot that would be cut
        if seconds[end] == seconds[end - 1]:  # one slot holds more than size rows: keep it whole
            end = first + int(np.searchsorted(seconds[first:], seconds[end], side="right"))
        first = end
    return starts


def split_request(
    request, record_limit: int, byte_limit: float = 50e9, *, sparse: bool = False, pieces: int = 1, tail=None
):
    """
    Split a searched request (``_plan.rows.SearchedRequest``) into pieces by time.

    ``tail(rows)``, if given, gives the sizes into which the last piece's ``rows`` rows are cut
    (`tail_sizes`). Returns the request itself when it needs no split or its record set has no time range.
    Rows JSOC will skip count toward the record limit too (JSOC opens them). A piece of a slotted
    series ends at its last row's slot (ranges are inclusive); a piece of a sparse series
    (``sparse``: ``aia.lev1``/``hmi.lev1``) ends 1 s before the next piece's first row, so that
    im_patch's slot count, ``int((t_last - t_first + cadence/2) / cadence)``, includes its last row.
    """
    columns = request.columns
    n = len(columns.get("T_REC", []))
    records = request.plan.recordset
    if not n or not isinstance(records, RecordSet) or records.time is None:
        return [request]
    per_record = _bytes_per_record(columns)
    size = piece_sizes(n, record_limit, byte_limit, per_record, pieces)
    starts = _piece_starts(columns["T_REC"], [size])
    if tail is not None:
        sizes = [size] * (len(starts) - 1) + tail(n - starts[-1])
        starts = _piece_starts(columns["T_REC"], sizes)
    if len(starts) == 1:
        return [request]
    out = []
    for number, first in enumerate(starts):
        last = (starts[number + 1] if number + 1 < len(starts) else n) - 1
        if last + 1 >= n:
            end = records.time.end
        elif sparse:
            end = columns["T_REC"][last + 1] - 1 * u.s
        else:
            end = columns["T_REC"][last]
        plan = replace(request.plan, recordset=records.with_times(columns["T_REC"][first], end))
        sub = {key: value[first : last + 1] for key, value in columns.items()}
        out.append(replace(request, plan=plan, columns=sub, part=(number, len(starts))))
    return out

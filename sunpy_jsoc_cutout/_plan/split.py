"""
Splitting planned exports into requests JSOC will accept and that pipeline well (pure).

JSOC refuses a request whose record set is too large ("about 15,000 AIA, 32,000 HMI records",
``exportdata.html``; status 4 "too many records") and one whose estimated size is over its byte
limit (status 3; the client sends ``sizeratio`` so that cutouts are not charged as full disks).

Within those limits the job is cut into pieces so that the download of request *k* runs while
JSOC stages request *k+1* (JSOC stages one request per user at a time). With *N* requests of
similar size, what is not hidden behind other work is the first request's staging and the last
request's download, about ``(S + D) / N`` for a job that stages in *S* seconds and downloads in
*D*; each request costs JSOC's fixed overhead *o* (queue pick-up, set-up: tens of seconds). The
total ``(S + D) / N + N o`` is smallest at ``N = sqrt((S + D) / o)``. The client estimates *S*
and *D* from the rows (``conf.staging_per_record``, ``conf.download_rate``), takes *o* from
``conf.request_overhead``, and asks for that many requests, at most `MAX_REQUESTS`, never
fewer than the job already has (one per wavelength on ``aia.lev1``, one per series), and no
piece smaller than `MIN_RECORDS`. A small job (say 200 cutouts) stays in one request per
wavelength; the user's guide campaign (1,920 cutouts of 1 MB) becomes 8 requests. Measured
against drms by hand on the emulator's realistic model: ``benchmarks/bench_campaign.py``.

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

__all__ = ["MAX_REQUESTS", "MIN_RECORDS", "JobCosts", "piece_sizes", "pipeline_requests", "split_job", "split_request"]

MAX_REQUESTS = 8
MIN_RECORDS = 100


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
    wanted = pipeline_requests(records, total_bytes, costs, existing=max(1, len(listed)))
    out = []
    for request in requests:
        pieces = math.ceil(wanted / max(1, len(listed)))
        out += split_request(request, record_limit(request), byte_limit, sparse=sparse(request), pieces=pieces)
    return out


def _piece_starts(t_rec, size: int) -> list[int]:
    """
    First row of each piece of at most ``size`` rows, never between two rows of one ``T_REC``.

    A piece's record set holds whole slots (``t0-t1`` takes every wavelength of a slot), so a slot
    split between two pieces would be exported by both. Rows are in time order.
    """
    seconds = np.round(np.asarray(t_rec.unix, dtype=float) * 1000).astype(np.int64)
    n, starts, first = len(seconds), [], 0
    while first < n:
        starts.append(first)
        end = first + size
        if end >= n:
            break
        while end > first + 1 and seconds[end] == seconds[end - 1]:
            end -= 1  # back to the start of the slot that would be cut
        if seconds[end] == seconds[end - 1]:  # one slot holds more than size rows: keep it whole
            end = first + int(np.searchsorted(seconds[first:], seconds[end], side="right"))
        first = end
    return starts


def split_request(request, record_limit: int, byte_limit: float = 50e9, *, sparse: bool = False, pieces: int = 1):
    """
    Split a searched request (``_plan.rows.SearchedRequest``) into pieces by time.

    Returns the request itself when it needs no split or its record set has no time range.
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
    good = np.asarray(columns["bytes"]) > 0
    per_record = float(np.mean(np.asarray(columns["bytes"])[good])) if good.any() else 0.0
    size = piece_sizes(n, record_limit, byte_limit, per_record, pieces)
    if size >= n:
        return [request]
    starts = _piece_starts(columns["T_REC"], size)
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

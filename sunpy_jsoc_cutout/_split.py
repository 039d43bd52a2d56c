"""
Splitting one planned export into requests JSOC will accept and that pipeline well (pure).

JSOC refuses a request whose record set is too large ("about 15,000 AIA, 32,000 HMI records",
``exportdata.html``; status 4 "too many records") and one whose estimated size is over its byte
limit (status 3; the client sends ``sizeratio`` so that cutouts are not charged as full disks).
Within those limits a job is cut into a few requests of similar size, so that the download of
request *k* runs while JSOC stages request *k+1*: with *k* requests, only the first staging
and the last download are not hidden behind other work. More requests cost JSOC's fixed queue
latency (about a minute each) and one pending slot at a time, so the client aims for at most
`TARGET_REQUESTS` requests of at least `MIN_RECORDS` records each, unless the limits force more.

Boundaries fall on the time of a kept row: the new record set starts at that row's ``T_REC`` and
ends at the next piece's first row, so DRMS's ``@`` grid and im_patch's cadence grid (anchored at
the first record of the set) start where they started for that row.
"""

import math
import re
from dataclasses import replace

import numpy as np

import astropy.units as u

from ._recordset import drms_time

__all__ = ["MIN_RECORDS", "TARGET_REQUESTS", "piece_sizes", "split_request"]

TARGET_REQUESTS = 4
MIN_RECORDS = 300
_RANGE = re.compile(r"^(?P<head>[^\[]+\[)(?P<start>[^\]\-@]+?)-(?P<end>[^\]@]+?)(?P<at>@[^\]]+)?(?P<tail>\].*)$")


def piece_sizes(n: int, record_limit: int, byte_limit: float, bytes_per_record: float) -> int:
    """Records per request for ``n`` records: within both limits, about ``n / TARGET_REQUESTS``."""
    cap = max(1, int(record_limit))
    if bytes_per_record > 0:
        cap = max(1, min(cap, int(byte_limit // bytes_per_record)))
    wanted = max(MIN_RECORDS, math.ceil(n / TARGET_REQUESTS))
    return min(cap, wanted)


def split_request(request, record_limit: int, byte_limit: float = 50e9, *, sparse: bool = False):
    """
    Split a searched request (``_search.SearchedRequest``) into pieces by time.

    Returns the request itself when it needs no split or its record set has no time range.
    Rows JSOC will skip count toward the record limit too (JSOC opens them). A piece of a slotted
    series ends at its last row's slot (ranges are inclusive); a piece of a sparse series
    (``sparse``: ``aia.lev1``/``hmi.lev1``) ends 1 s before the next piece's first row, so that
    im_patch's slot count, ``int((t_last - t_first + cadence/2) / cadence)``, includes its last row.
    """
    columns = request.columns
    n = len(columns.get("T_REC", []))
    match = _RANGE.match(request.plan.ds)
    if not n or match is None:
        return [request]
    good = np.asarray(columns["bytes"]) > 0
    per_record = float(np.mean(np.asarray(columns["bytes"])[good])) if good.any() else 0.0
    size = piece_sizes(n, record_limit, byte_limit, per_record)
    if size >= n:
        return [request]
    starts = list(range(0, n, size))
    pieces = []
    for number, first in enumerate(starts):
        last = min(first + size, n) - 1
        t0 = columns["T_REC"][first]
        if last + 1 >= n:
            end = match["end"]
        elif sparse:
            end = drms_time(columns["T_REC"][last + 1] - 1 * u.s)
        else:
            end = drms_time(columns["T_REC"][last])
        ds = f"{match['head']}{drms_time(t0)}-{end}{match['at'] or ''}{match['tail']}"
        plan = replace(request.plan, ds=ds)
        sub = {key: value[first : last + 1] for key, value in columns.items()}
        pieces.append(replace(request, plan=plan, columns=sub, part=(number, len(starts))))
    return pieces

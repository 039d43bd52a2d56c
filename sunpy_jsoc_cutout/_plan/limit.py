"""
``a.jsoc_cutout.RecordLimit`` over a whole query: the rows, the requests and the files agree (pure).

JSOC's record limit is the ``n=`` of each request's ``process`` string: ``jsoc_fetch`` opens at
most the first ``n`` records of the record set (the last ``|n|`` for a negative ``n``), counted
after it added ``[? drms.image_exists(quality) ?]`` (``drms_open_records2(..., rcountlimit, ...)``,
docs/dev_guide/jsoc_fidelity.rst f), and ``jsoc_export_as_fits`` takes the same ``n`` again. Sent
unchanged to every request of a job, ``RecordLimit(2)`` gives two files per request: 8 for the
four wavelength requests of an ``aia.lev1`` job, while the search listed every record.

So the limit is applied here, to the rows: per series of the query, the first ``n`` records with
an image in time order (prime-key order within one ``T_REC``) are kept, with the rows JSOC would
skip among them; rows beyond, and requests left without a row, are dropped. Each request that keeps
part of its rows gets a record set cut to them, starting or ending at a kept row's time as the
planner's pieces do (``_split``), so that the ``@`` grid and im_patch's cadence grid keep their
phase; ``n=`` is sent only where a cut slot still holds rows that are not kept (the other
wavelengths of a multi-wavelength slot), and then is exactly the number of kept records with an
image. ``aia.lev1``/``hmi.lev1`` with a cadence always get ``n=0`` (there JSOC's ``n`` would count
the input frames, not the frames im_patch picks) and their rows are replayed on the cut record set.
"""

from dataclasses import replace

import numpy as np

import astropy.units as u

from .recordset import RecordSet

__all__ = ["limit_records"]


def _kept(pieces: list, limit: int) -> list[np.ndarray]:
    """Per piece, which rows the limit keeps (pieces of one series)."""
    order = []
    for k, piece in enumerate(pieces):
        cols = piece.columns
        if cols:
            jd = np.asarray(cols["T_REC"].jd1, dtype=float) + np.asarray(cols["T_REC"].jd2, dtype=float)
            order += [(t, k, i) for i, t in enumerate(jd)]
    order.sort(key=lambda item: item[0])  # stable: within one T_REC, prime-key order
    if limit < 0:
        order.reverse()
    kept = [np.zeros(len(p.columns.get("T_REC", [])), dtype=bool) for p in pieces]
    counted = 0
    for _, k, i in order:
        if counted >= abs(limit):
            break
        kept[k][i] = True
        counted += int(pieces[k].columns["QUALITY"][i] >= 0)
    return kept


def _end_of(pieces: list, k: int):
    """The exclusive end time of piece ``k``'s replay: the next piece's first row, or None."""
    piece = pieces[k]
    if piece.part is None or piece.part[0] + 1 >= piece.part[1] or k + 1 >= len(pieces):
        return None
    following = pieces[k + 1].columns.get("T_REC", [])
    return following[0] if len(following) else None


def _cut(piece, keep: np.ndarray, limit: int, end_time):
    """Piece ``piece`` cut to the rows ``keep`` (a prefix for ``limit > 0``, a suffix for ``limit < 0``)."""
    cols = piece.columns
    times = cols["T_REC"]
    index = np.flatnonzero(keep)
    first, last = int(index[0]), int(index[-1])
    sparse = piece.replay is not None or (piece.rules is not None and piece.rules.lev1)
    records = piece.plan.recordset
    n = 0
    if isinstance(records, RecordSet) and records.time is not None:
        start = end = None
        if limit > 0 and last + 1 < len(times):
            end = times[last + 1] - 1 * u.s if sparse else times[last]
            partial = not sparse and bool(np.any(times[last + 1 :] == times[last]))
        elif limit < 0 and first > 0:
            start = times[first]
            partial = not sparse and bool(np.any(times[:first] == times[first]))
        else:
            partial = False
        records = records.with_times(start, end)
    else:  # no time range to cut: JSOC's own limit, on this request alone
        partial = True
    if partial:
        images = int(np.sum(np.asarray(cols["QUALITY"])[keep] >= 0))
        if not images:  # only rows without an image are kept: JSOC would export none of them
            return None
        n = images if limit > 0 else -images
    plan = replace(piece.plan, recordset=records, processing=piece.plan.steps.with_limit(n))
    if piece.replay is not None:
        replay_end = times[last + 1] if limit > 0 and last + 1 < len(times) else end_time
        columns = piece.replay(times[first], replay_end)
    else:
        columns = {key: value[keep] for key, value in cols.items()}
    return replace(piece, plan=plan, columns=columns)


def limit_records(pieces: list) -> list:
    """
    Apply each series' record limit (the ``limit`` of its plans' `~sunpy_jsoc_cutout._plan.process.Process`) to the pieces of one query block.

    Parameters
    ----------
    pieces : list of ``_plan.rows.SearchedRequest``
        The block's requests after splitting and replay, in submission order.

    Returns
    -------
    list of ``_plan.rows.SearchedRequest``
        The pieces that keep rows, cut to them, each with the ``n=`` it needs (usually 0).
    """
    out = list(pieces)
    for series in dict.fromkeys(p.plan.series for p in pieces):
        members = [k for k, p in enumerate(pieces) if p.plan.series == series]
        limit = pieces[members[0]].plan.steps.limit
        if not limit:
            continue
        kept = _kept([pieces[k] for k in members], limit)
        for k, keep in zip(members, kept, strict=True):
            piece = pieces[k]
            if not keep.any():
                out[k] = None
            elif keep.all():
                out[k] = replace(piece, plan=replace(piece.plan, processing=piece.plan.steps.with_limit(0)))
            else:
                out[k] = _cut(piece, keep, limit, _end_of(pieces, k))  # None: nothing left to export
    return [p for p in out if p is not None]

"""
``aia.lev1``/``hmi.lev1`` with a cadence: the rows are the frames im_patch will pick (pure).

On these series the ``@`` cadence of the record set is not what selects the frames: im_patch
gets the whole range (with jsoc_fetch's ``[? drms.image_exists(quality) ?]``) and keeps the good
frame nearest each slot of its own grid, which starts at the first good record of each request
(``get_input_recset``; docs/dev_guide/jsoc_fidelity.rst). So the client lists every record of the
range (`~sunpy_jsoc_cutout._plan.recordset.RecordSet.without_cadence`), with only what the choice
reads, and replays that selection (`Lev1Replay`) on the whole request, and again on each piece
after a split (`replay_pieces`); ``derive`` gets the rows' keywords of the chosen frames.
"""

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

import astropy.units as u
from astropy.time import Time

from . import frames as _frames
from .jsoc_text import parse_drms_times
from .rows import SearchedRequest, quality_of

__all__ = ["Lev1Replay", "replay_pieces"]


class Lev1Replay:
    """
    The rows im_patch's cadence selection gives for a piece ``[first, end)`` of the listed records.

    Parameters
    ----------
    cols : mapping of str to sequence
        ``*recnum*``, ``T_REC`` and ``QUALITY`` of every record of the range (without ``@``);
        other columns are carried to ``derive`` too.
    cadence : float
        The cadence in seconds.
    derive : callable
        Turns the listed columns of the picked records into row columns (in ``_search``: their
        rows' keywords asked of JSOC, then `~sunpy_jsoc_cutout._plan.rows.derive_rows`).
    """

    def __init__(
        self,
        cols: Mapping[str, Any],
        cadence: float,
        derive: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
    ) -> None:
        good = quality_of(cols["QUALITY"]) >= 0
        self.frames = {k: np.asarray(v, dtype=object)[good] for k, v in cols.items()}
        self.times = parse_drms_times(self.frames["T_REC"])
        self.cadence = float(cadence)
        self.derive = derive

    def __call__(self, first: Time | None = None, end: Time | None = None) -> dict[str, np.ndarray]:
        inside = np.ones(len(self.times), dtype=bool)
        if first is not None:
            inside &= (self.times >= first).astype(bool)
        if end is not None:
            inside &= (self.times < end).astype(bool)
        index = np.flatnonzero(inside)
        # JSOC's times are whole milliseconds at most: round away astropy's two-part float error so
        # that a tie between two frames equally far from a slot goes to the later one, as in im_patch.
        if len(index):
            times = np.round((self.times[index] - self.times[index[0]]).to_value(u.s), 3)
        else:
            times = np.array([])
        keep = index[_frames.select_lev1_frames(times, np.zeros(len(index)), self.cadence)]
        return self.derive({k: v[keep] for k, v in self.frames.items()})


def replay_pieces(pieces: list[SearchedRequest]) -> list[SearchedRequest]:
    """
    The rows of each piece of a split ``aia.lev1``/``hmi.lev1`` cadence request as im_patch will pick
    them: each piece's slot grid starts at its own first frame, not on the whole request's grid.
    """
    out = []
    for k, piece in enumerate(pieces):
        if piece.replay is None or piece.part is None or not len(piece.columns.get("T_REC", [])):
            out.append(piece)
            continue
        number, count = piece.part
        end = pieces[k + 1].columns["T_REC"][0] if number + 1 < count else None
        out.append(replace(piece, columns=piece.replay(piece.columns["T_REC"][0], end)))
    return out

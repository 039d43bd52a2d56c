"""Which input frames ``im_patch`` reads (``lm-jps/proj:util/apps/im_patch.c``).

* `split_input`: the ``in`` query split as im_patch does it (#L470-505): series name, the part
  after the first ``]`` (``moreQuery``) and where the times come from (``recset``: the query
  has a time filter; ``given``: bare series or ``[$]`` with t_start and t_stop; ``implicit``:
  bare series or ``[$]`` without them, limb to limb).
* `round_cadence`: ``cadence`` rounded to a multiple of the series step (#L756-768).
* `lev1_selection_applies`, `strip_at_cadence`, `select_lev1_slots`: the ``get_input_recset``
  special case for ``aia.lev1``/``hmi.lev1`` (#L800-812, #L1848-1998): drop ``@N<unit>`` from the
  query, read (time, QUALITY, recnum) vectors and keep, per cadence slot anchored at the first
  record, the good record closest to the slot time within half a cadence, whatever the other
  prime keys (a merged multi-wavelength query gives one frame per slot in total).
* `find_reference`: the reference image for ``t_ref`` (#L548-584): ``[t_ref-w - t_ref+w]`` with
  ``w`` = 15 s doubling while below 10000 s, the record with ``T_OBS`` closest to ``t_ref``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import format_time

__all__ = [
    "FrameSelectError",
    "InputSpec",
    "find_reference",
    "lev1_selection_applies",
    "parse_atoinc",
    "round_cadence",
    "select_lev1_slots",
    "split_input",
    "strip_at_cadence",
]

#: im_patch's own message for an ``@`` cadence it cannot parse (``get_input_recset``).
BAD_CADENCE = "cant make sense of @xx cadence spec"  # codespell:ignore cant

_LEV1_PREFIXES = ("aia.lev1[", "hmi.lev1[", "aia.lev1_nrt2[", "hmi.lev1_nrt[")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ATOINC = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*$")
_ATOINC_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}


class FrameSelectError(ValueError):
    """im_patch cannot make its input record set; ``str(err)`` is its message."""


@dataclass(frozen=True)
class InputSpec:
    """The ``in`` argument as im_patch sees it."""

    text: str
    series: str
    more: str
    times_source: str  # "recset", "given" or "implicit"


def split_input(text: str, t_start_given: bool, t_stop_given: bool) -> InputSpec:
    """Split the ``in`` query as im_patch.c #L470-505."""
    lb = text.find("[")
    both = t_start_given and t_stop_given
    if lb < 0:
        return InputSpec(text, text.strip(), "", "given" if both else "implicit")
    series = text[:lb].strip()
    if text.startswith("[$]", lb):
        return InputSpec(text, series, text[lb + 3 :], "given" if both else "implicit")
    rb = text.find("]", lb)
    return InputSpec(text, series, text[rb + 1 :] if rb >= 0 else text[lb:], "recset")


def parse_atoinc(text: str) -> float:
    """Seconds of an ``atoinc`` interval (``12s``, ``1m``, ``2h``, ``1d``, a bare number is seconds)."""
    match = _ATOINC.match(text or "")
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _ATOINC_UNITS:
        raise FrameSelectError(f"Bad cadence {text}")
    return float(match.group(1)) * _ATOINC_UNITS[unit]


def round_cadence(text: str | None, step: float) -> float:
    """``cadence`` rounded to ``round(cadence/step) * step``; the step when not given."""
    if text is None or text.strip().upper() in ("", "NOTSPECIFIED", "NOT SPECIFIED"):
        return step
    ratio = round(parse_atoinc(text) / step)
    return ratio * step


def lev1_selection_applies(query: str, cadence: float) -> bool:
    """Whether ``get_input_recset`` rewrites ``query`` (im_patch.c #L800-812, #L1906-1911)."""
    name = query.split("[", 1)[0]
    return (
        cadence > 1.0
        and name.startswith(("aia.lev1", "hmi.lev1"))
        and "@" in query
        and query.startswith(_LEV1_PREFIXES)
    )


def strip_at_cadence(query: str) -> tuple[str, float]:
    """Remove ``@N<unit>`` (digits only, as ``strtol``) and return the query and the cadence."""
    at = query.index("@")
    match = re.match(r"(\d*)(.?)", query[at + 1 :])
    assert match is not None, "the pattern matches any text"
    digits, unit = match.group(1), match.group(2)
    if unit not in _UNITS:
        raise FrameSelectError(BAD_CADENCE)
    cadence = int(digits or 0) * _UNITS[unit]
    return query[:at] + query[at + 1 + len(digits) + 1 :], cadence


def select_lev1_slots(times: np.ndarray, quality: np.ndarray, cadence: float) -> np.ndarray:
    """
    Indices of the frames ``get_input_recset`` keeps (a literal port of its loop).

    Parameters
    ----------
    times : numpy.ndarray
        The time prime key of every record of the query without ``@``, in query order.
    quality : numpy.ndarray
        ``QUALITY`` of those records (negative: no usable image).
    cadence : float
        Seconds.
    """
    n = len(times)
    if n == 0 or cadence <= 0:
        return np.zeros(0, dtype=np.int64)
    t_start, half = float(times[0]), cadence / 2.0
    nslots = int((float(times[-1]) - t_start + half) / cadence)
    chosen = np.full(max(nslots, 0), -1, dtype=np.int64)
    islot, t_want, t_diff = 0, t_start, 1.0e9
    for irec in range(n):
        t_now = float(times[irec])
        this_diff = abs(t_now - t_want)
        if int(quality[irec]) < 0 or t_now <= t_want - half:
            continue
        while t_now > t_want + half:
            islot += 1
            if islot >= nslots:
                break
            t_want = t_start + cadence * islot
            this_diff, t_diff = abs(t_now - t_want), 1.0e8
        if islot < nslots and this_diff <= t_diff:
            chosen[islot] = irec
        t_diff = abs(t_now - t_want)
    if islot + 1 < nslots:
        chosen = chosen[: islot + 1]
    return chosen[chosen >= 0]


def find_reference(catalogue, series: str, t_ref: float, more: str, where: str):
    """
    The reference record for ``t_ref`` (im_patch.c #L548-584).

    Returns
    -------
    tuple
        ``(records, index)``.

    Raises
    ------
    FrameSelectError
        ``No input data found within 2-hours of t_ref <query>`` when nothing is found.
    """
    width, query = 15.0, ""
    while width < 10000.0:
        lo, hi = format_time(t_ref - width, "tai"), format_time(t_ref + width, "tai")
        query = f"{series}[{lo}-{hi}][? QUALITY >= 0 ?]{more}{where}"
        records = catalogue.query(query)
        if len(records):
            t_obs = np.asarray(records.columns["T_OBS"], dtype=float)
            best, diff = 0, 100000.0
            for i, t in enumerate(t_obs):  # stops at the first increase, as the C loop does
                new = abs(t - t_ref)
                if new > diff:
                    break
                best, diff = i, new
            return records, best
        width *= 2.0
    raise FrameSelectError(f"No input data found within 2-hours of t_ref {query}")

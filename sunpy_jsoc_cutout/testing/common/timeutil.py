"""DRMS time handling for the JSOC emulator.

Internal time is float64 **seconds TAI since 1977.01.01_00:00:00_TAI** (the DRMS epoch).
"Calendar seconds" below means seconds since 1977-01-01 00:00:00 of a clock that ignores
leap seconds (a plain calendar, as used to label UTC or TAI times). For TAI, calendar
seconds and internal time coincide; for UTC, internal time = calendar seconds + (TAI - UTC).
The leap-second table is the one astropy uses (ERFA's, via `erfa.leap_seconds`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

import erfa
import numpy as np

__all__ = [
    "DAY",
    "TimeParseError",
    "format_time",
    "parse_drms_time",
    "parse_duration",
    "tai_to_utc",
    "utc_to_tai",
]

DAY = 86400.0
_EPOCH_DATE = datetime.date(1977, 1, 1)
_EPOCH_D64 = np.datetime64("1977-01-01", "D")


class TimeParseError(ValueError):
    """A string is not a DRMS time or duration."""


@lru_cache(maxsize=1)
def _leap_table() -> tuple[np.ndarray, np.ndarray]:
    """UTC calendar seconds at which TAI-UTC changes (from 1972 on) and the new values."""
    table = erfa.leap_seconds.get()
    table = table[table["year"] >= 1972]
    dates = np.array(
        [np.datetime64(f"{y:04d}-{m:02d}-01", "D") for y, m in zip(table["year"], table["month"], strict=True)]
    )
    cal = (dates - _EPOCH_D64).astype(np.int64) * DAY
    return cal.astype(float), np.asarray(table["tai_utc"], dtype=float)


def _dtai_at_utc_cal(cal: np.ndarray) -> np.ndarray:
    change, value = _leap_table()
    idx = np.searchsorted(change, cal, side="right") - 1
    return np.where(idx >= 0, value[np.clip(idx, 0, None)], value[0])


def utc_to_tai(cal: float | np.ndarray) -> float | np.ndarray:
    """UTC calendar seconds since 1977-01-01 to internal TAI seconds (vectorised)."""
    cal_arr = np.asarray(cal, dtype=float)
    out = cal_arr + _dtai_at_utc_cal(cal_arr)
    return float(out) if np.ndim(cal) == 0 else out


def _utc_parts(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Internal TAI to (UTC calendar seconds, leap flag); during a leap second the calendar
    value is that of 23:59:59 plus the fraction and the flag is set (printed as ``:60``)."""
    change, value = _leap_table()
    change_tai = change + value  # TAI time at which each new offset starts
    idx = np.searchsorted(change_tai, t, side="right") - 1
    dtai = np.where(idx >= 0, value[np.clip(idx, 0, None)], value[0])
    cal = t - dtai
    nxt = np.clip(idx + 1, 0, len(change) - 1)
    leap = (idx + 1 < len(change)) & (t >= change_tai[nxt] - (value[nxt] - dtai)) & (t < change_tai[nxt])
    cal = np.where(leap, change[nxt] - 1 + (t - (change_tai[nxt] - 1)), cal)
    return cal, leap


def tai_to_utc(t: float | np.ndarray) -> float | np.ndarray:
    """Internal TAI seconds to UTC calendar seconds since 1977-01-01 (vectorised; a leap
    second maps onto the preceding calendar second)."""
    cal, _ = _utc_parts(np.asarray(t, dtype=float))
    return float(cal) if np.ndim(t) == 0 else cal


_TIME_RE = re.compile(
    r"^\s*(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})"
    r"(?:[_T ](\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?"
    r"\s*(?:_?(TAI|UTC|UT|Z|TT|TDT))?\s*$",
    re.IGNORECASE,
)


def parse_drms_time(text: str) -> float:
    """Parse a DRMS or ISO time string to internal TAI seconds.

    Accepts ``2014.02.05_08:00:00_TAI``, ``2014.02.05_8:00``, ``2014.02.05_08:00_UT``,
    ``2014-02-05T08:00:00Z``, ``2025-01-01T04:33:30.000`` and date-only forms. A missing zone
    means UTC (as in DRMS's ``timeio``); ``_TAI`` means TAI; ``_TT``/``_TDT`` = TAI + 32.184 s.

    Raises
    ------
    TimeParseError
        If the text is not a time.
    """
    match = _TIME_RE.match(str(text))
    if not match:
        raise TimeParseError(f"cannot parse time {text!r}")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        date = datetime.date(int(year), int(month), int(day))
    except ValueError as err:
        raise TimeParseError(f"cannot parse time {text!r}: {err}") from None
    cal = (date - _EPOCH_DATE).days * DAY + int(hour or 0) * 3600 + int(minute or 0) * 60 + float(second or 0)
    zone = (zone or "UTC").upper()
    if zone == "TAI":
        return float(cal)
    if zone in ("TT", "TDT"):
        return float(cal - 32.184)
    if float(second or 0) >= 60:  # a leap second: one past the preceding 23:59:59
        return float(utc_to_tai(cal - 1.0)) + 1.0
    return float(utc_to_tai(cal))


_DURATION_RE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$")
_UNITS = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "d": DAY,
    "day": DAY,
    "days": DAY,
}


def parse_duration(text: str, slot: float | None = None) -> float:
    """Parse a DRMS duration (``45s``, ``1m``, ``8h``, ``8hr``, ``1d``; ``u`` slot units when
    ``slot`` is given) to seconds. Raises `TimeParseError`."""
    match = _DURATION_RE.match(str(text))
    if not match:
        raise TimeParseError(f"cannot parse duration {text!r}")
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit == "u":
        if slot is None:
            raise TimeParseError(f"slot units in {text!r} need a slotted key")
        return number * slot
    if unit not in _UNITS:
        raise TimeParseError(f"unknown duration unit in {text!r}")
    return number * _UNITS[unit]


def _calendar_fields(cal: np.ndarray, digits: int) -> tuple[np.ndarray, ...]:
    scale = 10**digits
    ticks = np.floor(np.asarray(cal, dtype=float) * scale + 0.5).astype(np.int64)
    days, rest = np.divmod(ticks, 86400 * scale)
    dates = (_EPOCH_D64 + days.astype("timedelta64[D]")).astype(str)
    secs, frac = np.divmod(rest, scale)
    hour, secs = np.divmod(secs, 3600)
    minute, second = np.divmod(secs, 60)
    return dates, hour, minute, second, frac


_STYLES = {"tai", "iso_z", "iso", "utc", "ut"}


@overload
def format_time(t: float, style: str = ..., layout: str | None = ..., digits: int = ...) -> str: ...
@overload
def format_time(t: np.ndarray, style: str = ..., layout: str | None = ..., digits: int = ...) -> str | list[str]: ...
def format_time(
    t: float | np.ndarray, style: str = "tai", layout: str | None = None, digits: int = 0
) -> str | list[str]:
    """Format internal TAI seconds as JSOC prints them.

    Parameters
    ----------
    t : float or numpy.ndarray
        Internal TAI seconds; NaN gives ``"MISSING"``.
    style : str
        ``"tai"`` (HMI: ``2012.01.01_00:00:45_TAI``), ``"iso_z"`` (AIA: ``2010-07-30T13:30:02Z``),
        ``"iso"`` (UTC without zone: ``2010-07-30T13:30:02.34``, as AIA's DATE-OBS) or ``"utc"``
        (``2010.07.30_13:30:02_UTC``) or ``"ut"`` (``2010.07.30_13:30:02_UT``).
    layout : str, optional
        exputil layout: ``"A"`` drops ``.`` and ``:`` (``20120101_010130_TAI``,
        ``2010-07-30T133009Z``); ``"D"`` wraps the date in ``@`` (``@2012.01.01@_01:01:30_TAI``).
    digits : int
        Decimals of the seconds field.

    Returns
    -------
    str or list of str
        One string for scalar input, else a list.
    """
    if style not in _STYLES:
        raise ValueError(f"unknown time style {style!r}")
    arr = np.atleast_1d(np.asarray(t, dtype=float))
    good = np.isfinite(arr)
    safe = np.where(good, arr, 0.0)
    leap = np.zeros(arr.shape, bool)
    cal = safe
    if style != "tai":
        cal, leap = _utc_parts(safe)
    dates, hour, minute, second, frac = _calendar_fields(cal, digits)
    second = second + leap  # 23:59:59 -> 23:59:60 inside a leap second
    how = _Layout(style, digits, layout)
    out = [
        _one(d, (h, m, s, f), how) if g else "MISSING"
        for d, h, m, s, f, g in zip(dates, hour, minute, second, frac, good, strict=True)
    ]
    return out[0] if np.ndim(t) == 0 else out


@dataclass(frozen=True)
class _Layout:
    """How `format_time` writes a time: the style, the digits of the seconds' fraction and the layout."""

    style: str
    digits: int
    layout: str | None


def _one(date: str, fields: tuple[int, int, int, int], how: _Layout) -> str:
    """One formatted time from its date and its (hour, minute, second, fraction) fields."""
    h, m, s, f = fields
    style, digits, layout = how.style, how.digits, how.layout
    sec = f"{s:02d}" + (f".{f:0{digits}d}" if digits > 0 else "")
    if style in ("tai", "utc", "ut"):
        date_part, clock, zone = date.replace("-", "."), f"{h:02d}:{m:02d}:{sec}", "_" + style.upper()
        sep = "_"
    else:
        date_part, clock, zone, sep = date, f"{h:02d}:{m:02d}:{sec}", "Z" if style == "iso_z" else "", "T"
    if layout and layout.upper().startswith("A"):
        return date_part.replace(".", "") + sep + clock.replace(":", "").replace(".", "") + zone
    if layout and layout.upper().startswith("D"):
        return f"@{date_part}@{sep}{clock}{zone}"
    return date_part + sep + clock + zone

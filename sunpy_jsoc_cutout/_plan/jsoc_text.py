"""
JSOC's text formats, in one place (pure).

* DRMS times: `drms_time` writes a record-set time in TAI with an explicit zone
  (``2014.02.05_08:00:35_TAI``); `parse_drms_time`/`parse_drms_times` read the times JSOC lists
  (``2014.02.05_08:00:35_TAI``, ``2014-02-05T08:00:00.57Z``; no zone, ``Z``, ``_UTC``, ``_UT``
  mean UTC).
* im_patch's own time arguments: `im_patch_time`, the export page's UTC ISO form
  ``2025-01-01T04:33:30.000``.
* Keyword values as ``jsoc_info`` prints them: `is_absent` for ``"Invalid KeyLink"`` (a keyword
  the series does not have), ``"MISSING"`` (a value that is not set), ``"InvalidSegName"``, and
  JSOC's -4712 default time; `int_keyword` for hex and 32/64-bit integers (``QUALITY``
  ``"0x80000000"``, ``CALVER64``).
* Numbers in ``process`` arguments: `number` (no exponent, no trailing zeros).
* `Verbatim`: a record set or ``process`` the client did not build (a plan rebuilt from the
  ledger, which stores what was sent), sent as it is and never read back.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from astropy.time import Time

__all__ = [
    "ABSENT_VALUES",
    "Verbatim",
    "absent_mask",
    "drms_time",
    "drms_zone",
    "im_patch_time",
    "int_keyword",
    "is_absent",
    "is_drms_time",
    "number",
    "parse_drms_time",
    "parse_drms_times",
]

#: A time keyword value as ``jsoc_info`` lists it (calendar date and clock, optional zone).
_DRMS_TIME = re.compile(r"^\d{4}[.\-]\d\d[.\-]\d\d[_T]\d\d:\d\d(:\d\d(\.\d*)?)?(_?[A-Za-z]+)?$")
_ZONE = re.compile(r"_([A-Za-z]+)$|([A-Za-z])$")

#: What ``jsoc_info`` prints instead of a value: an unknown keyword, an unset value, an unknown segment.
ABSENT_VALUES = frozenset({"Invalid KeyLink", "MISSING", "InvalidSegName", ""})


def drms_time(time: Time) -> str:
    """
    A DRMS time string in TAI, e.g. ``2014.02.05_08:00:35_TAI`` (milliseconds only when non-zero).

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.jsoc_text import drms_time
    >>> drms_time(Time("2014-02-05T08:00:00", scale="utc"))
    '2014.02.05_08:00:35_TAI'
    """
    date, clock = Time(time).tai.isot.split("T")
    if clock.endswith(".000"):
        clock = clock[:-4]
    return f"{date.replace('-', '.')}_{clock}_TAI"


#: Zone suffixes of JSOC times and their time scales, in the order they are tried.
_SUFFIXES = (("_TAI", "tai"), ("_UTC", "utc"), ("_UT", "utc"), ("Z", "utc"))


def _iso_and_scale(text: object) -> tuple[str, str]:
    """``2014.02.05_08:00:35_TAI`` -> (``2014-02-05T08:00:35``, ``tai``); no zone, ``Z``, ``_UT(C)`` mean UTC."""
    text, scale = str(text).strip(), "utc"
    for suffix, zone in _SUFFIXES:
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], zone
            break
    date, _, clock = text.replace("T", "_").partition("_")
    return f"{date.replace('.', '-')}T{clock or '00:00:00'}", scale


def parse_drms_time(value: object) -> Time:
    """
    Parse a JSOC time keyword (``2014.02.05_08:00:35_TAI``, ``2014-02-05T08:00:00.57Z``...).

    A zone suffix ``_TAI`` means TAI; ``Z``, ``_UTC``, ``_UT`` or no zone mean UTC.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time
    >>> parse_drms_time("2014.02.05_08:00:35_TAI").isot
    '2014-02-05T08:00:00.000'
    """
    if isinstance(value, Time):
        return value
    iso, scale = _iso_and_scale(value)
    return Time(iso, scale=scale).utc


def parse_drms_times(values: Iterable[object]) -> Time:
    """Many JSOC time strings of one series at once (vectorised `parse_drms_time`; the first sets the scale)."""
    texts = np.asarray([str(v) for v in values], dtype=str)
    if not len(texts):
        return Time([], format="isot", scale="utc")
    fast = _isot_of_calendar_times(np.strings.strip(texts))
    if fast is not None:
        return Time(fast[0], format="isot", scale=fast[1]).utc
    pairs = [_iso_and_scale(v) for v in texts]
    return Time([iso for iso, _ in pairs], format="isot", scale=pairs[0][1]).utc


def _isot_of_calendar_times(texts: np.ndarray) -> tuple[np.ndarray, str] | None:
    """
    `_iso_and_scale` of a whole column at once, for the usual case of one suffix (``_TAI``, ``Z``...)
    on every full ``date_clock`` time (numpy string operations); None for any other column.
    """
    for suffix, scale in _SUFFIXES:
        if np.strings.endswith(texts, suffix).all():
            body = np.strings.slice(texts, 0, -len(suffix))
            break
    else:
        return None
    sep = np.strings.slice(body, 10, 11)
    if not ((np.strings.str_len(body) >= 16) & ((sep == "_") | (sep == "T"))).all():
        return None
    date = np.strings.replace(np.strings.slice(body, 0, 10), ".", "-")
    return np.strings.add(np.strings.add(date, "T"), np.strings.slice(body, 11, None)), scale


def is_drms_time(text: object) -> bool:
    """Whether a listed keyword value is a JSOC time (``2014.02.05_08:00:35_TAI``, ``2014-02-05T08:00:01Z``)."""
    return _DRMS_TIME.match(str(text).strip()) is not None


def drms_zone(text: str) -> str:
    """
    The zone a JSOC time string was printed in (its JSD unit): ``ISO`` for ``...T...Z``, else the
    letters after the last ``_`` or a final letter, ``UTC`` for none.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.jsoc_text import drms_zone
    >>> drms_zone("2014.02.05_08:00:35_TAI"), drms_zone("2014-02-05T08:00:01Z"), drms_zone("2014.02.05_08:00:35")
    ('TAI', 'ISO', 'UTC')
    """
    if "T" in text and text.endswith("Z"):
        return "ISO"
    match = _ZONE.search(text)
    return (match.group(1) or match.group(2)).upper() if match else "UTC"


def im_patch_time(time: Time) -> str:
    """im_patch time argument: UTC ISO with milliseconds and no zone, e.g. ``2025-01-01T04:33:30.000``."""
    return str(Time(time).utc.isot)


def number(value: float, decimals: int = 4) -> str:
    """A number as JSOC expects it: no exponent, no trailing zeros (``-246.0`` gives ``-246``)."""
    text = f"{float(value):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def is_absent(value: object) -> bool:
    """Whether a ``jsoc_info`` value stands for no value (`ABSENT_VALUES`, `None`, JSOC's -4712 default time)."""
    if value is None:
        return True
    text = str(value).strip()
    return text in ABSENT_VALUES or text.startswith("-4712")


def absent_mask(values: Iterable[object]) -> np.ndarray:
    """`is_absent` of a whole column at once (numpy string operations)."""
    objects = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
    if not len(objects):
        return np.zeros(0, dtype=bool)
    texts = np.strings.strip(objects.astype(str))
    absent = np.isin(texts, list(ABSENT_VALUES)) | np.strings.startswith(texts, "-4712")
    return absent | (objects == None)  # noqa: E711 - element-wise, for the None values


def int_keyword(value: object, default: int | None = None, *, bits: int = 32) -> int | None:
    """
    An integer keyword from JSOC's string, or ``default`` when it is absent.

    Reads ``"0x80000000"``, ``"-2147483648"`` and ``"1024"``; ``"MISSING"``, ``"Invalid KeyLink"``
    and unparsable text give ``default``. Hex values are read as signed ``bits``-bit integers
    (``QUALITY`` 0x80000000 is -2147483648; ``bits=64`` for ``CALVER64``).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.jsoc_text import int_keyword
    >>> int_keyword("0x80000000"), int_keyword("MISSING", -1)
    (-2147483648, -1)
    """
    if is_absent(value):
        return default
    text = str(value).strip()
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(float(text)) if bits <= 32 else int(text)
    except (ValueError, OverflowError):  # OverflowError: "inf"
        return default
    top = 1 << (bits - 1)
    return number - 2 * top if top <= number < 2 * top else number


@dataclass(frozen=True)
class Verbatim:
    """Text sent as it is (`render` returns it): a record set or ``process`` rebuilt from the ledger."""

    text: str

    def render(self) -> str:
        """The text."""
        return self.text

    def __str__(self) -> str:
        return self.text

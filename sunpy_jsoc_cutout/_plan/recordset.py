"""
Record-set strings for export requests (pure).

Times in record sets are written in **TAI** with an explicit zone, ``2014.02.05_08:00:35_TAI``,
as sunpy's JSOC client does: DRMS reads a time without a zone as UTC, but an explicit ``_TAI``
cannot be misread, and ``T_REC`` slots are defined in TAI. The conversion goes through astropy,
so leap seconds are right (08:00 UTC on 2014-02-05 is 08:00:35 TAI). A time range ``a-b`` is
inclusive at both ends, like ``a.Time``.

im_patch's own time arguments (``t_ref``, ``t_start``, ``t_stop``) use the export page's UTC
ISO form ``2025-01-01T04:33:30.000`` (see ``_process.py``).

Cadence (``a.Sample``):

* slotted series (``aia.lev1_euv_12s``, ``hmi.M_45s``...): ``@<N>s`` in the record set. DRMS
  rounds the skip to whole slots; the client does the rounding itself and warns with the
  effective cadence when the request is not a multiple of the slot width.
* ``aia.lev1``/``hmi.lev1``: ``@<N>s`` (integer seconds, the only form im_patch parses) plus
  im_patch's ``cadence=<N>s``; im_patch then picks the nearest good frame per slot. Its
  selection ignores the wavelength, so each wavelength goes in its own request, with the
  wavelength in a ``[? WAVELNTH=... ?]`` filter (the second prime key of ``aia.lev1`` is FSN).
  The series name is written in lower case: im_patch matches the exact prefix ``aia.lev1[``.
"""

import math
from dataclasses import dataclass

from astropy.time import Time

from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .series_rules import SeriesRules

__all__ = ["Cadence", "RecordSetPlan", "build_recordset", "drms_time", "plan_recordsets", "resolve_cadence"]


def drms_time(time: Time) -> str:
    """
    A DRMS time string in TAI, e.g. ``2014.02.05_08:00:35_TAI`` (milliseconds only when non-zero).

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.recordset import drms_time
    >>> drms_time(Time("2014-02-05T08:00:00", scale="utc"))
    '2014.02.05_08:00:35_TAI'
    """
    date, clock = Time(time).tai.isot.split("T")
    if clock.endswith(".000"):
        clock = clock[:-4]
    return f"{date.replace('-', '.')}_{clock}_TAI"


def _seconds(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}".rstrip("0")


@dataclass(frozen=True)
class Cadence:
    """A resolved cadence: the record-set ``@`` suffix and im_patch's ``cadence`` value."""

    seconds: float
    at: str
    im_patch: str


def resolve_cadence(rules: SeriesRules, sample: float) -> Cadence:
    """
    Turn ``a.Sample`` (seconds) into the cadence JSOC will really apply to ``rules``' series.

    Warns (``SunpyUserWarning``) when the request is not a multiple of the slot width, or not a
    whole number of seconds on ``aia.lev1``/``hmi.lev1``, and shows the effective cadence.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.recordset import resolve_cadence
    >>> from sunpy_jsoc_cutout._plan.series_rules import rules_for
    >>> resolve_cadence(rules_for("aia.lev1_euv_12s"), 84.0)
    Cadence(seconds=84.0, at='@84s', im_patch='84s')
    """
    sample = float(sample)
    if rules.lev1:
        effective = float(round(sample))
        if effective <= 1:
            msg = (
                f"a.Sample({sample:g} s) is too short for {rules.name}: im_patch only selects frames for a "
                "cadence longer than 1 s. Ask for 2 s or more, or drop a.Sample to get every frame."
            )
            raise CutoutQueryError(msg)
        if effective != sample:
            warn_user(
                f"{rules.name} cadences are whole seconds: a.Sample({sample:g} s) is sent as "
                f"{effective:.0f} s (effective cadence {effective:.0f} s)."
            )
    elif rules.step:
        slots = max(1, math.floor(sample / rules.step + 0.5))
        effective = slots * rules.step
        if not math.isclose(effective, sample, rel_tol=1e-9):
            warn_user(
                f"a.Sample({sample:g} s) is not a multiple of the {rules.step:g} s slots of {rules.name}; "
                f"JSOC rounds it to {slots} slot(s): the effective cadence is {_seconds(effective)} s. "
                f"Ask for a multiple of {rules.step:g} s to avoid this."
            )
    else:
        effective = sample
    text = _seconds(effective)
    return Cadence(effective, f"@{text}s", f"{text}s")


def _value(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    if "'" in text or ";" in text:
        msg = f"A keyword filter value may not contain quotes or ';': {text!r}."
        raise CutoutQueryError(msg)
    return f"'{text}'"


def _filter(conditions: list[str]) -> str:
    return f"[? {' AND '.join(conditions)} ?]" if conditions else ""


def build_recordset(
    rules: SeriesRules,
    *,
    start: Time = None,
    end: Time = None,
    cadence: Cadence = None,
    wavelengths: list[int] = (),
    primekeys: dict = None,
    keywords: list = (),
    segments: list = (),
) -> str:
    """
    One record-set string, prime keys in the series' order, filters and segments after them.

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.recordset import build_recordset
    >>> from sunpy_jsoc_cutout._plan.series_rules import rules_for
    >>> t0, t1 = Time("2014-02-05T08:00:00", scale="tai"), Time("2014-02-05T16:00:00", scale="tai")
    >>> build_recordset(rules_for("aia.lev1"), start=t0, end=t1, wavelengths=[171])
    'aia.lev1[2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI][? WAVELNTH=171 ?]'
    """
    primekeys = dict(primekeys or {})
    values = []
    for key in rules.prime_keys:
        if key == "T_REC" and start is not None:
            values.append(f"{drms_time(start)}-{drms_time(end)}{cadence.at if cadence else ''}")
        elif key == "WAVELNTH" and wavelengths:
            values.append(",".join(str(w) for w in wavelengths))
        else:
            values.append(str(primekeys.pop(key, "")))
    while values and not values[-1]:
        values.pop()
    if primekeys:
        msg = (
            f"{', '.join(primekeys)} is not a prime key of {rules.name} (prime keys: "
            f"{', '.join(rules.prime_keys)}); use a.jsoc.Keyword(...) comparisons for other keywords."
        )
        raise CutoutQueryError(msg)
    conditions = []
    if wavelengths and not rules.wavelength_is_prime_key:
        conditions.append(f"WAVELNTH={wavelengths[0]}")
    conditions += [f"{name}{op}{_value(value)}" for name, op, value in keywords]
    text = rules.name + "".join(f"[{v}]" for v in values) + _filter(conditions)
    return text + (f"{{{','.join(segments)}}}" if segments else "")


@dataclass(frozen=True)
class RecordSetPlan:
    """One export request's record set, with the wavelength it carries (`None`: any)."""

    ds: str
    wavelength: int | None


def plan_recordsets(rules: SeriesRules, *, wavelengths: list[int] = (), **selection) -> list[RecordSetPlan]:
    """
    The record sets of one query block: one per wavelength where the wavelength is a keyword
    filter (``aia.lev1``), otherwise one with a comma list of wavelengths.

    ``selection`` holds the other keyword arguments of `build_recordset` (``start``, ``end``,
    ``cadence``, ``primekeys``, ``keywords``, ``segments``).
    """
    wavelengths = list(wavelengths)
    if len(wavelengths) > 1 and not rules.wavelength_is_prime_key:
        return [RecordSetPlan(build_recordset(rules, wavelengths=[w], **selection), w) for w in wavelengths]
    single = wavelengths[0] if len(wavelengths) == 1 else None
    return [RecordSetPlan(build_recordset(rules, wavelengths=wavelengths, **selection), single)]

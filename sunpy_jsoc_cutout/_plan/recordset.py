"""
Record sets for export requests (pure): a frozen `RecordSet`, rendered to JSOC's text when sent.

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

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .jsoc_text import drms_time
from .series_rules import SeriesRules

__all__ = [
    "Cadence",
    "RecordSet",
    "RecordSetPlan",
    "TimeRange",
    "build_recordset",
    "lev1_cadence",
    "make_recordset",
    "page_edges",
    "page_recordsets",
    "plan_recordsets",
    "resolve_cadence",
]


def _seconds(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}".rstrip("0")


@dataclass(frozen=True)
class Cadence:
    """A resolved cadence: the record-set ``@`` suffix and im_patch's ``cadence`` value."""

    seconds: float
    at: str
    im_patch: str


def lev1_cadence(rules: SeriesRules, sample: float) -> float:
    """
    The whole-second cadence im_patch applies on ``aia.lev1``/``hmi.lev1`` for ``a.Sample(sample)``.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        If it is 1 s or less: im_patch only selects frames for a cadence longer than 1 s.
    """
    sample = float(sample)
    effective = float(round(sample))
    if effective <= 1:
        msg = (
            f"a.Sample({sample:g} s) is too short for {rules.name}: im_patch only selects frames for a "
            "cadence longer than 1 s. Ask for 2 s or more, or drop a.Sample to get every frame."
        )
        raise CutoutQueryError(msg)
    return effective


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
        effective = lev1_cadence(rules, sample)
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


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    if "'" in text or ";" in text:
        msg = f"A keyword filter value may not contain quotes or ';': {text!r}."
        raise CutoutQueryError(msg)
    return f"'{text}'"


@dataclass(frozen=True)
class TimeRange:
    """
    The ``T_REC`` selection of a record set: ``start-end`` (inclusive) and an optional ``@`` cadence.

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.recordset import TimeRange
    >>> TimeRange(Time("2014-02-05T08:00:00", scale="tai"), Time("2014-02-05T08:10:00", scale="tai")).render()
    '2014.02.05_08:00:00_TAI-2014.02.05_08:10:00_TAI'
    """

    start: Time
    end: Time
    cadence: Cadence | None = None

    def render(self) -> str:
        """The prime-key text, e.g. ``2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI@60s``."""
        return f"{drms_time(self.start)}-{drms_time(self.end)}{self.cadence.at if self.cadence else ''}"


@dataclass(frozen=True)
class RecordSet:
    """
    One record set as the client builds it: rendered only when it is sent (`render`).

    Parameters
    ----------
    series : str
        The series name as written (lower case for ``aia.lev1``/``hmi.lev1``).
    prime_keys : tuple of str
        The series' prime keys, in order (the order of the bracketed values).
    time : `TimeRange` or None
        The ``T_REC`` selection; `None` when the query gives none (``a.jsoc.PrimeKey``).
    wavelengths : tuple of int
        Values of the ``WAVELNTH`` prime key (a comma list); empty where it is no prime key.
    primekeys : tuple of (str, str)
        Values of the other prime keys (``a.jsoc.PrimeKey``), as text.
    wavelength_filter : int or None
        ``[? WAVELNTH=<w> ?]`` where the wavelength is no prime key (``aia.lev1``).
    keywords : tuple of (str, str, object)
        ``a.jsoc.Keyword`` comparisons, after the wavelength filter.
    segments : tuple of str
        ``{seg,...}``.
    """

    series: str
    prime_keys: tuple[str, ...]
    time: TimeRange | None = None
    wavelengths: tuple[int, ...] = ()
    primekeys: tuple[tuple[str, str], ...] = ()
    wavelength_filter: int | None = None
    keywords: tuple[tuple[str, str, Any], ...] = ()
    segments: tuple[str, ...] = ()

    def _values(self) -> list[str]:
        given = dict(self.primekeys)
        values = []
        for key in self.prime_keys:
            if key == "T_REC" and self.time is not None:
                values.append(self.time.render())
            elif key == "WAVELNTH" and self.wavelengths:
                values.append(",".join(str(w) for w in self.wavelengths))
            else:
                values.append(given.get(key, ""))
        while values and not values[-1]:
            values.pop()
        return values

    def _conditions(self) -> list[str]:
        conditions = [] if self.wavelength_filter is None else [f"WAVELNTH={self.wavelength_filter}"]
        return conditions + [f"{name}{op}{_value(value)}" for name, op, value in self.keywords]

    def render(self) -> str:
        """
        The record-set text sent to JSOC: prime keys in the series' order, filters and segments after them.

        Raises
        ------
        sunpy_jsoc_cutout.exceptions.CutoutQueryError
            If a keyword filter value holds a quote or ``;``.
        """
        conditions = self._conditions()
        text = self.series + "".join(f"[{v}]" for v in self._values())
        text += f"[? {' AND '.join(conditions)} ?]" if conditions else ""
        return text + (f"{{{','.join(self.segments)}}}" if self.segments else "")

    def __str__(self) -> str:
        return self.render()

    def with_times(self, start: Time | None = None, end: Time | None = None) -> "RecordSet":
        """The record set with its time range's ``start`` and/or ``end`` replaced (it must have one)."""
        if self.time is None:
            msg = f"{self.series} has no time range to replace."
            raise ValueError(msg)
        time = replace(self.time, start=self.time.start if start is None else start)
        return replace(self, time=replace(time, end=time.end if end is None else end))

    def without_cadence(self) -> "RecordSet":
        """The record set without its ``@`` cadence (every record of the range)."""
        if self.time is None or self.time.cadence is None:
            return self
        return replace(self, time=replace(self.time, cadence=None))


def make_recordset(
    rules: SeriesRules,
    *,
    start: Time | None = None,
    end: Time | None = None,
    cadence: Cadence | None = None,
    wavelengths: Sequence[int] = (),
    primekeys: Mapping[str, Any] | None = None,
    keywords: Iterable[tuple[str, str, Any]] = (),
    segments: Iterable[str] = (),
) -> RecordSet:
    """
    One `RecordSet` of ``rules``' series (checked: it renders).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        If a prime key is not one of the series', or a keyword filter value holds a quote or ``;``.
    """
    given = dict(primekeys or {})
    has_time = "T_REC" in rules.prime_keys and start is not None
    wave_key = rules.wavelength_is_prime_key and bool(wavelengths)
    taken = {"T_REC"} if has_time else set()
    taken |= {"WAVELNTH"} if wave_key else set()
    unknown = [key for key in given if key not in rules.prime_keys or key in taken]
    if unknown:
        msg = (
            f"{', '.join(unknown)} is not a prime key of {rules.name} (prime keys: "
            f"{', '.join(rules.prime_keys)}); use a.jsoc.Keyword(...) comparisons for other keywords."
        )
        raise CutoutQueryError(msg)
    time = None
    if has_time and start is not None:
        if end is None:
            msg = "A record-set time range needs both ends."
            raise ValueError(msg)
        time = TimeRange(start, end, cadence)
    recordset = RecordSet(
        rules.name,
        tuple(rules.prime_keys),
        time,
        tuple(wavelengths) if wave_key else (),
        tuple((key, str(value)) for key, value in given.items()),
        wavelengths[0] if wavelengths and not rules.wavelength_is_prime_key else None,
        tuple(keywords),
        tuple(segments),
    )
    recordset.render()  # a filter value JSOC would refuse is refused now
    return recordset


def build_recordset(rules: SeriesRules, **selection: Any) -> str:
    """
    One record-set string (`make_recordset` rendered): prime keys in the series' order, filters
    and segments after them.

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.recordset import build_recordset
    >>> from sunpy_jsoc_cutout._plan.series_rules import rules_for
    >>> t0, t1 = Time("2014-02-05T08:00:00", scale="tai"), Time("2014-02-05T16:00:00", scale="tai")
    >>> build_recordset(rules_for("aia.lev1"), start=t0, end=t1, wavelengths=[171])
    'aia.lev1[2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI][? WAVELNTH=171 ?]'
    """
    return make_recordset(rules, **selection).render()


@dataclass(frozen=True)
class RecordSetPlan:
    """One export request's record set, with the wavelength it carries (`None`: any)."""

    recordset: RecordSet
    wavelength: int | None

    @property
    def ds(self) -> str:
        """The record set as sent."""
        return self.recordset.render()


def plan_recordsets(rules: SeriesRules, *, wavelengths: Sequence[int] = (), **selection: Any) -> list[RecordSetPlan]:
    """
    The record sets of one query block: one per wavelength where the wavelength is a keyword
    filter (``aia.lev1``), otherwise one with a comma list of wavelengths.

    ``selection`` holds the other keyword arguments of `make_recordset` (``start``, ``end``,
    ``cadence``, ``primekeys``, ``keywords``, ``segments``).
    """
    wavelengths = list(wavelengths)
    if len(wavelengths) > 1 and not rules.wavelength_is_prime_key:
        return [RecordSetPlan(make_recordset(rules, wavelengths=[w], **selection), w) for w in wavelengths]
    single = wavelengths[0] if len(wavelengths) == 1 else None
    return [RecordSetPlan(make_recordset(rules, wavelengths=wavelengths, **selection), single)]


def page_edges(start: Time, end: Time, pieces: int, cadence: float | None) -> Time:
    """
    Edges of ``pieces`` time pages of ``start``-``end``.

    With a record-set cadence (``@Ns``) every inner edge lies on the cadence grid of ``start``:
    DRMS counts ``@`` slots from each range's own start, so a page starting off the grid would
    keep other records than the whole range does.
    """
    span = (end - start).to_value(u.s)
    step = span / pieces
    if cadence:
        step = max(1, math.ceil(step / cadence)) * cadence
    inner = [k * step for k in range(1, pieces) if k * step < span]
    return start + np.array([0.0, *inner, span]) * u.s


def page_recordsets(recordset: RecordSet, pieces: int) -> list[RecordSet]:
    """``recordset`` cut into ``pieces`` time pages (`page_edges`); itself when it has no time range."""
    time = recordset.time
    if time is None:
        return [recordset]
    edges = page_edges(time.start, time.end, pieces, time.cadence.seconds if time.cadence else None)
    return [recordset.with_times(a, b) for a, b in itertools.pairwise(edges)]

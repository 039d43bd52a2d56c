"""Record enumeration for the emulated series (which records exist, their prime keys and recnums).

A generator turns interpreted prime-key selections into *base* columns (numpy arrays:
``recnum``, the prime keys and private ``_``-prefixed indices that `keywords.py` needs) without
computing any other keyword. Counting (`estimate`) is analytic.

Timing model (UTC calendar seconds ``u`` since 1977; exposures start on whole UTC seconds):

* ``aia.lev1``: channel ``w`` exposes at ``u = U0 + phase_w + k * period_w``, ``k >= 0``, where
  ``U0`` is 2010-05-13 00:00:00 UTC. EUV every 12 s (171 on the :00 second of each minute),
  1600/1700 every 24 s (alternating), 4500 hourly. In each 12 s cycle ``c`` there are at most
  9 exposures, ranked by phase; ``recnum = 1 + 9 c + rank`` and ``FSN = FSN0 + 9 c + rank``.
* slotted AIA series: slot ``s`` has label ``E + s * step`` (``E`` = 1993.01.01_00:00:00_TAI;
  these are the labels JSOC records, e.g. ``2014-01-01T00:00:01Z``) and holds, per wavelength,
  the exposure starting in ``[label, label + step)`` TAI (as ``aia_slot`` floors T_OBS to the
  slot; e.g. slot ``2010-07-30T13:30:02Z`` links the 193 exposure of ``13:30:07Z``). A query
  value selects the slot whose label is nearest (DRMS rounds to the nearest slot).
  ``recnum = 1 + (s - s_first) * n_wavelengths + wavelength index``.
* HMI: slot ``s`` labelled ``E + s * step`` (``E`` = 1993.01.01_00:00:00_TAI), one record per
  slot; ``recnum = 1 + s - s_first``.
* NOAA: see `noaa.py`; ``recnum = 1 + (number - N0) * 64 + day offset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time, tai_to_utc, utc_to_tai
from sunpy_jsoc_cutout.testing.sun import noaa
from .series import SeriesDef

__all__ = ["AIA_CHANNELS", "TimeSel", "make_generator"]

U0_UTC = float(tai_to_utc(parse_drms_time("2010.05.13_00:00:00_UTC")))
SLOT_EPOCH = parse_drms_time("1993.01.01_00:00:00_TAI")
FSN0 = 20_000_000

# wavelength: (period s, phase s, rank within a 12 s cycle)
AIA_CHANNELS: dict[int, tuple[float, float, int]] = {
    171: (12.0, 0.0, 0),
    211: (12.0, 1.0, 1),
    94: (12.0, 2.0, 2),
    1600: (24.0, 3.0, 3),
    1700: (24.0, 15.0, 3),
    335: (12.0, 4.0, 4),
    4500: (3600.0, 5.0, 5),
    131: (12.0, 6.0, 6),
    193: (12.0, 7.0, 7),
    304: (12.0, 9.0, 8),
}


@dataclass(frozen=True)
class TimeSel:
    """One interpreted time item: ``lo <= t <= hi`` (``hi`` exclusive unless ``hi_incl``),
    keeping only offsets from ``lo`` that are multiples of ``skip`` (seconds) if given."""

    lo: float
    hi: float
    hi_incl: bool = True
    skip: float | None = None


def _concat(parts: list[dict[str, np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not parts:
        return {k: np.zeros(0, dtype=np.int64 if k != "T_REC" and k != "ObservationTime" else float) for k in keys}
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


class Generator:
    """Base class: a series' record enumeration between ``start`` and ``end`` (TAI seconds)."""

    base_keys: tuple[str, ...] = ()

    def __init__(self, sdef: SeriesDef, start: float, end: float):
        self.sdef, self.start, self.end = sdef, start, end

    def estimate(self, tsel: list[TimeSel] | None, values: set[int] | None, wave_hint: set[int] | None = None) -> int:
        raise NotImplementedError

    def enumerate(
        self, tsel: list[TimeSel] | None, values: set[int] | None, wave_hint: set[int] | None = None
    ) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def from_recnums(self, recnums: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def first_last(self) -> tuple[dict, dict]:
        """Base columns of the first and last records."""
        raise NotImplementedError

    def max_recnum(self) -> int:
        return int(self.first_last()[1]["recnum"][0])


# ------------------------------------------------------------------ aia.lev1


class AiaLev1(Generator):
    """One record per AIA exposure; prime keys T_REC (exposure start, unslotted) and FSN."""

    base_keys = ("recnum", "T_REC", "FSN", "WAVELNTH", "_k")

    def _channels(self, values: set[int] | None) -> list[int]:
        waves = [w for w in AIA_CHANNELS if w in self.sdef.wavelengths]
        return [w for w in waves if values is None or w in values]

    def _k_range(self, wave: int, sel: TimeSel) -> tuple[int, int]:
        period, phase, _ = AIA_CHANNELS[wave]
        u_lo = float(tai_to_utc(max(sel.lo, self.start))) - U0_UTC - phase
        u_hi = float(tai_to_utc(min(sel.hi, self.end))) - U0_UTC - phase
        k_lo = max(0, int(np.ceil(u_lo / period - 1e-9)))
        k_hi = int(np.floor(u_hi / period + 1e-9))
        if not sel.hi_incl and sel.hi <= self.end and abs(k_hi * period - u_hi) < 1e-6:
            k_hi -= 1
        return k_lo, k_hi

    def estimate(self, tsel, values, wave_hint=None) -> int:
        waves = self._channels(values if wave_hint is None else (wave_hint if values is None else values & wave_hint))
        sels = tsel or [TimeSel(self.start, self.end)]
        return sum(max(0, hi - lo + 1) for w in waves for lo, hi in (self._k_range(w, s) for s in sels))

    def _rows(self, wave: int, k: np.ndarray) -> dict[str, np.ndarray]:
        period, phase, rank = AIA_CHANNELS[wave]
        offset = phase + k * period
        cycle = np.floor_divide(offset, 12.0).astype(np.int64)
        t = np.asarray(utc_to_tai(U0_UTC + offset), float)
        return {
            "recnum": 1 + 9 * cycle + rank,
            "T_REC": t,
            "FSN": FSN0 + 9 * cycle + rank,
            "WAVELNTH": np.full(k.shape, wave, np.int64),
            "_k": k.astype(np.int64),
        }

    def enumerate(self, tsel, values, wave_hint=None) -> dict[str, np.ndarray]:
        waves = self._channels(values if wave_hint is None else (wave_hint if values is None else values & wave_hint))
        parts = []
        for sel in tsel or [TimeSel(self.start, self.end)]:
            for wave in waves:
                lo, hi = self._k_range(wave, sel)
                if hi < lo:
                    continue
                rows = self._rows(wave, np.arange(lo, hi + 1, dtype=np.int64))
                keep = (rows["T_REC"] >= sel.lo) & (
                    (rows["T_REC"] <= sel.hi) if sel.hi_incl else (rows["T_REC"] < sel.hi)
                )
                if sel.skip:
                    ratio = (rows["T_REC"] - sel.lo) / sel.skip
                    keep &= np.abs(ratio - np.round(ratio)) < 1e-6
                parts.append({key: v[keep] for key, v in rows.items()})
        out = _concat(parts, self.base_keys)
        order = np.argsort(out["recnum"], kind="stable")
        return {key: v[order] for key, v in out.items()}

    def from_recnums(self, recnums: np.ndarray) -> dict[str, np.ndarray]:
        q = np.asarray(recnums, np.int64) - 1
        cycle, rank = np.divmod(q, 9)
        parts = []
        for wave in self._channels(None):
            period, phase, wrank = AIA_CHANNELS[wave]
            offset = cycle * 12.0 + phase % 12.0
            kf = (offset - phase) / period
            ok = (rank == wrank) & (q >= 0) & (kf >= 0) & (np.abs(kf - np.round(kf)) < 1e-9)
            rows = self._rows(wave, np.round(kf[ok]).astype(np.int64))
            inside = (rows["T_REC"] >= self.start) & (rows["T_REC"] <= self.end)
            parts.append({k: v[inside] for k, v in rows.items()})
        out = _concat(parts, self.base_keys)
        order = np.argsort(out["recnum"], kind="stable")
        return {key: v[order] for key, v in out.items()}

    def first_last(self) -> tuple[dict, dict]:
        first = self.enumerate([TimeSel(self.start, self.start + 12.0)], None)
        last = self.enumerate([TimeSel(self.end - 3600.0, self.end)], None)
        return ({k: v[:1] for k, v in first.items()}, {k: v[-1:] for k, v in last.items()})


# ------------------------------------------------------------------ slotted series


class Slotted(Generator):
    """Slotted T_REC with one record per slot per wavelength (AIA) or per slot (HMI)."""

    def __init__(self, sdef: SeriesDef, start: float, end: float, lev1: AiaLev1 | None = None):
        super().__init__(sdef, start, end)
        assert sdef.t_rec_step is not None, "a slotted series has a T_REC step"
        self.step = float(sdef.t_rec_step)
        self.waves = tuple(sdef.wavelengths) if sdef.wavelengths else (None,)
        self.lev1 = lev1
        self.s_first = int(np.ceil((start - SLOT_EPOCH) / self.step - 0.5))
        self.s_last = int(np.floor((end - SLOT_EPOCH) / self.step + 0.5)) - 1
        self.second = sdef.primekeys[1]
        self.base_keys = ("recnum", "T_REC", self.second, "_slot", "_k")

    def slot_of(self, t: float | np.ndarray) -> np.ndarray:
        return np.floor((np.asarray(t, float) - SLOT_EPOCH) / self.step + 0.5).astype(np.int64)

    def _slot_range(self, sel: TimeSel) -> tuple[int, int]:
        lo = int(self.slot_of(sel.lo))
        hi = int(self.slot_of(sel.hi)) - (0 if sel.hi_incl else 1)
        return max(lo, self.s_first), min(hi, self.s_last)

    def _skip_slots(self, sel: TimeSel) -> int:
        return max(1, round(sel.skip / self.step)) if sel.skip else 1

    def _camera(self) -> int:
        assert self.sdef.camera is not None, "a series without wavelengths has a camera"
        return int(self.sdef.camera)

    def _second_values(self, values: set[int] | None) -> list:
        if self.waves != (None,):
            return [w for w in self.waves if values is None or w in values]
        cam = self._camera()
        return [cam] if values is None or cam in values else []

    def estimate(self, tsel, values, wave_hint=None) -> int:
        n_second = len(
            self._second_values(values if wave_hint is None else (wave_hint if values is None else values & wave_hint))
        )
        total = 0
        for sel in tsel or [TimeSel(self.start, self.end)]:
            lo, hi = self._slot_range(sel)
            if hi >= lo:
                total += (hi - lo) // self._skip_slots(sel) + 1
        return total * n_second

    def _rows(self, slots: np.ndarray, second: list) -> dict[str, np.ndarray]:
        n2 = len(self.waves)
        index = [self.waves.index(v) if v in self.waves else 0 for v in second]
        s = np.repeat(slots, len(second))
        j = np.tile(np.asarray(index, np.int64), len(slots))
        values = np.tile(np.asarray(second, np.int64), len(slots))
        rows = {
            "recnum": 1 + (s - self.s_first) * n2 + j,
            "T_REC": SLOT_EPOCH + s * self.step,
            self.second: values,
            "_slot": s,
            "_k": np.zeros(s.shape, np.int64),
        }
        if self.lev1 is not None:
            rows = self._link(rows)
        return rows

    def _link(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Find each slot's aia.lev1 exposure; drop slots without one (leap seconds)."""
        keep = np.zeros(rows["recnum"].shape, bool)
        for wave in np.unique(rows[self.second]):
            period, phase, _ = AIA_CHANNELS[int(wave)]
            sel = rows[self.second] == wave
            label = rows["T_REC"][sel]
            u_lo = np.asarray(tai_to_utc(label), float) - U0_UTC - phase
            k = np.ceil(u_lo / period - 1e-9).astype(np.int64)
            t_k = np.asarray(utc_to_tai(U0_UTC + phase + k * period), float)
            keep[sel] = (k >= 0) & (t_k < label + self.step)
            rows["_k"][sel] = k
        return {key: v[keep] for key, v in rows.items()}

    def enumerate(self, tsel, values, wave_hint=None) -> dict[str, np.ndarray]:
        second = self._second_values(
            values if wave_hint is None else (wave_hint if values is None else values & wave_hint)
        )
        parts = []
        for sel in tsel or [TimeSel(self.start, self.end)]:
            lo, hi = self._slot_range(sel)
            if hi >= lo and second:
                parts.append(self._rows(np.arange(lo, hi + 1, self._skip_slots(sel), dtype=np.int64), second))
        out = _concat(parts, self.base_keys)
        order = np.argsort(out["recnum"], kind="stable")
        return {key: v[order] for key, v in out.items()}

    def from_recnums(self, recnums: np.ndarray) -> dict[str, np.ndarray]:
        q = np.asarray(recnums, np.int64) - 1
        slot, j = np.divmod(q, len(self.waves))
        slot = slot + self.s_first
        ok = (q >= 0) & (slot <= self.s_last)
        parts = []
        for idx, wave in enumerate(self.waves):
            sel = ok & (j == idx)
            if sel.any():
                value = wave if wave is not None else self._camera()
                parts.append(self._rows(np.unique(slot[sel]), [value]))
        out = _concat(parts, self.base_keys)
        order = np.argsort(out["recnum"], kind="stable")
        return {key: v[order] for key, v in out.items()}

    def first_last(self) -> tuple[dict, dict]:
        first = self._rows(np.array([self.s_first]), self._second_values(None))
        last = self._rows(np.array([self.s_last]), self._second_values(None))
        return ({k: v[:1] for k, v in first.items()}, {k: v[-1:] for k, v in last.items()})


# ------------------------------------------------------------------ NOAA


class Noaa(Generator):
    """Daily NOAA region records (prime keys: the observation time, then the region number,
    named as the series names them: ``ObservationTime``/``RegionNumber`` in su_rsb,
    ``observationtime``/``regionnumber`` in the public copy).

    ``wave_hint`` of `estimate`/`enumerate` is, here, the region numbers an SQL filter can
    select (None: any), so that ``[? RegionNumber=n ?]`` enumerates one region, not all."""

    def __init__(self, sdef: SeriesDef, start: float, end: float):
        super().__init__(sdef, start, end)
        self._t_key, self._n_key = sdef.primekeys[:2]
        self.base_keys = ("recnum", self._t_key, self._n_key)

    def _numbers(self, tsel, values) -> list[int]:
        if values is not None:
            return sorted(v for v in values if v >= noaa.N0)
        sels = tsel or [TimeSel(self.start, self.end)]
        numbers: set[int] = set()
        for sel in sels:
            lo, hi = max(sel.lo, self.start), min(sel.hi, self.end)
            if hi - lo > 400 * 86400.0:
                raise OverflowError(int((hi - lo) / 86400.0 * noaa.RATE * 12))
            numbers.update(noaa.regions_emerging(lo - noaa.MAX_LIFE, hi))
        return sorted(numbers)

    def estimate(self, tsel, values, wave_hint=None) -> int:
        values = _with_hint(values, wave_hint)
        if values is not None:
            return 25 * len(values)
        sels = tsel or [TimeSel(self.start, self.end)]
        return int(sum(max(0.0, min(s.hi, self.end) - max(s.lo, self.start)) for s in sels) / 86400.0 * 8) + 25

    def _rows_for(self, numbers) -> dict[str, np.ndarray]:
        times, nums, recs = [], [], []
        for n in numbers:
            for offset, (t_obs, _, _) in enumerate(noaa.region_days(n)):
                if self.start <= t_obs <= self.end:
                    times.append(t_obs)
                    nums.append(n)
                    recs.append(1 + (n - noaa.N0) * 64 + offset)
        return {
            "recnum": np.asarray(recs, np.int64),
            self._t_key: np.asarray(times, float),
            self._n_key: np.asarray(nums, np.int64),
        }

    def enumerate(self, tsel, values, wave_hint=None) -> dict[str, np.ndarray]:
        rows = self._rows_for(self._numbers(tsel, _with_hint(values, wave_hint)))
        if tsel:
            t = rows[self._t_key]
            keep = np.zeros(t.shape, bool)
            for sel in tsel:
                inside = (t >= sel.lo) & ((t <= sel.hi) if sel.hi_incl else (t < sel.hi))
                if sel.skip:
                    ratio = (t - sel.lo) / sel.skip
                    inside &= np.abs(ratio - np.round(ratio)) < 1e-6
                keep |= inside
            rows = {k: v[keep] for k, v in rows.items()}
        order = np.lexsort((rows[self._n_key], rows[self._t_key]))
        return {k: v[order] for k, v in rows.items()}

    def from_recnums(self, recnums: np.ndarray) -> dict[str, np.ndarray]:
        wanted = {int(r) for r in np.asarray(recnums)}
        numbers = sorted({(r - 1) // 64 + noaa.N0 for r in wanted if r >= 1})
        rows = self._rows_for(numbers)
        keep = np.isin(rows["recnum"], list(wanted))
        return {k: v[keep] for k, v in rows.items()}

    def first_last(self) -> tuple[dict, dict]:
        first = self.enumerate([TimeSel(self.start, self.start + 2 * 86400.0)], None)
        last = self.enumerate([TimeSel(self.end - 2 * 86400.0, self.end)], None)
        return ({k: v[:1] for k, v in first.items()}, {k: v[-1:] for k, v in last.items()})


def _with_hint(values: set[int] | None, hint: set[int] | None) -> set[int] | None:
    """The region numbers to enumerate: the prime-key values, narrowed by an SQL hint."""
    if hint is None:
        return values
    return set(hint) if values is None else set(values) & set(hint)


class Empty(Generator):
    """``_mod`` series: records exist only in exports, never in the catalogue."""

    def __init__(self, sdef: SeriesDef, start: float, end: float):
        super().__init__(sdef, start, end)
        self.base_keys = ("recnum", *sdef.primekeys)

    def estimate(self, tsel, values, wave_hint=None) -> int:
        return 0

    def enumerate(self, tsel, values, wave_hint=None) -> dict[str, np.ndarray]:
        return {k: np.zeros(0, float if "T" in k.upper() else np.int64) for k in self.base_keys}

    def from_recnums(self, recnums):
        return self.enumerate(None, None)

    def first_last(self):
        return {}, {}


def make_generator(sdef: SeriesDef, start: float, end: float) -> Generator:
    """The generator for ``sdef``."""
    if sdef.generator == "aia_lev1":
        return AiaLev1(sdef, start, end)
    if sdef.generator == "aia_slotted":
        from .series import SERIES  # noqa: PLC0415

        return Slotted(sdef, start, end, AiaLev1(SERIES["aia.lev1"], start, end))
    if sdef.generator == "hmi":
        return Slotted(sdef, start, end)
    if sdef.generator == "noaa":
        return Noaa(sdef, start, end)
    return Empty(sdef, start, end)

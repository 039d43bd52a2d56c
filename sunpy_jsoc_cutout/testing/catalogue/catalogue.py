"""Deterministic catalogue of emulated JSOC records.

Time values are float64 seconds TAI since 1977.01.01_00:00:00_TAI (DRMS's epoch).

`Catalogue.query` parses a record-set spec (`recordset.parse_spec`), interprets the prime-key
filters with the series definition, counts the candidate records analytically
(`generators`), fails fast with `TooManyRecords` when there are too many, and only then
materialises the base columns; other keywords are computed lazily by `Records`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import TimeParseError, parse_drms_time, parse_duration
from .errors import RecordSetError, TooManyRecords, UnknownSeries
from .generators import Generator, TimeSel, make_generator
from .records import Records
from .recordset import KeyFilter, ParsedSpec, RecnumFilter, SqlFilter, evaluate_sql, parse_spec
from .series import SERIES, SeriesDef, make_mod_series
from .tape import TapeArchive

__all__ = ["Catalogue", "Records"]

_SUMS_RE = re.compile(r"^/?SUM\d+/D(\d+)/S(\d+)/([^/]+)$")


class _Interpretation:
    """Prime-key selections of one query."""

    def __init__(self) -> None:
        self.tsel: list[TimeSel] | None = None
        self.second: list[tuple[float, float]] | None = None
        self.recnums: list[tuple[int, int]] | None = None
        self.sql: list[tuple] = []


class _SqlCtx:
    def __init__(self, records: Records):
        self.records, self.size = records, len(records)

    def column(self, name: str):
        kdef = self.records.series.keyword(name)
        if name.lower() == "recnum":
            return self.records.recnum
        return None if kdef is None else np.asarray(self.records.columns[kdef.name])

    def is_time(self, name: str) -> bool:
        kdef = self.records.series.keyword(name)
        return kdef is not None and kdef.type == "time"

    def parse_time(self, text: str) -> float:
        try:
            return parse_drms_time(text)
        except TimeParseError as err:
            raise RecordSetError(str(err)) from None

    def image_exists(self):
        return self.records.has_image


class Catalogue:
    """All emulated series and their records.

    Parameters
    ----------
    start, end : str
        The span in which records exist (DRMS time strings).
    hard_cap : int
        Queries whose candidate count exceeds this fail with `TooManyRecords` before anything
        is materialised, whatever ``max_records`` is.
    crln_fix_date : str
        From this date on CALVER64 bit 28 is set and CRLN_OBS carries no 0.0818941 deg offset.
    hidden_series : iterable of str
        Series this server does not have (case-insensitive names): they answer as unknown
        series everywhere (``jsoc_info``, ``show_series``, exports), as on a JSOC whose
        database lacks them. `hide_series` and `show_series` change the set later.

    Notes
    -----
    The public JSOC (``jsoc_info`` on database hmidb2) probably serves the NOAA regions only
    as ``jsoc.noaa_active_regions``, ``su_rsb.NOAA_ActiveRegions`` being the internal
    database's (see ``docs/dev_guide/jsoc_fidelity.rst``, NOAA regions b); hiding
    ``su_rsb.NOAA_ActiveRegions`` emulates that. Both are served by default.
    """

    def __init__(
        self,
        start: str = "2010.05.13_00:00:00_UTC",
        end: str = "2030.01.01_00:00:00_UTC",
        hard_cap: int = 2_000_000,
        crln_fix_date: str = "2019.01.01_00:00:00_UTC",
        hidden_series: Iterable[str] = (),
    ):
        self.start, self.end = parse_drms_time(start), parse_drms_time(end)
        self.hard_cap = hard_cap
        self.crln_fix_date = crln_fix_date
        self.tape = TapeArchive()  # the offline-data knob: which storage units are on tape
        self._mod: dict[str, SeriesDef] = {}
        self._generators: dict[str, Generator] = {}
        self._hidden: set[str] = set()
        for name in hidden_series:
            self.hide_series(name)

    # ------------------------------------------------------------ series
    @property
    def hidden_series(self) -> list[str]:
        """The stored series this server answers as unknown (their catalogue names)."""
        return [name for name in SERIES if name.lower() in self._hidden]

    def hide_series(self, name: str) -> None:
        """Make the stored series ``name`` unknown to this server (`UnknownSeries` if no such series)."""
        sname = next((s for s in SERIES if s.lower() == name.strip().lower()), None)
        if sname is None:
            raise UnknownSeries(name)
        self._hidden.add(sname.lower())

    def show_series(self, name: str) -> None:
        """Serve the stored series ``name`` again (undoes `hide_series`)."""
        self._hidden.discard(name.strip().lower())

    def series_names(self) -> list[str]:
        """Names of the stored series served (``_mod`` series are made on demand and not listed)."""
        return [name for name in SERIES if name.lower() not in self._hidden]

    def get_series(self, name: str) -> SeriesDef:
        """Case-insensitive lookup; raises `UnknownSeries`. ``<name>_mod`` series are created on demand."""
        low = name.lower()
        if low in self._hidden or (low.endswith("_mod") and low[:-4] in self._hidden):
            raise UnknownSeries(name)
        for sname, sdef in SERIES.items():
            if sname.lower() == low:
                return sdef
        if low.endswith("_mod"):
            base = self.get_series(name[:-4])
            if base.generator != "mod":
                return self._mod.setdefault(base.name, make_mod_series(base))
        raise UnknownSeries(name)

    def series_index(self, name: str) -> int:
        """1-based position of a stored series (used in SUMS numbers); 99 for others."""
        names = list(SERIES)
        return names.index(name) + 1 if name in names else 99

    def _generator(self, sdef: SeriesDef) -> Generator:
        if sdef.name not in self._generators:
            self._generators[sdef.name] = make_generator(sdef, self.start, self.end)
        return self._generators[sdef.name]

    def _records(self, sdef: SeriesDef, base: dict, segments: list[str] | None = None) -> Records:
        return Records(sdef, base, segments, self.series_index, self.crln_fix_date, self.tape)

    # ------------------------------------------------------------ queries
    def count(self, spec: str) -> int:
        """Number of records ``spec`` selects (analytic above the hard cap)."""
        try:
            return len(self.query(spec))
        except TooManyRecords as err:
            return err.count

    def query(self, spec: str, *, limit: int | None = None, max_records: int | None = None) -> Records:
        """Parse and evaluate ``spec``. ``limit`` is JSOC's ``n`` (>0 first n, <0 last |n|).

        Raises `RecordSetError` (bad spec), `UnknownSeries`, `TooManyRecords` (count >
        max_records, decided before materialising where the count is known analytically).
        """
        parsed = parse_spec(spec)
        sdef = self.get_series(parsed.series)
        self._check_segments(sdef, parsed)
        gen = self._generator(sdef)
        interp = self._interpret(sdef, parsed, gen)
        base = self._enumerate(sdef, gen, interp, max_records if limit is None else None)
        records = self._records(sdef, base, parsed.segments)
        records = self._apply_filters(records, interp)
        if limit:
            records = records.take(slice(None, limit) if limit > 0 else slice(limit, None))
        if max_records is not None and len(records) > max_records:
            raise TooManyRecords(len(records), max_records)
        return records

    def _check_segments(self, sdef: SeriesDef, parsed: ParsedSpec) -> None:
        for name in parsed.segments or []:
            if sdef.segment(name) is None:
                raise RecordSetError(f"Segment {name} not found in series {sdef.name}")

    def _enumerate(self, sdef: SeriesDef, gen: Generator, interp: _Interpretation, max_records: int | None) -> dict:
        if interp.recnums is not None and interp.tsel is None and interp.second is None:
            total = sum(hi - lo + 1 for lo, hi in interp.recnums)
            if total > self.hard_cap:
                raise TooManyRecords(total, max_records or self.hard_cap)
            wanted = np.unique(np.concatenate([np.arange(lo, hi + 1) for lo, hi in interp.recnums]))
            return gen.from_recnums(wanted)
        values = self._second_values(sdef, interp)
        if sdef.generator == "noaa":  # the region numbers [? RegionNumber=n ?] can select
            hint = _key_hint(interp.sql, sdef.primekeys[1])
        else:
            hint = _key_hint(interp.sql, "WAVELNTH") if "WAVELNTH" in sdef.keyword_names() else None
        estimate = gen.estimate(interp.tsel, values, hint)
        exact = not (interp.sql or interp.recnums or sdef.generator == "noaa" or self._second_is_mask(sdef, interp))
        if estimate > self.hard_cap or (exact and max_records is not None and estimate > max_records):
            raise TooManyRecords(estimate, max_records if max_records is not None else self.hard_cap)
        try:
            return gen.enumerate(interp.tsel, values, hint)
        except OverflowError as err:
            raise TooManyRecords(int(err.args[0]), max_records or self.hard_cap) from None

    def _second_is_mask(self, sdef: SeriesDef, interp: _Interpretation) -> bool:
        return interp.second is not None and sdef.generator == "aia_lev1"

    def _second_values(self, sdef: SeriesDef, interp: _Interpretation) -> set[int] | None:
        if interp.second is None or self._second_is_mask(sdef, interp):
            return None
        values: set[int] = set()
        for lo, hi in interp.second:
            if hi - lo > 100_000:
                raise RecordSetError(f"Value range {lo}-{hi} too wide")
            values.update(range(int(np.ceil(lo)), int(np.floor(hi)) + 1))
        return values

    def _apply_filters(self, records: Records, interp: _Interpretation) -> Records:
        keep = np.ones(len(records), bool)
        if interp.second is not None and records.series.generator == "aia_lev1":
            fsn = records.columns["FSN"]
            keep &= np.any([(fsn >= lo) & (fsn <= hi) for lo, hi in interp.second], axis=0)
        if interp.recnums is not None:
            keep &= np.any([(records.recnum >= lo) & (records.recnum <= hi) for lo, hi in interp.recnums], axis=0)
        if keep.all() and not interp.sql:
            return records
        records = records.take(np.flatnonzero(keep))
        for tree in interp.sql:
            if not len(records):
                break
            records = records.take(np.flatnonzero(evaluate_sql(tree, _SqlCtx(records))))
        return records

    # ------------------------------------------------------------ interpretation
    def _interpret(self, sdef: SeriesDef, parsed: ParsedSpec, gen: Generator) -> _Interpretation:
        interp = _Interpretation()
        position = 0
        key: str | None
        for filt in parsed.filters:
            if isinstance(filt, SqlFilter):
                interp.sql.append(filt.tree)
            elif isinstance(filt, RecnumFilter):
                interp.recnums = list(filt.ranges) + (interp.recnums or [])
            elif isinstance(filt, KeyFilter):
                if filt.key is None:
                    if position >= len(sdef.primekeys):
                        raise RecordSetError(f"Too many prime-key filters for {sdef.name}")
                    key = sdef.primekeys[position]
                    position += 1
                else:
                    key = next((k for k in sdef.primekeys if k.lower() == filt.key.lower()), None)
                    if key is None:
                        raise RecordSetError(f"{filt.key} is not a prime key of {sdef.name}")
                if filt.items:
                    self._set_key(sdef, gen, interp, key, filt)
        return interp

    def _set_key(self, sdef: SeriesDef, gen: Generator, interp: _Interpretation, key: str, filt: KeyFilter):
        kdef = sdef.keyword(key)
        assert kdef is not None, "prime keys are keywords of the series"
        try:
            if kdef.type == "time":
                interp.tsel = [self._time_item(sdef, gen, item) for item in filt.items]
            else:
                interp.second = [self._number_item(sdef, gen, item) for item in filt.items]
        except (TimeParseError, ValueError) as err:
            raise RecordSetError(f"Can not parse value of {key}: {err}") from None

    def _time_item(self, sdef: SeriesDef, gen: Generator, item) -> TimeSel:
        step = sdef.t_rec_step if sdef.primekeysinfo[0].slotted else None
        skip = parse_duration(item.skip, step) if item.skip else None
        if item.kind in ("first", "last"):
            first, last = gen.first_last()
            row = first if item.kind == "first" else last
            t = float(row[sdef.time_key][0]) if row and len(row["recnum"]) else np.nan
            return TimeSel(t, t)
        if item.kind == "duration":
            lo = parse_drms_time(item.start)
            return TimeSel(lo, lo + parse_duration(item.duration, step), False, skip)
        lo, hi = _split_time_range(item.start)
        return TimeSel(lo, hi, True, skip)

    def _number_item(self, sdef: SeriesDef, gen: Generator, item) -> tuple[float, float]:
        if item.kind in ("first", "last"):
            first, last = gen.first_last()
            row = first if item.kind == "first" else last
            value = float(row[sdef.primekeys[1]][0]) if row else np.nan
            return value, value
        if item.kind == "duration":
            lo = float(item.start)
            return lo, lo + float(item.duration) - 1e-9
        match = re.match(r"^\s*([+-]?\d+(?:\.\d*)?)\s*(?:-\s*([+-]?\d+(?:\.\d*)?))?\s*$", item.start)
        if not match:
            raise ValueError(f"bad value {item.start!r}")
        lo = float(match.group(1))
        return lo, float(match.group(2)) if match.group(2) else lo

    # ------------------------------------------------------------ metadata
    def first_last(self, series: str) -> tuple[Mapping, Mapping]:
        """``({"record", "recnum"}, {"record", "recnum"})`` of the first and last records."""
        sdef = self.get_series(series)
        first, last = self._generator(sdef).first_last()
        out: list[dict] = []
        for row in (first, last):
            if not row or not len(row["recnum"]):
                out.append({"record": None, "recnum": None})
                continue
            rec = self._records(sdef, row)
            out.append({"record": rec.record_spec(0), "recnum": int(rec.recnum[0])})
        return out[0], out[1]

    def interval(self, series: str) -> dict:
        """The ``Interval`` block of ``series_struct``."""
        first, last = self.first_last(series)
        if first["record"] is None:
            return {"FirstRecord": "", "FirstRecnum": 0, "LastRecord": "", "LastRecnum": 0, "MaxRecnum": 0}
        return {
            "FirstRecord": first["record"],
            "FirstRecnum": first["recnum"],
            "LastRecord": last["record"],
            "LastRecnum": last["recnum"],
            "MaxRecnum": last["recnum"],
        }

    def resolve_sums_path(self, path: str) -> tuple[Records, str] | None:
        """A 1-record `Records` and the segment name for a path made by `Records.sums_path`."""
        match = _SUMS_RE.match(path.strip())
        if not match:
            return None
        sunum, slot, filename = int(match.group(1)), int(match.group(2)), match.group(3)
        index, rest = divmod(sunum, 10**9)
        names = list(SERIES)
        if not 1 <= index <= len(names) or slot >= 100:
            return None
        sdef = SERIES[names[index - 1]]
        segment = next((s.name for s in sdef.segments if s.filename == filename and not s.link), None)
        if segment is None:
            return None
        base = self._generator(sdef).from_recnums(np.array([rest * 100 + slot]))
        records = self._records(sdef, base)
        if len(records) != 1 or records.sums_path(0, segment) != "/" + path.strip().lstrip("/"):
            return None
        return records, segment


def _split_time_range(text: str) -> tuple[float, float]:
    """``v`` or ``v1-v2`` where the times may contain ``-`` (ISO dates)."""
    try:
        t = parse_drms_time(text)
        return t, t
    except TimeParseError:
        pass
    for pos in [m.start() for m in re.finditer("-", text)]:
        try:
            return parse_drms_time(text[:pos]), parse_drms_time(text[pos + 1 :])
        except TimeParseError:
            continue
    raise TimeParseError(f"cannot parse time or time range {text!r}")


def _key_hint(trees: list[tuple], key: str) -> set[int] | None:
    """Integer values of keyword ``key`` (case-insensitive) that SQL filters can possibly
    select (None: any), for fast counting: wavelengths, NOAA region numbers."""
    hint = None
    for tree in trees:
        sub = _hint(tree, key.upper())
        if sub is not None:
            hint = sub if hint is None else hint & sub
    return hint


def _hint(tree: tuple, key: str) -> set[int] | None:
    kind = tree[0]
    if kind == "cmp" and tree[1] == "=":
        lhs, rhs = tree[2], tree[3]
        for a, b in ((lhs, rhs), (rhs, lhs)):
            if a == ("ident", a[1]) and a[0] == "ident" and a[1].upper() == key and b[0] in ("num", "str"):
                try:
                    return {int(float(b[1]))}
                except ValueError:
                    return None
        return None
    if kind == "and":
        left, right = _hint(tree[1], key), _hint(tree[2], key)
        if left is None or right is None:
            return left if right is None else right
        return left & right
    if kind == "or":
        left, right = _hint(tree[1], key), _hint(tree[2], key)
        return None if left is None or right is None else left | right
    return None

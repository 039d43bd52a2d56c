"""Columnar record sets of the emulated catalogue (`Records`), with lazy keyword columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import format_time, parse_drms_time
from sunpy_jsoc_cutout.testing.sun.ephemeris import observer_keywords
from .keywords import column_function, lev1_base
from .series import SERIES, SeriesDef

__all__ = ["INTERNAL_PREFIX", "INVALID_KEY", "MISSING", "Records", "is_missing", "sums_path_for"]

#: jsoc_info's value for a keyword the series does not have (``jsoc_info.c``, rs_list loop).
INVALID_KEY = "Invalid KeyLink"
#: jsoc_info's value for a missing value (``drms_ismissing_keyval``), except for QUALITY.
MISSING = "MISSING"
#: Header entries with this prefix are the emulator's internal truth, never written to files.
INTERNAL_PREFIX = "_"
_HEADER_RENAME = {"DATE__OBS": "DATE-OBS"}
_NO_HEADER = {"T_REC_epoch", "T_REC_step", "T_REC_unit", "RequestID"}
_TIME_STYLE_BY_UNITS = {"ISO": "iso_z", "TAI": "tai"}


def sums_path_for(series_index: int, recnum: int, filename: str) -> str:
    """Deterministic SUMS path of a record's segment file (inverse in the catalogue):
    ``sunum = series_index * 10**9 + recnum // 100``, slot ``recnum % 100``."""
    sunum = series_index * 10**9 + recnum // 100
    return f"/SUM{1 + sunum % 20}/D{sunum}/S{recnum % 100:05d}/{filename}"


class LazyColumns(Mapping):
    """Keyword name -> values, computed on first access and cached (a read-only mapping)."""

    def __init__(self, records: Records):
        self._records = records
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        kdef = self._records.series.keyword(name)
        if kdef is None:
            raise KeyError(name)
        if kdef.name not in self._cache:
            self._cache[kdef.name] = self._records._compute(kdef.name)
        return self._cache[kdef.name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records.series.keyword_names())

    def __len__(self) -> int:
        return len(self._records.series.keywords)


class Records:
    """Columnar set of records of one series (see the module docstring of ``catalogue``).

    Attributes
    ----------
    series : SeriesDef
    recnum : numpy.ndarray of int64
    columns : Mapping[str, numpy.ndarray]
        Keyword name to values, computed lazily. Times are float64 TAI seconds since the DRMS
        epoch; integers int64; reals float64 (NaN when missing); strings object arrays.
    has_image : numpy.ndarray of bool
    segments : list[str] or None
        Segments selected by ``{...}`` (None: all of the series' segments).
    """

    def __init__(
        self,
        series: SeriesDef,
        base: dict[str, np.ndarray],
        segments: list[str] | None = None,
        series_index: Callable[[str], int] | None = None,
        crln_fix_date: str | None = None,
        tape=None,
    ):
        self.series = series
        self.tape = tape  # a `TapeArchive` (None: everything online)
        self._base = base
        self.recnum = base["recnum"]
        self.segments = segments
        self._series_index = series_index or (lambda name: 1 + list(SERIES).index(name) if name in SERIES else 99)
        self._crln_fix_date = crln_fix_date or "2019.01.01_00:00:00_UTC"
        self._own = column_function(series)
        self._links: dict[str, Records] = {}
        self._time_strings: dict[str, list[str]] = {}
        self._crln_true: np.ndarray | None = None
        self.columns = LazyColumns(self)

    def __len__(self) -> int:
        return int(self.recnum.size)

    def __repr__(self) -> str:
        return f"<Records {self.series.name}: {len(self)} records>"

    # -------------------------------------------------------------- columns
    def _get(self, name: str):
        if name == "_CRLN_FIX_DATE":
            return self._crln_fix_date
        link, sep, target_key = name.partition("->")
        if sep:
            return self.link_target(link).columns[target_key]
        return self.columns[name]

    def _compute(self, name: str) -> np.ndarray:
        kdef = self.series.keyword(name)
        if name in self._base:
            return self._base[name]
        assert kdef is not None, "columns are computed for keywords of the series"
        if kdef.linkinfo:
            link, _, target_key = kdef.linkinfo.partition("->")
            return self.link_target(link).columns[target_key]
        if kdef.recscope == "constant":
            return self._constant(kdef)
        if kdef.recscope == "index":  # T_REC_index: the slot number of T_REC
            key = name[: -len("_index")]
            epoch, step = (self.columns[f"{key}_{part}"] for part in ("epoch", "step"))
            return np.round((self.columns[key] - epoch) / step).astype(np.int64)
        values = self._own(name, self._base, self._get)
        if values is None:
            return self._missing(kdef.type)
        return np.asarray(values)

    def _constant(self, kdef) -> np.ndarray:
        if kdef.type == "time":
            return np.full(len(self), parse_drms_time(kdef.defval))
        if kdef.type in ("float", "double"):
            return np.full(len(self), float(kdef.defval))
        if kdef.type == "string":
            return np.full(len(self), kdef.defval, dtype=object)
        return np.full(len(self), int(kdef.defval), dtype=np.int64)

    def _missing(self, ktype: str) -> np.ndarray:
        if ktype in ("time", "float", "double"):
            return np.full(len(self), np.nan)
        if ktype == "string":
            return np.full(len(self), "", dtype=object)
        return np.full(len(self), int(_MISSING_INT.get(ktype, -2147483648)), dtype=np.int64)

    @property
    def has_image(self) -> np.ndarray:
        """Whether the image segment(s) hold data (QUALITY does not have bit 31 set)."""
        if not self.series.segments or self.series.keyword("QUALITY") is None:
            return np.zeros(len(self), bool)
        return np.asarray(self.columns["QUALITY"]) >= 0

    def link_target(self, link: str) -> Records:
        """Records of the linked series, aligned 1:1 with these records (e.g. ``lev1``)."""
        ldef = next((x for x in self.series.links if x.name.lower() == link.lower()), None)
        if ldef is None:
            raise KeyError(link)
        if ldef.name not in self._links:
            self._links[ldef.name] = Records(
                SERIES[ldef.target], lev1_base(self._base), None, self._series_index, self._crln_fix_date, self.tape
            )
        return self._links[ldef.name]

    def take(self, idx: np.ndarray | Sequence[int] | slice) -> Records:
        """A new `Records` with the selected rows (cached columns are carried over)."""
        if isinstance(idx, slice):
            idx = np.arange(len(self))[idx]
        idx = np.asarray(idx)
        out = Records(
            self.series,
            {k: v[idx] for k, v in self._base.items()},
            self.segments,
            self._series_index,
            self._crln_fix_date,
            self.tape,
        )
        out.columns._cache = {k: v[idx] for k, v in self.columns._cache.items()}
        out._links = {k: v.take(idx) for k, v in self._links.items()}
        return out

    # -------------------------------------------------------------- strings
    def keyword_strings(self, name: str) -> list[str]:
        """JSOC's string rendering of keyword ``name`` for every record (``jsoc_info.c`` rs_list:
        "Invalid KeyLink" for a keyword the series lacks; "MISSING" for a value DRMS counts as
        missing, whatever the type, except QUALITY; a constant keyword prints as its default)."""
        kdef = self.series.keyword(name)
        if kdef is None:
            return [INVALID_KEY] * len(self)
        if kdef.recscope == "constant":
            return [kdef.defval] * len(self)
        if kdef.type == "time":
            return [self._time_string(kdef, i) for i in range(len(self))]
        values = self.columns[kdef.name]
        if kdef.name == "QUALITY":
            return [f"0x{int(v) & 0xFFFFFFFF:08x}" for v in values]
        missing = is_missing(kdef.type, values)
        if kdef.type in ("float", "double"):
            text = [repr(float(v)) for v in values]
        elif kdef.type == "string":
            text = [str(v) for v in values]
        elif kdef.defval.startswith("0x"):  # hexadecimal keywords (QUALLEV0, CALVER64)
            width = len(kdef.defval) - 2
            text = [f"0x{int(v) & ((1 << 4 * width) - 1):0{width}x}" for v in values]
        else:
            text = [str(int(v)) for v in values]
        return [MISSING if m else t for m, t in zip(missing, text, strict=True)]

    def _time_string(self, kdef, i: int) -> str:
        if kdef.recscope == "constant":
            return kdef.defval
        if kdef.name not in self._time_strings:  # formatted once for all records
            texts = format_time(
                np.atleast_1d(self.columns[kdef.name]),
                _TIME_STYLE_BY_UNITS.get(kdef.units, self.series.time_style),
                digits=_defval_digits(kdef.defval),
            )
            assert isinstance(texts, list), "a 1-d array formats to a list"
            self._time_strings[kdef.name] = texts
        return self._time_strings[kdef.name][i]

    def record_spec(self, i: int) -> str:
        """E.g. ``aia.lev1_euv_12s[2014-01-01T00:00:01Z][304]``, ``hmi.M_45s[2012.01.01_00:00:45_TAI][2]``."""
        parts = []
        for key in self.series.primekeys:
            kdef = self.series.keyword(key)
            assert kdef is not None, "prime keys are keywords of the series"
            value = self.columns[key][i]
            if kdef.type == "time":
                parts.append(format_time(float(value), self.series.time_style))
            else:
                parts.append(str(int(value)))
        return self.series.name + "".join(f"[{p}]" for p in parts)

    # -------------------------------------------------------------- files
    def header(self, i: int) -> dict:
        """FITS header keywords of record ``i`` (name -> python value): the series' keywords
        with a value (JSOC writes no value for a missing one), plus the internal ``_CRLN_TRUE``
        (the observer's true Carrington longitude, for the renderer; never written)."""
        header: dict = {}
        if self.series.segments:
            header.update(NAXIS=2, NAXIS1=4096, NAXIS2=4096)
        for kdef in self.series.keywords:
            if kdef.name in _NO_HEADER or kdef.recscope == "index":
                continue
            value = self._header_value(kdef, i)
            if value is not None:
                header[_HEADER_RENAME.get(kdef.name, kdef.name)] = value
        if self.series.instrument in ("aia", "hmi"):
            header.setdefault("OBSRVTRY", "SDO")
            header["_CRLN_TRUE"] = float(self._true_crln()[i])
        return header

    def _header_value(self, kdef, i: int):
        if kdef.type == "time":
            text = self._time_string(kdef, i)
            return None if text == MISSING else text
        value = self.columns[kdef.name][i]
        if kdef.name != "QUALITY" and is_missing(kdef.type, np.atleast_1d(value))[0]:
            return None
        if kdef.type in ("float", "double"):
            return float(value)
        return str(value) if kdef.type == "string" else int(value)

    def _true_crln(self) -> np.ndarray:
        if self._crln_true is None:
            eph = observer_keywords(np.asarray(self.columns["T_OBS"], float), self._crln_fix_date)
            self._crln_true = np.asarray(eph["CRLN_TRUE"], float)
        return self._crln_true

    def segment_filename(self, segment: str) -> str:
        sdef = self.series.segment(segment)
        return sdef.filename if sdef is not None else segment

    def sums_path(self, i: int, segment: str) -> str:
        """``/SUM<nn>/D<sunum>/S<slot>/<stored file name>`` of segment ``segment`` of record ``i``
        (for linked segments, the target record's path); "NoDataDirectory" if there is no image."""
        return self.sums_paths(segment, [i])[0]

    def sums_paths(self, segment: str, rows: Sequence[int] | None = None) -> list[str]:
        """`sums_path` of every record (or of ``rows``), with the image and online flags computed once."""
        sdef = self.series.segment(segment)
        if sdef is None:
            raise KeyError(segment)
        if sdef.link:
            return self.link_target(sdef.link).sums_paths(segment, rows)
        index = range(len(self)) if rows is None else rows
        present = np.ones(len(self), bool) if sdef.kind == "spikes" else np.asarray(self.has_image, bool)
        present = present & np.asarray(self.online, bool)
        series_index, recnum = self._series_index(self.series.name), self.recnum
        return [
            sums_path_for(series_index, int(recnum[i]), sdef.filename) if present[i] else "NoDataDirectory"
            for i in index
        ]

    @property
    def sunums(self) -> np.ndarray:
        """The storage unit of each record (`sums_path_for`)."""
        return self._series_index(self.series.name) * 10**9 + self.recnum // 100

    @property
    def online(self) -> np.ndarray:
        """Whether each record's own storage unit is online (see `tape.TapeArchive`)."""
        if self.tape is None:
            return np.ones(len(self), bool)
        return self.tape.online(self, self.sunums)

    def offline_sunums(self) -> set[int]:
        """Storage units on tape that these records' segment files live in (links followed)."""
        out: set[int] = set()
        for sdef in self.series.segments:
            source = self.link_target(sdef.link) if sdef.link else self
            out.update(int(s) for s in source.sunums[~source.online])
        return out


_MISSING_INT = {"short": -32768, "int": -2147483648, "longlong": -9223372036854775808}


def is_missing(ktype: str, values: np.ndarray) -> np.ndarray:
    """Which values DRMS counts as missing (``drms_types.h``: NaN for reals and times, the
    type's minimum for integers, the empty string), independent of the series' defaults."""
    if ktype in ("float", "double", "time"):
        return ~np.isfinite(np.asarray(values, dtype=float))
    if ktype == "string":
        return np.asarray([v is None or str(v) == "" for v in values], dtype=bool)
    return np.asarray(values, dtype=np.int64) == _MISSING_INT.get(ktype, -2147483648)


def _defval_digits(defval: str) -> int:
    """Decimals of the seconds of a time keyword, as its default shows (``...27.82Z``: 2)."""
    seconds = defval.rsplit(":", 1)[-1]
    if "." not in seconds:
        return 0
    return len(seconds.split(".", 1)[1].rstrip("_TAIZUC"))

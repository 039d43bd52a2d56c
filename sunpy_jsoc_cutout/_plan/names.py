"""
The names JSOC will give the exported files, predicted from the rows' keywords (pure).

JSOC names every file of an export from the request's ``filenamefmt`` with
``exputl_mk_expfilename`` (``lm-jps/drms:base/export/libs/util/exputil.c``; line numbers below
are at commit ``3727293``, the rules comment is L5-38). Two records that get one name are written
to the same path in the export directory, the later one wins, and both rows of ``index.json``
name that one file: the search would promise 16 files and 1 would arrive. The client can predict
every name, so a search whose planned files would share a name is refused before anything is
sent (`refuse_collisions`).

The rules, as ``exputil.c`` applies them:

* text outside ``{...}`` is copied (L297-308); a ``{`` without its ``}`` stops the name (L75-80);
* in ``{name:layout}`` the name ends at the first ``:`` and the layout starts after the last one
  (L82-92); ``{}`` adds nothing (L93);
* ``{#}``: the number of names made so far by this run of the export program, ``%05d`` by default
  (L99-103); one run makes the files of one request, in record order, so it restarts at 0 in
  every request;
* ``{seriesname}``: the exported record's series (L104-105); a processed export writes the
  ``<series>_mod`` records;
* ``{recnum}``: the exported record's number, ``%lld`` by default (L106-111); for a processed
  export the ``_mod`` record's, which is not known before the export but is distinct for every
  record, as the input's number used here is;
* ``{segment}``: the exported segment's file name, else the segment's name (L112-128); im_patch's
  ``_mod`` segment is ``<segment>.fits`` (``image.fits``, docs/dev_guide/jsoc_fidelity.rst g);
* any other name is a keyword (L129-258); unknown, it fails the export (L136-140, L253-257).
  Without a layout it is printed with its JSD format, as ``jsoc_info`` prints it (L243-252).
  A time keyword's layout is ``[A|D][precision][,zone]`` (L141-207): ``sprint_time`` with that
  precision (negative drops clock fields from the right) in the JSD zone or the one given; ``A``
  then drops every ``.`` and ``:``, ``D`` drops ``:`` and writes ``@`` for ``.`` and at the 11th
  character, after a leading ``@``. Other keywords take a printf layout and lose their whitespace
  (L208-241);
* a name of 128 characters or more is an error (L279-291).

Keyword types are read from the values ``jsoc_info`` lists (a JSOC time, an integer, a number or
text), so no extra metadata request is made.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import erfa
import numpy as np

from astropy.time import Time

from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .jsoc_text import absent_mask, drms_zone, is_drms_time, parse_drms_times
from .plans import default_filename_format
from .series_rules import SeriesInfo, SeriesRules

__all__ = [
    "FILENAME_COLUMN",
    "file_names",
    "format_fields",
    "format_keywords",
    "listed_keys",
    "name_rows",
    "raw_keywords",
    "refuse_collisions",
    "render_name",
    "row_format",
    "sprint_time",
]

#: The row column holding each file's predicted name (empty for a row JSOC skips).
FILENAME_COLUMN = "Filename"
#: Names that are not keywords (``exputil.c`` L99-128).
SPECIAL = ("#", "seriesname", "recnum", "segment")
#: JSOC's working buffer for one name (``exputil.c`` L54, L279).
MAX_NAME = 128
#: Raw keyword strings are kept in the rows under this prefix; the segment's name under `_SEGMENT`.
_RAW = "kw:"
_SEGMENT = "kw:{segment}"
#: Keyword fields printed with the rows (`_printed_fields`) are kept under this prefix.
_PRINTED = "fmt:"
_PRINTF_LENGTH = re.compile(r"%([-+ #0]*\d*(?:\.\d+)?)(?:hh|h|ll|l|L|q|j|z|t)?([diouxXeEfFgGcs%])")
#: Zones ``sprint_time`` prints in UTC (``tai_adjustment``); TAI is the other one handled.
_UTC_ZONES = ("UTC", "UT", "Z", "ISO")
#: How many planned collisions a refusal names.
_SHOW = 3


class UnpredictableName(ValueError):
    """A name the client cannot predict (a zone or layout it does not model)."""


@dataclass(frozen=True)
class Field:
    """One ``{name[:layout]}`` of a format; ``layout`` is None without a ``:``."""

    name: str
    layout: str | None


def format_fields(fmt: str) -> list[str | Field]:
    """
    A ``filenamefmt`` as literal characters and `Field` s, as ``exputil.c`` reads it.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.names import format_fields
    >>> format_fields("{T_REC:A}.x{a:b:c}")
    [Field(name='T_REC', layout='A'), '.', 'x', Field(name='a', layout='c')]
    """
    out: list[str | Field] = []
    pos = 0
    while pos < len(fmt):
        if fmt[pos] != "{":
            out.append(fmt[pos])
            pos += 1
            continue
        end = fmt.find("}", pos)
        if end < 0:  # exputil.c L75-80: the name stops here (and the export fails)
            break
        name, colon, _ = fmt[pos + 1 : end].partition(":")
        out.append(Field(name, fmt[pos + 1 : end].rpartition(":")[2] if colon else None))
        pos = end + 1
    return out


def format_keywords(fmt: str) -> tuple[str, ...]:
    """The keyword names a format uses, upper case, in order (``{#}``, ``{recnum}``... are not keywords)."""
    names = [f.name.upper() for f in format_fields(fmt) if isinstance(f, Field) and f.name and f.name not in SPECIAL]
    return tuple(dict.fromkeys(names))


def row_format(block: CutoutQuery, rules: SeriesRules) -> str:
    """The ``filenamefmt`` the user asked for (``a.jsoc_cutout.FilenameFormat``), else the series' default."""
    return block.filename_format or default_filename_format(rules)


def listed_keys(series: SeriesInfo, keys: tuple[str, ...], block: CutoutQuery, rules: SeriesRules) -> tuple[str, ...]:
    """
    The keywords to list for the rows: ``keys`` the series has, plus those the file names need.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        If the format names a keyword the series does not have (JSOC would fail the export).
    """
    fmt = row_format(block, rules)
    unknown = [k for k in format_keywords(fmt) if not series.has(k)]
    if unknown:
        msg = (
            f"The filename format {fmt!r} uses {', '.join('{' + k + '}' for k in unknown)}, which {rules.name} does "
            "not have; JSOC would fail the export. Use its keywords, {seriesname}, {recnum}, {segment} or {#}."
        )
        raise CutoutQueryError(msg)
    have = {k.upper() for k in keys}
    needed = tuple(k for k in format_keywords(fmt) if k not in have and series.has(k))
    return series.present(keys) + needed


def raw_keywords(cols: dict, block: CutoutQuery, rules: SeriesRules, segment: str | None) -> dict[str, np.ndarray]:
    """
    The listed strings of the keywords the file names need, kept in the rows as ``kw:<NAME>``, and
    the exported segment's name (``kw:{segment}``).
    """
    upper = {name.upper(): name for name in cols}
    fmt = row_format(block, rules)
    wanted = [upper[k] for k in format_keywords(fmt) if k in upper]
    out = {_RAW + name.upper(): _compact(cols[name]) for name in wanted}
    n = len(cols.get("*recnum*", ()))
    return {**out, **_printed_fields(fmt, out), _SEGMENT: np.full(n, segment or "", dtype=object)}


def _printed_fields(fmt: str, raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """
    The keyword fields of ``fmt`` with a layout printed for every row (``fmt:<NAME>:<layout>``), made
    with the rows (while the next page is listed) so that naming only joins them (a field without a
    layout is the listed text); a field that cannot be printed for every row is left to `file_names`,
    which prints the rows that get a file.
    """
    out = {}
    for part in format_fields(fmt):
        if isinstance(part, Field) and part.layout and part.name not in SPECIAL and _RAW + part.name.upper() in raw:
            try:
                texts = _keyword_values(raw[_RAW + part.name.upper()], part.layout)
            except (UnpredictableName, ValueError, TypeError):
                continue
            out[f"{_PRINTED}{part.name.upper()}:{part.layout or ''}"] = np.asarray(texts, dtype=str)
    return out


def _compact(values: Sequence[Any]) -> np.ndarray:
    """
    A listed keyword column kept for the names: fixed-width numpy text when every value is a
    string, so that the page's parsed reply is freed (Python strings kept from it would hold its
    memory), else the values as they are.
    """
    objects = np.asarray(values, dtype=object)
    if all(isinstance(value, str) for value in objects.tolist()):
        return objects.astype(str)
    return objects


def sprint_time(time: Time, zone: str, precision: int = 0) -> str:
    """
    A time as DRMS's ``sprint_time`` prints it (``lm-jps/drms:base/libs/timeio/timeio.c`` L927-1112).

    ``ISO`` gives ``2014-02-05T08:00:01Z``; another zone the calendar form with the zone, after an
    ``_`` unless it is one letter (``2014.02.05_08:00:36_TAI``, ``2014.02.05_08:00:01Z``). A
    positive precision is the number of decimals of the seconds (rounded); a negative one drops
    fields from the right without rounding (-1 the seconds, -3 the clock, -5 all but the year).

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.names import sprint_time
    >>> t = Time("2014-02-05T08:00:01.234", scale="utc")
    >>> sprint_time(t, "TAI"), sprint_time(t, "ISO", 2), sprint_time(t, "UTC", -1)
    ('2014.02.05_08:00:36_TAI', '2014-02-05T08:00:01.23Z', '2014.02.05_08:00_UTC')
    """
    return sprint_times(time.reshape(1) if time.isscalar else time, zone, precision)[0]


def sprint_times(times: Time, zone: str, precision: int = 0) -> list[str]:
    """`sprint_time` of every time of a `~astropy.time.Time` array at once (one conversion, one format)."""
    zone = zone.strip().upper()[:5]
    if zone == "TAI":
        t = times.tai
    elif zone in _UTC_ZONES:
        t = times.utc
    else:
        raise UnpredictableName(f"time zone {zone!r}")
    iso = zone == "ISO"
    suffix = "Z" if iso else zone if len(zone) == 1 else f"_{zone}"
    if precision >= 0:  # rounded, carried into the minute (L1013-1020)
        dash, mid, end = ("-", "T", "Z") if iso else (".", "_", suffix)
        return [f"{date.replace('-', dash)}{mid}{clock}{end}" for date, clock in _iso_parts(t, min(precision, 9))]
    parts = t.ymdhms
    columns = [np.atleast_1d(parts[k]).astype(int) for k in ("year", "month", "day", "hour", "minute")]
    sep, keep = "-" if iso else ".", max(1, 6 + precision)
    out = []
    for year, month, day, hour, minute in zip(*columns, strict=True):
        fields = [f"{year:04d}", f"{month:02d}", f"{day:02d}", f"{hour:02d}", f"{minute:02d}"][:keep]
        date = sep.join(fields[:3])
        if len(fields) <= 3:  # L996-1110: no clock; the zone only after a calendar date
            out.append(date if iso or len(zone) == 1 else f"{date}_{zone}")
        else:
            out.append(f"{date}{'T' if iso else '_'}{':'.join(fields[3:])}{suffix}")
    return out


def _iso_parts(t: Time, precision: int) -> list[tuple[str, str]]:
    """
    ``(date, clock)`` of each time as astropy's ``Time(t, precision=precision).iso`` prints it
    (the same ``erfa.d2dtf`` rounding and leap seconds), without its per-value Python machinery.
    """
    jd1, jd2 = np.atleast_1d(t.jd1), np.atleast_1d(t.jd2)
    years, months, days, hmsf = erfa.d2dtf(t.scale.upper().encode("ascii"), precision, jd1, jd2)
    fields = zip(years.tolist(), months.tolist(), days.tolist(), *(hmsf[k].tolist() for k in "hmsf"), strict=True)
    if precision:
        return [
            (f"{y:04d}-{mo:02d}-{d:02d}", f"{h:02d}:{mi:02d}:{sec:02d}.{f:0{precision}d}")
            for y, mo, d, h, mi, sec, f in fields
        ]
    return [(f"{y:04d}-{mo:02d}-{d:02d}", f"{h:02d}:{mi:02d}:{sec:02d}") for y, mo, d, h, mi, sec, _ in fields]


def _time_value(text: str, layout: str) -> str:
    """A time keyword with a layout (``exputil.c`` L141-207)."""
    return _time_values([text], layout)[0]


def _time_values(texts: Sequence[str], layout: str, listed: bool = False) -> list[str]:
    """
    `_time_value` of many time keywords at once: parsed and printed per zone and scale, vectorised.

    ``listed``: `_printed_as_listed` already found the column printed as listed (it is not checked again).
    """
    mod = layout[0] if layout[:1].isalpha() else ""
    rest = layout[len(mod) :]
    match = re.match(r"-?\d+", rest)
    precision = int(match.group()) if match else 0
    rest = rest[match.end() :] if match else rest
    given = rest[1:] if rest.startswith(",") and len(rest) > 1 else None
    values = [""] * len(texts)
    for (zone, _), index in _zone_groups(texts, given).items():
        group = [texts[k] for k in index]
        whole = given is None and precision == 0
        printed = group if whole and listed else _printed_as_listed(group, zone) if whole else None
        if printed is None:
            printed = sprint_times(parse_drms_times(group), zone, precision)
        for k, value in zip(index, printed, strict=True):
            values[k] = value
    if mod == "A":
        return [value.replace(".", "").replace(":", "") for value in values]
    if mod == "D":
        return [_d_layout(value) for value in values]
    return values


def _zone_groups(texts: Sequence[str], given: str | None) -> dict[tuple[str, bool], list[int]]:
    """Positions of ``texts`` by the zone they are printed in and whether they are TAI (one parse and print each)."""
    column = np.asarray(texts, dtype=str)
    if given is None and len(column) and (np.strings.endswith(column, "Z") & (np.strings.find(column, "T") >= 0)).all():
        return {("ISO", False): list(range(len(texts)))}  # ISO times (aia's T_REC): one group, no loop
    groups: dict[tuple[str, bool], list[int]] = {}
    for k, text in enumerate(texts):
        groups.setdefault((given or drms_zone(text), text.endswith("_TAI")), []).append(k)
    return groups


def _printed_as_listed(texts: list[str] | np.ndarray, zone: str) -> list[str] | np.ndarray | None:
    """
    ``texts`` themselves when ``sprint_time`` would print each of them, in its own zone to the whole
    second, exactly as listed: every one a valid calendar time to the second, without a leap second,
    written in the zone's own form (``2014-02-05T08:00:01Z``, ``2014.02.05_08:00:36_TAI``), checked by
    reading it as a numpy ``datetime64`` and writing it back; None for any other column.
    """
    zone = zone.strip().upper()[:5]
    if zone != "TAI" and zone not in _UTC_ZONES:
        return None
    column = np.asarray(texts, dtype=str)
    suffix = "Z" if zone == "ISO" else zone if len(zone) == 1 else f"_{zone}"
    if not len(column) or not np.strings.endswith(column, suffix).all():
        return None
    body = np.strings.slice(column, 0, -len(suffix))
    if zone != "ISO":  # 2014.02.05_08:00:36 -> 2014-02-05T08:00:36
        body = np.strings.replace(np.strings.replace(body, ".", "-", 2), "_", "T", 1)
    try:
        seconds = np.asarray(body, dtype="datetime64[s]")
    except ValueError:
        return None
    written = np.datetime_as_string(seconds, unit="s")
    if not np.array_equal(written, body):
        return None
    return texts


def _d_layout(value: str) -> str:
    out = ["@"]
    for char in value:
        if char != ":":
            out.append("@" if char == "." or len(out) == 11 else char)
    return "".join(out)


def _printf(layout: str, value) -> str:
    try:
        return _PRINTF_LENGTH.sub(r"%\1\2", layout) % (value,)
    except (TypeError, ValueError) as err:
        raise UnpredictableName(f"layout {layout!r}: {err}") from None


def _keyword_value(text: str, layout: str | None) -> str:
    return _keyword_values([text], layout)[0]


def _keyword_values(texts: Sequence[Any] | np.ndarray, layout: str | None) -> list[str] | np.ndarray:
    """One keyword's values as ``exputil.c`` prints them with ``layout``, times vectorised (`_time_values`)."""
    if layout == "A" and isinstance(texts, np.ndarray) and texts.dtype.kind == "U" and len(texts):
        first = str(texts[0])
        if _printed_as_listed(texts, drms_zone(first)) is not None:  # whole seconds as listed: drop "." and ":"
            return np.strings.replace(np.strings.replace(texts, ".", ""), ":", "")
    texts = texts.tolist() if isinstance(texts, np.ndarray) and texts.dtype.kind == "U" else [str(t) for t in texts]
    if not layout:
        return texts  # the JSD format, as jsoc_info lists it (L243-252)
    if texts and _printed_as_listed(texts, drms_zone(texts[0])) is not None:
        return _time_values(texts, layout, listed=True)  # whole-second times in one zone, as JSOC lists them
    absent = absent_mask(texts)
    times = [k for k, text in enumerate(texts) if not absent[k] and is_drms_time(text)]
    timed = set(times)
    values = ["" if k in timed else _plain_value(text, layout) for k, text in enumerate(texts)]
    for k, value in zip(times, _time_values([texts[k].strip() for k in times], layout), strict=True):
        values[k] = value
    return values


def _plain_value(text: str, layout: str) -> str:
    for kind in (int, float):
        try:
            value = kind(text, 0) if kind is int else kind(text)
        except ValueError:
            continue
        return "".join(_printf(layout, value).split())
    return "".join(_printf(layout, text).split())


def render_name(fmt: str, keywords: dict, *, seriesname: str, recnum: int, segment: str, counter: int = 0) -> str:
    """
    The name ``exputil.c`` makes for one exported segment file.

    Parameters
    ----------
    fmt : str
        The ``filenamefmt``.
    keywords : dict
        The record's keywords as ``jsoc_info`` lists them, by upper-case name.
    seriesname, recnum, segment, counter
        ``{seriesname}``, ``{recnum}``, ``{segment}`` and ``{#}``.

    Returns
    -------
    str

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.names import render_name
    >>> kw = {"T_REC": "2014-02-05T08:00:01Z", "WAVELNTH": "171"}
    >>> render_name("x.{T_REC:A}.{WAVELNTH:%04d}.{segment}", kw, seriesname="s", recnum=1, segment="image.fits")
    'x.2014-02-05T080001Z.0171.image.fits'
    """
    columns = {name: [value] for name, value in keywords.items()}
    return _render(fmt, columns, seriesname=seriesname, recnums=[recnum], segments=[segment], counters=[counter])[0]


def _render(
    fmt: str,
    keywords: Mapping[str, Sequence[Any]],
    *,
    seriesname: str,
    recnums: Sequence[int] | np.ndarray,
    segments: Sequence[str],
    counters: Sequence[int],
    printed: Mapping[str, np.ndarray] | None = None,
) -> list[str]:
    """
    `render_name` of many files at once: ``keywords`` by upper-case name, one value per file (a column);
    ``printed`` holds keyword fields already printed, by ``<NAME>:<layout>`` (`_printed_fields`).
    """
    printed = printed or {}
    pieces: list[Sequence[str]] = []  # per field of the format, the text of every file
    for part in format_fields(fmt):
        if isinstance(part, str):
            pieces.append([part] * len(recnums))
        elif part.name == "#":
            pieces.append([_printf(part.layout or "%05d", k) for k in counters])
        elif part.name == "seriesname":
            pieces.append([seriesname] * len(recnums))
        elif part.name == "recnum":
            pieces.append([_printf(part.layout or "%lld", int(k)) for k in recnums])
        elif part.name == "segment":
            pieces.append(list(segments))
        elif f"{part.name.upper()}:{part.layout or ''}" in printed:
            pieces.append(printed[f"{part.name.upper()}:{part.layout or ''}"].tolist())
        elif part.name:
            values = _keyword_values(keywords[part.name.upper()], part.layout)
            pieces.append(values.tolist() if isinstance(values, np.ndarray) else values)
    return ["".join(texts) for texts in zip(*pieces, strict=True)] if pieces else [""] * len(recnums)


def file_names(fmt: str, columns: dict, *, series: str) -> np.ndarray | None:
    """
    The predicted name of each row's file (``""`` for a row JSOC skips), or `None` if not predictable.

    ``columns`` are a request's rows (``_plan.rows.SearchedRequest.columns``) with the ``kw:`` strings of
    `raw_keywords`; the export is processed (im_patch), so the record is ``<series>_mod``'s.
    """
    n = len(columns.get("recnum", []))
    skip = np.asarray(columns.get("Skip", np.full(n, "")))
    raw = {key[len(_RAW) :]: values for key, values in columns.items() if key.startswith(_RAW) and key != _SEGMENT}
    if any(k not in raw for k in format_keywords(fmt)):
        return None
    segments = columns.get(_SEGMENT, np.full(n, ""))
    rows = np.flatnonzero(skip == "")
    names = np.full(n, "", dtype=object)
    try:
        names[rows] = _render(
            fmt,
            {name: values[rows] for name, values in raw.items()},
            seriesname=f"{series}_mod",
            recnums=np.asarray(columns["recnum"])[rows],
            segments=[f"{segments[i] or 'image'}.fits" for i in rows],
            counters=range(len(rows)),
            printed={key[len(_PRINTED) :]: v[rows] for key, v in columns.items() if key.startswith(_PRINTED)},
        )
    except UnpredictableName:
        return None
    return names


def name_rows(requests: list) -> list:
    """
    Add each row's predicted file name (`FILENAME_COLUMN`) to the requests' columns, and drop the
    keywords' strings kept for it (`raw_keywords`).

    Call it before `~sunpy_jsoc_cutout._plan.plans.distinct_plans`, which may write the wavelength into
    ``filenamefmt`` as a literal: the names are predicted on the user's format.
    """
    out = []
    for request in requests:
        cols = request.columns
        if cols and str(request.plan.protocol).lower().split(",")[0] in ("fits", "as-is"):
            names = file_names(request.plan.filenamefmt, cols, series=request.plan.series)
            if names is not None:
                cols = {**cols, FILENAME_COLUMN: np.asarray(names, dtype=str)}
        # the keywords' strings were kept for the names only: let them go
        out.append(replace(request, columns={k: v for k, v in cols.items() if not k.startswith((_RAW, _PRINTED))}))
    return out


def _label(request, i: int) -> str:
    cols = request.columns
    text = f"{request.plan.series}[{cols['T_REC'][i].isot}]"
    if np.isfinite(cols["WAVELNTH"][i]) and request.plan.series.lower().startswith("aia"):
        text += f"[{cols['WAVELNTH'][i]:g}]"
    elif "CAMERA" in cols:
        text += f"[camera {cols['CAMERA'][i]}]"
    return text


def _advice(rows: list[tuple]) -> str:
    """Which field would tell the colliding rows apart."""
    fields = []
    for key, field in (("T_REC", "{T_REC:A}"), ("WAVELNTH", "{WAVELNTH}"), ("CAMERA", "{CAMERA}")):
        values = {repr(r.columns[key][i]) if key == "T_REC" else r.columns[key][i] for r, i in rows if key in r.columns}
        if len(values) > 1:
            fields.append(field)
    if len({r.plan.series for r, _ in rows}) > 1:
        fields.append("{seriesname}")
    return ", ".join([*fields, "{recnum}"]) if fields else "{recnum}"


def refuse_collisions(requests: list) -> None:
    """
    Refuse a job whose planned files would share a name (and so overwrite one another).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        Naming the colliding rows and the fields that would tell them apart; or if a name would
        be 128 characters or more (JSOC fails such an export).
    """
    named = [np.asarray(r.columns.get(FILENAME_COLUMN, ()), dtype=object) for r in requests]
    names = [name for column in named for name in column[column != ""].tolist()]
    if len(set(names)) == len(names) and all(len(name) < MAX_NAME for name in names):
        return  # the usual case, checked at once; the loop below says what is wrong otherwise
    groups: dict[str, list[tuple]] = {}
    for request in requests:
        for i, name in enumerate(request.columns.get(FILENAME_COLUMN, ())):
            if name:
                groups.setdefault(str(name), []).append((request, i))
    long = next((n for n in groups if len(n) >= MAX_NAME), None)
    if long is not None:
        msg = f"The filename format would make the {len(long)}-character name {long!r}; JSOC allows at most 127."
        raise CutoutQueryError(msg)
    clashes = {name: rows for name, rows in groups.items() if len(rows) > 1}
    if not clashes:
        return
    files = sum(len(rows) for rows in clashes.values())
    shown = []
    for name, rows in list(clashes.items())[:_SHOW]:
        labels = ", ".join(_label(r, i) for r, i in rows[:4]) + (", ..." if len(rows) > 4 else "")
        shown.append(f"{name!r} for {len(rows)} records ({labels})")
    fmt = next(r.plan.filenamefmt for rows in clashes.values() for r, _ in rows)
    advice = _advice(next(iter(clashes.values())))
    msg = (
        f"The filename format {fmt!r} gives {files} planned files only {len(clashes)} name(s), so JSOC would write "
        f"them over one another and most would never arrive: {'; '.join(shown)}"
        f"{'; ...' if len(clashes) > _SHOW else ''}. Add {advice} to a.jsoc_cutout.FilenameFormat so that every "
        "file has its own name."
    )
    raise CutoutQueryError(msg)

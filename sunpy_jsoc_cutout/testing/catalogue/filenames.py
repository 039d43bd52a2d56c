"""Export file names from ``filenamefmt`` templates, as JSOC's ``exputil.c`` makes them.

Rules (``lm-jps/drms:base/export/libs/util/exputil.c``, ``exputl_mk_expfilename``):

* Text outside ``{...}`` is copied. ``{name[:layout]}``: the name ends at the first ``:``,
  the layout starts after the last one. ``{}`` adds nothing; an unclosed ``{`` is an invalid
  template.
* ``{seriesname}``: the series name; ``{recnum[:fmt]}`` (default ``%lld``); ``{#[:fmt]}``: the
  number of names made so far in this export (default ``%05d``, from 0); ``{segment}``: the
  segment's stored file name (for a linked segment the target's file name).
* Any other name is a keyword (case-insensitive; linked keywords give the target's value).
  Without a layout, the keyword's default JSOC rendering. With a layout: time keywords take
  ``[A|D][precision][,zone]`` (``A`` drops ``.`` and ``:``; ``D`` drops ``:`` and turns
  ``.`` and the date/time separator into ``@``, with a leading ``@``; a negative precision
  drops clock fields from the right) **and their value comes from the link target** for a
  linked segment (so ``{T_REC:A}`` of ``aia.lev1_euv_12s`` shows ``aia.lev1``'s T_REC while
  ``{T_REC}`` shows the slot time); other keywords take a printf format, and whitespace is
  stripped from the result.
* An unknown keyword makes the export fail; so does a name of 128 characters or more
  (JSOC's working buffer).
* Whitespace in the template's literal text is kept: ``exputil.c`` tries to strip it but then
  copies the unstripped buffer over the result.

Duplicate names are not made unique: JSOC writes both files to the same path (the later one
wins) and lists both rows in the index, and so does the emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import format_time

__all__ = [
    "DEFAULT_FILENAMEFMT",
    "FilenameError",
    "InvalidFilenameFormat",
    "KeywordValue",
    "NameSource",
    "RecordNames",
    "UnknownFilenameKeyword",
    "make_filename",
]

DEFAULT_FILENAMEFMT = "{seriesname}.{recnum:%d}.{segment}"
MAX_NAME = 128
_LENGTH_MODIFIER = re.compile(r"%([-+ #0]*\d*(?:\.\d+)?)(?:hh|h|ll|l|L|q|j|z|t)?([diouxXeEfFgGcs%])")
_ZONES = {"TAI": "tai", "UTC": "utc", "UT": "ut", "Z": "iso_z", "ISO": "iso_z"}
_CLOCK = re.compile(r"(\d{2})(:\d{2})(:\d{2}(?:\.\d+)?)")


class FilenameError(ValueError):
    """A ``filenamefmt`` that cannot produce a file name for a record."""


class InvalidFilenameFormat(FilenameError):
    """The template is malformed or the name is too long."""

    def __init__(self, fmt: str):
        super().__init__(f"Invalid file-name format template '{fmt}'.")


class UnknownFilenameKeyword(FilenameError):
    """The template names a keyword the series does not have."""

    def __init__(self, fmt: str, series: str):
        super().__init__(
            f"One or more keywords in the file-name format template '{fmt}' do not exist in series '{series}'."
        )


@dataclass(frozen=True)
class KeywordValue:
    """A keyword of one record, as the file-name generator needs it.

    Attributes
    ----------
    type : str
        DRMS type (``time``, ``int``, ``short``, ``longlong``, ``float``, ``double``, ``string``).
    value : object
        Python value (internal TAI seconds for times).
    text : str
        JSOC's default rendering.
    time_style : str or None
        `~sunpy_jsoc_cutout.testing.common.timeutil.format_time` style of time keywords.
    """

    type: str
    value: float | int | str
    text: str
    time_style: str | None = None


class NameSource(Protocol):
    """What `make_filename` needs to know about one exported segment of one record."""

    seriesname: str
    recnum: int
    segment_file: str

    def keyword(self, name: str, target: bool = False) -> KeywordValue | None:
        """Keyword ``name``; ``target`` asks for the link target's value (linked segments)."""


class RecordNames:
    """
    `NameSource` for segment ``segment`` of record ``i`` of an emulator ``Records``.

    Parameters
    ----------
    records : Records
        The catalogue's records (``series``, ``recnum``, ``columns``, ``keyword_strings``,
        ``link_target``, ``take``).
    i : int
        Row.
    segment : SegmentDef
        The exported segment (``filename``, ``link``).
    seriesname : str, optional
        Override the series name (processed output is named after the ``_mod`` series).
    """

    def __init__(self, records, i: int, segment, seriesname: str | None = None):
        self._records = records
        self._i = int(i)
        self._segment = segment
        self.seriesname = seriesname or records.series.name
        self.recnum = int(records.recnum[self._i])
        self.segment_file = segment.filename or segment.name

    def keyword(self, name: str, target: bool = False) -> KeywordValue | None:
        records = self._records
        link = getattr(self._segment, "link", None)
        if target and link:
            records = records.link_target(link)
        kdef = records.series.keyword(name)
        if kdef is None:
            return None
        row = records.take([self._i])
        value = row.columns[kdef.name][0]
        value = value.item() if isinstance(value, np.generic) else value
        return KeywordValue(kdef.type, value, row.keyword_strings(kdef.name)[0], records.series.time_style)


def _printf(layout: str, value: object) -> str:
    python_fmt = _LENGTH_MODIFIER.sub(r"%\1\2", layout)
    return python_fmt % (value,)


def _format_time(kv: KeywordValue, layout: str) -> str:
    mod = ""
    if layout[:1].isalpha():
        mod, layout = layout[0], layout[1:]
    match = re.match(r"-?\d+", layout)
    precision = int(match.group()) if match else 0
    rest = layout[match.end() :] if match else layout
    style = kv.time_style or "tai"
    if rest.startswith(",") and len(rest) > 1:
        style = _ZONES.get(rest[1:].strip().upper(), style)
    value = kv.value if isinstance(kv.value, float) else float("nan")
    text = format_time(value, style, digits=max(precision, 0))
    if precision < 0 and text != "MISSING":
        text = _drop_fields(text, -precision)
    if mod == "A":
        return text.replace(".", "").replace(":", "")
    if mod == "D":
        return _d_layout(text)
    return text


def _drop_fields(text: str, n: int) -> str:
    match = _CLOCK.search(text)
    if match is None:
        return text
    fields = [match.group(1), match.group(2), match.group(3)]
    kept = "".join(fields[: max(0, 3 - n)])
    start, end = match.span()
    if not kept:  # drop the separator before the clock too
        start -= 1
    return text[:start] + kept + text[end:]


def _d_layout(text: str) -> str:
    """exputil's ``D`` modifier, character by character as the C code does it."""
    out = ["@"]
    for char in text:
        if char == ":":
            continue
        out.append("@" if char == "." or len(out) == 11 else char)
    return "".join(out)


def _token(name: str, layout: str | None, source: NameSource, counter: int, fmt: str) -> str:
    if name == "#":
        return _printf(layout or "%05d", counter)
    if name == "seriesname":
        return source.seriesname
    if name == "recnum":
        return _printf(layout or "%lld", source.recnum)
    if name == "segment":
        return source.segment_file
    kv = source.keyword(name)
    if kv is None:
        raise UnknownFilenameKeyword(fmt, source.seriesname)
    if not layout:
        return kv.text
    if kv.type == "time":
        return _format_time(source.keyword(name, target=True) or kv, layout)
    if kv.type in ("float", "double"):
        value: object = float(kv.value)
    elif kv.type == "string":
        value = str(kv.value)
    else:
        value = int(kv.value)
    return "".join(_printf(layout, value).split())


def make_filename(fmt: str | None, source: NameSource, counter: int = 0) -> str:
    """
    The export file name of one segment file.

    Parameters
    ----------
    fmt : str or None
        The ``filenamefmt`` (None or ``"Not Specified"``: `DEFAULT_FILENAMEFMT`).
    source : NameSource
        The record and segment.
    counter : int
        Value of ``{#}`` (names made before this one in the same export).

    Returns
    -------
    str

    Raises
    ------
    InvalidFilenameFormat
        Unclosed ``{``, a bad printf layout, or a name of 128 characters or more.
    UnknownFilenameKeyword
        A keyword the series does not have.
    """
    if not fmt or fmt == "Not Specified":
        fmt = "{seriesname}.{recnum:%lld}.{segment}"
    out: list[str] = []
    pos = 0
    while pos < len(fmt):
        if fmt[pos] != "{":
            out.append(fmt[pos])
            pos += 1
            continue
        end = fmt.find("}", pos)
        if end < 0:
            raise InvalidFilenameFormat(fmt)
        body = fmt[pos + 1 : end]
        pos = end + 1
        name, colon, _ = body.partition(":")
        layout = body.rpartition(":")[2] if colon else None
        if name:
            try:
                out.append(_token(name, layout, source, counter, fmt))
            except (TypeError, ValueError) as err:
                if isinstance(err, FilenameError):
                    raise
                raise InvalidFilenameFormat(fmt) from err
    name = "".join(out)
    if len(name) >= MAX_NAME:
        raise InvalidFilenameFormat(fmt)
    return name

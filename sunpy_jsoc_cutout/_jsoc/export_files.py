"""
The files of a completed JSOC export: their URLs (as drms builds them), their data rows, the
records they hold, hashes, and the free-disk-space check made before downloading.

Each data row of a completed export (``index.json``, written by
``lm-jps/drms:base/export/apps/jsoc_export_make_index.c`` L310-345 from the ``# DATA`` lines) names its
record as JSOC writes it: the series and the value of every prime key in brackets,
``aia.lev1_euv_12s[2010-07-30T13:30:02Z][335]``, ``hmi.M_45s[2012.01.01_01:01:30_TAI][2]``,
processed output in the ``<series>_mod`` series (which may carry the request ID as one more prime
key), optionally followed by ``{segment}``. `parse_record` splits such a string, and
`RecordMatcher` finds the one search-result row with the same identity (series and every prime
key), or says why there is none. ``jsoc_export_as_fits`` writes ``warning=No FITS files were
exported...`` into the data section when it made no file (``jsoc_export_as_fits.c``), which
``index.json`` lists as a data row with that text as its record; `export_warnings` returns those.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time
from sunpy_jsoc_cutout.exceptions import DiskSpaceError

__all__ = [
    "NO_DATA_FILE",
    "RecordMatcher",
    "check_free_space",
    "data_rows",
    "export_warnings",
    "file_hash",
    "file_urls",
    "parse_record",
]

#: What JSOC lists for a record whose file does not exist (dropped, as drms does).
NO_DATA_FILE = "NoDataFile"

_RECORD = re.compile(r"^\s*(?P<series>[A-Za-z_][\w.]*)(?P<keys>(?:\[[^\]]*\])*)\s*(?:\{[^}]*\})?\s*$")
_KEY = re.compile(r"\[([^\]]*)\]")
_MESSAGE = re.compile(r"^\s*(warning|error)\s*=\s*(?P<text>.*)$", re.IGNORECASE | re.DOTALL)
#: Processed records are written to the input series with this suffix (one per processing step at most).
_MOD = "_mod"
#: Times are compared to the millisecond (JSOC prints T_REC to the second or finer).
_MS = 1000.0


def parse_record(record: str) -> tuple[str, list[str]] | None:
    """
    The series and prime-key values of a JSOC record string, or `None` if it is not one.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._jsoc.export_files import parse_record
    >>> parse_record("hmi.M_45s[2012.01.01_01:01:30_TAI][2]{magnetogram}")
    ('hmi.M_45s', ['2012.01.01_01:01:30_TAI', '2'])
    >>> parse_record("warning=No FITS files were exported.") is None
    True
    """
    found = _RECORD.match(record or "")
    if found is None or not found["keys"]:
        return None
    return found["series"], [value.strip() for value in _KEY.findall(found["keys"])]


def export_warnings(index: Mapping[str, Any]) -> list[str]:
    """JSOC's ``warning=``/``error=`` texts listed among an export's data rows (``jsoc_export_as_fits.c``)."""
    texts = []
    for row in index.get("data") or []:
        found = _MESSAGE.match(str(row.get("record") or ""))
        if found and not row.get("filename"):
            texts.append(found["text"].strip())
    return texts


def file_urls(index: Mapping[str, Any], base_url: str) -> list[tuple[str, str, str]]:
    """
    The ``(record, filename, url)`` of each file of a completed export, as drms builds them.

    Parameters
    ----------
    index : `~collections.abc.Mapping`
        The reply of ``exp_status`` for a completed request (JSOC's ``index.json``).
    base_url : `str`
        The server's download base URL (drms's ``http_download_baseurl``,
        ``http://jsoc.stanford.edu/`` for JSOC).

    Returns
    -------
    `list` of `tuple`
        For an ``url-tar`` export, one entry ``("", "<requestid>.tar", url)``. Otherwise one per
        data row with a file (rows listed as ``NoDataFile`` are dropped); the record is ``""``
        for a movie row. URLs are ``base_url + dir + "/" + filename``, or ``base_url +
        filename`` when ``dir`` is empty (``url_quick``, whose filenames are full paths).

    Raises
    ------
    ValueError
        If the export method is not downloadable over http (not ``url...``).
    """
    method = str(index.get("method", "url"))
    if not method.startswith("url"):
        raise ValueError(f"Files of an export with method {method!r} cannot be downloaded over http.")
    if not base_url.endswith("/"):
        base_url += "/"
    tarfile = index.get("tarfile") or ""
    directory = "" if tarfile else str(index.get("dir") or "")
    rows = (
        [("", tarfile)]
        if tarfile
        else [(row.get("record") or "", row.get("filename") or "") for row in index.get("data") or []]
    )
    movie = str(index.get("protocol", "")).lower() in ("mpg", "mp4")
    files = []
    for record, name in rows:
        if not name or name == NO_DATA_FILE:
            continue
        if movie and record.startswith("movie"):
            record = ""
        fpath = f"{directory}/{name}" if directory else name
        files.append((record, name.rsplit("/", 1)[-1], urljoin(base_url, fpath.lstrip("/"))))
    return files


def file_hash(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(partial(handle.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_free_space(path: str | os.PathLike, needed_bytes: int) -> int:
    """
    Check that the file system holding ``path`` has ``needed_bytes`` free.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The download directory (it need not exist yet: its nearest existing parent is checked).
    needed_bytes : `int`
        The bytes the downloads need (e.g. the exports' size estimate).

    Returns
    -------
    `int`
        The free bytes.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.DiskSpaceError
        If fewer than ``needed_bytes`` are free; the message names both numbers.
    """
    where = Path(path).expanduser().absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if needed_bytes > free:
        raise DiskSpaceError(
            f"Not enough free disk space in {where}: the download needs {needed_bytes} bytes "
            f"({needed_bytes / 1e6:.1f} MB) but only {free} bytes ({free / 1e6:.1f} MB) are free.",
            needed=int(needed_bytes),
            free=int(free),
        )
    return free


def data_rows(index: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(record, filename)`` rows of an export with a file, and the records without one."""
    rows, missing = [], []
    for row in index.get("data") or []:
        record, name = row.get("record") or "", row.get("filename") or ""
        if not name and _MESSAGE.match(record):
            continue  # a warning or error of JSOC's, not a record (see `export_warnings`)
        if name == NO_DATA_FILE:
            missing.append(record)
        elif name:
            rows.append((record, name.rsplit("/", 1)[-1]))
    return rows, missing


def _kind(column) -> str:
    """How a column's values are compared: ``t`` time (ms), ``n`` number, ``s`` text."""
    if isinstance(column, Time):
        return "t"
    values = np.asarray(column.value if isinstance(column, u.Quantity) else column)
    return "n" if values.dtype.kind in "iufb" else "s"


def _normalised(column, kind: str) -> list:
    if kind == "t":
        return [int(v) for v in np.round(column.utc.unix * _MS)]
    if kind == "n":
        values = column.value if isinstance(column, u.Quantity) else column
        return [float(v) for v in np.asarray(values, dtype=float)]
    return [str(v).strip() for v in np.asarray(column)]


def _record_value(text: str, kind: str):
    if kind == "t":
        return round(float(parse_drms_time(text).unix) * _MS)
    if kind == "n":
        return float(int(text, 0)) if text.lower().startswith("0x") else float(text)
    return text


class RecordMatcher:
    """
    Finds the search-result row of a record by its full identity: series and every prime key.

    Parameters
    ----------
    series : str
        The series the rows were searched in (compared without case; a processed record's
        ``_mod`` suffix is dropped first).
    prime_keys : sequence of str
        The series' prime keys, in JSOC's order (the order of the bracketed values of a record).
    rows : table or mapping of columns
        The rows: a column per prime key under its JSOC name (``T_REC`` times, ``FSN``,
        ``CAMERA``...); ``WAVELNTH`` may also be the table's ``Wavelength`` quantity column.

    Notes
    -----
    A prime key without a column in ``rows`` cannot be compared and is left out of the identity
    (`missing_keys` lists them); two rows that then look the same make each of their records
    ambiguous, which `match` reports instead of choosing one.
    """

    _ALIASES = {"WAVELNTH": ("WAVELNTH", "Wavelength")}

    def __init__(self, series: str, prime_keys: Sequence[str], rows) -> None:
        self.series = series
        self.prime_keys = tuple(prime_keys)
        names = set(getattr(rows, "colnames", None) or rows.keys())
        self.columns: list[tuple[int, str, str]] = []  # (position, column, kind)
        for position, key in enumerate(self.prime_keys):
            column = next((c for c in self._ALIASES.get(key, (key,)) if c in names), None)
            if column is not None:
                self.columns.append((position, column, _kind(rows[column])))
        self.missing_keys = tuple(k for i, k in enumerate(self.prime_keys) if i not in {c[0] for c in self.columns})
        values = [_normalised(rows[column], kind) for _, column, kind in self.columns]
        self.rows: dict[tuple, list[int]] = {}
        for index, identity in enumerate(zip(*values, strict=True)):
            self.rows.setdefault(identity, []).append(index)

    def identity(self, record: str) -> tuple[tuple | None, str]:
        """The comparable identity of a record string, or `None` and why it has none."""
        parsed = parse_record(record)
        if parsed is None:
            return None, f"{record!r} is not a JSOC record name"
        series, values = parsed
        base = series
        while base.lower().endswith(_MOD):
            base = base[: -len(_MOD)]
        if base.lower() != self.series.lower():
            return None, f"{record} is of the series {base}, not {self.series}"
        extra = len(values) - len(self.prime_keys)
        if extra < 0 or (extra and base == series) or extra > 1:
            keys = ", ".join(self.prime_keys)
            return None, f"{record} does not name one value for each prime key of {self.series} ({keys})"
        try:
            return tuple(_record_value(values[i], kind) for i, _, kind in self.columns), ""
        except ValueError as err:
            return None, f"{record} has a prime-key value that cannot be read ({err})"

    def match(self, record: str) -> tuple[int | None, str]:
        """
        The index of the one row holding ``record``, or `None` and the reason (no row, or several).
        """
        identity, reason = self.identity(record)
        if identity is None:
            return None, reason
        found = self.rows.get(identity, [])
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"{record} matches no row of the search result"
        return None, f"{record} matches {len(found)} rows of the search result (rows {found[:5]})"

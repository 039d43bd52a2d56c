"""The checks and rewrites ``jsoc_fetch op=exp_request`` applies to a request (pure functions).

Each failing check raises `ExportRequestError` carrying JSOC's status and message; the manager
(`~sunpy_jsoc_cutout.testing.exports.manager.ExportManager`) calls them in JSOC's order
(``lm-jps/drms:base/export/apps/jsoc_fetch.c`` L3131-4426).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sunpy_jsoc_cutout.testing.catalogue.errors import RecordSetError, TooManyRecords, UnknownSeries
from sunpy_jsoc_cutout.testing.catalogue.recordset import KeyFilter, parse_spec
from sunpy_jsoc_cutout.testing.processing.datatypes import ProcessError
from sunpy_jsoc_cutout.testing.processing.process import process_from_json
from .staging import IMAGE_PROTOCOLS, protocol_kind

__all__ = [
    "DEFAULT_RECORD_LIMITS",
    "REQUEST_ID_RE",
    "ExportArgs",
    "ExportRequestError",
    "add_quality_filter",
    "canonical_spec",
    "check_illegal_text",
    "estimate_size",
    "has_first_last",
    "md5_key",
    "normalise_args",
    "open_records",
    "quick_reply",
    "record_limit",
    "size_limit",
    "split_segments",
]

REQUEST_ID_RE = re.compile(r"JSOC_[0-9]{8}_[0-9]+(_IN)?")
#: The only keys jsoc_fetch reads (jsoc_fetch.c #L1826-1856); the rest is ignored.
WEB_ARGS = (
    "op",
    "requestid",
    "ds",
    "sunum",
    "seg",
    "process",
    "processing",
    "max_recs",
    "format",
    "formatvar",
    "method",
    "protocol",
    "filenamefmt",
    "requestor",
    "notify",
    "shipto",
    "userhandle",
    "instid",
    "sizeratio",
    "file",
    "t",
    "p",
    "o",
    "q",
    "W",
)
METHODS = ("url_quick", "url", "url-tar")
DEFAULT_RECORD_LIMITS = {"aia": 15_000, "hmi": 32_000}
QUALITY_FILTER = "[? drms.image_exists(quality) ?]"
_QUALITY_RE = re.compile(r"\[(\?|\?[ -~]*\W)quality(\?|\W[ -~]*\?)\]", re.IGNORECASE)
MB = 1024 * 1024
LIMIT_STRAIGHT, LIMIT_UNCOMPRESSING, LIMIT_COMPRESSING = 100_000, 10_000, 1_000_000


class ExportRequestError(Exception):
    """A request JSOC refuses; ``reply`` is the JSON JSOC sends."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def reply(self) -> dict:
        return {"status": self.status, "error": self.message}


@dataclass(frozen=True)
class ExportArgs:
    """The effective arguments of an ``exp_request``."""

    ds: str
    seg: str | None
    notify: str
    method: str
    protocol: str
    filenamefmt: str | None
    process: str
    sizeratio: float
    omit_quality: bool
    processing_json: bool = False


def check_illegal_text(params: Mapping[str, str]) -> None:
    """jsoc_fetch's ``illegalArg``: no ``;`` and an even number of ``'`` in any argument it reads."""
    for key in (*WEB_ARGS, "process=n"):
        value = params.get(key)
        if value is None:
            continue
        if ";" in value:
            raise ExportRequestError(4, "Illegal text in arg: ';' not allowed")
        if value.count("'") % 2:
            raise ExportRequestError(4, 'Illegal text in arg: Unbalanced "\'" not allowed.')


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    try:
        return int(value or 1) != 0
    except ValueError:
        return True


def normalise_args(params: Mapping[str, str]) -> ExportArgs:
    """
    Collect the arguments with JSOC's defaults.

    ``process`` comes from the key literally named ``process=n`` (drms: ``"n=" + value``), a
    plain ``process`` key, or the JSON ``processing`` (+ ``max_recs``) form. JSOC's single
    quotes are turned into double quotes (``illegalArg`` does that as it counts them).
    """
    if params.get("processing"):
        try:
            process = process_from_json(params["processing"], params.get("max_recs"))
        except ProcessError as err:
            raise ExportRequestError(4, str(err)) from err
    elif params.get("process=n") is not None:
        process = "n=" + params["process=n"]
    else:
        process = params.get("process") or "Not Specified"
    method = params.get("method") or "url"
    if method not in METHODS:
        raise ExportRequestError(4, f"Export method '{method}' is not supported; use url_quick, url or url-tar.")
    protocol = params.get("protocol") or "as-is"
    kind = protocol_kind(protocol)
    if kind not in ("as-is", "fits", *IMAGE_PROTOCOLS):
        raise ExportRequestError(4, f"Export protocol '{protocol}' is not supported.")
    try:
        sizeratio = float(params.get("sizeratio") or 1.0)
    except ValueError:
        sizeratio = 1.0
    return ExportArgs(
        ds=(params.get("ds") or "").replace("'", '"'),
        seg=params.get("seg") or None,
        notify=params.get("notify") or "",
        method=method,
        protocol=protocol,
        filenamefmt=params.get("filenamefmt") or None,
        process=process.replace("'", '"'),
        sizeratio=sizeratio,
        omit_quality=_flag(params, "q"),
        processing_json=bool(params.get("processing")),
    )


def split_segments(ds: str) -> tuple[str, str | None]:
    """Split ``series[...]{segs}`` into ``series[...]`` and ``segs`` (None without braces)."""
    depth = 0
    for pos, char in enumerate(ds):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == "{" and depth == 0:
            return ds[:pos].rstrip(), ds[pos + 1 : ds.rfind("}")] if "}" in ds[pos:] else ds[pos + 1 :]
    return ds.strip(), None


def add_quality_filter(head: str) -> str:
    """Append ``[? drms.image_exists(quality) ?]`` unless the spec already mentions quality."""
    if _QUALITY_RE.search(head):
        return head
    return head + QUALITY_FILTER


def has_first_last(spec: str) -> bool:
    """Whether the spec uses ``^`` or ``$`` prime-key values."""
    return any(
        isinstance(f, KeyFilter) and any(item.kind in ("first", "last") for item in f.items)
        for f in parse_spec(spec).filters
    )


def canonical_spec(series_as_typed: str, recnums: np.ndarray, segs: str | None) -> str:
    """``series[:#r1,#r2,...]{segs}`` (jsoc_fetch's canonical form, used for the MD5)."""
    body = ",".join(f"#{int(r)}" for r in recnums)
    return f"{series_as_typed}[{':' + body if body else ''}]" + (f"{{{segs}}}" if segs else "")


def md5_key(canonical: str, filenamefmt: str | None, process: str, protocol: str, method: str) -> str:
    """Hex MD5 of canonical spec + filenamefmt + process + protocol + method (empty parts skipped)."""
    text = "".join(part for part in (canonical, filenamefmt, process, protocol, method) if part)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def record_limit(series, limits: Mapping[str, int | None]) -> int | None:
    """The record cap of a series: by exact name, then by instrument (``aia``/``hmi``)."""
    for key in (series.name, series.name.lower(), getattr(series, "instrument", "")):
        if key in limits:
            return limits[key]
    return None


def _segment_bytes(series, sdef) -> int:
    images = [s for s in series.segments if s.kind != "spikes"] or list(series.segments)
    if sdef.kind == "spikes":
        return int(series.bytes_per_record * 0.15)
    return int(series.bytes_per_record / len(images))


def estimate_size(records, ratio: float) -> tuple[int, int, bool]:
    """
    Stored bytes (times ``ratio``), number of files and whether storage is compressed.

    Segment sizes come from the series' ``bytes_per_record`` (image segments share it, a
    ``spikes`` segment adds 15 %); records without an image have no image file.
    """
    series = records.series
    names = records.segments or [s.name for s in series.segments]
    sdefs = [s for s in (series.segment(n) for n in names) if s is not None]
    has_image = np.asarray(records.has_image, dtype=bool)
    nbytes, nfiles = 0.0, 0
    for sdef in sdefs:
        n = len(records) if sdef.kind == "spikes" else int(has_image.sum())
        nfiles += n
        nbytes += n * _segment_bytes(series, sdef) * ratio
    compressed = bool(sdefs and "compress" in (sdefs[0].cparms or ""))
    return int(nbytes), nfiles, compressed


def size_limit(compressed_storage: bool, protocol: str) -> int:
    """The MB limit of jsoc_fetch.c #L4076-4120 (``**NONE**`` means an uncompressed download)."""
    compressed_download = "**NONE**" not in protocol
    if compressed_storage and not compressed_download:
        return LIMIT_UNCOMPRESSING
    if not compressed_storage and compressed_download:
        return LIMIT_COMPRESSING
    return LIMIT_STRAIGHT


def quick_reply(records, method: str, protocol: str, size: int) -> dict:
    """
    The immediate ``url_quick``/``as-is`` reply (``quick_export_rs``): one row per segment file,
    ``record`` = record query + ``{segment}``, ``filename`` = absolute SUMS path, ``dir`` and
    ``requestid`` empty.
    """
    series = records.series
    names = records.segments or [s.name for s in series.segments]
    data = []
    paths = {name: records.sums_paths(name) for name in names}
    for i in range(len(records)):
        spec = records.record_spec(i)
        for name in names:
            path = paths[name][i]
            if path != "NoDataDirectory":
                data.append({"record": f"{spec}{{{series.segment(name).name}}}", "filename": path})
    return {
        "rcount": len(records),
        "count": len(data),
        "size": size,
        "dir": "",
        "data": data,
        "requestid": "",
        "method": method,
        "protocol": protocol,
        "wait": 0,
        "status": 0,
    }


def open_records(catalogue, args: ExportArgs, limit: int, record_limits: Mapping[str, int | None]):
    """
    Steps 3-6 of jsoc_fetch: parse ``ds`` (+ ``seg``), check the series, add the quality filter,
    open the records (``n`` limit, record cap) and make the canonical spec.

    Returns
    -------
    tuple
        ``(records, canonical spec, data set)``; the data set is the spec as opened, or the
        canonical spec if ``ds`` used ``^``/``$``.
    """
    head, segs = split_segments(args.ds)
    if args.seg:
        if segs and segs.strip():
            raise ExportRequestError(
                4, "cannot provide both the `seg` argument, and a segment filter in the `in` argument"
            )
        segs = args.seg
    segs = None if segs is None or "**ALL**" in segs or not segs.strip() else segs.strip()
    tail = f"{{{segs}}}" if segs else ""
    try:
        parsed = parse_spec(head + tail)
    except RecordSetError as err:
        raise ExportRequestError(4, f"Bad record-set query '{args.ds}'.\n") from err
    try:
        sdef = catalogue.get_series(parsed.series)
    except UnknownSeries as err:
        raise ExportRequestError(4, f"Cannot export series '{parsed.series}' - it does not exist.\n") from err
    query = head
    if not args.omit_quality and sdef.keyword("QUALITY") is not None:
        query = add_quality_filter(head)
    query += tail
    try:
        records = catalogue.query(query, limit=limit or None, max_records=record_limit(sdef, record_limits))
    except TooManyRecords as err:
        raise ExportRequestError(4, f"Can not open RecordSet {err.count} is too many records in one request.") from err
    except RecordSetError as err:
        raise ExportRequestError(4, f"Can not open RecordSet, bad query or too many records: {query}") from err
    canonical = canonical_spec(parsed.series, records.recnum, segs)
    return records, canonical, (canonical if has_first_last(head) else query)

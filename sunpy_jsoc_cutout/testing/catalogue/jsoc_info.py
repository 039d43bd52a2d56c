"""Pure handlers for ``jsoc_info`` (``series_struct``, ``rs_summary``, ``rs_list``), ``show_series``
and ``showextseries`` replies (``lm-jps/drms:base/export/apps/jsoc_info.c``,
``base/util/apps/show_series.c`` L297-399, ``base/export/scripts/showextseries.py`` L240-385).

Every handler takes the decoded query parameters and the `Catalogue` and returns the JSON
object (a dict, key order as JSOC's) that the server serialises.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from .catalogue import Catalogue
from .errors import RecordSetError, TooManyRecords
from .records import Records
from .series import SeriesDef

__all__ = ["SERIES_NOT_FOUND", "SERIES_NOT_FOUND_SHORT", "jsoc_info", "series_struct", "show_series", "showextseries"]

#: ``jsoc_info``'s reply text for a series the database does not have, per op
#: (``lm-jps/drms:base/export/apps/jsoc_info.c``, ``JSONDIE``, always status 1, L152-167):
#: ``rs_list`` L2740 and L2766; ``series_struct`` (``print_series_information``) L2214 and
#: ``rs_summary`` (``print_recordset_summary``) L2381 use the shorter text.
SERIES_NOT_FOUND = " jsoc_info: series not found."
SERIES_NOT_FOUND_SHORT = "series not found"
#: ``INVALID_SEG`` of ``lm-jps/drms:base/export/apps/jsoc_info.c``.
INVALID_SEG = "InvalidSegName"
_NAME_RE = re.compile(r"^\s*([A-Za-z_][\w.]*)")


def _error(message: str) -> dict:
    return {"status": 1, "error": message}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def jsoc_info(params: Mapping[str, str], catalogue: Catalogue, *, max_list: int | None = None) -> dict:
    """Reply of ``jsoc_info`` for ``params`` (``op``, ``ds``, ``key``, ``seg``, ``link``, ``n``, ``R``).

    ``max_list`` caps the records one ``rs_list`` call may return (None: no cap); above it
    the reply is a status 1 error carrying JSOC's "too many records" text.
    """
    started = time.perf_counter()
    op = params.get("op", "")
    ds = params.get("ds", "")
    if not ds:
        return _error("jsoc_info: no ds given")
    try:
        if op == "series_struct":
            reply = series_struct(ds, catalogue)
        elif op == "rs_summary":
            reply = {"count": catalogue.count(ds)}
        elif op == "rs_list":
            reply = _rs_list(params, catalogue, max_list)
        else:
            return _error(f"jsoc_info: unknown op {op!r}")
    except TooManyRecords as err:
        return _error(f"Can not open RecordSet {err}.")
    except RecordSetError as err:
        if type(err).__name__ == "UnknownSeries":
            return _error(SERIES_NOT_FOUND if op == "rs_list" else SERIES_NOT_FOUND_SHORT)
        return _error(f"jsoc_info: {err}")
    reply["runtime"] = round(time.perf_counter() - started, 3)
    reply["status"] = 0
    return reply


# ------------------------------------------------------------------ series_struct


def series_struct(ds: str, catalogue: Catalogue) -> dict:
    """``op=series_struct`` body (without ``runtime``/``status``); raises `UnknownSeries`."""
    match = _NAME_RE.match(ds)
    sdef = catalogue.get_series(match.group(1) if match else ds)
    return {
        "note": sdef.note,
        "retention": sdef.retention,
        "stagingretention": sdef.stagingretention,
        "unitsize": sdef.unitsize,
        "archive": sdef.archive,
        "tapegroup": sdef.tapegroup,
        "primekeys": list(sdef.primekeys),
        "primekeysinfo": [_pkinfo(p) for p in sdef.primekeysinfo],
        "dbindex": list(sdef.dbindex),
        "keywords": [_keyword(k) for k in sdef.keywords],
        "segments": [_segment(s) for s in sdef.segments],
        "links": [{"name": x.name, "target": x.target, "kind": x.kind, "note": x.note} for x in sdef.links],
        "Interval": catalogue.interval(sdef.name),
    }


def _pkinfo(info) -> dict:
    if info.slotted:
        return {"name": info.name, "slotted": 1, "step": info.step_text or f"{info.step:.1f}"}
    return {"name": info.name, "slotted": 0}


def _keyword(kdef) -> dict:
    out = {
        "name": kdef.name,
        "type": kdef.type,
        "recscope": kdef.recscope,
        "defval": kdef.defval,
        "units": kdef.units,
        "note": kdef.note,
    }
    if kdef.linkinfo:
        out["linkinfo"] = kdef.linkinfo
    return out


def _segment(seg) -> dict:
    return {
        "name": seg.name,
        "type": seg.type,
        "units": seg.units,
        "protocol": seg.protocol,
        "dims": seg.dims,
        "note": seg.note,
    }


# ------------------------------------------------------------------ rs_list


def _rs_list(params: Mapping[str, str], catalogue: Catalogue, max_list: int | None) -> dict:
    keys, segs, links = _split(params.get("key")), _split(params.get("seg")), _split(params.get("link"))
    try:
        limit = int(params.get("n") or 0)
    except ValueError:
        limit = 0
    records = catalogue.query(params["ds"], limit=limit or None, max_records=max_list)
    if not len(records):
        return {"count": 0}
    sdef = records.series
    reply: dict = {}
    keywords = [_keyword_values(records, name, catalogue) for name in _expand_keys(keys, sdef)]
    segments = [_segment_values(records, name) for name in _expand_all(segs, [s.name for s in sdef.segments])]
    if params.get("R") in ("1", "true", "True"):
        reply["recinfo"] = _recinfo(records, segments)
    reply["keywords"] = keywords
    reply["segments"] = segments
    reply["links"] = [_link_values(records, name) for name in _expand_all(links, [x.name for x in sdef.links])]
    reply["count"] = len(records)
    return reply


def _recinfo(records: Records, segments: list[dict]) -> list[dict]:
    """``recinfo`` (``R=1``): a record's ``online`` is whether the path of the *last* listed
    segment the series has starts with ``/SUM``, so it is 0 when no segment is listed
    (``jsoc_info.c``: the per-record ``online = strncmp(path, "/SUM", 4) == 0``, set in the
    segment loop for existing segments only), as in the recorded reply of ``key=**ALL**&R=1``."""
    valid = [s["values"] for s in segments if records.series.segment(s["name"]) is not None]
    last = valid[-1] if valid else ["NoDataDirectory"] * len(records)
    return [
        {"name": records.record_spec(i), "online": int(str(last[i]).startswith("/SUM"))} for i in range(len(records))
    ]


def _expand_all(names: list[str], everything: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name == "**ALL**":
            out.extend(everything)
        elif name != "**NONE**":
            out.append(name)
    return out


def _expand_keys(names: list[str], sdef: SeriesDef) -> list[str]:
    """``**ALL**`` lists every keyword but the slot-index ones (``T_REC_index``), as recorded."""
    return _expand_all(names, [k.name for k in sdef.keywords if k.recscope != "index"])


def _keyword_values(records: Records, name: str, catalogue: Catalogue) -> dict:
    n = len(records)
    if name == "*recnum*":
        values: list = [int(r) for r in records.recnum]
    elif name == "*sunum*":
        index = catalogue.series_index(records.series.name)
        values = [index * 10**9 + int(r) // 100 for r in records.recnum]
    elif name == "*spec*":
        values = [records.record_spec(i) for i in range(n)]
    elif name == "*online*":  # the storage unit's online_status
        values = ["Y" if ok else "N" for ok in records.online]
    elif name in ("*retain*", "*archive*", "*size*", "*recdir*", "*logdir*", "*dirmtime*"):
        values = ["MISSING"] * n
    else:
        values = records.keyword_strings(name)
    return {"name": name, "values": values}


def _segment_values(records: Records, name: str) -> dict:
    """One ``segments`` entry of ``rs_list`` (``jsoc_info.c``, the non-FITS-names record loop):
    "InvalidSegName" (dims "NA") for a segment the series lacks or the ``{...}`` of ``ds``
    left out; "NoDataDirectory" for a record whose storage unit is not online; ``cparms``
    when the segment has them; ``bzeros``/``bscales`` only where the series has the
    ``<segment>_bzero``/``_bscale`` keywords (printed as keyword values, i.e. strings)."""
    n = len(records)
    seg = records.series.segment(name)
    chosen = records.segments is None or any(s.lower() == name.lower() for s in records.segments)
    if seg is None or not chosen:
        return {"name": name, "values": [INVALID_SEG] * n, "dims": ["NA"] * n}
    paths = records.sums_paths(seg.name)
    dims = ["NA" if p == "NoDataDirectory" else ("4096x4096" if seg.kind != "spikes" else "3x1000") for p in paths]
    out = {"name": seg.name, "values": paths, "dims": dims}
    target = records.link_target(seg.link).series.segment(seg.name) if seg.link else seg
    if target is not None and target.cparms:
        out["cparms"] = [target.cparms] * n
    for key, label in (("bzero", "bzeros"), ("bscale", "bscales")):
        if records.series.keyword(f"{seg.name}_{key}") is not None:
            out[label] = records.keyword_strings(f"{seg.name}_{key}")
    return out


def _link_values(records: Records, name: str) -> dict:
    n = len(records)
    ldef = next((x for x in records.series.links if x.name.lower() == name.lower()), None)
    if ldef is None:
        return {"name": name, "values": ["Invalid_Link"] * n}
    target = records.link_target(ldef.name)
    return {"name": ldef.name, "values": [target.record_spec(i) for i in range(n)]}


# ------------------------------------------------------------------ series lists


def _filtered(catalogue: Catalogue, pattern: str | None) -> list[SeriesDef]:
    defs = [catalogue.get_series(name) for name in catalogue.series_names()]
    if not pattern:
        return defs
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as err:
        raise ValueError(f"bad filter {pattern!r}: {err}") from None
    return [d for d in defs if regex.search(d.name)]


def show_series(params: Mapping[str, str], catalogue: Catalogue) -> dict:
    """``show_series`` reply: ``{"status":0,"names":[{"name","primekeys","note"}],"n":N}``."""
    try:
        defs = _filtered(catalogue, params.get("filter"))
    except ValueError as err:
        return {"status": 1, "errmsg": str(err)}
    names = [{"name": d.name, "primekeys": ", ".join(d.primekeys), "note": d.note} for d in defs]
    return {"status": 0, "names": names, "n": len(names)}


def showextseries(params: Mapping[str, str], catalogue: Catalogue) -> dict:
    """``showextseries`` reply: ``{"errMsg": ..., "seriesList": [...]}`` (with ``info=1`` each
    entry is ``{name: {"description": note}}``)."""
    try:
        defs = _filtered(catalogue, params.get("filter"))
    except ValueError as err:
        return {"errMsg": str(err), "seriesList": []}
    if params.get("info") in ("1", "true", "True"):
        return {"errMsg": None, "seriesList": [{d.name: {"description": d.note}} for d in defs]}
    return {"errMsg": None, "seriesList": [d.name for d in defs]}

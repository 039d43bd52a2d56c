"""
The metadata side of a search: from one checked query block to export plans and table rows.

Order of work (nothing is sent before the block passed ``_validation.check_block``):

1. an `ActiveRegion` is looked up in the NOAA series (``_noaa``);
2. the reference record nearest the reference time gives SDO's position and the geometry
   (``REFERENCE_KEYS``, asked only where the series has them: `_jsoc_info.JSOCInfo.series`);
3. ``_plan.plan_block`` makes the export requests and gives the box as they send it;
4. each request's records are listed with only the keywords a row needs (``ROW_KEYS``), paged
   so that no ``jsoc_info`` call returns more than ``page_size`` records; ``aia.lev1``/``hmi.lev1``
   cadence selection is replayed (``_frames``) so that the rows are the frames JSOC will export.
"""

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy import log

from ._jsoc.info import JSOCInfo, SeriesNotFoundError, int_keyword, is_absent
from ._plan import frames as _frames
from ._plan import names as _names
from ._plan.coords import ImPatchLocation, parse_drms_time, parse_drms_times
from ._plan.limit import limit_records
from ._plan.noaa import check_region_epoch, noaa_query, resolve_active_region
from ._plan.plans import ExportPlan, distinct_plans, plan_block, reference_time
from ._plan.process import im_patch_time
from ._plan.recordset import drms_time, resolve_cadence
from ._plan.series_rules import SeriesRules
from ._plan.split import JobCosts, split_job
from ._query.box import NOAA_SERIES, NOAA_SERIES_INTERNAL
from .attrs import ActiveRegion, Tracking
from .config import conf_value
from .exceptions import CutoutQueryError

__all__ = ["REFERENCE_KEYS", "ROW_KEYS", "SearchedRequest", "list_records", "search_block", "split_for_jsoc"]

#: Keywords of the reference record; each series is asked only for those it has.
REFERENCE_KEYS = (
    "T_REC", "T_OBS", "QUALITY", "HGLN_OBS", "HGLT_OBS", "DSUN_OBS", "CRLN_OBS", "CRLT_OBS", "CAR_ROT",
    "CDELT1", "CRPIX1", "CRPIX2", "CROTA2", "RSUN_REF", "RSUN_OBS", "CALVER64", "CALVER32", "WAVELNTH",
)  # fmt: skip
#: Keywords of every row (the prime keys ``FSN``/``CAMERA`` give each row its record's identity).
ROW_KEYS = (
    "*recnum*", "T_REC", "FSN", "CAMERA", "T_OBS", "QUALITY", "WAVELNTH", "INSTRUME", "CDELT1", "CRLN_OBS",
    "CRLT_OBS", "CRPIX1", "CRPIX2", "CROTA2", "DSUN_OBS", "RSUN_REF", "CALVER64", "CALVER32",
)  # fmt: skip
#: A missing ``QUALITY`` reads as 0x80000000, the "no image" value (``drms.image_exists``).
_QUALITY_MISSING = -(1 << 31)
_FLOAT_KEYS = ("HGLN_OBS", "HGLT_OBS", "DSUN_OBS", "CRLN_OBS", "CRLT_OBS", "CDELT1", "CRPIX1", "CRPIX2", "CROTA2")
_FLOAT_KEYS += ("RSUN_REF", "RSUN_OBS", "WAVELNTH")
_TIME_RANGE = re.compile(r"^(?P<series>[^\[]+)\[(?P<start>[^\]\-@]+?)-(?P<end>[^\]@]+?)(?P<at>@[^\]]+)?\](?P<rest>.*)$")


@dataclass
class SearchedRequest:
    """One planned export request with its rows (numpy columns) and the resolved location."""

    plan: ExportPlan
    location: ImPatchLocation
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    #: ``(index, count)`` when the plan was split into ``count`` pieces by ``_split``.
    part: tuple[int, int] | None = None
    #: The series' rules (record limit, sparse lev1 slots).
    rules: SeriesRules | None = None
    #: ``aia.lev1``/``hmi.lev1`` with a cadence: the rows of a piece ``(t_first, t_end)`` as im_patch
    #: will select them (its slot grid starts at each request's own first good record).
    replay: Callable[[Time, Time | None], dict[str, np.ndarray]] | None = None


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def calver_of(columns: dict, n: int) -> np.ndarray:
    """
    The calibration version im_patch reads, per record (``get_new_CRLN_OBS``): ``CALVER64`` where
    the series has it and the value is not negative, else ``CALVER32``; ``-1`` for neither.
    """
    out = np.full(n, -1, dtype=np.int64)
    for key, bits in (("CALVER32", 32), ("CALVER64", 64)):  # the later one wins where it is usable
        if key in columns and len(columns[key]):
            values = np.array([int_keyword(v, -1, bits=bits) for v in columns[key]], dtype=np.int64)
            out = np.where(values >= 0, values, out)
    return out


def times_or(values, fallback) -> Time:
    """JSOC times, absent ones (``MISSING``, the -4712 default) replaced by ``fallback``'s strings."""
    return parse_drms_times([f if is_absent(v) else v for v, f in zip(values, fallback, strict=True)])


def _reference_keywords(info: JSOCInfo, rules: SeriesRules, t_ref: Time, wavelength: int | None) -> dict:
    """Keywords of the good record nearest ``t_ref`` (searching up to about 2 h either side, like im_patch)."""
    keys = info.series(rules.name).present(REFERENCE_KEYS)
    conditions = ["QUALITY >= 0"]
    prime = ""
    if wavelength is not None and rules.wavelength_is_prime_key:
        prime = f"[{wavelength}]"
    elif wavelength is not None:
        conditions.insert(0, f"WAVELNTH={wavelength}")
    half = 60.0
    while half <= 7680.0:
        lo, hi = (t_ref + s * half * u.s for s in (-1, 1))
        ds = f"{rules.name}[{drms_time(lo)}-{drms_time(hi)}]{prime}[? {' AND '.join(conditions)} ?]"
        columns = info.rs_list(ds, keys)
        count = columns.pop("_count")[0]
        if count:
            times = times_or(columns["T_OBS"], columns["T_REC"])
            best = int(np.argmin(np.abs((times - t_ref).to_value(u.s))))
            keywords = {k: v[best] for k, v in columns.items() if v and not is_absent(v[best])}
            keywords["T_OBS"] = times[best].isot
            for key in _FLOAT_KEYS:
                if key in keywords:
                    keywords[key] = _float(keywords[key])
            keywords["CALVER"] = int(calver_of(columns, count)[best])
            return keywords
        half *= 2
    msg = f"{rules.name} has no good record within 2 hours of the reference time {t_ref.isot}; choose another time."
    raise CutoutQueryError(msg)


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


def _pages(info: JSOCInfo, ds: str, page_size: int) -> list[str]:
    """Split a time-range record set into pieces of at most about ``page_size`` records."""
    match = _TIME_RANGE.match(ds)
    if match is None:
        return [ds]
    count = info.count(ds)
    if count <= page_size:
        return [ds]
    start, end = parse_drms_time(match["start"]), parse_drms_time(match["end"])
    at = match["at"] or ""
    cadence = float(at[1:-1]) if at.endswith("s") else None
    edges = page_edges(start, end, math.ceil(count / page_size) + 1, cadence)
    return [
        f"{match['series']}[{drms_time(a)}-{drms_time(b)}{at}]{match['rest']}" for a, b in itertools.pairwise(edges)
    ]


def list_records(
    info: JSOCInfo, ds: str, segment: str | None, page_size: int, keys: tuple[str, ...] = ROW_KEYS
) -> dict[str, np.ndarray]:
    """Keywords ``keys`` of every record of ``ds`` (paged; duplicates at page edges dropped)."""
    segs = (segment,) if segment else ()
    merged: dict[str, list] = {}
    for piece in _pages(info, ds, page_size):
        columns = info.rs_list(piece, keys, segs)
        columns.pop("_count")
        for key, values in columns.items():
            merged.setdefault(key, []).extend(values)
    if not merged.get("*recnum*"):
        return {}
    recnum = np.asarray(merged["*recnum*"], dtype=np.int64)
    _, first = np.unique(recnum, return_index=True)
    keep = np.sort(first)
    return {key: np.asarray(values, dtype=object)[keep] for key, values in merged.items()}


def _lev1_cadence(ds: str) -> str:
    """The record set without ``@`` (listed whole; the cadence is applied like im_patch)."""
    return re.sub(r"@[^\]]+", "", ds, count=1)


def _rows(info, request: SearchedRequest, rules, block, segment, page_size) -> None:
    plan = request.plan
    cadence = resolve_cadence(rules, block["sample"]) if "sample" in block and rules.lev1 else None
    keys = _names.listed_keys(info.series(rules.name), ROW_KEYS, block, rules)  # and what file names need
    cols = list_records(info, _lev1_cadence(plan.ds) if cadence else plan.ds, segment, page_size, keys)
    if not cols:
        return
    if cadence is None:
        request.columns = _derive(cols, request.location, rules, block, segment)
        return
    # jsoc_fetch adds [? drms.image_exists(quality) ?] to the record set im_patch gets, so its slot
    # grid starts at the first good record of each request (get_input_recset; docs/dev_guide/jsoc_fidelity.rst).
    quality = np.array([int_keyword(q, _QUALITY_MISSING) for q in cols["QUALITY"]], dtype=np.int64)
    frames = {k: v[quality >= 0] for k, v in cols.items()}
    t_frames = parse_drms_times(frames["T_REC"])

    def replay(first: Time | None = None, end: Time | None = None) -> dict[str, np.ndarray]:
        inside = np.ones(len(t_frames), dtype=bool)
        if first is not None:
            inside &= (t_frames >= first).astype(bool)
        if end is not None:
            inside &= (t_frames < end).astype(bool)
        index = np.flatnonzero(inside)
        # JSOC's times are whole milliseconds at most: round away astropy's two-part float error so
        # that a tie between two frames equally far from a slot goes to the later one, as in im_patch.
        times = np.round((t_frames[index] - t_frames[index[0]]).to_value(u.s), 3) if len(index) else np.array([])
        keep = index[_frames.select_lev1_frames(times, np.zeros(len(index)), cadence.seconds)]
        return _derive({k: v[keep] for k, v in frames.items()}, request.location, rules, block, segment)

    request.replay = replay
    request.columns = replay()


def _derive(cols: dict, location: ImPatchLocation, rules, block, segment) -> dict[str, np.ndarray]:
    """A request's row columns from the listed keywords of the records it will export."""
    quality = np.array([int_keyword(q, _QUALITY_MISSING) for q in cols["QUALITY"]], dtype=np.int64)
    t_rec = parse_drms_times(cols["T_REC"])
    kw = {k: np.array([_float(v) for v in cols[k]]) for k in _FLOAT_KEYS if k in cols}
    kw["CALVER"] = calver_of(cols, len(quality))
    rsun_ref = np.nan_to_num(kw.get("RSUN_REF", np.full(len(quality), np.nan)), nan=6.96e8)
    rsun = np.rad2deg(np.arcsin(rsun_ref / kw["DSUN_OBS"])) * 3600
    rebin = block.get("rebin")
    pixels = _frames.cutout_pixels(location, kw["CDELT1"], rsun, rebin.scale if rebin is not None else None)
    nx = _frames.box_pixels(location.boxunits, location.width, kw["CDELT1"], rsun)
    ny = _frames.box_pixels(location.boxunits, location.height, kw["CDELT1"], rsun)
    # jsoc_info answers NoDataDirectory both for a record without an image and for one whose storage
    # unit is offline on tape (jsoc_info.c); a good QUALITY (drms.image_exists, which jsoc_fetch
    # adds to every export) says the image exists, so JSOC will stage it and a file will come.
    online = np.array([p != "NoDataDirectory" for p in cols.get(f"segment:{segment}", ["?"] * len(quality))])
    has_image = online | (quality >= 0) if "QUALITY" in cols else online
    centre = None
    tracking = block.get("tracking") or Tracking(True)
    if tracking.enabled and location.carrington is not None:
        x, y, _ = _frames.tracked_centre(location.carrington, kw)
        centre = (x, y)
    elif location.locunits == "pixels":
        centre = (location.x - 1, location.y - 1)
    reasons = _frames.skip_reasons(quality, has_image, centre=centre, size=(nx, ny), shape=rules.shape)
    columns = {
        "T_REC": t_rec,
        "T_OBS": times_or(cols["T_OBS"], cols["T_REC"]),
        "WAVELNTH": kw["WAVELNTH"],
        "INSTRUME": np.asarray(cols.get("INSTRUME", [""] * len(quality)), dtype=str),
        "QUALITY": quality,
        "Skip": np.asarray(reasons, dtype=str),
        "bytes": np.where(reasons == "", _frames.estimate_bytes(pixels), 0),
        "recnum": np.asarray(cols["*recnum*"], dtype=np.int64),
        "Online": online,
    }
    for key in ("FSN", "CAMERA"):
        if key in cols:
            columns[key] = np.array([int_keyword(v, -1) for v in cols[key]], dtype=np.int64)
    return {**columns, **_names.raw_keywords(cols, block, rules, segment)}


def cover_rows(plan: ExportPlan, columns: dict) -> ExportPlan:
    """
    Widen im_patch's ``t_start``/``t_stop`` to the listed rows.

    A slotted record set can hold a slot whose ``T_REC`` (or ``T_OBS``) lies just past the end
    of ``a.Time`` (AIA slots are labelled a second after the minute); im_patch skips records
    outside ``t_start``-``t_stop``, so without this the search would list a file that never comes.
    """
    if not columns or "t_stop=" not in plan.process:
        return plan
    times = Time([columns["T_REC"].min(), columns["T_REC"].max(), columns["T_OBS"].min(), columns["T_OBS"].max()])
    first, last = times.min(), times.max()
    process = plan.process

    def widen(key: str, when: Time, earlier: bool) -> None:
        nonlocal process
        match = re.search(rf"{key}=([0-9T:.\-]+)", process)
        if match and match.group(1) != "NotSpecified":
            current = Time(match.group(1), scale="utc")
            if (when < current) if earlier else (when > current):
                padded = when - 1 * u.s if earlier else when + 1 * u.s
                process = process.replace(match.group(0), f"{key}={im_patch_time(padded)}")

    widen("t_start", first, earlier=True)
    widen("t_stop", last, earlier=False)
    return replace(plan, process=process)


def record_limit(rules: SeriesRules) -> int:
    """Most records in one request of the series (``conf.record_limit_aia``/``record_limit_hmi``)."""
    return conf_value("record_limit_hmi" if rules.instrument == "HMI" else "record_limit_aia")


def split_for_jsoc(requests: list[SearchedRequest]) -> list[SearchedRequest]:
    """
    Split the job's requests for JSOC's limits and for pipelining (``_split``; costs from ``conf``),
    apply the record limit to the whole query (`_limit.limit_records`), predict the file names on
    the user's format (`_names.name_rows`), then make the requests distinct for JSOC's duplicate rule
    (`_plan.distinct_plans`, which may write the wavelength into ``filenamefmt`` as a literal).
    """
    costs = JobCosts(*(conf_value(name) for name in ("staging_per_record", "download_rate", "request_overhead")))
    pieces = split_job(
        requests,
        lambda r: record_limit(r.rules),
        costs,
        conf_value("request_byte_limit"),
        sparse=lambda r: r.rules.lev1,
    )
    pieces = _names.name_rows(limit_records(_replay_pieces(pieces)))
    plans = distinct_plans([piece.plan for piece in pieces])
    return [replace(piece, plan=plan) for piece, plan in zip(pieces, plans, strict=True)]


def _replay_pieces(pieces: list[SearchedRequest]) -> list[SearchedRequest]:
    """
    The rows of each piece of a split ``aia.lev1``/``hmi.lev1`` cadence request as im_patch will pick
    them: each piece's slot grid starts at its own first frame, not on the whole request's grid.
    """
    out = []
    for k, piece in enumerate(pieces):
        if piece.replay is None or piece.part is None or not len(piece.columns.get("T_REC", [])):
            out.append(piece)
            continue
        number, count = piece.part
        end = pieces[k + 1].columns["T_REC"][0] if number + 1 < count else None
        out.append(replace(piece, columns=piece.replay(piece.columns["T_REC"][0], end)))
    return out


def search_block(info: JSOCInfo, block: dict, rules: list[SeriesRules], *, page_size: int = 20000, noaa_series=None):
    """
    Plan the exports of one checked block and list the records each will export.

    Returns
    -------
    list of SearchedRequest
    """
    out = []
    box, t_noaa, noaa_rows = block["boxes"][0], None, None
    if isinstance(box, ActiveRegion):
        noaa_rows = _noaa_rows(info, box, noaa_series)
        check_region_epoch(box, noaa_rows, block)  # before any record of the series is asked for
        box, t_noaa = resolve_active_region(block["boxes"][0], noaa_rows)
    tracking = block.get("tracking") or Tracking(True)
    for rule in rules:
        waves = block.get("wavelengths") or ([block["wavelength"]] if "wavelength" in block else [None])
        t_ref = reference_time(block, box, tracking, t_noaa)
        keywords = _reference_keywords(info, rule, t_ref, waves[0] if rule.is_aia else None)
        if t_noaa is not None:
            box, _ = resolve_active_region(block["boxes"][0], noaa_rows, keywords)
        location, plans = plan_block(block, rule, keywords, box=box, t_ref=t_noaa)
        segment = (block.get("segments") or [None])[0] or info.series(rule.name).image_segment
        for plan in plans:
            request = SearchedRequest(plan, location)
            _rows(info, request, rule, block, segment, page_size)
            request.plan = cover_rows(request.plan, request.columns)
            log.debug("%s: %s records", plan.ds, len(request.columns.get("T_REC", [])))
            request.rules = rule
            out.append(request)
    return out


def _noaa_rows(info: JSOCInfo, region: ActiveRegion, noaa_series: str | None) -> list[dict]:
    """
    The region's NOAA records: from ``noaa_series`` (``conf.noaa_series``) for a region of the
    default series, else from the region's own; ``su_rsb.NOAA_ActiveRegions`` where the public copy
    ``jsoc.noaa_active_regions`` does not exist on the server.
    """
    series = noaa_series if noaa_series and region.series == NOAA_SERIES else region.series
    candidates = [series] + ([NOAA_SERIES_INTERNAL] if series.lower() == NOAA_SERIES else [])
    for k, name in enumerate(candidates):
        try:
            query = noaa_query(region, name)
            rows = info.rs_list(query["ds"], query["key"].split(","))
        except SeriesNotFoundError:
            if k + 1 == len(candidates):
                raise
            log.debug("%s is not served here; asking %s", name, candidates[k + 1])
            continue
        count = rows.pop("_count")[0]
        if count or k + 1 == len(candidates):
            return [dict(zip(rows, values)) for values in zip(*rows.values())] if count else []
    return []

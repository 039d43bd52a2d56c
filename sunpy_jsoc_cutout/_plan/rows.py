"""
The rows of a search: from the keywords ``jsoc_info`` lists to one row per record an export
will turn into a file (or skip), and the reference record's keywords (pure).

`SearchedRequest` is one planned export request with its rows (numpy columns); `derive_rows`
computes them (sizes, skip reasons, the tracked centre per record); `cover_rows` widens
im_patch's ``t_start``/``t_stop`` to the rows; `pick_reference` picks the reference record.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy_jsoc_cutout._query.query import CutoutQuery
from . import frames as _frames
from . import names as _names
from .coords import ImPatchLocation
from .jsoc_text import absent_mask, int_keyword, is_absent, parse_drms_times
from .plans import ExportPlan
from .process import Process
from .series_rules import SeriesRules

__all__ = [
    "QUALITY_MISSING",
    "REFERENCE_KEYS",
    "ROW_KEYS",
    "TRACKING_KEYS",
    "SearchedRequest",
    "calver_of",
    "concat_rows",
    "cover_rows",
    "derive_rows",
    "pick_reference",
    "quality_of",
    "row_keys",
    "stack_rows",
    "times_or",
]

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
#: Keywords only a tracked Carrington box needs (`~._plan.frames.tracked_centre`: the disk's centre,
#: roll and apparent radius, the calibration version of ``get_new_CRLN_OBS``): an untracked box is cut
#: at the same pixels in every record, and its size needs only ``CDELT1`` (arcsec or pixels are sent).
TRACKING_KEYS = ("CRLN_OBS", "CRLT_OBS", "CRPIX1", "CRPIX2", "CROTA2", "DSUN_OBS", "RSUN_REF", "CALVER64", "CALVER32")
#: A missing ``QUALITY`` reads as 0x80000000, the "no image" value (``drms.image_exists``).
QUALITY_MISSING = -(1 << 31)
_FLOAT_KEYS = (
    "HGLN_OBS", "HGLT_OBS", "DSUN_OBS", "CRLN_OBS", "CRLT_OBS", "CDELT1", "CRPIX1", "CRPIX2", "CROTA2",
    "RSUN_REF", "RSUN_OBS", "WAVELNTH",
)  # fmt: skip

#: Rows of a piece ``(t_first, t_end)`` of a request, as im_patch will select them.
Replay = Callable[[Time | None, Time | None], dict[str, np.ndarray]]


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
    #: will select them (its slot grid starts at each request's own first good record; `_plan.cadence`).
    replay: Replay | None = None


def tracks(location: ImPatchLocation, block: CutoutQuery) -> bool:
    """Whether the rows follow a Carrington point from record to record (`derive_rows`'s tracked centre)."""
    return bool(block.tracking.enabled and location.carrington is not None)


def row_keys(location: ImPatchLocation, block: CutoutQuery) -> tuple[str, ...]:
    """The `ROW_KEYS` the rows of ``block`` need: without tracking, none of `TRACKING_KEYS`."""
    return ROW_KEYS if tracks(location, block) else tuple(k for k in ROW_KEYS if k not in TRACKING_KEYS)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def floats_of(values: Sequence[Any]) -> np.ndarray:
    """
    Floats of a listed keyword (absent or unparsable values as NaN): numpy parses the whole
    column at once; a column holding ``MISSING`` or other text is read value by value.
    """
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return np.array([_float(v) for v in values], dtype=float)


def ints_of(values: Sequence[Any], default: int, bits: int = 32) -> np.ndarray:
    """`~.jsoc_text.int_keyword` of every value, each distinct string read once (``QUALITY``, ``CAMERA``...)."""
    if bits < 64 and len(values) and not str(values[0]).strip().lower().startswith("0x"):
        try:  # a column of decimal integers (FSN, CAMERA...): numpy reads it at once
            numbers = np.asarray(values, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            pass
        else:
            top = 1 << (bits - 1)
            return np.where((numbers >= top) & (numbers < 2 * top), numbers - 2 * top, numbers)
    seen: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for k, value in enumerate(values):
        number = seen.get(value)
        if number is None:
            number = int_keyword(value, default, bits=bits)
            seen[value] = number = default if number is None else number
        out[k] = number
    return out


def quality_of(values: Sequence[Any]) -> np.ndarray:
    """Signed ``QUALITY`` per record (a missing one reads as `QUALITY_MISSING`)."""
    return ints_of(values, QUALITY_MISSING)


def calver_of(columns: Mapping[str, Sequence[Any]], n: int) -> np.ndarray:
    """
    The calibration version im_patch reads, per record (``get_new_CRLN_OBS``): ``CALVER64`` where
    the series has it and the value is not negative, else ``CALVER32``; ``-1`` for neither.
    """
    out = np.full(n, -1, dtype=np.int64)
    for key, bits in (("CALVER32", 32), ("CALVER64", 64)):  # the later one wins where it is usable
        if key in columns and len(columns[key]):
            values = ints_of(columns[key], -1, bits=bits)
            out = np.where(values >= 0, values, out)
    return out


def times_or(values: Sequence[Any], fallback: Sequence[Any]) -> Time:
    """JSOC times, absent ones (``MISSING``, the -4712 default) replaced by ``fallback``'s strings."""
    texts = np.asarray(values, dtype=object)
    absent = absent_mask(texts)
    if absent.any():
        texts = np.where(absent, np.asarray(fallback, dtype=object), texts)
    return parse_drms_times(texts)


def pick_reference(columns: Mapping[str, list], t_ref: Time) -> dict[str, Any]:
    """
    The keywords of the listed record nearest ``t_ref`` (``T_OBS``, else ``T_REC``): absent values
    dropped, numbers as floats, ``T_OBS`` in ISO and ``CALVER`` (`calver_of`).
    """
    times = times_or(columns["T_OBS"], columns["T_REC"])
    best = int(np.argmin(np.abs((times - t_ref).to_value(u.s))))
    keywords = {k: v[best] for k, v in columns.items() if v and not is_absent(v[best])}
    keywords["T_OBS"] = times[best].isot
    for key in _FLOAT_KEYS:
        if key in keywords:
            keywords[key] = _float(keywords[key])
    keywords["CALVER"] = int(calver_of(columns, len(times))[best])
    return keywords


def _rsun_arcsec(kw: Mapping[str, np.ndarray], n: int) -> np.ndarray | float:
    """
    The solar radius seen from SDO per record, where ``DSUN_OBS`` was listed (a tracked box); else
    the nominal 960", which sizes nothing: boxes are sent in arcsec or pixels (`~._plan.frames.box_pixels`).
    """
    if "DSUN_OBS" not in kw:
        return 960.0
    rsun_ref = np.nan_to_num(kw.get("RSUN_REF", np.full(n, np.nan)), nan=6.96e8)
    return np.rad2deg(np.arcsin(rsun_ref / kw["DSUN_OBS"])) * 3600


def derive_rows(
    cols: Mapping[str, Any],
    *,
    location: ImPatchLocation,
    rules: SeriesRules,
    block: CutoutQuery,
    segment: str | None,
) -> dict[str, np.ndarray]:
    """A request's row columns from the listed keywords of the records it will export."""
    quality = quality_of(cols["QUALITY"])
    t_rec = parse_drms_times(cols["T_REC"])
    kw = {k: floats_of(cols[k]) for k in _FLOAT_KEYS if k in cols}
    kw["CALVER"] = calver_of(cols, len(quality))
    rsun = _rsun_arcsec(kw, len(quality))
    # a Resize to a plate scale runs before im_patch: the box is cut from pixels of that scale
    cdelt = kw["CDELT1"] if block.resize_scale is None else np.full(len(quality), block.resize_scale)
    pixels = _frames.cutout_pixels(location, cdelt, rsun, block.rebin_scale)
    if block.map_projection is not None:  # Maproj (after im_patch) writes cols x rows whatever the box
        pixels = _frames.map_pixels(
            block.map_projection.cols, block.map_projection.rows, block.rebin_scale, len(quality)
        )
    nx = _frames.box_pixels(location.boxunits, location.width, cdelt, rsun)
    ny = _frames.box_pixels(location.boxunits, location.height, cdelt, rsun)
    # jsoc_info answers NoDataDirectory both for a record without an image and for one whose storage
    # unit is offline on tape (jsoc_info.c); a good QUALITY (drms.image_exists, which jsoc_fetch
    # adds to every export) says the image exists, so JSOC will stage it and a file will come.
    online = np.array([p != "NoDataDirectory" for p in cols.get(f"segment:{segment}", ["?"] * len(quality))])
    has_image = online | (quality >= 0) if "QUALITY" in cols else online
    centre = None
    if tracks(location, block) and location.carrington is not None:
        x, y, _ = _frames.tracked_centre(location.carrington, kw)
        centre = (x, y)
    elif location.locunits == "pixels":
        centre = (np.asarray(location.x - 1), np.asarray(location.y - 1))
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
            columns[key] = ints_of(cols[key], -1)
    return {**columns, **_names.raw_keywords(dict(cols), block, rules, segment)}


def _stack(parts: list) -> Any:
    """One row column from its pages' parts (times joined without formatting and re-parsing strings)."""
    if isinstance(parts[0], Time):
        first = parts[0]
        joined = Time(
            np.concatenate([t.jd1 for t in parts]),
            np.concatenate([t.jd2 for t in parts]),
            format="jd",
            scale=first.scale,
            precision=first.precision,
        )
        return joined.copy(format=first.format)
    return np.concatenate(parts)


def concat_rows(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Row columns of several parts of one request, one after the other (the first part's columns)."""
    if len(parts) == 1:
        return dict(parts[0])
    return {key: _stack([part[key] for part in parts]) for key in parts[0]}


def stack_rows(pages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """
    The rows of pages of one request (`derive_rows` of each page) as one set of columns, a record
    listed on two pages (at their shared edge) kept once, where it first comes. The pages are used
    up (their columns taken out).
    """
    pages = [page for page in pages if len(page.get("recnum", ()))]
    if not pages:
        return {}
    # column by column, each page's part let go once joined (a search of 100,000 rows holds one copy)
    columns = {key: _stack([page.pop(key) for page in pages]) for key in list(pages[0])}
    _, first = np.unique(np.asarray(columns["recnum"], dtype=np.int64), return_index=True)
    if len(first) == len(columns["recnum"]):
        return columns
    keep = np.sort(first)
    return {key: values[keep] for key, values in columns.items()}


def cover_rows(plan: ExportPlan, columns: Mapping[str, Any]) -> ExportPlan:
    """
    Widen im_patch's ``t_start``/``t_stop`` to the listed rows.

    A slotted record set can hold a slot whose ``T_REC`` (or ``T_OBS``) lies just past the end
    of ``a.Time`` (AIA slots are labelled a second after the minute); im_patch skips records
    outside ``t_start``-``t_stop``, so without this the search would list a file that never comes.
    """
    process = plan.processing
    step = process.im_patch if isinstance(process, Process) else None
    if not columns or not isinstance(process, Process) or step is None or step.t_stop is None:
        return plan
    times = Time([columns["T_REC"].min(), columns["T_REC"].max(), columns["T_OBS"].min(), columns["T_OBS"].max()])
    first, last = times.min(), times.max()
    t_start, t_stop = step.t_start, step.t_stop
    if t_start is not None and first < t_start:
        t_start = first - 1 * u.s
    if last > t_stop:
        t_stop = last + 1 * u.s
    if t_start is step.t_start and t_stop is step.t_stop:
        return plan
    return replace(plan, processing=process.with_im_patch(replace(step, t_start=t_start, t_stop=t_stop)))

"""
Resolving a NOAA active region the way the JSOC export page does (pure).

The page (``processing.js`` ``ImPatchGetNoaa``) asks ``jsoc_info?op=rs_list`` for
``su_rsb.NOAA_ActiveRegions[][<number>]`` with keys ``ObservationTime,LatitudeHG,LongitudeCM``
and keeps the record nearest central meridian (smallest ``|LongitudeCM|``): ``LongitudeCM`` and
``LatitudeHG`` give a Stonyhurst centre (``locunits=stony``), ``ObservationTime`` the reference time.
``LongitudeCM`` is measured from Earth's central meridian; it is shifted to SDO's (minus SDO's
Stonyhurst longitude, `_coords.sdo_observer`) because im_patch adds ``x`` to SDO's ``CRLN_OBS``.
"""

import astropy.units as u
from astropy.time import Time

from sunpy_jsoc_cutout._query.box import ActiveRegion, Box
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, UnknownActiveRegionError
from .checks import block_time_range
from .coords import sdo_observer
from .jsoc_text import parse_drms_time

__all__ = ["EPOCH_GAP", "NOAA_KEYS", "check_region_epoch", "noaa_query", "resolve_active_region"]

NOAA_KEYS = ("ObservationTime", "LatitudeHG", "LongitudeCM")
#: Most time between a region's NOAA records and the time range: about half a rotation, the
#: longest a region spends on the far side before it would come back under a new number.
EPOCH_GAP = 14 * u.day


def noaa_query(region: ActiveRegion, series: str | None = None) -> dict:
    """The ``jsoc_info`` parameters that look the region up (in ``series``, default the region's)."""
    return {"op": "rs_list", "ds": region.lookup_in(series or region.series), "key": ",".join(NOAA_KEYS)}


def resolve_active_region(region: ActiveRegion, rows: list[dict], keywords: dict | None = None) -> tuple[Box, Time]:
    """
    A Stonyhurst `Box` and the reference time for ``region``, from the ``rs_list`` rows.

    Parameters
    ----------
    region : `~sunpy_jsoc_cutout.attrs.ActiveRegion`
        The region.
    rows : list of dict
        One dict per record with the keys of `NOAA_KEYS` (values as JSOC returns them).
    keywords : dict, optional
        The reference record's keywords; SDO's Stonyhurst longitude shifts the longitude to SDO's meridian.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.UnknownActiveRegionError
        When no usable record exists.
    """
    usable = []
    for row in rows:
        try:
            usable.append((abs(float(row["LongitudeCM"])), row))
        except (KeyError, TypeError, ValueError):
            continue
    if not usable:
        msg = (
            f"NOAA active region {region.number} is not in {region.series}; check the number (numbers below "
            "7000 get 10000 added) or give the box centre as a coordinate with a.jsoc_cutout.Box."
        )
        raise UnknownActiveRegionError(msg)
    _, best = min(usable, key=lambda pair: pair[0])
    x = float(best["LongitudeCM"]) - (float(sdo_observer(keywords).lon.to_value(u.deg)) if keywords else 0.0)
    box = Box.stonyhurst(x * u.deg, float(best["LatitudeHG"]) * u.deg, region.width, region.height)
    return box, parse_drms_time(best["ObservationTime"])


def check_region_epoch(region: ActiveRegion, rows: list[dict], block: CutoutQuery) -> None:
    """
    Refuse a region whose NOAA records are more than `EPOCH_GAP` from the block's time range.

    The region's position is taken from its record nearest central meridian; for a time range of
    another epoch (11158 with a 2014 range) the box would be put where the region was then.

    Parameters
    ----------
    region : `~sunpy_jsoc_cutout.attrs.ActiveRegion`
        The region.
    rows : list of dict
        Its ``rs_list`` rows (`NOAA_KEYS`).
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        The walked block (``a.Time`` or `Tracking` times); limb-to-limb runs are not checked.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        Saying when the region was observed and what to change.
    """
    span = block_time_range(block)
    times = []
    for row in rows:
        try:
            times.append(parse_drms_time(row["ObservationTime"]))
        except (KeyError, TypeError, ValueError):
            continue
    if span is None or not times:
        return
    first, last = min(times), max(times)
    start, stop = span
    gap = max((start - last).to(u.day), (first - stop).to(u.day), 0 * u.day)
    if gap <= EPOCH_GAP:
        return
    seen = f"{first.utc.isot[:10]} to {last.utc.isot[:10]}"
    msg = (
        f"NOAA active region {region.number} was observed from {seen} ({region.series}), {gap.to_value(u.day):.0f} "
        f"days from the time range ({start.utc.isot[:16]} to {stop.utc.isot[:16]}): it is not on the disk then, and "
        "the box would be put where it was in its own epoch. Check the region number (numbers below 7000 get 10000 "
        f"added), give a time range within its disk passage (a.Time('{first.utc.isot[:10]}', "
        f"'{last.utc.isot[:10]}')), or give the box centre as a coordinate with a.jsoc_cutout.Box."
    )
    raise CutoutQueryError(msg)

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

from ._attrs_box import ActiveRegion, Box
from ._coords import parse_drms_time, sdo_observer
from .exceptions import UnknownActiveRegionError

__all__ = ["NOAA_KEYS", "noaa_query", "resolve_active_region"]

NOAA_KEYS = ("ObservationTime", "LatitudeHG", "LongitudeCM")


def noaa_query(region: ActiveRegion) -> dict:
    """The ``jsoc_info`` parameters that look the region up."""
    return {"op": "rs_list", "ds": region.lookup_recordset, "key": ",".join(NOAA_KEYS)}


def resolve_active_region(region: ActiveRegion, rows: list[dict], keywords: dict = None) -> tuple[Box, Time]:
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

"""
What a ``MapProjection`` query must satisfy before anything is sent (pure, no I/O).

maproj (``lm-jps/proj:util/apps/export_as_maproj.c``) keeps its map on a fixed Carrington point
and blanks what is behind the limb (``perform_mapping``); it writes a WCS header whose ``CRVAL2``
is the centre latitude for every projection, though for ``carree`` it only shifts the map by
that latitude (``plane2sphere``, L214-216) and for ``sineqa`` writes the AIPS code ``GLS``,
which WCS readers take as a shift too: for those two the header describes the pixels only at
latitude 0. ``CAS`` (Cassini) is no WCS projection at all (maproj's own comment, L69-72).
"""

import numpy as np

import astropy.units as u

from sunpy.coordinates import sun
from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout._query.projection import MapProjection
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

__all__ = ["UNTRACKED_SPAN", "check_map_projection"]

#: The longest time range an untracked box may cover under a map: the Sun turns 0.55 deg an hour.
UNTRACKED_SPAN = 1 * u.h


def _far_side_always(projection: MapProjection, start, stop) -> bool:
    """Whether the map centre is behind the limb (seen from Earth) all through ``start``-``stop``."""
    steps = int(np.clip((stop - start).to_value(u.h), 1, 99)) + 1
    times = start + np.linspace(0, 1, steps) * (stop - start)
    dlon = np.deg2rad(projection.lon - sun.L0(times).to_value(u.deg))
    b0, lat = np.deg2rad(sun.B0(times).to_value(u.deg)), np.deg2rad(projection.lat)
    return bool(np.all(np.sin(lat) * np.sin(b0) + np.cos(lat) * np.cos(b0) * np.cos(dlon) < 0))


def check_map_projection(block: CutoutQuery, span) -> None:
    """
    Refuse what cannot give a map; warn where JSOC's header will not describe it.

    Parameters
    ----------
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        A walked block with ``map_projection`` set.
    span : tuple of `~astropy.time.Time` or None
        The block's time range (`None` for limb-to-limb tracking).

    Raises
    ------
    CutoutQueryError
        For an untracked box over more than `UNTRACKED_SPAN` (the map follows the Carrington
        rotation, the box would not: the map would leave the cut-out) and for a map centre
        behind the limb during the whole time range (every map would be empty).
    """
    projection = block.map_projection
    if projection is None:
        return
    if not block.tracking.enabled and (span is None or span[1] - span[0] > UNTRACKED_SPAN):
        msg = (
            "MapProjection keeps its map on a Carrington point, which moves across an untracked box (0.55 deg "
            f"an hour), so over more than {UNTRACKED_SPAN} the map would leave the cut-out: use "
            "a.jsoc_cutout.Tracking(True) (the default) with MapProjection."
        )
        raise CutoutQueryError(msg)
    if span is not None and _far_side_always(projection, *span):
        msg = (
            f"The map centre (Carrington {projection.lon:g}, {projection.lat:g} deg) is behind the limb all through "
            f"{span[0].utc.isot[:16]} - {span[1].utc.isot[:16]}, so maproj would blank every map; pick a centre "
            "on the visible disk."
        )
        raise CutoutQueryError(msg)
    if projection.name in ("carree", "sineqa") and projection.lat != 0:
        warn_user(
            f"maproj's {projection.name} map at latitude {projection.lat:g} deg is only shifted by that latitude, "
            f"but JSOC writes CRVAL2={projection.lat:g} with CTYPE CRLN-{projection.wcs_code}, which WCS readers "
            "(sunpy, astropy) take as an oblique projection: the files' coordinates will be wrong away from the "
            "centre. Centre the map at latitude 0 or use 'cyleqa'/'Postel' for exact coordinates."
        )
    if projection.name == "Cassini":
        warn_user(
            "maproj writes CTYPE CRLN-CAS/CRLT-CAS for Cassini maps, which is no WCS projection: sunpy.map and "
            "astropy cannot give the files' coordinates."
        )

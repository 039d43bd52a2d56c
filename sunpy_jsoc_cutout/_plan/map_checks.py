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
from astropy.coordinates import ConvertError, SkyCoord
from astropy.time import Time
from astropy.wcs import WCS

from sunpy.coordinates import HeliographicCarrington, Helioprojective
from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout._query.box import ActiveRegion
from sunpy_jsoc_cutout._query.projection import MapProjection
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .coords import far_side_samples

__all__ = ["UNTRACKED_SPAN", "check_map_in_box", "check_map_projection"]

#: The longest time range an untracked box may cover under a map: the Sun turns 0.55 deg an hour.
UNTRACKED_SPAN = 1 * u.h


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
    if span is not None and far_side_samples(projection.lon, projection.lat, *span)[1].all():
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


def _map_wcs(projection: MapProjection) -> WCS:
    """The WCS maproj writes for ``projection`` (export_as_maproj.c L1462-1478)."""
    wcs = WCS(naxis=2)
    code = "SFL" if projection.name == "sineqa" else projection.wcs_code  # the oblique map it draws
    wcs.wcs.ctype = [f"CRLN-{code}", f"CRLT-{code}"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.crpix = [0.5 * projection.cols + 0.5, 0.5 * projection.rows + 0.5]
    wcs.wcs.crval = [projection.lon, projection.lat if projection.name != "carree" else 0.0]
    if projection.name == "carree":  # shifted, not oblique (plane2sphere L214-216)
        wcs.wcs.crpix = [wcs.wcs.crpix[0], wcs.wcs.crpix[1] - projection.lat / projection.scale]
    wcs.wcs.cdelt = [projection.scale, projection.scale]
    return wcs


def _map_outline(projection: MapProjection, points: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Carrington longitude and latitude (deg) of the map's centre (first) and border pixels."""
    cols, rows = projection.cols - 1, projection.rows - 1
    t = np.linspace(0, 1, points)
    x = np.concatenate([[cols / 2], t * cols, t * cols, np.zeros(points), np.full(points, cols)])
    y = np.concatenate([[rows / 2], np.zeros(points), np.full(points, rows), t * rows, t * rows])
    lon, lat = _map_wcs(projection).wcs_pix2world(x, y, 0)
    return lon, lat


def _box_arcsec(block: CutoutQuery, cdelt: float, frame: Helioprojective) -> tuple[float, ...] | None:
    """The box's centre and half sizes in arcsec seen from Earth; None where they are not known yet
    (an active region, a centre in CCD pixels, a size in degrees)."""
    box = block.boxes[0] if block.boxes else None
    if box is None or isinstance(box, ActiveRegion) or box.boxunits not in ("arcsec", "pixels"):
        return None
    if box.center is not None:
        centre = box.center
        if not isinstance(centre.frame, Helioprojective):
            try:
                centre = centre.transform_to(frame)
            except (ValueError, TypeError, ConvertError):  # e.g. no obstime: the plan will say so
                return None
        x, y = float(centre.Tx.to_value(u.arcsec)), float(centre.Ty.to_value(u.arcsec))
    elif box.locunits == "arcsec":
        x, y = (float(v) for v in box.position.to_value(u.arcsec))
    else:
        return None
    per_unit = 1.0 if box.boxunits == "arcsec" else cdelt
    unit = u.arcsec if box.boxunits == "arcsec" else u.pix
    return x, y, box.width.to_value(unit) * per_unit / 2, box.height.to_value(unit) * per_unit / 2


def check_map_in_box(block: CutoutQuery, cdelt: float, when: Time) -> None:
    """
    The map must lie in the cut-out it is made from (maproj runs after im_patch).

    The map's centre and border are projected into Earth's view at ``when`` (SDO's differs by
    less than 0.02 deg) and compared with the box (both follow the Carrington rotation).

    Parameters
    ----------
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        The block, with ``map_projection`` and its box.
    cdelt : float
        Plate scale (arcsec per pixel) of a box sized in pixels.
    when : `~astropy.time.Time`
        The reference time.

    Raises
    ------
    CutoutQueryError
        When the map centre is outside the box: maproj would find no data there.

    Warns
    -----
    SunpyUserWarning
        When part of the map's border is outside the box: those pixels will be NaN.
    """
    projection = block.map_projection
    if projection is None or projection.name == "Cassini":
        return
    frame = Helioprojective(observer="earth", obstime=when)
    box = _box_arcsec(block, cdelt, frame)
    if box is None:
        return
    x0, y0, half_w, half_h = box
    lon, lat = _map_outline(projection)
    carrington = HeliographicCarrington(observer="earth", obstime=when)
    hpc = SkyCoord(lon * u.deg, lat * u.deg, frame=carrington).transform_to(frame)
    x, y = hpc.Tx.to_value(u.arcsec), hpc.Ty.to_value(u.arcsec)
    inside = (np.abs(x - x0) <= half_w) & (np.abs(y - y0) <= half_h)
    if not inside[0]:
        msg = (
            f'The map centre (Carrington {projection.lon:g}, {projection.lat:g} deg) is at ({x[0]:.0f}", '
            f'{y[0]:.0f}"), outside the box ({x0:.0f}", {y0:.0f}") +/- ({half_w:.0f}", {half_h:.0f}"): maproj '
            "maps the cut-out, so the map would be empty. Centre the map in the box or widen the box."
        )
        raise CutoutQueryError(msg)
    if not inside[1:].all():
        warn_user(
            f"{100 * (1 - inside[1:].mean()):.0f}% of the map's border falls outside the box "
            f'({2 * half_w:.0f}" x {2 * half_h:.0f}"): maproj maps only the cut-out, so those map pixels will be '
            "NaN. Widen the box or make the map smaller."
        )

"""
Boxes sized in degrees, sent to im_patch as the equivalent box in arcsec (pure).

im_patch sizes a ``boxunits=degrees`` box in its BOXDEGREE block (``lm-jps/proj:util/apps/im_patch.c``
at ``0cf0b90``, L943-957; the same code at ``014f84e``): it projects the corners of a
``width`` x ``height`` degree patch centred on the central meridian at the box centre's latitude
``crlt`` onto the first processed image with ``sphere2img`` (observer latitude ``CRLT_OBS``,
solar radius ``rsunpix``, ``pa = -CROTA2``), and makes the box ``(int)(urx - llx) + 1`` by
``(int)(ury - lly) + 1`` pixels. Those corners are plate positions measured from the **disk
centre** (``sphere2img`` is called with ``xcenter = ycenter = 0``), yet L998-999 add them to the
box centre, ``x1 = round(target_x + llx)``, ``y1 = round(target_y + lly)``, as they do for the
arcsec and pixel boxes (L958-970), whose ``llx``/``lly`` are half sizes. So a degree box lands
about ``R sin(crlt - CRLT_OBS)`` pixels north of its centre (south for negative values), with a
smaller sideways shift: it is right only when the centre's latitude equals B0.

The client therefore never sends ``boxunits=degrees``. It sends the box im_patch would have cut,
as ``boxunits=arcsec``: the same projected extent (``urx - llx``, ``ury - lly``), computed from
the reference record, in arcsec. im_patch's arcsec box is ``(int)(1 + width/CDELT1)`` pixels and
centred on the box centre (``llx = -width/(2 CDELT1)``), so the size is the degree block's pixel
count on any plate scale (also after ``aia_scale``), and the box is on its centre for the whole
tracked run. Sending a centre moved to undo the shift instead would be exact only in the first
image (the shift is a fixed plate offset while the centre's projection changes as the Sun
rotates), and would write the moved latitude into ``HGCRLT``.
"""

import math
from dataclasses import replace

from sunpy_jsoc_cutout.exceptions import CutoutQueryError

__all__ = ["degree_box_arcsec", "img2sphere_latitude", "sent_location", "sphere2img"]

_ARCSEC_PER_RAD = 180.0 * 3600.0 / math.pi
_RSUN_REF_M = 6.96e8
_SIN_ASD, _COS_ASD = 0.004660, 0.99998914  # sphere2img's fixed 1 AU semi-diameter


def sphere2img(lat: float, lon: float, latc: float, lonc: float, rsun: float, peff: float) -> tuple[float, float]:
    """
    Plate position of a heliographic point relative to the disk centre (Bogart's ``sphere2img``).

    Orthographic with im_patch's fixed 1 AU foreshortening, no ellipse, no inversion.

    Parameters
    ----------
    lat, lon : float
        The point's latitude and longitude (radians).
    latc, lonc : float
        Latitude and longitude of the disk centre (radians).
    rsun : float
        Solar radius in the plate units wanted (pixels or arcsec).
    peff : float
        Position angle of solar north (radians; im_patch passes ``-CROTA2``).

    Returns
    -------
    x, y : float
        Plate position in the units of ``rsun``.
    """
    cos_lat_lon = math.cos(lat) * math.cos(lon - lonc)
    cos_cang = math.sin(lat) * math.sin(latc) + math.cos(latc) * cos_lat_lon
    r = rsun * _COS_ASD / (1.0 - cos_cang * _SIN_ASD)
    xr = r * math.cos(lat) * math.sin(lon - lonc)
    yr = r * (math.sin(lat) * math.cos(latc) - math.sin(latc) * cos_lat_lon)
    return xr * math.cos(peff) - yr * math.sin(peff), xr * math.sin(peff) + yr * math.cos(peff)


def _rsun_arcsec(keywords: dict) -> float:
    rsun_ref = float(keywords.get("RSUN_REF") or _RSUN_REF_M)
    return math.asin(rsun_ref / float(keywords["DSUN_OBS"])) * _ARCSEC_PER_RAD


def _crota(keywords: dict) -> float:
    value = keywords.get("CROTA2", 0.0)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def _observer_latitude(keywords: dict) -> float:
    """``CRLT_OBS`` (what im_patch reads), else ``HGLT_OBS`` (the same B0 to within SDO's orbit)."""
    for name in ("CRLT_OBS", "HGLT_OBS"):
        try:
            value = float(keywords.get(name, math.nan))
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            return value
    msg = "The reference record has no CRLT_OBS; a box sized in degrees cannot be sized. Choose another reference time."
    raise CutoutQueryError(msg)


def degree_box_arcsec(width: float, height: float, lat: float, keywords: dict) -> tuple[float, float]:
    """
    The extent in arcsec of im_patch's box of ``width`` x ``height`` degrees at latitude ``lat``.

    The corners of the patch on the central meridian, projected as im_patch's BOXDEGREE block
    projects them (``im_patch.c`` L943-957), with the reference record's ``CRLT_OBS``,
    ``DSUN_OBS``, ``RSUN_REF`` and ``CROTA2``. About ``2 R sin(width/2) cos(lat)`` wide and
    ``2 R sin(height/2) cos(lat - B0)`` high.

    Parameters
    ----------
    width, height : float
        Box size in degrees of longitude and latitude.
    lat : float
        Latitude of the box centre (degrees).
    keywords : dict
        The reference record's keywords.

    Returns
    -------
    width, height : float
        The same box in arcsec.
    """
    d2r = math.pi / 180.0
    latc, peff, rsun = d2r * _observer_latitude(keywords), -d2r * _crota(keywords), _rsun_arcsec(keywords)
    urx, ury = sphere2img(d2r * (lat + height / 2), d2r * (width / 2), latc, 0.0, rsun, peff)
    llx, lly = sphere2img(d2r * (lat - height / 2), -d2r * (width / 2), latc, 0.0, rsun, peff)
    return abs(urx - llx), abs(ury - lly)


def img2sphere_latitude(x: float, y: float, keywords: dict) -> float | None:
    """
    Latitude (degrees) of the 1-based pixel ``(x, y)``, as im_patch finds a pixel centre's (``img2sphere``).

    Parameters
    ----------
    x, y : float
        1-based pixel position in the stored image (im_patch's ``locunits=pixels``).
    keywords : dict
        The reference record's keywords (``CRPIX1/2``, ``CDELT1``, ``CROTA2``, ``CRLT_OBS``,
        ``DSUN_OBS``, ``RSUN_REF``).

    Returns
    -------
    float or None
        The latitude, or None when the pixel is off the disk.
    """
    cdelt = float(keywords["CDELT1"])
    rsun_rad = _rsun_arcsec(keywords) / _ARCSEC_PER_RAD
    rsunpix = rsun_rad * _ARCSEC_PER_RAD / cdelt
    px = (x - float(keywords["CRPIX1"])) / rsunpix
    py = (y - float(keywords["CRPIX2"])) / rsunpix
    sig = math.atan(math.hypot(px, py) * math.tan(rsun_rad))
    if sig > rsun_rad:
        return None
    rho = math.asin(math.sin(sig) / math.sin(rsun_rad)) - sig
    chi = math.atan2(px, py) - math.radians(_crota(keywords))
    latc = math.radians(_observer_latitude(keywords))
    sinlat = math.sin(latc) * math.cos(rho) + math.cos(latc) * math.sin(rho) * math.cos(chi)
    return math.degrees(math.asin(max(-1.0, min(1.0, sinlat))))


def sent_location(location, keywords: dict):
    """
    The location as the client sends it: a degree box becomes the equivalent arcsec box.

    Other boxes are returned unchanged. The size is fixed in the image at the reference time,
    as for the other units (see the module docstring for why degrees are not sent as such).

    Parameters
    ----------
    location : `~sunpy_jsoc_cutout._plan.coords.ImPatchLocation`
        The resolved centre and box.
    keywords : dict
        The reference record's keywords.

    Returns
    -------
    `~sunpy_jsoc_cutout._plan.coords.ImPatchLocation`
        ``location`` itself, or a copy with ``boxunits="arcsec"`` and the size from
        `degree_box_arcsec`.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        A degree box whose centre is off the disk (its latitude is undefined).
    """
    if location.boxunits != "degrees":
        return location
    if location.locunits in ("stony", "carrlong"):
        lat = location.y
    elif location.carrington is not None:
        lat = location.carrington[1]
    elif location.locunits == "pixels":
        lat = img2sphere_latitude(location.x, location.y, keywords)
    else:
        lat = None
    if lat is None:
        msg = (
            "A box sized in degrees needs its centre on the solar disk (degrees of heliographic longitude "
            "and latitude mean nothing off it): move the centre onto the disk or give the size in arcsec."
        )
        raise CutoutQueryError(msg)
    width, height = degree_box_arcsec(location.width, location.height, lat, keywords)
    return replace(location, boxunits="arcsec", width=width, height=height)

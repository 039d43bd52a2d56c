"""Pixel geometry of ``im_patch`` cut-outs (``lm-jps/proj:util/apps/im_patch.c``).

Line numbers below refer to ``im_patch.c`` at ``lm-jps/proj`` commit ``0cf0b90`` (2022-09-14), the
snapshot ``docs/dev_guide/jsoc_fidelity.rst`` cites.

* Box size (#L943-975): arcsec ``llx = -width/(2 CDELT1)``, ``pixwidth = (int)(1 - 2 llx)``;
  pixels ``pixwidth = round(width)``, ``llx = -pixwidth/2``; degrees: the box projected at the
  central meridian with ``sphere2img`` (orthographic, 1 AU foreshortening), ``(int)(urx-llx)+1``.
  All from the *first* processed image.
* Corners (#L995-1010): ``x1 = round(cx + llx)``, ``x2 = x1 + pixwidth - 1`` (0-based, C
  ``round`` is half away from zero), padded by `REGISTER_PADDING` when registering.
* ``PIX_X``/``PIX_Y`` (#L209-210): the linear arcsec -> pixel map of the reference image.
* Crop (#L1021-1035): ``(i - ci)^2 + (j - cj)^2 >= 0.9995 R^2`` with
  ``R = asin(RSUN_REF/DSUN_OBS)`` in arcsec over ``CDELT1``.
* ``sphere2img`` (Bogart's cartography, bottom of the file) for degree boxes.

Surface <-> pixel mapping for tracking uses the emulator's exact closed-form geometry
(`~sunpy_jsoc_cutout.testing.sun.sungeometry.ObserverGeometry`), which is what sunpy's WCS gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sunpy_jsoc_cutout.testing.sun.sungeometry import ObserverGeometry

__all__ = [
    "ARCSEC_PER_RAD",
    "REGISTER_PADDING",
    "BoxShape",
    "PatchCorners",
    "box_shape",
    "c_round",
    "crop_mask",
    "patch_corners",
    "pix_from_arcsec",
    "pixel_to_carrington",
    "rsun_pixels",
    "sphere2img",
]

ARCSEC_PER_RAD = 180.0 * 3600.0 / math.pi
#: ``register_padding`` of im_patch.c (#L336: 5 pixels in this version).
REGISTER_PADDING = 5
RSUN_REF_DEFAULT = 6.96e8
_SIN_ASD, _COS_ASD = 0.004660, 0.99998914  # sphere2img's fixed 1 AU semi-diameter


@dataclass(frozen=True)
class BoxShape:
    """Box size in pixels and the offset of its lower-left corner from the centre."""

    llx: float
    lly: float
    width: int
    height: int


@dataclass(frozen=True)
class PatchCorners:
    """0-based inclusive corners of the (possibly padded) patch in the stored image."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.y2 - self.y1 + 1, self.x2 - self.x1 + 1)


def c_round(value: float) -> int:
    """C's ``round``: half away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def rsun_pixels(header: Mapping, rsun_ref: float | None = None) -> float:
    """Solar radius in pixels: ``asin(RSUN_REF/DSUN_OBS)`` in arcsec over ``CDELT1``."""
    rsun_ref = float(rsun_ref if rsun_ref is not None else header.get("RSUN_REF") or RSUN_REF_DEFAULT)
    return math.asin(rsun_ref / float(header["DSUN_OBS"])) * ARCSEC_PER_RAD / float(header["CDELT1"])


def sphere2img(lat: float, lon: float, latc: float, lonc: float, rsun: float, peff: float) -> tuple[float, float, bool]:
    """
    Port of ``sphere2img`` (radians in, plate units out, no ellipse, no inversion).

    Returns
    -------
    x, y : float
        Plate position relative to the disk centre.
    far_side : bool
        The point is on the far hemisphere (C's return value).
    """
    cos_lat_lon = math.cos(lat) * math.cos(lon - lonc)
    cos_cang = math.sin(lat) * math.sin(latc) + math.cos(latc) * cos_lat_lon
    r = rsun * _COS_ASD / (1.0 - cos_cang * _SIN_ASD)
    xr = r * math.cos(lat) * math.sin(lon - lonc)
    yr = r * (math.sin(lat) * math.cos(latc) - math.sin(latc) * cos_lat_lon)
    x = xr * math.cos(peff) - yr * math.sin(peff)
    y = xr * math.sin(peff) + yr * math.cos(peff)
    return x, y, cos_cang < 0.0


def box_shape(
    boxtype: str,
    width: float,
    height: float,
    cdelt: float,
    *,
    crlt: float = 0.0,
    crlt_obs: float = 0.0,
    rsunpix: float = 0.0,
    crota: float = 0.0,
) -> BoxShape:
    """
    The patch size in pixels (im_patch.c #L943-975).

    Parameters
    ----------
    boxtype : str
        ``"arcsec"``, ``"pixels"`` or ``"degrees"``.
    width, height : float
        Box size in those units.
    cdelt : float
        ``CDELT1`` of the first processed image (arcsec/pixel).
    crlt, crlt_obs : float
        Box centre latitude and observer latitude (degrees; degree boxes only).
    rsunpix : float
        Solar radius in pixels (degree boxes only).
    crota : float
        ``CROTA2`` (degrees; degree boxes only, ``pa = -crota``).
    """
    if boxtype == "arcsec":
        llx, lly = -width / (2.0 * cdelt), -height / (2.0 * cdelt)
        return BoxShape(llx, lly, int(1.0 - 2.0 * llx), int(1.0 - 2.0 * lly))
    if boxtype == "pixels":
        pw, ph = c_round(width), c_round(height)
        return BoxShape(-pw / 2.0, -ph / 2.0, pw, ph)
    d2r, pa = math.pi / 180.0, -math.radians(crota)
    urx, ury, _ = sphere2img(d2r * (crlt + height / 2), d2r * (width / 2), d2r * crlt_obs, 0.0, rsunpix, pa)
    llx, lly, _ = sphere2img(d2r * (crlt - height / 2), -d2r * (width / 2), d2r * crlt_obs, 0.0, rsunpix, pa)
    nx, ny = int(urx - llx), int(ury - lly)  # C int truncation
    if nx < 0:
        nx, llx = -nx, urx
    if ny < 0:
        ny, lly = -ny, ury
    return BoxShape(llx, lly, nx + 1, ny + 1)


def patch_corners(center_x: float, center_y: float, box: BoxShape, padding: int = 0) -> PatchCorners:
    """0-based corners ``x1 = round(cx + llx)``, ``x2 = x1 + pixwidth - 1``, widened by ``padding``."""
    x1, y1 = c_round(center_x + box.llx), c_round(center_y + box.lly)
    x2, y2 = x1 + box.width - 1, y1 + box.height - 1
    return PatchCorners(x1 - padding, y1 - padding, x2 + padding, y2 + padding)


def pix_from_arcsec(header: Mapping, x: float, y: float) -> tuple[float, float]:
    """``PIX_X(x, y) - 1``, ``PIX_Y(x, y) - 1``: 0-based pixel of a helioprojective (arcsec) point."""
    crota = math.radians(float(header.get("CROTA2", 0.0) or 0.0))
    cosa, sina = math.cos(crota), math.sin(crota)
    dx, dy = x - float(header.get("CRVAL1", 0.0)), y - float(header.get("CRVAL2", 0.0))
    cdelt = float(header["CDELT1"])
    px = (dx * cosa + dy * sina) / cdelt + float(header["CRPIX1"])
    py = (dy * cosa - dx * sina) / cdelt + float(header["CRPIX2"])
    return px - 1.0, py - 1.0


def pixel_to_carrington(geom: ObserverGeometry, x: float, y: float) -> tuple[float, float, bool]:
    """
    Carrington longitude and latitude (degrees) of a 0-based (possibly fractional) pixel.

    Off the disk the closest point of the limb along the line of sight is used and the flag is
    False (im_patch only warns "Starting location is off the solar disk.").
    """
    p1, p2 = x + 1.0 - geom.crpix[0], y + 1.0 - geom.crpix[1]
    xi = geom.cd[0, 0] * p1 + geom.cd[0, 1] * p2
    eta = geom.cd[1, 0] * p1 + geom.cd[1, 1] * p2
    w = np.array([1.0, xi, eta])
    a, w2 = float(geom.centre @ w), float(w @ w)
    disc = a * a - w2 * (geom.distance**2 - 1.0)
    s = (a - math.sqrt(max(disc, 0.0))) / w2
    q = s * w - geom.centre
    q /= np.linalg.norm(q)
    cx, cy, cz = geom.to_carrington @ q
    lon = math.degrees(math.atan2(cy, cx)) % 360.0
    return lon, math.degrees(math.asin(max(-1.0, min(1.0, cz)))), disc >= 0.0


def crop_mask(shape: tuple[int, int], crpix1: float, crpix2: float, rsunpix: float) -> np.ndarray:
    """
    True where im_patch's crop sets MISSING: ``(i-ci)^2 + (j-cj)^2 >= 0.9995 R^2``.

    ``ci = CRPIX1 - 1``, ``cj = CRPIX2 - 1`` of the patch (0-based), ``R`` in pixels.
    """
    i = np.arange(shape[1], dtype=np.float64) - (crpix1 - 1.0)
    j = np.arange(shape[0], dtype=np.float64)[:, None] - (crpix2 - 1.0)
    return (i * i + j * j) >= 0.9995 * rsunpix * rsunpix

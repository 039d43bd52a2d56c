"""Map geometry of JSOC's ``Maproj`` step (``lm-jps/proj:util/apps/export_as_maproj.c``).

Line numbers refer to ``export_as_maproj.c`` at ``lm-jps/proj`` commit ``0cf0b90``.

* The projections (``map`` is an ``ARG_NUME`` in this order, L108-109; codes L83-92) with the
  names written to ``MapProj`` and the WCS codes of ``CTYPE1/2`` (L1139-1144): `PROJECTIONS`.
* `plane2sphere` (L143-363): map plane coordinates (radians at the map centre) to heliographic
  latitude and longitude, vectorised; the status is -1 for a point that does not project back,
  1 for one more than 90 degrees from the map centre, and maproj blanks every point whose
  status is not 0 (``offsun``, L1279, L836-839).
* `map_plane` (L1197-1201, L1273-1283): the plane coordinates of each output pixel, centred on
  the map (``x0 = (1 - cols)/2 * step``), turned by ``map_pa``.
* `sphere_to_plate` (``perform_mapping``, L803-868): heliographic point -> input image pixel,
  the orthographic view with the fixed 1 AU foreshortening of ``sin_asd = 0.004660``, turned by
  ``-CROTA2``. maproj works in plate units of half the larger image side; the same arithmetic
  in pixels is ``x = xr cos(pa) - yr sin(pa) + CRPIX1 - 1`` (0-based), which is what this
  returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PROJECTIONS", "Projection", "map_plane", "plane2sphere", "projection", "sphere_to_plate"]

_SIN_ASD, _COS_ASD = 0.004660, 0.99998914  # perform_mapping's 1 AU semi-diameter (L814)
_HALF_PI = np.pi / 2


@dataclass(frozen=True)
class Projection:
    """One of maproj's projections: its ``map`` value, ``MapProj`` name and WCS code."""

    code: int
    arg: str
    name: str
    wcs: str


#: ``map`` values in maproj's enumeration order (L108-109), ``mapname`` and ``wcscode`` (L1139-1144).
PROJECTIONS = tuple(
    Projection(code, arg, name, wcs)
    for code, (arg, name, wcs) in enumerate(
        [
            ("carree", "PlateCarree", "CAR"),
            ("Cassini", "Cassini-Soldner", "CAS"),
            ("Mercator", "Mercator", "MER"),
            ("cyleqa", "LambertCylindrical", "CEA"),
            ("sineqa", "Sanson-Flamsteed", "GLS"),
            ("gnomonic", "gnomonic", "TAN"),
            ("Postel", "Postel", "ARC"),
            ("stereographic", "stereographic", "STG"),
            ("orthographic", "orthographic", "SIN"),
            ("Lambert", "LambertAzimuthal", "ZEA"),
        ]
    )
)


def projection(arg: str) -> Projection | None:
    """The projection of a ``map`` value (matched exactly, as ``cmdparams`` does), None if unknown."""
    return next((p for p in PROJECTIONS if p.arg == arg), None)


def _arc_distance(lat, lon, latc, lonc):
    return np.arccos(np.clip(np.sin(lat) * np.sin(latc) + np.cos(lat) * np.cos(latc) * np.cos(lon - lonc), -1, 1))


def _far(status, lat, lon, latc, lonc):
    return np.where((status == 0) & (_arc_distance(lat, lon, latc, lonc) > _HALF_PI), 1, status)


def _rectangular(x, y, latc, lonc):
    lon, lat = lonc + x, latc + y
    status = _far(np.zeros(x.shape, int), lat, lon, latc, lonc)
    return lat, lon, np.where((np.abs(x) > np.pi) | (np.abs(y) > _HALF_PI), -1, status)


def _cassini(x, y, latc, lonc):
    sinx, cosy, siny = np.sin(x), np.cos(y + latc), np.sin(y + latc)
    lat = np.arccos(np.clip(np.sqrt(cosy * cosy + siny * siny * sinx * sinx), -1, 1))
    lat = np.where(y < -latc, -lat, lat)
    with np.errstate(invalid="ignore", divide="ignore"):
        lon = np.where(np.abs(lat) < _HALF_PI, lonc + np.arcsin(np.clip(sinx / np.cos(lat), -1, 1)), lonc)
    lon = np.where((y > _HALF_PI - latc) | (y < -_HALF_PI - latc), 2 * lonc + np.pi - lon, lon)
    lon = np.where(lon < -np.pi, lon + 2 * np.pi, lon)
    lon = np.where(lon > np.pi, lon - 2 * np.pi, lon)
    status = _far(np.zeros(x.shape, int), lat, lon, latc, lonc)
    return lat, lon, np.where((np.abs(x) > np.pi) | (np.abs(y) > _HALF_PI), -1, status)


def _unwrap(lon, x, limit, period):
    """The C's ``while (x > limit) {lon = pi - lon; x -= period;}`` and its mirror, vectorised."""
    lon, x = lon.copy(), x.copy()
    for _ in range(64):
        up, down = x > limit, x < -limit
        if not (up.any() or down.any()):
            break
        lon = np.where(up, np.pi - lon, np.where(down, -np.pi - lon, lon))
        x = np.where(up, x - period, np.where(down, x + period, x))
    return lon


def _cyleqa(x, y, latc, lonc):
    status = np.where(np.abs(y) > 1.0, -1, 0)
    y = np.where(np.abs(y) > 1.0, np.copysign(1.0, y), y)
    cosphi = np.sqrt(1.0 - y * y)
    lat = np.arcsin(np.clip(y * np.cos(latc) + cosphi * np.cos(x) * np.sin(latc), -1, 1))
    coslat = np.cos(lat)
    with np.errstate(invalid="ignore", divide="ignore"):
        test = np.where(coslat == 0.0, 0.0, cosphi * np.sin(x) / coslat)
    lon = np.arcsin(np.clip(test, -1, 1)) + lonc
    wide = np.abs(x) > _HALF_PI
    status = np.where(wide, 1, status)
    lon = np.where(wide, _unwrap(lon, x, _HALF_PI, np.pi), lon)
    far = _arc_distance(lat, lon, latc, lonc) > _HALF_PI  # sets 1 whatever the status was (L255)
    return lat, lon, np.where(far, 1, status)


def _sineqa(x, y, latc, lonc):
    cosphi = np.cos(y)
    safe = np.where(cosphi > 0.0, cosphi, 1.0)
    lat = np.arcsin(np.clip(np.sin(y) * np.cos(latc) + safe * np.cos(x / safe) * np.sin(latc), -1, 1))
    coslat = np.cos(lat)
    with np.errstate(invalid="ignore", divide="ignore"):
        test = np.where(coslat > 0.0, safe * np.sin(x / safe) / np.where(coslat > 0.0, coslat, 1.0), 0.0)
    lon = np.arcsin(np.clip(test, -1, 1)) + lonc
    status = np.zeros(x.shape, int)
    wide = np.abs(x) > _HALF_PI * safe
    status = np.where(wide, 1, status)
    lon = np.where(wide, _unwrap(lon, x / safe, _HALF_PI, np.pi), lon)
    status = np.where(np.abs(x) > np.pi * safe, -1, status)
    # cos(y) <= 0 (L259-264) and cos(lat) <= 0 (L267-271) return early
    status = np.where(coslat < 0.0, 1, status)
    lat = np.where(cosphi <= 0.0, y, lat)
    lon = np.where((cosphi <= 0.0) | (coslat <= 0.0), lonc, lon)
    status = np.where(cosphi <= 0.0, np.where(cosphi < 0.0, -1, 0), status)
    return lat, lon, status


def _mercator(x, y, latc, lonc):
    phicom = 2.0 * np.arctan(np.exp(y))
    sinphi, cosphi = -np.cos(phicom), np.sin(phicom)
    lat = np.arcsin(np.clip(sinphi * np.cos(latc) + cosphi * np.cos(x) * np.sin(latc), -1, 1))
    lon = np.arcsin(np.clip(cosphi * np.sin(x) / np.cos(lat), -1, 1)) + lonc
    status = _far(np.zeros(x.shape, int), lat, lon, latc, lonc)
    return lat, lon, np.where(np.abs(x) > _HALF_PI, -1, status)


def _azimuthal(x, y, latc, lonc, code):
    r = np.hypot(x, y)
    cosp = np.where(r == 0.0, 1.0, x / np.where(r == 0.0, 1.0, r))
    sinp = np.where(r == 0.0, 0.0, y / np.where(r == 0.0, 1.0, r))
    status = np.zeros(x.shape, int)
    if code == 6:  # POSTEL
        rm = r
        status = np.where(rm > _HALF_PI, 1, status)
    elif code == 5:  # GNOMONIC
        rm = np.arctan(r)
    elif code == 7:  # STEREOGRAPHIC
        rm = 2 * np.arctan(0.5 * r)
        status = np.where(rm > _HALF_PI, 1, status)
    elif code == 8:  # ORTHOGRAPHIC
        status = np.where(r > 1.0, -1, status)
        rm = np.arcsin(np.minimum(r, 1.0))
    else:  # LAMBERT
        status = np.where(r > 2.0, -1, status)
        rm = 2 * np.arcsin(0.5 * np.minimum(r, 2.0))
        status = np.where((rm > _HALF_PI) & (status == 0), 1, status)
    cosr, sinr = np.cos(rm), np.sin(rm)
    sinlat = np.sin(latc) * cosr + np.cos(latc) * sinr * sinp
    lat = np.arcsin(np.clip(sinlat, -1, 1))
    coslat = np.cos(lat)
    with np.errstate(invalid="ignore", divide="ignore"):
        sinlon = np.where(coslat == 0.0, 0.0, sinr * cosp / np.where(coslat == 0.0, 1.0, coslat))
    lon = np.arcsin(np.clip(sinlon, -1, 1))
    lon = np.where(cosr < sinlat * np.sin(latc), np.pi - lon, lon)  # "Correction suggested by Dick Shine"
    return lat, lon + lonc, status


def plane2sphere(x, y, latc: float, lonc: float, code: int):
    """
    maproj's inverse map projection (``plane2sphere``, L143-363), vectorised.

    Parameters
    ----------
    x, y : numpy.ndarray
        Map coordinates in radians at the map centre's scale.
    latc, lonc : float
        The map centre (radians).
    code : int
        `Projection.code`.

    Returns
    -------
    lat, lon, status : numpy.ndarray
        Radians; status -1 (no back-projection), 1 (beyond 90 degrees of the centre), 0 (good).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if code == 0:
        return _rectangular(x, y, latc, lonc)
    if code == 1:
        return _cassini(x, y, latc, lonc)
    if code == 2:
        return _mercator(x, y, latc, lonc)
    if code == 3:
        return _cyleqa(x, y, latc, lonc)
    if code == 4:
        return _sineqa(x, y, latc, lonc)
    return _azimuthal(x, y, latc, lonc, code)


def map_plane(cols: int, rows: int, scale_deg: float, map_pa_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The plane coordinates (radians) of each output pixel, arrays of shape ``(rows, cols)``."""
    step = np.deg2rad(scale_deg)
    x = (0.5 * (1.0 - cols) + np.arange(cols)) * step
    y = (0.5 * (1.0 - rows) + np.arange(rows)) * step
    xx, yy = np.meshgrid(x, y)
    phi = np.deg2rad(map_pa_deg)
    return xx * np.cos(phi) - yy * np.sin(phi), yy * np.cos(phi) + xx * np.sin(phi)


def sphere_to_plate(lat, lon, latc: float, lonc: float, radius: float, pa: float, crpix: tuple[float, float]):
    """
    Heliographic points (radians) to 0-based input pixels (``perform_mapping``, L834-859).

    Parameters
    ----------
    lat, lon : numpy.ndarray
        The map's points.
    latc, lonc : float
        The image's disk-centre latitude and longitude (radians; ``CRLT_OBS``, corrected ``CRLN_OBS``).
    radius : float
        The apparent solar radius in pixels.
    pa : float
        ``-CROTA2`` in radians.
    crpix : tuple of float
        ``CRPIX1``, ``CRPIX2`` (1-based): Sun centre.

    Returns
    -------
    x, y, hidden : numpy.ndarray
        0-based pixel positions and the far-side flag (``cos_cang < 0``: blanked).
    """
    cos_lat, sin_lat = np.cos(lat), np.sin(lat)
    cos_lat_lon = cos_lat * np.cos(lon - lonc)
    cos_cang = sin_lat * np.sin(latc) + np.cos(latc) * cos_lat_lon
    r = radius * _COS_ASD / (1.0 - cos_cang * _SIN_ASD)
    xr = r * cos_lat * np.sin(lon - lonc)
    yr = r * (sin_lat * np.cos(latc) - np.sin(latc) * cos_lat_lon)
    x = xr * np.cos(pa) - yr * np.sin(pa) + crpix[0] - 1.0
    y = xr * np.sin(pa) + yr * np.cos(pa) + crpix[1] - 1.0
    return x, y, cos_cang < 0.0

"""SDO's position and the observer keywords of SDO images (vectorised).

SDO is modelled on a circular, 28.5 degree inclined geosynchronous orbit (radius 42164.17 km)
whose figure-8 ground track is centred on 102 degrees W; Earth's rotation angle comes from the
mean sidereal time (UT1 = UTC; the orbit is "real-ish", not SDO's actual ephemeris). The
Sun-relative frame (Earth's heliographic position, the rotation from geocentric GCRS offsets to
heliographic Stonyhurst axes, and the Carrington longitude ``L0`` of the Stonyhurst prime
meridian) is computed with `sunpy.coordinates` on a 6 hour grid per TAI day (cached) and
interpolated linearly; SDO's orbital offset is added analytically for every record, so the
daily orbit is exact rather than interpolated. The light-time difference between Earth and SDO
in ``L0`` (< 1e-4 degrees) is ignored.

``CRLN_OBS`` follows JSOC's convention (``get_new_CRLN_OBS`` in ``lm-jps/proj:util/apps/im_patch.c``
L256-287, which subtracts 0.0818941 degrees unless bit 28 is set): before ``CRLN_FIX_DATE`` the
header value is the true Carrington longitude of SDO plus 0.0818941 degrees and CALVER64 bit 28
is unset; from that date on the bit is set and the value is the true one. ``CAR_ROT`` is the
Carrington rotation number consistent with the header ``CRLN_OBS``.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from erfa import ErfaWarning

import astropy.units as u
from astropy.coordinates import CartesianRepresentation, SkyCoord
from astropy.time import Time

from sunpy.coordinates import frames, sun

from sunpy_jsoc_cutout.testing.common.timeutil import DAY, parse_drms_time, tai_to_utc

__all__ = [
    "CALVER_BIT28",
    "CRLN_OFFSET_DEG",
    "RSUN_REF",
    "observer_keywords",
    "sdo_gcrs_xyz",
    "sdo_hgs_xyz",
]

RSUN_REF = 696_000_000.0
CRLN_OFFSET_DEG = 0.0818941
CALVER_BIT28 = 1 << 28
ORBIT_RADIUS_M = 42_164_170.0
INCLINATION_DEG = 28.5
NODE_DEG = 165.0
CENTRE_LON_DEG = -102.0
GRID_STEP = 21600.0
CRLN_FIX_DATE = "2019.01.01_00:00:00_UTC"
_JD_EPOCH = 2443144.5  # 1977-01-01T00:00:00 (TAI when used with scale "tai")


def sdo_gcrs_xyz(t_tai: np.ndarray) -> np.ndarray:
    """Geocentric equatorial (GCRS-like) position of SDO in metres, shape ``(3, n)``."""
    jd_ut = _JD_EPOCH + np.asarray(tai_to_utc(np.asarray(t_tai, float)), float) / DAY
    gmst = np.deg2rad(280.46061837 + 360.98564736629 * (jd_ut - 2451545.0))
    node, inc = np.deg2rad(NODE_DEG), np.deg2rad(INCLINATION_DEG)
    arg = gmst + np.deg2rad(CENTRE_LON_DEG) - node
    x = np.cos(arg) * np.cos(node) - np.sin(arg) * np.cos(inc) * np.sin(node)
    y = np.cos(arg) * np.sin(node) + np.sin(arg) * np.cos(inc) * np.cos(node)
    z = np.sin(arg) * np.sin(inc)
    return ORBIT_RADIUS_M * np.vstack([x, y, z])


_GRID_CACHE: dict[int, dict[str, np.ndarray]] = {}
_GRID_CACHE_SIZE = 512
_PER_DAY = int(DAY / GRID_STEP) + 1
_PROBE = 1.0e7  # metres


def _compute_days(days: list[int]) -> None:
    """Frame quantities on a 6 hour grid covering each TAI day, for several days at once:
    Earth's heliographic (HGS) Cartesian position, the matrix taking a geocentric GCRS offset
    to HGS Cartesian axes and the Carrington longitude of the HGS prime meridian (``L0``)."""
    offsets = np.arange(_PER_DAY) * GRID_STEP
    t = (np.asarray(days, float)[:, None] * DAY + offsets[None, :]).ravel()
    n = t.size
    obstime = Time(_JD_EPOCH, np.tile(t, 4) / DAY, format="jd", scale="tai")
    probe = np.zeros((3, 4 * n))
    for axis in range(3):
        probe[axis, (axis + 1) * n : (axis + 2) * n] = _PROBE
    points = SkyCoord(CartesianRepresentation(probe * u.m), frame="gcrs", obstime=obstime)
    with warnings.catch_warnings():
        # ERFA calls years past its leap-second table's horizon "dubious"; the emulator's
        # catalogue deliberately extends into the future, where the table is as good as any.
        warnings.simplefilter("ignore", ErfaWarning)
        hgs = points.transform_to(frames.HeliographicStonyhurst(obstime=obstime)).cartesian.xyz.to_value(u.m)
        l0 = sun.L0(obstime[:n]).to_value(u.deg)
    earth = hgs[:, :n]
    matrix = np.stack([(hgs[:, (k + 1) * n : (k + 2) * n] - earth) / _PROBE for k in range(3)], axis=1)
    if len(_GRID_CACHE) + len(days) > _GRID_CACHE_SIZE:
        _GRID_CACHE.clear()
    for k, day in enumerate(days):
        part = slice(k * _PER_DAY, (k + 1) * _PER_DAY)
        _GRID_CACHE[int(day)] = {
            "t": t[part],
            "earth": earth[:, part],
            "matrix": matrix[:, :, part],
            "L0": np.rad2deg(np.unwrap(np.deg2rad(l0[part]))),
        }


def _frames_at(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolated (earth (3, n), matrix (3, 3, n), L0 (n,)) at times ``t``."""
    days = np.floor(t / DAY).astype(np.int64)
    unique = np.unique(days)
    missing = [int(d) for d in unique if int(d) not in _GRID_CACHE]
    for start in range(0, len(missing), _GRID_CACHE_SIZE // 2):
        _compute_days(missing[start : start + _GRID_CACHE_SIZE // 2])
    earth, matrix, l0 = np.empty((3, t.size)), np.empty((3, 3, t.size)), np.empty(t.size)
    for day in unique:
        sel = days == day
        grid = _GRID_CACHE[int(day)]
        for i in range(3):
            earth[i, sel] = np.interp(t[sel], grid["t"], grid["earth"][i])
            for j in range(3):
                matrix[i, j, sel] = np.interp(t[sel], grid["t"], grid["matrix"][i, j])
        l0[sel] = np.interp(t[sel], grid["t"], grid["L0"])
    return earth, matrix, l0


def sdo_hgs_xyz(t_tai: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SDO's heliographic Stonyhurst Cartesian position (m, shape ``(3, n)``) and ``L0`` (deg)."""
    t = np.atleast_1d(np.asarray(t_tai, dtype=float))
    earth, matrix, l0 = _frames_at(t)
    return earth + np.einsum("ijn,jn->in", matrix, sdo_gcrs_xyz(t)), l0


def _spherical(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist = np.sqrt((xyz**2).sum(axis=0))
    return np.rad2deg(np.arctan2(xyz[1], xyz[0])), np.rad2deg(np.arcsin(xyz[2] / dist)), dist


def _interpolate(t: np.ndarray) -> dict[str, np.ndarray]:
    xyz, l0 = sdo_hgs_xyz(t)
    lon, lat, dist = _spherical(xyz)
    after, _ = sdo_hgs_xyz(t + 0.5)
    before, _ = sdo_hgs_xyz(t - 0.5)
    vr = _spherical(after)[2] - _spherical(before)[2]
    return {"HGLN_OBS": lon, "HGLT_OBS": lat, "DSUN_OBS": dist, "OBS_VR": vr, "CRLN_TRUE": lon + l0, "CRLT_OBS": lat}


@lru_cache(maxsize=4)
def _fix_time(date: str) -> float:
    return parse_drms_time(date)


def observer_keywords(t_tai: float | np.ndarray, crln_fix_date: str = CRLN_FIX_DATE) -> dict[str, np.ndarray]:
    """SDO's observer keywords at ``t_tai`` (internal TAI seconds).

    Returns
    -------
    dict
        ``HGLN_OBS``, ``HGLT_OBS``, ``CRLN_OBS`` (header convention), ``CRLN_TRUE``, ``CRLT_OBS``
        (degrees), ``DSUN_OBS`` (m), ``OBS_VR`` (m/s), ``RSUN_OBS`` (arcsec), ``CAR_ROT`` (int64)
        and ``CRLN_BIT28`` (bool: CALVER64 bit 28 set, i.e. no offset in CRLN_OBS).
    """
    t = np.atleast_1d(np.asarray(t_tai, dtype=float))
    out = _interpolate(t)
    fixed = t >= _fix_time(crln_fix_date)
    crln = np.mod(out["CRLN_TRUE"] + np.where(fixed, 0.0, CRLN_OFFSET_DEG), 360.0)
    out["CRLN_TRUE"] = np.mod(out["CRLN_TRUE"], 360.0)
    out["CRLN_OBS"] = crln
    out["CRLN_BIT28"] = fixed
    out["RSUN_OBS"] = np.rad2deg(np.arcsin(RSUN_REF / out["DSUN_OBS"])) * 3600.0
    # Carrington rotation number: approximate fractional number, then snapped so that it
    # increments exactly when the header CRLN_OBS wraps from 0 to 360.
    jd = _JD_EPOCH + t / DAY
    approx = (jd - 2398167.4) / 27.2753 + 1.0
    out["CAR_ROT"] = (np.round(approx + crln / 360.0) - 1).astype(np.int64)
    return out

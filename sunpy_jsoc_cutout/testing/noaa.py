"""Deterministic synthetic NOAA active regions.

Model (all deterministic functions of the region number ``n``):

* numbering: region ``n`` emerges at ``T0 + (n - N0 + jitter) / RATE`` days with
  ``N0 = 11072`` at ``T0 = 2010-05-01 00:00 UTC`` and ``RATE = 0.65`` regions per day (about
  the real rate: AR 11967 falls in early February 2014). Numbers below 10000 never occur.
* latitude 5-35 degrees, north or south; the region emerges within 60 degrees of the central
  meridian as seen from Earth, so its Carrington longitude at emergence is ``L0(t_e) + offset``.
* lifetime 14-21 days; area (millionths of a hemisphere) rises and falls as
  ``area_max * sin(pi * age / lifetime)`` with ``area_max`` 100-800; ``strength`` scales with it.
* rotation: Howard et al. (1990) sidereal rate ``A + B sin^2(lat) + C sin^4(lat)``, A=2.894,
  B=-0.428, C=-0.370 microrad/s (``sunpy.sun.models.differential_rotation(model='howard')``),
  minus the Carrington sidereal rate 14.1844 deg/day, so the Carrington longitude at ``t`` is
  ``lon_e + (omega(lat) - 14.1844) * (t - t_e)`` in degrees and days.
* ``su_rsb.NOAA_ActiveRegions`` records: one per region per day at 00:00 UTC while the
  region is alive and on the Earth-facing disk, with ``LongitudeCM`` (W positive),
  ``LatitudeHG`` and ``LongitudeHG`` (Carrington) rounded to whole degrees.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from erfa import ErfaWarning

import astropy.units as u
from astropy.time import Time

from sunpy.coordinates import sun

from .timeutil import DAY, parse_drms_time, tai_to_utc, utc_to_tai

__all__ = ["ActiveRegion", "active_regions", "carrington_rate", "l0_deg", "region", "region_days", "regions_emerging"]

N0 = 11072
RATE = 0.65  # regions per day
T0 = parse_drms_time("2010.05.01_00:00:00_UTC")
CARRINGTON_RATE = 14.1844  # deg/day, sidereal
_MICRORAD_S_TO_DEG_DAY = 1e-6 * DAY * 180.0 / np.pi
HOWARD = (2.894, -0.428, -0.370)
MAX_LIFE = 21.0 * DAY


def _unit(n: int, salt: str) -> float:
    """Deterministic number in [0, 1) from the region number and a salt."""
    return zlib.crc32(f"{n}:{salt}".encode()) / 2**32


def carrington_rate(lat_deg: float | np.ndarray) -> float | np.ndarray:
    """Drift of a feature in the Carrington frame (deg/day) at latitude ``lat_deg``."""
    s2 = np.sin(np.deg2rad(lat_deg)) ** 2
    a, b, c = HOWARD
    return (a + b * s2 + c * s2**2) * _MICRORAD_S_TO_DEG_DAY - CARRINGTON_RATE


@lru_cache(maxsize=4096)
def _l0_cached(t_tai: float) -> float:
    obstime = Time(2443144.5, t_tai / DAY, format="jd", scale="tai")
    with warnings.catch_warnings():  # ERFA's "dubious year" past its leap-second table horizon
        warnings.simplefilter("ignore", ErfaWarning)
        return float(sun.L0(obstime).to_value(u.deg))


def l0_deg(t_tai: float) -> float:
    """Carrington longitude of the disk centre seen from Earth (sunpy's ``L0``)."""
    return _l0_cached(float(t_tai))


@dataclass(frozen=True)
class ActiveRegion:
    """A region at one time; ``carr_lon`` is its Carrington longitude at ``t``."""

    number: int
    lat: float
    carr_lon: float
    area: float
    strength: float
    t: float
    t_emerge: float
    t_end: float
    lon_emerge: float


@dataclass(frozen=True)
class _Static:
    number: int
    lat: float
    lon_emerge: float
    t_emerge: float
    life: float
    area_max: float


def emergence_time(n: int) -> float:
    """Emergence time (internal TAI seconds) of region ``n``."""
    return T0 + (n - N0 + 0.9 * _unit(n, "t")) / RATE * DAY


@lru_cache(maxsize=8192)
def _static(n: int) -> _Static:
    t_e = emergence_time(n)
    lat = (5.0 + 30.0 * _unit(n, "lat")) * (1 if _unit(n, "hemi") < 0.5 else -1)
    lon_e = (l0_deg(t_e) + (_unit(n, "cm") - 0.5) * 120.0) % 360.0
    life = (14.0 + 7.0 * _unit(n, "life")) * DAY
    return _Static(n, round(lat, 3), lon_e, t_e, life, 100.0 + 700.0 * _unit(n, "area"))


def region(n: int, t_tai: float) -> ActiveRegion | None:
    """Region ``n`` at ``t_tai``, or None if it does not exist then."""
    if n < N0:
        return None
    st = _static(n)
    age = t_tai - st.t_emerge
    if age < 0 or age > st.life:
        return None
    lon = (st.lon_emerge + carrington_rate(st.lat) * age / DAY) % 360.0
    area = st.area_max * np.sin(np.pi * age / st.life) + 10.0
    return ActiveRegion(
        n,
        st.lat,
        float(lon),
        float(area),
        float(area / 400.0),
        float(t_tai),
        st.t_emerge,
        st.t_emerge + st.life,
        st.lon_emerge,
    )


def regions_emerging(t_lo: float, t_hi: float) -> range:
    """Region numbers emerging between ``t_lo`` and ``t_hi`` (a superset by one on each side)."""
    first = max(N0, int(np.floor(N0 + (t_lo - T0) / DAY * RATE)) - 1)
    last = max(N0 - 1, int(np.ceil(N0 + (t_hi - T0) / DAY * RATE)) + 1)
    return range(first, last + 1)


def active_regions(t_tai: float) -> list[ActiveRegion]:
    """All regions alive at ``t_tai`` (visible or not), ordered by number."""
    out = []
    for n in regions_emerging(t_tai - MAX_LIFE, t_tai):
        reg = region(n, t_tai)
        if reg is not None:
            out.append(reg)
    return out


def _day_start(t_tai: float) -> float:
    """00:00 UTC of the UTC day containing ``t_tai``."""
    cal = float(tai_to_utc(t_tai))
    return float(utc_to_tai(np.floor(cal / DAY) * DAY))


def region_days(n: int) -> list[tuple[float, ActiveRegion, float]]:
    """Daily NOAA observations of region ``n``: ``(ObservationTime, region, LongitudeCM)``
    for each 00:00 UTC at which it is alive and on the Earth-facing disk."""
    if n < N0:
        return []
    st = _static(n)
    out = []
    day = _day_start(st.t_emerge) + DAY + 1.0
    while day <= st.t_emerge + st.life:
        t_obs = _day_start(day)
        reg = region(n, t_obs)
        if reg is not None:
            cm = (reg.carr_lon - l0_deg(t_obs) + 180.0) % 360.0 - 180.0
            if abs(cm) < 90.0:
                out.append((t_obs, reg, cm))
        day += DAY
    return out

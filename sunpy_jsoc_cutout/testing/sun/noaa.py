"""NOAA active regions of the emulated catalogue: a few real ones, the rest synthetic.

Real regions (`REAL_REGIONS`: 11158 in February 2011, 11967 in February 2014) have their real
dates, latitude and Carrington longitude, taken from published positions (the source is cited
with each entry); their Carrington longitude moves with the same differential-rotation law as
the synthetic ones, fitted to the published positions. Their areas, spot counts and classes
are synthetic (the sources give none).

Every other number is **synthetic**, not the real region of that number. The synthetic
model (all deterministic functions of the region number ``n``):

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

from sunpy_jsoc_cutout.testing.common.timeutil import DAY, parse_drms_time, tai_to_utc, utc_to_tai

__all__ = [
    "REAL_REGIONS",
    "ActiveRegion",
    "active_regions",
    "carrington_rate",
    "l0_deg",
    "region",
    "region_days",
    "regions_emerging",
]

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


@dataclass(frozen=True)
class _RealRegion:
    """Published positions ``(UTC time, latitude, degrees from central meridian, W positive)``
    of a real region, its first and last day on the disk, and the source."""

    observations: tuple[tuple[str, float, float], ...]
    first: str
    last: str
    source: str


#: Real regions: NOAA number -> published positions. Only these numbers are real.
REAL_REGIONS: dict[int, _RealRegion] = {
    # positions in SDO images as reported by the Solar Terrestrial Activity Reports of
    # 2014 February 5, 6, 7 and 9 (https://solen.info/solar/old_reports/2014/february/20140205.html
    # and 20140206, 20140207, 20140209): S12W22, S12W34, S12W48 and S12W74 on February 4, 5, 6
    # and 8 (taken at 12:00 UTC); on the disk from about 2014 January 26 to 2014 February 9
    11967: _RealRegion(
        (
            ("2014.02.04_12:00:00_UTC", -12.0, 22.0),
            ("2014.02.05_12:00:00_UTC", -12.0, 34.0),
            ("2014.02.06_12:00:00_UTC", -12.0, 48.0),
            ("2014.02.08_12:00:00_UTC", -12.0, 74.0),
        ),
        "2014.01.26_00:00:00_UTC",
        "2014.02.10_00:00:00_UTC",
        "solen.info Solar Terrestrial Activity Reports, 2014 February 5-9",
    ),
    # The patch centre (Stonyhurst latitude and longitude from the central meridian, W
    # positive, as HMI saw it) that the HMI team used for AR 11158 (HARP 377) in the example
    # calls of JSOC's own modules, lm-jps/proj@0cf0b90d: S20.4 W5.6 at 2011.02.14_12:00_TAI
    # (cgem/prep/apps/cgem_cutout.c L20, mag/patch/apps/multi_cut.c L36, "lonref"/"latref":
    # "Reference patch center Stonyhurst lon/lat", cgem_cutout.c L131-132) and S20.4 W18.6 at
    # 2011.02.15_12:00_TAI (cgem/prep/apps/cgem_prep.c L5, L153-154). Cross-checks, not fitted:
    # mag/patch/apps/bmap.c L19 centres a map of the same data at 2011.02.15_00:00_TAI on
    # latitude -20.4, Carrington longitude 35.0 (the fit gives 34.8); solen.info's report of
    # 2011 February 11 (https://solen.info/solar/old_reports/2011/february/20110211.html) has
    # a southern region S873 that "emerged in the southeast quadrant on February 10", at
    # S19E38 at midnight (the fit puts 11158 at S20E40 then). On the disk from its emergence
    # on 2011 February 10 until it rotated over the west limb about February 21; NOAA's date
    # of numbering is not in these sources, so the first record is the day after emergence.
    11158: _RealRegion(
        (
            ("2011.02.14_12:00:00_TAI", -20.4, 5.6),
            ("2011.02.15_12:00:00_TAI", -20.4, 18.6),
        ),
        "2011.02.10_00:00:00_UTC",
        "2011.02.22_00:00:00_UTC",
        "lm-jps/proj cgem_cutout.c, multi_cut.c and cgem_prep.c example calls (HMI team, AR 11158)",
    ),
}


@lru_cache(maxsize=64)
def _real_static(n: int) -> _Static:
    """A real region as the model's static parameters: the Carrington longitude at ``first``
    is the mean of the published positions carried back with the region's drift rate."""
    real = REAL_REGIONS[n]
    t_first, t_last = parse_drms_time(real.first), parse_drms_time(real.last)
    lat = float(np.mean([obs[1] for obs in real.observations]))
    lons = []
    for when, _, cm in real.observations:
        t = parse_drms_time(when)
        lons.append(l0_deg(t) + cm - carrington_rate(lat) * (t - t_first) / DAY)
    lon0 = float(np.degrees(np.angle(np.mean(np.exp(1j * np.radians(np.asarray(lons, dtype=float))))))) % 360.0
    return _Static(n, lat, lon0, t_first, t_last - t_first, 100.0 + 700.0 * _unit(n, "area"))


def emergence_time(n: int) -> float:
    """Emergence time (internal TAI seconds) of region ``n``."""
    return T0 + (n - N0 + 0.9 * _unit(n, "t")) / RATE * DAY


@lru_cache(maxsize=8192)
def _static(n: int) -> _Static:
    if n in REAL_REGIONS:
        return _real_static(n)
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


def regions_emerging(t_lo: float, t_hi: float) -> list[int]:
    """Region numbers emerging between ``t_lo`` and ``t_hi`` (a superset by one on each side
    for the synthetic schedule; real regions by their own first day)."""
    first = max(N0, int(np.floor(N0 + (t_lo - T0) / DAY * RATE)) - 1)
    last = max(N0 - 1, int(np.ceil(N0 + (t_hi - T0) / DAY * RATE)) + 1)
    numbers = {n for n in range(first, last + 1) if n not in REAL_REGIONS}
    numbers.update(n for n in REAL_REGIONS if t_lo <= _static(n).t_emerge <= t_hi)
    return sorted(numbers)


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

"""SDO's ephemeris keywords against sunpy: SDO is not at Earth; CRLN_OBS and CAR_ROT conventions."""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import CartesianRepresentation, SkyCoord
from astropy.time import Time

from sunpy.coordinates import frames, get_earth

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time
from sunpy_jsoc_cutout.testing.sun.ephemeris import (
    CALVER_BIT28,
    CRLN_OFFSET_DEG,
    RSUN_REF,
    observer_keywords,
    sdo_gcrs_xyz,
)

DAY = 86400.0


def obstime(t):
    return Time(2443144.5, np.asarray(t) / DAY, format="jd", scale="tai")


@pytest.fixture(scope="module")
def day_2014():
    t = parse_drms_time("2014.02.05_00:00_TAI") + np.arange(0, DAY, 600.0)
    return t, observer_keywords(t)


def test_sdo_is_not_at_earth(day_2014):
    t, eph = day_2014
    earth = get_earth(obstime(t))
    dr = eph["DSUN_OBS"] - earth.radius.to_value(u.m)
    assert 2.5e7 < np.abs(dr).max() < 4.3e7  # up to one geosynchronous radius along the Sun line
    assert dr.max() > 0 > dr.min()  # nearer the Sun on the day side, farther at night
    assert 0.005 < np.abs(eph["HGLN_OBS"]).max() < 0.02  # tens of arcseconds
    assert np.abs(eph["HGLT_OBS"] - earth.lat.to_value(u.deg)).max() > 1e-3


def test_agrees_with_sunpy_transform_of_the_orbit(day_2014):
    t, eph = day_2014
    pick = [0, 37, 101]
    xyz = sdo_gcrs_xyz(t[pick])
    coord = SkyCoord(CartesianRepresentation(xyz * u.m), frame="gcrs", obstime=obstime(t[pick]))
    hgs = coord.transform_to(frames.HeliographicStonyhurst(obstime=obstime(t[pick])))
    hgc = coord.transform_to(frames.HeliographicCarrington(obstime=obstime(t[pick]), observer="self"))
    assert np.allclose(eph["HGLN_OBS"][pick], hgs.lon.to_value(u.deg), atol=5e-5)
    assert np.allclose(eph["HGLT_OBS"][pick], hgs.lat.to_value(u.deg), atol=5e-5)
    assert np.allclose(eph["DSUN_OBS"][pick], hgs.radius.to_value(u.m), atol=1e4)
    true = hgc.lon.to_value(u.deg)
    assert np.allclose(eph["CRLN_TRUE"][pick], true, atol=1e-4)
    # JSOC's header convention before the fix date: true L0 + 0.0818941 deg, CALVER64 bit 28 unset
    assert np.allclose(eph["CRLN_OBS"][pick] - true, CRLN_OFFSET_DEG, atol=1e-4)
    assert not eph["CRLN_BIT28"].any()


def test_crln_convention_switches_at_the_fix_date():
    t = parse_drms_time("2024.03.01_12:00")
    after = observer_keywords(t)
    assert after["CRLN_BIT28"][0]
    assert after["CRLN_OBS"][0] == pytest.approx(after["CRLN_TRUE"][0], abs=1e-9)
    moved = observer_keywords(t, crln_fix_date="2025.01.01")
    assert moved["CRLN_OBS"][0] - moved["CRLN_TRUE"][0] == pytest.approx(CRLN_OFFSET_DEG, abs=1e-9)
    header = Catalogue().query("hmi.M_720s[2024.03.01_12:00_TAI]").header(0)
    assert header["CALVER64"] & CALVER_BIT28
    old = Catalogue().query("hmi.M_720s[2014.03.01_12:00_TAI]").header(0)
    assert not old["CALVER64"] & CALVER_BIT28
    late = Catalogue(crln_fix_date="2030.01.01").query("hmi.M_720s[2024.03.01_12:00_TAI]").header(0)
    assert not late["CALVER64"] & CALVER_BIT28


def test_car_rot_increments_when_crln_wraps():
    t = parse_drms_time("2014.01.20") + np.arange(0, 40 * DAY, 3600.0)
    eph = observer_keywords(t)
    phase = eph["CAR_ROT"] * 360.0 - eph["CRLN_OBS"]  # continuous if CAR_ROT follows CRLN_OBS
    assert np.all(np.diff(phase) > 0)
    assert np.all(np.diff(phase) < 1.0)
    assert len(set(eph["CAR_ROT"])) == 2  # one rotation boundary in 40 days... at most two values
    assert 2146 in set(eph["CAR_ROT"])


def test_rsun_and_radial_velocity(day_2014):
    t, eph = day_2014
    assert np.allclose(eph["RSUN_OBS"], np.rad2deg(np.arcsin(RSUN_REF / eph["DSUN_OBS"])) * 3600)
    later = observer_keywords(t + 30.0)["DSUN_OBS"]
    earlier = observer_keywords(t - 30.0)["DSUN_OBS"]
    assert np.allclose(eph["OBS_VR"], (later - earlier) / 60.0, atol=2.0)
    assert 2000 < np.abs(eph["OBS_VR"]).max() < 4000  # SDO's orbital motion dominates

"""Box centres in im_patch's units, checked against sunpy.coordinates (observer: SDO from keywords)."""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective, get_earth, sun

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.boxgeometry import degree_box_arcsec
from sunpy_jsoc_cutout._plan.coords import (
    CRLN_CORRECTION_DEG,
    carrington_rotation_for,
    im_patch_crln,
    limb_crossing_times,
    parse_drms_time,
    resolve_box,
    sdo_observer,
)
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

T = Time("2014-02-05T08:00:00")


def sdo_keywords(t=T, calver_bit28=False):
    """Keywords of an SDO record: SDO is ~40,000 km from Earth (geosynchronous), not at Earth."""
    earth = get_earth(t)
    keywords = {
        "HGLN_OBS": 0.014,
        "HGLT_OBS": earth.lat.to_value(u.deg) - 0.006,
        "DSUN_OBS": earth.radius.to_value(u.m) - 2.0e7,
        "T_OBS": t.isot + "Z",
        "RSUN_REF": 6.96e8,
    }
    observer = SkyCoord(
        keywords["HGLN_OBS"] * u.deg,
        keywords["HGLT_OBS"] * u.deg,
        keywords["DSUN_OBS"] * u.m,
        frame=HeliographicStonyhurst,
        obstime=t,
    )
    l0 = observer.transform_to(HeliographicCarrington(observer=observer, obstime=t)).lon.to_value(u.deg)
    # A header CRLN_OBS as JSOC writes it: +0.0819 deg until CALVER64 bit 28 is set.
    keywords["CRLN_OBS"] = l0 + (0 if calver_bit28 else CRLN_CORRECTION_DEG) + 0.005
    keywords["CALVER"] = (1 << 28) if calver_bit28 else 0
    return keywords, observer


def sdo_view(point, observer):
    return point.make_3d().transform_to(Helioprojective(observer=observer, obstime=observer.obstime))


def test_solar_orbiter_box_is_moved_to_sdo_view():
    keywords, sdo = sdo_keywords()
    solo = SkyCoord(60 * u.deg, 5 * u.deg, 0.3 * u.AU, frame=HeliographicStonyhurst, obstime=T)
    point = SkyCoord(30 * u.deg, 20 * u.deg, frame=HeliographicStonyhurst, obstime=T).make_3d()
    center = point.transform_to(Helioprojective(observer=solo, obstime=T))
    loc = resolve_box(jc.Box(center, 300 * u.arcsec), keywords, tracking=True, near=T)
    expected = sdo_view(point, sdo)
    assert loc.locunits == "arcsec"
    assert abs(loc.x - expected.Tx.to_value(u.arcsec)) < 0.1
    assert abs(loc.y - expected.Ty.to_value(u.arcsec)) < 0.1
    # The Solar Orbiter numbers are far from SDO's: a naive copy would be wrong by arcminutes.
    assert abs(center.Tx.to_value(u.arcsec) - loc.x) > 60


def test_limb_centre_uses_sdo_not_earth():
    keywords, sdo = sdo_keywords()
    point = SkyCoord(88 * u.deg, 10 * u.deg, frame=HeliographicStonyhurst, obstime=T)
    from_earth = point.make_3d().transform_to(Helioprojective(observer="earth", obstime=T))
    loc = resolve_box(jc.Box(from_earth, 100 * u.arcsec), keywords, tracking=True, near=T)
    expected = sdo_view(point, sdo)
    assert np.hypot(loc.x - expected.Tx.to_value(u.arcsec), loc.y - expected.Ty.to_value(u.arcsec)) < 0.1
    earth_error = np.hypot(
        (from_earth.Tx - expected.Tx).to_value(u.arcsec), (from_earth.Ty - expected.Ty).to_value(u.arcsec)
    )
    assert earth_error > 0.1


def test_corners_from_earth_become_sdo_box():
    keywords, sdo = sdo_keywords()
    frame = Helioprojective(observer="earth", obstime=T)
    bl = SkyCoord(-700 * u.arcsec, -400 * u.arcsec, frame=frame)
    tr = SkyCoord(-300 * u.arcsec, -100 * u.arcsec, frame=frame)
    loc = resolve_box(jc.Box.from_corners(bl, tr), keywords, tracking=True, near=T)
    bl_sdo, tr_sdo = sdo_view(bl, sdo), sdo_view(tr, sdo)
    assert abs(loc.width - (tr_sdo.Tx - bl_sdo.Tx).to_value(u.arcsec)) < 0.1
    assert abs(loc.x - ((tr_sdo.Tx + bl_sdo.Tx) / 2).to_value(u.arcsec)) < 0.1
    assert loc.boxunits == "arcsec"


def test_stonyhurst_is_relative_to_sdo_meridian():
    keywords, _ = sdo_keywords()
    center = SkyCoord(-30 * u.deg, 12 * u.deg, frame=HeliographicStonyhurst, obstime=T)
    loc = resolve_box(jc.Box(center, 5 * u.deg), keywords, tracking=True, near=T)
    # sent as the arcsec box im_patch's BOXDEGREE block would size (issue 10)
    assert (loc.locunits, loc.boxunits) == ("stony", "arcsec")
    assert (loc.width, loc.height) == pytest.approx(degree_box_arcsec(5, 5, 12, keywords))
    assert loc.x == pytest.approx(-30 - keywords["HGLN_OBS"], abs=1e-6)
    assert loc.y == pytest.approx(12, abs=1e-6)


@pytest.mark.parametrize("bit28", [False, True])
def test_carrington_longitude_in_jsoc_convention(bit28):
    keywords, sdo = sdo_keywords(calver_bit28=bit28)
    center = SkyCoord(150 * u.deg, -12 * u.deg, frame=HeliographicCarrington, observer=sdo, obstime=T)
    loc = resolve_box(jc.Box(center, 10 * u.deg), keywords, tracking=True, near=T)
    # im_patch places the box at (x - corrected CRLN_OBS) from SDO's meridian; that must equal sunpy's.
    corrected = keywords["CRLN_OBS"] - (0 if bit28 else CRLN_CORRECTION_DEG)
    l0 = sdo.transform_to(HeliographicCarrington(observer=sdo, obstime=T)).lon.to_value(u.deg)
    assert (loc.x - corrected) == pytest.approx(150 - l0, abs=1e-6)
    assert loc.locunits == "carrlong"
    assert loc.car_rot == carrington_rotation_for(150 * u.deg, T)[0]


def test_car_rot_is_the_crossing_nearest_the_time():
    lon = 100 * u.deg
    car_rot, crossing = carrington_rotation_for(lon, T)
    assert abs((crossing - T).to_value(u.day)) <= 27.3 / 2
    for other in (car_rot - 1, car_rot + 1):
        other_time = sun.carrington_rotation_time(other + (360 - 100) / 360)
        assert abs((other_time - T).to_value(u.day)) > abs((crossing - T).to_value(u.day))
    earth_l0 = sun.L0(crossing).to_value(u.deg)
    assert earth_l0 == pytest.approx(100, abs=1e-3)


def test_limb_crossings_are_ninety_degrees_from_meridian():
    east, west = limb_crossing_times(100 * u.deg, T)
    assert sun.L0(east).to_value(u.deg) == pytest.approx(190, abs=1e-3)
    assert sun.L0(west).to_value(u.deg) == pytest.approx(10, abs=1e-3)
    assert 13 < (west - east).to_value(u.day) < 14


def test_tracked_centre_off_disk_is_refused():
    keywords, _ = sdo_keywords()
    off = SkyCoord(1100 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime=T))
    with pytest.raises(CutoutQueryError, match="off the solar disk"):
        resolve_box(jc.Box(off, 100 * u.arcsec), keywords, tracking=True, near=T)
    loc = resolve_box(jc.Box(off, 100 * u.arcsec), keywords, tracking=False, near=T)
    assert loc.x > 1000


def test_pixel_box_is_passed_through():
    keywords, _ = sdo_keywords()
    loc = resolve_box(jc.Box([2048.5, 1024] * u.pix, 500 * u.pix, 300 * u.pix), keywords, tracking=False, near=T)
    assert (loc.locunits, loc.x, loc.y, loc.boxunits, loc.width, loc.height) == (
        "pixels",
        2048.5,
        1024,
        "pixels",
        500,
        300,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014.02.05_08:00:35_TAI", "2014-02-05T08:00:00.000"),
        ("2014-02-05T08:00:00Z", "2014-02-05T08:00:00.000"),
        ("2014.02.05_08:00:00_UTC", "2014-02-05T08:00:00.000"),
    ],
)
def test_parse_drms_time(text, expected):
    assert parse_drms_time(text).utc.isot == expected


def hmi_keywords(calver):
    """An HMI record as real HMI series hold it: no HGLN_OBS/HGLT_OBS, SDO from CRLN_OBS/CRLT_OBS/DSUN_OBS."""
    aia_like, sdo = sdo_keywords(calver_bit28=bool(calver >= 0 and calver & (1 << 28)))
    keywords = {k: v for k, v in aia_like.items() if k not in ("HGLN_OBS", "HGLT_OBS")}
    keywords["CRLT_OBS"] = sdo.transform_to(HeliographicCarrington(observer=sdo, obstime=T)).lat.to_value(u.deg)
    keywords["CALVER"] = calver
    return keywords, sdo


@pytest.mark.parametrize("calver", [0, 1 << 28])
def test_hmi_observer_comes_from_carrington_keywords(calver):
    # Real hmi.M_45s has no HGLN_OBS/HGLT_OBS (recorded series_struct, 90 keywords): SDO's position
    # comes from CRLN_OBS (as im_patch corrects it), CRLT_OBS and DSUN_OBS.
    keywords, sdo = hmi_keywords(calver)
    observer = sdo_observer(keywords)
    # The test's CRLN_OBS is sunpy's L0 + 0.005 deg after im_patch's correction.
    assert observer.lon.to_value(u.deg) == pytest.approx(sdo.lon.to_value(u.deg) + 0.005, abs=1e-6)
    assert observer.lat.to_value(u.deg) == pytest.approx(sdo.lat.to_value(u.deg), abs=1e-6)
    assert observer.radius.to_value(u.m) == pytest.approx(sdo.radius.to_value(u.m), rel=1e-12)


@pytest.mark.parametrize(
    "make_box",
    [
        lambda: jc.Box.stonyhurst(-30 * u.deg, 12 * u.deg, 300 * u.arcsec),
        lambda: jc.Box(SkyCoord(-30 * u.deg, 12 * u.deg, frame=HeliographicStonyhurst, obstime=T), 300 * u.arcsec),
        lambda: jc.Box(
            SkyCoord(-200 * u.arcsec, 150 * u.arcsec, frame=Helioprojective(observer="earth", obstime=T)),
            300 * u.arcsec,
        ),
    ],
)
def test_hmi_boxes_resolve_without_hgln(make_box):
    # Before: NaN observer, "not on SDO's visible disk" for Stonyhurst/HPC-SkyCoord boxes on HMI.
    keywords, _ = hmi_keywords(0)
    loc = resolve_box(make_box(), keywords, tracking=True, near=T)
    assert np.isfinite([loc.x, loc.y]).all()
    assert loc.carrington is not None
    assert np.isfinite(loc.carrington).all()


def test_hmi_carrington_skycoord_box_sends_a_finite_longitude():
    # Before: x=nan was sent for a Carrington SkyCoord box on HMI.
    keywords, sdo = hmi_keywords(0)
    center = SkyCoord(150 * u.deg, -12 * u.deg, frame=HeliographicCarrington, observer=sdo, obstime=T)
    loc = resolve_box(jc.Box(center, 10 * u.deg), keywords, tracking=True, near=T)
    assert loc.locunits == "carrlong"
    assert np.isfinite(loc.x)


@pytest.mark.parametrize(
    ("calver", "correction"),
    [
        *[(0, CRLN_CORRECTION_DEG), (1 << 28, 0.0), (-1, 0.0), ((1 << 28) | 0x10, 0.0), (0x10, CRLN_CORRECTION_DEG)],
        # bit 31 of the low 32 bits also means no correction; higher CALVER64 bits are ignored
        *[(1 << 31, 0.0), ((1 << 40) | 0x10, CRLN_CORRECTION_DEG), ((1 << 40) | (1 << 28), 0.0)],
    ],
)
def test_crln_correction_follows_get_new_crln_obs(calver, correction):
    # im_patch.c get_new_CRLN_OBS: subtract 0.0818941 deg unless bit 28 is set; an absent or
    # MISSING calibration version (-1 here; aia.lev1_euv_12s has neither CALVER64 nor CALVER32) means no correction.
    assert im_patch_crln(100.0, calver) == pytest.approx(100.0 - correction, abs=1e-12)
    assert im_patch_crln(np.array([100.0, 50.0]), np.array([calver, calver])) == pytest.approx(
        np.array([100.0, 50.0]) - correction, abs=1e-12
    )

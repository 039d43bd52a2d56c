"""The a.jsoc_cutout attrs: namespace, values, and the hidden t inversion."""

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective
from sunpy.net.attr import AttrAnd

from sunpy_jsoc_cutout import attrs as jc


def test_namespace_is_clean():
    assert sorted(dir(jc)) == sorted(jc.__all__)
    assert all(getattr(jc, name).__module__ == "sunpy_jsoc_cutout.attrs" for name in jc.__all__)
    assert all(getattr(jc, name).__doc__ for name in jc.__all__)


def test_tracking_hides_the_t_inversion():
    assert jc.Tracking().im_patch_flag == 0
    assert jc.Tracking(True).im_patch_flag == 0
    assert jc.Tracking(False).im_patch_flag == 1


@pytest.mark.parametrize(
    ("frame", "kwargs", "locunits"),
    [
        (Helioprojective, {"observer": "earth"}, "arcsec"),
        (HeliographicStonyhurst, {}, "stony"),
        (HeliographicCarrington, {"observer": "earth"}, "carrlong"),
    ],
)
def test_box_locunits_follow_the_frame(frame, kwargs, locunits):
    center = SkyCoord(10 * u.deg, 10 * u.deg, frame=frame, obstime="2014-02-05", **kwargs)
    assert jc.Box(center, 100 * u.arcsec).locunits == locunits


@pytest.mark.parametrize(
    ("width", "boxunits"),
    [(300 * u.arcsec, "arcsec"), (5 * u.arcmin, "arcsec"), (10 * u.deg, "degrees"), (500 * u.pix, "pixels")],
)
def test_box_units(width, boxunits):
    box = jc.Box([0, 0] * u.arcsec, width)
    assert box.boxunits == boxunits
    assert box.height == width


def test_active_region_numbers_below_7000_get_10000():
    assert jc.ActiveRegion(1158, 1 * u.deg).number == 11158
    assert jc.ActiveRegion(11158, 1 * u.deg).number == 11158
    assert (
        jc.ActiveRegion(12673, 1 * u.deg, series="jsoc.noaa_active_regions").lookup_recordset
        == "jsoc.noaa_active_regions[? RegionNumber=12673 ?]"
    )


def test_attrs_combine_with_sunpy_attrs():
    query = (
        a.Time("2014-02-05", "2014-02-06")
        & a.jsoc.Series("aia.lev1_euv_12s")
        & jc.Box([0, 0] * u.arcsec, 10 * u.arcsec)
        & jc.Tracking()
        & jc.Register(True)
        & jc.Level1p5()
        & jc.Rebin(0.5)
    )
    assert isinstance(query, AttrAnd)
    assert len(query.attrs) == 7


def test_two_trackings_collide():
    with pytest.raises(TypeError):
        jc.Tracking() & jc.Tracking(False)


def test_method_and_protocol_normalisation():
    assert jc.Method("URL_TAR").value == "url-tar"
    assert jc.ExportProtocol("FITS").jsoc_string == "fits"
    assert jc.ExportProtocol("Mp4").jsoc_string.startswith("mp4,")

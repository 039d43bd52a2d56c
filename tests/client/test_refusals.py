"""
Doomed or meaningless queries refused through ``Fido.search`` before any export (issue 10, items 4, 5, 9).

Each test counts what reached the emulator: nothing where the client can know before any metadata
call, only the NOAA lookup for an active region of another epoch, and no ``jsoc_fetch`` at all for
the refusal made after the search (no record would give a file). sunpy 7.0 raises a client's
search error, sunpy >= 7.1 keeps it in ``.errors``; `search_error` accepts both.
"""

import re

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington, Helioprojective
from sunpy.net import Fido
from sunpy.util.exceptions import SunpyUserWarning

import sunpy_jsoc_cutout  # noqa: F401  (registers the client)
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.client import _fido_keeps_search_errors
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, JSOCCutoutError

TIME = a.Time("2014-02-05 08:00", "2014-02-05 09:00")
SHORT = a.Time("2014-02-05 08:00", "2014-02-05 08:02")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
W171 = a.Wavelength(171 * u.AA)
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)


def search_error(*query) -> Exception:
    """The error ``Fido.search`` reports for ``query``, raised (sunpy 7.0) or stored (sunpy >= 7.1)."""
    try:
        result = Fido.search(*query)
    except JSOCCutoutError as err:
        assert not _fido_keeps_search_errors()
        return err
    errors = []
    for block in result:
        found = block.errors
        errors += found if isinstance(found, list) else [found]
    errors = [e for e in errors if e]
    assert errors, f"no error reported for {query}"
    return errors[0]


def refused(jsoc, *query, match: str) -> CutoutQueryError:
    error = search_error(*query)
    assert isinstance(error, CutoutQueryError), repr(error)
    assert re.search(match, str(error)), str(error)
    return error


# --- item 4: far-side Carrington centres ----------------------------------------------------------


def test_far_side_carrington_centre_is_refused_with_its_east_limb_time(jsoc):
    # Before: accepted, and the cutouts came centred near Stonyhurst -37 deg, the near-side mirror
    # point of -144 deg (im_patch.c ignores sphere2img's far-side return value).
    box = jc.Box.carrington(300 * u.deg, 0 * u.deg, 100 * u.arcsec)
    error = refused(jsoc, TIME, EUV, W171, box, match=r"\(300 deg, 0 deg\) is on the far side of the Sun")
    assert "-144 deg from the central meridian" in str(error)
    assert "mirror point" in str(error)
    assert re.search(r"east limb at about 2014-02-09T\d\d:\d\d: start the time range then", str(error))
    assert "central meridian is at about 84 deg" in str(error)
    assert len(jsoc.request_log) == 0


def test_far_side_carrington_skycoord_is_refused(jsoc):
    centre = SkyCoord(300 * u.deg, 0 * u.deg, frame=HeliographicCarrington, observer="earth", obstime="2014-02-05")
    refused(jsoc, TIME, EUV, W171, jc.Box(centre, 5 * u.deg), match="on the far side of the Sun")
    assert len(jsoc.request_log) == 0


def test_carrington_centre_going_behind_the_west_limb_is_refused(jsoc):
    # 84 deg is at central meridian on 2014-02-05 08:00; 148 deg is 64 deg west (Carrington longitude
    # grows westward of the meridian) and passes the west limb about two days later, so the later
    # records would be mirror-point cutouts.
    box = jc.Box.carrington(148 * u.deg, 0 * u.deg, 100 * u.arcsec)
    long_run = a.Time("2014-02-05 08:00", "2014-02-09 08:00")
    error = refused(jsoc, long_run, EUV, W171, box, match=r"goes behind the west limb at about 2014-02-07")
    assert re.search(r"End the time range by 2014-02-07T\d\d:\d\d", str(error))
    assert len(jsoc.request_log) == 0
    # positive control: the same centre over a range it stays on the disk reaches JSOC
    Fido.search(SHORT, EUV, W171, box)
    assert len(jsoc.request_log) > 0


# --- item 5: reference times that do not fit the range --------------------------------------------


def test_active_region_of_another_epoch_is_refused_after_the_noaa_lookup(jsoc):
    # Before: 11158 (February 2011) with a 2014 range gave a box where the region was in 2011.
    error = refused(
        jsoc, TIME, EUV, W171, jc.ActiveRegion(11158, 200 * u.arcsec), match=r"region 11158 was observed from 2011"
    )
    assert "days from the time range (2014-02-05T08:00 to 2014-02-05T09:00)" in str(error)
    assert "a.Time('2011-02-" in str(error)
    # only the NOAA lookup reached JSOC, no record of the series was asked for
    assert [e["params"].get("ds", "") for e in jsoc.request_log] == ["jsoc.noaa_active_regions[? RegionNumber=11158 ?]"]


def test_explicit_reference_time_far_from_the_range_warns_with_the_drift(jsoc):
    # Before: accepted silently; the box was placed in 2011 and tracked at the Carrington rate to 2014.
    query = (TIME, EUV, W171, jc.Box([0, 0] * u.arcsec, 100 * u.arcsec), jc.ReferenceTime("2011-01-01"))
    with pytest.warns(SunpyUserWarning, match=r"1131.3 days before the time range") as record:
        result = Fido.search(*query)
    text = str(record[0].message)
    assert re.search(r"has drifted about \d+\.\d deg of longitude away from it", text), text
    assert "ReferenceTime('2014-02-05T08:00')" in text
    assert len(result["jsoccutout"]) > 0  # a warning, not a refusal


def test_centre_obstime_far_from_the_range_warns_before_anything_is_sent(jsoc):
    from sunpy.net.attr import and_  # noqa: PLC0415

    from sunpy_jsoc_cutout._plan.checks import check_block  # noqa: PLC0415
    from sunpy_jsoc_cutout._query.walker import walker  # noqa: PLC0415

    centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective, observer="earth", obstime="2011-01-01")
    query = (TIME, EUV, W171, jc.Box(centre, 100 * u.arcsec))
    # the pure pre-send check warns (it makes no HTTP call), and so does the search
    [block] = walker.create(and_(*query))
    with pytest.warns(SunpyUserWarning, match="drifted about"):
        check_block(block)
    assert len(jsoc.request_log) == 0
    with pytest.warns(SunpyUserWarning, match="drifted about"):
        Fido.search(*query)


def test_reference_time_within_a_day_does_not_warn(jsoc):
    # filterwarnings=error: any warning would fail this search
    Fido.search(TIME, EUV, W171, BOX, jc.ReferenceTime("2014-02-05 20:00"))


# --- item 9: non-finite sizes and centres, non-positive a.Sample ----------------------------------

NON_FINITE = [
    (lambda: jc.Box([0, 0] * u.arcsec, np.inf * u.arcsec), r"width must be a finite number; got inf arcsec"),
    (lambda: jc.Box([0, 0] * u.arcsec, 100 * u.arcsec, np.nan * u.arcsec), "height must be a finite number"),
    (lambda: jc.Box([0, 0] * u.pix, np.inf * u.pix), "width must be a finite number"),
    (lambda: jc.ActiveRegion(11967, np.inf * u.deg), "width must be a finite number"),
    (lambda: jc.Box([np.nan, 0] * u.arcsec, 100 * u.arcsec), r"centre must be finite; got the position \[nan"),
    (
        lambda: jc.Box(
            SkyCoord(np.nan * u.arcsec, 0 * u.arcsec, frame=Helioprojective, observer="earth", obstime="2014-02-05"),
            100 * u.arcsec,
        ),
        "centre must be finite; got the coordinate",
    ),
    (lambda: jc.Box.stonyhurst(np.nan * u.deg, 0 * u.deg, 10 * u.deg), "centre must be finite; got longitude"),
    (lambda: jc.Box.carrington(10 * u.deg, np.inf * u.deg, 10 * u.deg), "centre must be finite; got latitude"),
]


@pytest.mark.parametrize(("build", "message"), NON_FINITE)
def test_non_finite_box_is_refused_before_the_search(jsoc, build, message):
    # Before: width=inf and NaN centres were sent to JSOC (x=nan, width=inf in the process string).
    with pytest.raises(CutoutQueryError, match=message):
        Fido.search(TIME, EUV, W171, build())
    assert len(jsoc.request_log) == 0


@pytest.mark.parametrize("seconds", [0, -60])
def test_non_positive_sample_is_refused(jsoc, seconds):
    # Before: a.Sample(0 s) and a.Sample(-60 s) were sent as every 12 s slot (@12s).
    refused(jsoc, TIME, EUV, W171, BOX, a.Sample(seconds * u.s), match=rf"a.Sample\({seconds} s\) is not a cadence")
    assert len(jsoc.request_log) == 0


# --- item 9: a box off every image, refused after the search ---------------------------------------


def test_pixel_box_off_every_image_is_refused_before_any_export(jsoc, email, tmp_path):
    # Before: every row said "box off the image" and Fido.fetch sent the export anyway.
    off = jc.Box([10000, 10000] * u.pix, 100 * u.pix)
    query = (SHORT, EUV, W171, off, jc.Tracking(False), a.jsoc.Notify(email))
    refused(jsoc, *query, match=r"None of the \d+ records of aia.lev1_euv_12s .* would give a file")
    error = search_error(*query)
    assert re.search(r"\d+ box off the image\), so nothing is exported", str(error))
    assert "1-based positions in the stored full-disk image" in str(error)
    assert len(jsoc.request_log) > 0  # the search listed the records
    if _fido_keeps_search_errors():
        assert len(Fido.fetch(Fido.search(*query), path=tmp_path / "{file}")) == 0
    assert not [e for e in jsoc.request_log if e["endpoint"] == "jsoc_fetch"]


# --- item 9: wavelengths the series does not have --------------------------------------------------

WAVES = [
    (EUV, a.Wavelength(999 * u.AA), r"aia.lev1_euv_12s has no 999 Å images: its wavelengths are 94, 131, 171, 193"),
    (EUV, jc.Wavelengths(171 * u.AA, 1600 * u.AA), r"no 1600 Å images.* 1600 Å is in aia.lev1_uv_24s"),
    (a.jsoc.Series("aia.lev1_uv_24s"), a.Wavelength(171 * u.AA), r"its wavelengths are 1600, 1700 Å\. 171 Å is in"),
    (a.jsoc.Series("aia.lev1"), a.Wavelength(999 * u.AA), r"aia.lev1 has no 999 Å images.*4500 Å\. Pick one"),
]


@pytest.mark.parametrize(("series", "wave", "message"), WAVES)
def test_wavelength_the_series_does_not_have_is_refused_before_any_request(jsoc, series, wave, message):
    # Before: 8 metadata calls, then "no good record within 2 hours of the reference time".
    refused(jsoc, TIME, series, wave, BOX, match=message)
    assert len(jsoc.request_log) == 0


# --- issue 13: protocol as-is -----------------------------------------------------------------------


def test_as_is_is_refused_before_anything_is_sent(jsoc, email):
    # Before: as-is was exported (with a warning) and its cutouts, keyword-less stored files, did not
    # open as maps. sunpy's a.jsoc.Protocol is refused by the search, the client's attr when made.
    error = refused(jsoc, SHORT, EUV, W171, BOX, a.jsoc.Protocol("as-is"), a.jsoc.Notify(email), match="'as-is'")
    assert "keywords.txt" in str(error)
    assert "Use the protocol 'fits'" in str(error)
    with pytest.raises(CutoutQueryError, match=r"not offered.*sunpy\.map\.Map cannot open"):
        jc.ExportProtocol("As-Is")
    assert len(jsoc.request_log) == 0

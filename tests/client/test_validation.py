"""A table of bad inputs, each refused with a message saying what to change (nothing is sent)."""

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington
from sunpy.util.exceptions import SunpyUserWarning

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.checks import check_block, require_notify
from sunpy_jsoc_cutout._plan.noaa import resolve_active_region
from sunpy_jsoc_cutout._plan.recordset import resolve_cadence
from sunpy_jsoc_cutout._plan.series_rules import rules_for
from sunpy_jsoc_cutout._query.box import ActiveRegion
from sunpy_jsoc_cutout._query.walker import walker
from sunpy_jsoc_cutout.exceptions import (
    CutoutQueryError,
    JSOCCutoutError,
    MissingNotifyError,
    UnknownActiveRegionError,
)

TIME = a.Time("2014-02-05 08:00", "2014-02-05 09:00")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
CARR = SkyCoord(150 * u.deg, 10 * u.deg, frame=HeliographicCarrington, observer="earth", obstime="2014-02-05")


def check(*attrs):
    query = attrs[0]
    for attr in attrs[1:]:
        query = query & attr
    for block in walker.create(query):
        check_block(block)


BAD = [
    # single-attr checks (when the attr is built)
    (lambda: jc.Box([0, 0] * u.arcsec, 0 * u.arcsec), "width must be positive"),
    (lambda: jc.Box([0, 0] * u.arcsec, -5 * u.arcsec), "width must be positive"),
    (lambda: jc.Box([0, 0] * u.arcsec, 100 * u.arcsec, -1 * u.arcsec), "height must be positive"),
    (lambda: jc.Box([0, 0] * u.arcsec, 100 * u.m), r"unit m; give a size in arcsec"),
    (lambda: jc.Box([0, 0] * u.arcsec, 100), "must be a scalar Quantity"),
    (lambda: jc.Box([0, 0] * u.arcsec, 100 * u.arcsec, 100 * u.pix), "both be angles or both be pixels"),
    (lambda: jc.Box([1, 2, 3] * u.arcsec, 100 * u.arcsec), r"pair \[x, y\]\*u.arcsec"),
    (lambda: jc.Box.stonyhurst(10 * u.deg, 95 * u.deg, 10 * u.deg), "between -90 deg and 90 deg"),
    (lambda: jc.Box.carrington(10 * u.deg, -91 * u.deg, 10 * u.deg), "between -90 deg and 90 deg"),
    (lambda: jc.Box.carrington(400 * u.deg, 0 * u.deg, 10 * u.deg), "between 0 and 360"),
    (lambda: jc.ActiveRegion(-5, 100 * u.arcsec), "positive integer"),
    (lambda: jc.Tracking(False, start="east_limb"), r"use Tracking\(True"),
    (lambda: jc.Tracking(start="2014-02-05 10:00", stop="2014-02-05 09:00"), "must come after start"),
    (lambda: jc.Method("url_quick"), "cannot carry processing"),
    (lambda: jc.Method("ftp"), "'url' or 'url-tar'"),
    (lambda: jc.ExportProtocol("png"), "fits, jpg, mpg, mp4"),
    (lambda: jc.ExportProtocol("as-is"), "'as-is' is not offered"),
    (lambda: jc.ExportProtocol("fits", scaling="LOG"), "only apply to jpg, mpg and mp4"),
    (lambda: jc.FilenameFormat("{T_REC:A"), "balanced"),
    (lambda: jc.FilenameFormat("a;b{segment}"), "contains ';'"),
    (lambda: jc.RecordLimit(0), "non-zero integer"),
    (lambda: jc.Rebin(0), "positive number"),
    (lambda: jc.Rebin(0.5, method="boxcar", fwhm=3), "only apply to method='gaussian'"),
    (lambda: jc.Level1p5("not a series"), "JSOC series name"),
    (lambda: jc.Wavelengths(171 * u.AA, 171 * u.AA), "twice"),
    (lambda: jc.CoalignedSeries("aia.lev1_euv_12s"), "two or more"),
    (lambda: jc.Register(1), "True or False"),
    # cross-attr checks (in search)
    (lambda: check(TIME, BOX), r"Add a series"),
    (lambda: check(TIME, EUV, jc.Register(False)), "Add a cutout box"),
    (lambda: check(TIME, EUV, BOX, jc.Box([0, 0] * u.arcsec, 50 * u.arcsec)), "one cutout box, got 2"),
    (lambda: check(EUV, BOX), r"Add a time range with a.Time"),
    (lambda: check(EUV, BOX, jc.Tracking(False)), r"Add a time range"),
    (lambda: check(TIME, EUV, jc.Box(CARR, 5 * u.deg), jc.Tracking(False)), "complete nonsense"),
    (
        lambda: check(TIME, EUV, jc.Box.carrington(10 * u.deg, 0 * u.deg, 5 * u.deg), jc.Tracking(False)),
        "enable tracking",
    ),
    (lambda: check(TIME, a.jsoc.Series("hmi.sharp_720s"), BOX), "no processing"),
    (lambda: check(TIME, a.jsoc.Series("hmi.cea_720s"), BOX), "no processing"),
    (lambda: check(TIME, a.jsoc.Series("hmi.M_45s"), BOX, jc.Level1p5()), "only applies to AIA"),
    (lambda: check(TIME, a.jsoc.Series("hmi.M_45s"), BOX, a.Wavelength(171 * u.AA)), "no wavelength selection"),
    (lambda: check(TIME, EUV, BOX, a.Wavelength(171 * u.AA), jc.Wavelengths(193 * u.AA)), "not both"),
    (lambda: check(TIME, EUV, BOX, a.Wavelength(100 * u.AA, 200 * u.AA)), "single wavelength"),
    (lambda: check(TIME, a.jsoc.Series("aia.lev1"), BOX, a.Sample(60 * u.s)), "needs a wavelength"),
    (lambda: check(TIME, EUV, BOX, a.jsoc.Protocol("as-is")), "'as-is' is not offered"),
    (lambda: check(TIME, EUV, BOX, jc.FullHeaders(True), jc.ExportProtocol("jpg")), "use protocol 'fits'"),
    (lambda: check(TIME, EUV, BOX, jc.Tracking(start="east_limb", stop="west_limb")), "drop a.Time"),
    (
        lambda: check(TIME, jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s"), jc.Box([0, 0] * u.pix, 100 * u.pix)),
        "not pixels",
    ),
    (lambda: check(TIME, EUV, jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s"), BOX), "not both"),
    (lambda: check(TIME, EUV, BOX, a.jsoc.PrimeKey("WAVELNTH", 171), a.Wavelength(171 * u.AA)), "wavelength once"),
    (lambda: check(TIME, EUV, BOX, a.jsoc.Keyword("QUALITY")), "needs a comparison"),
    (lambda: check(TIME, a.jsoc.Series("su_me.unknown"), BOX), "not one the client knows"),
    (lambda: resolve_cadence(rules_for("aia.lev1"), 1.0), "longer than 1 s"),
    (lambda: require_notify(None), r"a.jsoc.Notify\('you@example.org'\)"),
    (lambda: resolve_active_region(ActiveRegion(1158, 100 * u.arcsec), []), "11158 is not in jsoc.noaa_active_regions"),
]


@pytest.mark.parametrize(("build", "message"), BAD)
def test_bad_input_is_refused_with_advice(build, message):
    with pytest.raises(CutoutQueryError, match=message) as info:
        build()
    assert isinstance(info.value, JSOCCutoutError)
    assert isinstance(info.value, ValueError)


def test_table_is_large_enough():
    assert len(BAD) >= 25


def test_specific_exception_classes():
    with pytest.raises(MissingNotifyError):
        require_notify("not-an-address")
    with pytest.raises(UnknownActiveRegionError):
        resolve_active_region(ActiveRegion(11158, 100 * u.arcsec), [{"LongitudeCM": "MISSING"}])
    assert require_notify("me@example.org") == "me@example.org"


def test_valid_query_passes_and_returns_rules():
    block = walker.create(TIME & EUV & BOX & a.Wavelength(171 * u.AA))[0]
    (rules,) = check_block(block)
    assert rules.name == "aia.lev1_euv_12s"
    assert rules.step == 12


def test_register_on_aia_warns_about_respike():
    block = walker.create(TIME & EUV & BOX & jc.Register(True))[0]
    with pytest.warns(SunpyUserWarning, match="aia_respike"):
        check_block(block)


def test_register_on_hmi_does_not_warn():
    block = walker.create(TIME & a.jsoc.Series("hmi.M_45s") & BOX & jc.Register(True))[0]
    check_block(block)  # filterwarnings=error would fail on any warning


def test_as_is_is_refused_by_the_walker():
    with pytest.raises(CutoutQueryError, match=r"keywords\.txt"):
        walker.create(TIME & EUV & BOX & a.jsoc.Protocol("as-is"))

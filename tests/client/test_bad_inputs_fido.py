"""
Bad queries through ``Fido.search`` against the emulator: each gives its message, none reaches JSOC.

sunpy 7.0 raises a client's search error; sunpy >= 7.1 stores it in the result's ``.errors``
(and the client also logs it). `search_error` accepts both, so the table runs under either.
A valid query in the same test is the positive control: it does reach the emulator.
"""

import logging
import re

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.client import _fido_keeps_search_errors
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, JSOCCutoutError

TIME = a.Time("2014-02-05 08:00", "2014-02-05 09:00")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
LEV1 = a.jsoc.Series("aia.lev1")
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
CARR = SkyCoord(150 * u.deg, 10 * u.deg, frame=HeliographicCarrington, observer="earth", obstime="2014-02-05")
PIXBOX = jc.Box([0, 0] * u.pix, 100 * u.pix)
BOTH = jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s")

BAD_QUERIES = [
    ((TIME, BOX), "Add a series"),
    ((TIME, EUV, jc.Register(False)), "Add a cutout box"),
    ((TIME, EUV, BOX, jc.Box([0, 0] * u.arcsec, 50 * u.arcsec)), "one cutout box, got 2"),
    ((EUV, BOX), r"Add a time range with a.Time"),
    ((EUV, BOX, jc.Tracking(False)), "Add a time range"),
    ((TIME, EUV, jc.Box(CARR, 5 * u.deg), jc.Tracking(False)), "complete nonsense"),
    ((TIME, EUV, jc.Box.carrington(10 * u.deg, 0 * u.deg, 5 * u.deg), jc.Tracking(False)), "enable tracking"),
    ((TIME, a.jsoc.Series("hmi.sharp_720s"), BOX), "no processing"),
    ((TIME, a.jsoc.Series("hmi.cea_720s"), BOX), "no processing"),
    ((TIME, a.jsoc.Series("hmi.M_45s"), BOX, jc.Level1p5()), "only applies to AIA"),
    ((TIME, a.jsoc.Series("hmi.M_45s"), BOX, a.Wavelength(171 * u.AA)), "no wavelength selection"),
    ((TIME, EUV, BOX, a.Wavelength(171 * u.AA), jc.Wavelengths(193 * u.AA)), "not both"),
    ((TIME, EUV, BOX, a.Wavelength(100 * u.AA, 200 * u.AA)), "single wavelength"),
    ((TIME, LEV1, BOX, a.Sample(60 * u.s)), "needs a wavelength"),
    ((TIME, LEV1, BOX, a.Wavelength(171 * u.AA), a.Sample(1 * u.s)), "longer than 1 s"),
    ((TIME, EUV, BOX, a.jsoc.Protocol("as-is")), "'as-is' is not offered"),
    ((TIME, EUV, BOX, jc.FullHeaders(True), jc.ExportProtocol("jpg")), "use protocol 'fits'"),
    ((TIME, EUV, BOX, jc.Tracking(start="east_limb", stop="west_limb")), "drop a.Time"),
    ((TIME, BOTH, PIXBOX), "not pixels"),
    ((TIME, EUV, BOTH, BOX), "not both"),
    ((TIME, EUV, BOX, a.jsoc.PrimeKey("WAVELNTH", 171), a.Wavelength(171 * u.AA)), "wavelength once"),
    ((TIME, EUV, BOX, a.jsoc.PrimeKey("T_REC", "2014.02.05_08:00_TAI")), "time once"),
    ((TIME, EUV, BOX, a.jsoc.Keyword("QUALITY")), "needs a comparison"),
    ((TIME, EUV, jc.Box([1500, 0] * u.arcsec, 100 * u.arcsec)), "off the solar disk"),
    ((TIME, EUV, jc.Box([0, -1200] * u.arcsec, 100 * u.arcsec), jc.Tracking(True)), "off the solar disk"),
]


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


def test_the_table_is_large_enough():
    assert len(BAD_QUERIES) >= 25


@pytest.mark.parametrize(("query", "message"), BAD_QUERIES)
def test_bad_query_gives_its_message_and_sends_nothing(jsoc, query, message, caplog):
    with caplog.at_level(logging.ERROR, logger="sunpy"):
        error = search_error(*query)
    assert isinstance(error, CutoutQueryError)
    assert re.search(message, str(error)), str(error)
    if _fido_keeps_search_errors():  # the user sees the message even if they never look at .errors
        assert any(re.search(message, r.getMessage()) for r in caplog.records)
    assert len(jsoc.request_log) == 0, "a bad query reached the server"
    # positive control: a valid query in the same fixture does reach it
    Fido.search(TIME, EUV, a.Wavelength(171 * u.AA), BOX)
    assert len(jsoc.request_log) > 0


def test_fetching_a_failed_search_does_nothing(jsoc, tmp_path):
    # sunpy >= 7.1 keeps the failed block (empty, with .errors); sunpy 7.0 raised at search
    if not _fido_keeps_search_errors():
        pytest.skip("sunpy 7.0 raises at search time")
    result = Fido.search(TIME, a.jsoc.Series("hmi.sharp_720s"), BOX, a.jsoc.Notify("user@example.com"))
    assert result.errors
    assert len(Fido.fetch(result, path=tmp_path / "{file}")) == 0
    assert not [e for e in jsoc.request_log if e["endpoint"] == "jsoc_fetch"]

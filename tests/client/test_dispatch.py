"""Which client answers which query: checked through Fido's result keys and the emulator's log."""

import dataclasses

import pytest

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido
from sunpy.net.jsoc import JSOCClient

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.series_rules import registered_series, rules_for
from sunpy_jsoc_cutout.client import JSOCCutoutClient
from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.exports.timemodel import FAST

TIME = a.Time("2014-02-05 08:00", "2014-02-05 08:01")
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)


def test_attrs_are_registered_as_a_jsoc_cutout():
    assert a.jsoc_cutout.Box is jc.Box
    assert "jsoc_cutout" in a.__all__
    assert JSOCCutoutClient.__doc__
    assert "im_patch" in JSOCCutoutClient.__doc__
    assert "JSOCCutoutClient" in str(Fido)


def test_register_values_give_tab_completion():
    assert hasattr(a.jsoc.Series, "aia_lev1_euv_12s")
    assert hasattr(jc.Method, "url_tar")


def test_registered_series_come_from_the_series_rules():
    # One list: the series offered to Fido are the described entries of the planner's table.
    offered = JSOCCutoutClient.register_values()[a.jsoc.Series]
    assert offered == registered_series()
    assert [name for name, _ in offered] == [
        "aia.lev1_euv_12s", "aia.lev1_uv_24s", "aia.lev1_vis_1h", "aia.lev1",
        "hmi.M_45s", "hmi.M_720s", "hmi.Ic_45s", "hmi.Ic_720s",
    ]  # fmt: skip
    for name, description in offered:
        rules = rules_for(name)
        assert (rules.name, rules.description) == (name, description)
        assert not rules.processing_refused


@pytest.mark.parametrize(
    "extra",
    [BOX, jc.ActiveRegion(11967, 100 * u.arcsec), jc.Tracking(True), jc.Register(True), jc.Wavelengths(171 * u.AA)],
)
def test_any_of_our_attrs_routes_the_block_to_us_only(extra):
    query = (TIME, a.jsoc.Series("aia.lev1_euv_12s"), extra)
    assert JSOCCutoutClient._can_handle_query(*query)
    assert not JSOCClient._can_handle_query(*query)


def test_plain_jsoc_query_is_not_ours():
    assert not JSOCCutoutClient._can_handle_query(TIME, a.jsoc.Series("hmi.M_45s"))
    assert not JSOCCutoutClient._can_handle_query(TIME, a.Instrument("AIA"), BOX)  # VSO attrs are not ours


def test_our_query_goes_only_to_our_client(jsoc):
    result = Fido.search(TIME, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), BOX)
    assert result.keys() == ["jsoccutout"]
    assert len(result["jsoccutout"]) in (5, 6)  # 12 s slots in one inclusive minute
    # every request the emulator saw came from our client (jsoc_info only: a search exports nothing)
    assert {e["endpoint"] for e in jsoc.request_log} == {"jsoc_info"}


def test_or_of_two_boxes_gives_two_blocks(jsoc):
    other = jc.Box([300, 200] * u.arcsec, 100 * u.arcsec)
    result = Fido.search(TIME, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), BOX | other)
    assert [type(block.client) for block in result] == [JSOCCutoutClient, JSOCCutoutClient]
    assert "x=300" in result[1].plans[0].process


def test_plain_jsoc_query_goes_only_to_sunpy_s_client(email):
    model = dataclasses.replace(FAST, polls_processing=0)
    with JSOCEmulator(time_model=model, image_size=64, registered=(email,)) as emu, emu.use_for_drms_jsoc():
        result = Fido.search(TIME, a.jsoc.Series("hmi.M_45s"), a.jsoc.Notify(email))
        assert result.keys() == ["jsoc"]
        assert len(result["jsoc"]) == 2
        # sunpy's client asks with drms (keys it always asks for); ours never asked anything
        assert all(e["params"].get("op") != "rs_summary" for e in emu.request_log)
        assert not any("*recnum*" in e["params"].get("key", "") for e in emu.request_log)

"""The walker's contract: one frozen `CutoutQuery` per OR-block, every default in one place."""

import dataclasses

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.coordinates import frames

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout._query.walker import walker

BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
TIME = a.Time("2014-02-05T08:00:00", "2014-02-05T08:10:00")
T0 = "2014-02-05T08:00:00"
EUV = a.jsoc.Series("aia.lev1_euv_12s")

#: The documented default of every option field (the attrs a query does not give).
DEFAULTS = {
    "coaligned": None,
    "wavelength": None,
    "wavelengths": None,
    "sample": None,
    "notify": None,
    "segments": (),
    "keywords": (),
    "primekeys": (),
    "method": None,
    "filename_format": None,
    "record_limit": 0,
    "requestor": None,
    "reference_time": None,
    "register": False,
    "crop": False,
    "full_headers": False,
    "level1p5": None,
    "rebin": None,
}


def test_a_query_without_options_has_the_documented_defaults():
    (query,) = walker.create(TIME & EUV & BOX)
    assert isinstance(query, CutoutQuery)
    assert {name: getattr(query, name) for name in DEFAULTS} == DEFAULTS
    assert (query.series, query.boxes) == ("aia.lev1_euv_12s", (BOX,))
    assert (query.start_time, query.end_time) == (Time("2014-02-05T08:00:00"), Time("2014-02-05T08:10:00"))
    # the defaults that are objects: tracked (the export page's default), fits, url
    assert query.tracking.enabled
    assert not query.tracking.limb_to_limb
    assert query.tracking.start is None
    assert query.protocol.jsoc_string == "fits"
    assert (query.export_method, query.waves, query.segment, query.rebin_scale) == ("url", [], None, None)
    assert dict(query.primekey_values) == {}


def test_the_empty_query_holds_the_same_defaults():
    empty = CutoutQuery()
    assert {name: getattr(empty, name) for name in DEFAULTS} == DEFAULTS
    assert empty.tracking.enabled
    assert empty.protocol.name == "fits"
    assert (empty.series, empty.boxes, empty.start_time, empty.end_time) == (None, (), None, None)


def test_the_query_is_frozen():
    (query,) = walker.create(TIME & EUV & BOX)
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.record_limit = 3


def test_every_attr_reaches_its_field():
    rebin, l15, tracking = jc.Rebin(0.5), jc.Level1p5(), jc.Tracking(False)
    (query,) = walker.create(
        TIME
        & a.jsoc.Series("aia.lev1")
        & jc.Wavelengths(171 * u.AA, 193 * u.AA)
        & a.Sample(60 * u.s)
        & a.jsoc.Notify("me@example.org")
        & a.jsoc.Segment("image")
        & (a.jsoc.Keyword("EXPTIME") > 1)
        & BOX
        & jc.Method("url-tar")
        & jc.FilenameFormat("{T_REC:A}.{segment}")
        & jc.RecordLimit(-3)
        & jc.Requestor("me")
        & jc.ReferenceTime("2014-02-05 08:05")
        & tracking
        & jc.Register(True)
        & jc.Crop(True)
        & jc.FullHeaders(True)
        & l15
        & rebin
    )
    assert query.wavelengths == (171, 193)
    assert query.waves == [171, 193]
    assert (query.sample, query.notify, query.segments, query.segment) == (60.0, "me@example.org", ("image",), "image")
    assert query.keywords == (("EXPTIME", ">", 1),)
    assert (query.method, query.export_method, query.filename_format) == ("url-tar", "url-tar", "{T_REC:A}.{segment}")
    assert (query.record_limit, query.requestor) == (-3, "me")
    assert query.reference_time.isot == "2014-02-05T08:05:00.000"
    assert query.tracking is tracking
    assert query.level1p5 is l15
    assert query.rebin is rebin
    assert (query.register, query.crop, query.full_headers, query.rebin_scale) == (True, True, True, 0.5)


def test_or_blocks_give_one_query_each():
    queries = walker.create(TIME & EUV & BOX & (a.Wavelength(171 * u.AA) | a.Wavelength(193 * u.AA)))
    assert [q.wavelength for q in queries] == [171, 193]
    assert [q.waves for q in queries] == [[171], [193]]


def test_prime_keys_keep_the_last_value_of_a_label():
    (query,) = walker.create(TIME & EUV & BOX & a.jsoc.PrimeKey("WAVELNTH", "171") & a.jsoc.PrimeKey("WAVELNTH", "193"))
    assert dict(query.primekey_values) == {"WAVELNTH": "193"}


def test_sunpy_cutout_fills_only_what_the_query_does_not_give():
    bl = SkyCoord(-100 * u.arcsec, -100 * u.arcsec, frame=frames.Helioprojective, observer="earth", obstime=T0)
    tr = SkyCoord(100 * u.arcsec, 100 * u.arcsec, frame=frames.Helioprojective, observer="earth", obstime=T0)
    given = jc.Tracking(True)
    (query,) = walker.create(TIME & EUV & given & a.jsoc.Cutout(bl, top_right=tr, tracking=False, register=True))
    assert query.tracking is given  # the query's own Tracking wins over the Cutout's flag
    assert (query.register, query.crop, len(query.boxes)) == (True, False, 1)
    (untracked,) = walker.create(TIME & EUV & a.jsoc.Cutout(bl, top_right=tr, tracking=False))
    assert not untracked.tracking.enabled

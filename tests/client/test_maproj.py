"""``a.jsoc_cutout.MapProjection`` (JSOC's ``Maproj`` step, ``maproj``) through Fido against the emulator.

The reference for the maps is independent of both the client and the emulator's maproj: the
same cut-out fetched without ``MapProjection``, reprojected by ``reproject`` (sunpy's WCS) onto
the map's own WCS. The comparison does not depend on the synthetic Sun's texture: it asks that
the map agrees with that reference far better than with the reference shifted by two pixels.
"""

import re

import numpy as np
import pytest
from test_bad_inputs_fido import search_error  # raised (sunpy 7.0) or kept (sunpy >= 7.1)

import astropy.units as u
from astropy.coordinates import SkyCoord
from reproject import reproject_interp

import sunpy.map
import sunpy.net.attrs as a
from sunpy.coordinates import frames
from sunpy.net import Fido
from sunpy.util.exceptions import SunpyUserWarning

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.frames import HEADER_BYTES
from sunpy_jsoc_cutout._query.walker import walker
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

T0 = "2014-02-05T08:00:00"
TIME = a.Time("2014-02-05 08:00", "2014-02-05 08:00:30")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
WAVE = a.Wavelength(171 * u.AA)
BOX = jc.Box([-300, -100] * u.arcsec, 800 * u.arcsec)
FULL_FRAME = 4096
SCALE, COLS, ROWS = 0.3, 80, 70  # 24 x 21 degrees: inside the 800" box at its latitude and at 0


def _box_centre() -> tuple[float, float]:
    """The box centre's Carrington longitude and latitude at T0 (sunpy, Earth's view)."""
    hpc = SkyCoord(-300 * u.arcsec, -100 * u.arcsec, frame=frames.Helioprojective(observer="earth", obstime=T0))
    hgc = hpc.transform_to(frames.HeliographicCarrington(observer="earth", obstime=T0))
    return float(hgc.lon.to_value(u.deg)), float(hgc.lat.to_value(u.deg))


LON, LAT = _box_centre()
OFF = float(round(LAT))  # an off-equator map centre latitude inside the box


def _exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def _fetch_maps(email, path, *attrs):
    result = Fido.search(TIME, EUV, WAVE, BOX, jc.RecordLimit(1), a.jsoc.Notify(email), *attrs)
    files = Fido.fetch(result, path=path / "{file}")
    assert not files.errors
    return [sunpy.map.Map(str(f)) for f in files]


def _nrms(smap, reference_map, wcs) -> float:
    """RMS of (map - reference reprojected on ``wcs``) over the reference's standard deviation."""
    ref, _ = reproject_interp(reference_map, wcs, shape_out=smap.data.shape, order="bicubic")
    good = np.isfinite(ref) & np.isfinite(smap.data)
    assert good.mean() > 0.9
    diff = smap.data[good] - ref[good]
    return float(np.sqrt(np.mean(diff**2)) / np.std(ref[good]))


def _median_relative(smap, reference_map) -> float:
    ref, _ = reproject_interp(reference_map, smap.wcs, shape_out=smap.data.shape, order="bicubic")
    good = np.isfinite(ref) & np.isfinite(smap.data) & (ref != 0)
    return float(np.median(np.abs(smap.data[good] - ref[good]) / np.abs(ref[good])))


def _shifted(wcs, dx, dy):
    out = wcs.deepcopy()
    out.wcs.crpix = [out.wcs.crpix[0] + dx, out.wcs.crpix[1] + dy]
    return out


# ---------------------------------------------------------------- the attr


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("albers", (0, 0), 0.1, 10), {}, "Unknown map projection 'albers'"),
        ((None, (0, 0), 0.1, 10), {}, "Unknown map projection None"),
        (("cea", (0, 95), 0.1, 10), {}, "latitude must be between -90 and 90"),
        (("cea", (0, 0) * u.m, 0.1, 10), {}, "must be an angle such as"),
        (("cea", "N10W20", 0.1, 10), {}, r"SkyCoord or a \(Carrington longitude, latitude\) pair"),
        (("cea", (float("nan"), 0), 0.1, 10), {}, "longitude must be finite"),
        (("cea", (0, 0), 0, 10), {}, "positive number of degrees per pixel"),
        (("cea", (0, 0), -0.1, 10), {}, "positive number of degrees per pixel"),
        (("cea", (0, 0), float("inf"), 10), {}, "map scale must be finite"),
        (("cea", (0, 0), "0.1", 10), {}, "number of degrees per pixel or a Quantity"),
        (("cea", (0, 0), True, 10), {}, "number of degrees per pixel or a Quantity"),
        (("cea", (0, 0), 0.1 * u.arcsec / u.s, 10), {}, "an angle per pixel such as"),
        (("cea", (0, 0), [0.1, 0.2] * u.deg / u.pix, 10), {}, "an angle per pixel such as"),
        (("cea", (0, 0), 0.1, 0), {}, "cols must be a positive whole number"),
        (("cea", (0, 0), 0.1, 10.5), {}, "cols must be a positive whole number"),
        (("cea", (0, 0), 0.1, True), {}, "cols must be a positive whole number"),
        (("cea", (0, 0), 0.1, 10, -3), {}, "rows must be a positive whole number"),
        (("cea", (0, 0), 0.1, 10), {"grid": 0}, "grid spacing must be a positive"),
        (("cea", (0, 0), 0.1, 10), {"grid": 5 * u.s}, "must be an angle such as"),
    ],
)
def test_bad_values_are_refused_when_the_attr_is_made(args, kwargs, message):
    with pytest.raises(CutoutQueryError, match=message):
        jc.MapProjection(*args, **kwargs)


def test_names_units_and_centres():
    assert jc.MapProjection("CEA", (1, 2), 0.1, 10).name == "cyleqa"
    assert jc.MapProjection("postel", (1, 2), 0.1, 10).name == "Postel"
    assert jc.MapProjection("ZEA", (1, 2), 0.1, 10).name == "Lambert"
    assert jc.MapProjection("plate_carree", (1, 2), 0.1, 10).wcs_code == "CAR"
    m = jc.MapProjection("Cassini", (-30, 10) * u.deg, 6 * u.arcmin / u.pix, 10)
    assert (m.lon, m.lat, m.scale, m.cols, m.rows) == (330.0, 10.0, pytest.approx(0.1), 10, 10)
    assert jc.MapProjection("sin", (1, 2), 0.1 * u.deg, 10 * u.pix, 20).rows == 20
    hgc = SkyCoord(120 * u.deg, -15 * u.deg, frame=frames.HeliographicCarrington(observer="earth", obstime=T0))
    assert (jc.MapProjection("cea", hgc, 0.1, 10).lon, jc.MapProjection("cea", hgc, 0.1, 10).lat) == (
        pytest.approx(120),
        pytest.approx(-15),
    )
    hgs = SkyCoord(0 * u.deg, 0 * u.deg, frame=frames.HeliographicStonyhurst(obstime=T0))
    expected = hgs.transform_to(frames.HeliographicCarrington(observer="earth", obstime=T0))
    assert jc.MapProjection("cea", hgs, 0.1, 10).lon == pytest.approx(expected.lon.to_value(u.deg))
    with pytest.raises(CutoutQueryError, match="needs an obstime"):
        jc.MapProjection("cea", SkyCoord(0 * u.deg, 0 * u.deg, frame=frames.HeliographicStonyhurst), 0.1, 10)
    with pytest.raises(CutoutQueryError, match="one heliographic point"):
        jc.MapProjection("cea", SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frames.Helioprojective), 0.1, 10)


def test_walker_fills_the_query_field():
    (block,) = walker.create(TIME & EUV & BOX & jc.MapProjection("cea", (LON, LAT), SCALE, COLS, ROWS))
    assert block.map_projection.name == "cyleqa"
    assert block.map_projection.pixels == COLS * ROWS
    (plain,) = walker.create(TIME & EUV & BOX)
    assert plain.map_projection is None


# ---------------------------------------------------------------- what is sent


def test_process_string_sent(jsoc, email, tmp_path):
    attr = jc.MapProjection("cyleqa", (LON, LAT), SCALE, COLS, ROWS)
    _fetch_maps(email, tmp_path, attr, jc.Rebin(0.5))
    (request,) = _exp_requests(jsoc)
    steps = request["params"]["process"].split("|")
    # the export page's order: im_patch, maproj, rebin (processing.js ProcessingInit)
    assert [s.split(",")[0] for s in steps[1:]] == ["im_patch", "Maproj", "rebin"]
    sent = re.fullmatch(r"Maproj,map=cyleqa,clon=([-\d.]+),clat=([-\d.]+),scale=0\.3,cols=80,rows=70", steps[2])
    assert sent, steps[2]
    assert (float(sent[1]), float(sent[2])) == (pytest.approx(LON, abs=1e-6), pytest.approx(LAT, abs=1e-6))


@pytest.mark.parametrize(
    ("attr", "step"),
    [
        (
            jc.MapProjection("Postel", (62.5, 0), 0.1, 64),
            "Maproj,map=Postel,clon=62.5,clat=0,scale=0.1,cols=64,rows=64",
        ),
        (
            jc.MapProjection("ORTHOGRAPHIC", (70, -5.25), 0.036 * u.deg / u.pix, 100, 50, grid=10 * u.deg),
            "Maproj,map=orthographic,grid=10,clon=70,clat=-5.25,scale=0.036,cols=100,rows=50",
        ),
    ],
)
def test_maproj_arguments_in_the_plan(jsoc, attr, step):
    result = Fido.search(TIME, EUV, WAVE, BOX, attr)
    process = str(result["jsoccutout"].plans[0].process)
    assert process.split("|")[1].startswith("im_patch,")
    assert process.split("|")[2] == step


def test_planned_size_and_sizeratio_count_the_map(jsoc):
    mapped = Fido.search(TIME, EUV, WAVE, BOX, jc.MapProjection("cea", (LON, LAT), 0.03, 400, 300))["jsoccutout"]
    plain = Fido.search(TIME, EUV, WAVE, BOX)["jsoccutout"]
    assert float(mapped.plans[0].sizeratio) == pytest.approx(400 * 300 / FULL_FRAME**2, rel=1e-5)
    assert float(mapped.plans[0].sizeratio) != pytest.approx(float(plain.plans[0].sizeratio))
    size = u.Quantity(mapped["Size"]).to_value(u.byte)
    assert 400 * 300 * 4 < size[0] <= 400 * 300 * 4 + HEADER_BYTES + 2880  # float32 pixels in FITS blocks + header
    rebinned = Fido.search(TIME, EUV, WAVE, BOX, jc.MapProjection("cea", (LON, LAT), 0.03, 400, 300), jc.Rebin(0.5))
    assert float(rebinned["jsoccutout"].plans[0].sizeratio) == pytest.approx(200 * 150 / FULL_FRAME**2, rel=1e-5)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            (a.Time("2014-02-05 08:00", "2014-02-05 12:00"), EUV, BOX, jc.Tracking(False)),
            r"untracked box.*Tracking\(True\)",
        ),
        ((TIME, EUV, BOX), r"behind the limb all through 2014-02-05T08:00"),
    ],
)
def test_refused_combinations_send_nothing(jsoc, query, message):
    far_side = (LON + 180) % 360
    projection = jc.MapProjection("cea", (LON if "untracked" in message else far_side, LAT), SCALE, COLS, ROWS)
    error = search_error(*query, projection)
    assert isinstance(error, CutoutQueryError)
    assert re.search(message, str(error)), str(error)
    assert len(jsoc.request_log) == 0, "a refused query reached the server"


STONYHURST_BOX = jc.Box(
    SkyCoord(-18 * u.deg, -12 * u.deg, frame=frames.HeliographicStonyhurst(obstime=T0)), 600 * u.arcsec
)


@pytest.mark.parametrize("box", [BOX, STONYHURST_BOX], ids=["arcsec", "stonyhurst"])
def test_map_centre_outside_the_box_is_refused(jsoc, box):
    # maproj maps the cut-out im_patch made: a map centred 30 deg west of the box would be empty
    assert Fido.search(TIME, EUV, WAVE, box, jc.MapProjection("Postel", (LON, LAT), SCALE, 20))  # inside: fine
    jsoc.request_log.clear()
    error = search_error(TIME, EUV, WAVE, box, jc.MapProjection("Postel", (LON + 30, LAT), SCALE, COLS, ROWS))
    assert isinstance(error, CutoutQueryError)
    assert re.search(r"map centre .* outside the box .*the map would be empty", str(error)), str(error)
    assert len(jsoc.request_log) == 0


def test_map_larger_than_the_box_warns(jsoc):
    with pytest.warns(SunpyUserWarning, match=r"of the map's border falls outside the box \(800\" x 800\"\)"):
        Fido.search(TIME, EUV, WAVE, BOX, jc.MapProjection("Postel", (LON, LAT), SCALE, 200, 200))


def test_two_map_projections_in_one_block_collide(jsoc):
    with pytest.raises(TypeError):
        Fido.search(TIME, EUV, BOX, jc.MapProjection("cea", (0, 0), 1, 10), jc.MapProjection("SIN", (0, 0), 1, 10))
    assert len(jsoc.request_log) == 0


def test_short_untracked_map_is_allowed(jsoc):
    result = Fido.search(TIME, EUV, WAVE, BOX, jc.Tracking(False), jc.MapProjection("cea", (LON, LAT), SCALE, 10))
    assert "|Maproj,map=cyleqa," in str(result["jsoccutout"].plans[0].process)


@pytest.mark.parametrize("name", ["carree", "sineqa"])
def test_off_equator_carree_and_sineqa_warn(jsoc, name):
    with pytest.warns(SunpyUserWarning, match="only shifted by that latitude"):
        Fido.search(TIME, EUV, WAVE, BOX, jc.MapProjection(name, (LON, -18), SCALE, COLS))


def test_cassini_warns_that_its_header_is_no_wcs(jsoc):
    with pytest.warns(SunpyUserWarning, match="CRLN-CAS/CRLT-CAS"):
        Fido.search(TIME, EUV, WAVE, BOX, jc.MapProjection("Cassini", (LON, 0), SCALE, COLS))


# ---------------------------------------------------------------- the files

#: (projection, centre latitude): every WCS projection maproj offers, off the equator where the
#: header describes the map there too.
MAPS = [
    ("carree", 0.0),
    ("cyleqa", OFF),
    ("Mercator", OFF),
    ("sineqa", 0.0),
    ("gnomonic", OFF),
    ("Postel", OFF),
    ("stereographic", OFF),
    ("orthographic", OFF),
    ("Lambert", OFF),
]


# astropy turns the AIPS code GLS (sineqa), which maproj writes, into SFL and says so
@pytest.mark.filterwarnings("ignore:'celfix' made the change:astropy.wcs.FITSFixedWarning")
def test_maps_arrive_with_the_projection_wcs_and_match_reproject(jsoc, email, tmp_path):
    (cutout,) = _fetch_maps(email, tmp_path / "plain")
    # one folder each: the maps of one record share a file name
    maps = {
        name: _fetch_maps(email, tmp_path / name, jc.MapProjection(name, (LON, lat), SCALE, COLS, ROWS))[0]
        for name, lat in MAPS
    }
    requests = _exp_requests(jsoc)
    assert "Maproj" not in requests[0]["params"]["process"]
    assert [r["params"]["process"].split("|Maproj,map=")[1].split(",")[0] for r in requests[1:]] == list(maps)
    codes = {"carree": "CAR", "cyleqa": "CEA", "Mercator": "MER", "sineqa": "GLS", "gnomonic": "TAN"}
    codes |= {"Postel": "ARC", "stereographic": "STG", "orthographic": "SIN", "Lambert": "ZEA"}
    for name, lat in MAPS:
        smap = maps[name]
        meta = smap.meta
        assert meta["ctype1"] == f"CRLN-{codes[name]}"
        assert meta["ctype2"] == f"CRLT-{codes[name]}"
        assert (meta["cunit1"], meta["cunit2"]) == ("deg", "deg")
        assert smap.data.shape == (ROWS, COLS)
        assert (meta["crpix1"], meta["crpix2"]) == (COLS / 2 + 0.5, ROWS / 2 + 0.5)
        assert (meta["crval1"], meta["crval2"]) == (pytest.approx(LON, abs=1e-4), lat)
        assert (meta["cdelt1"], meta["cdelt2"]) == (SCALE, SCALE)
        assert float(meta.get("crota2", 0.0)) == 0.0
        assert isinstance(smap.coordinate_frame, frames.HeliographicCarrington)
        centre = smap.wcs.pixel_to_world((COLS - 1) / 2, (ROWS - 1) / 2)
        assert centre.lon.to_value(u.deg) == pytest.approx(LON, abs=1e-6)
        assert centre.lat.to_value(u.deg) == pytest.approx(lat, abs=1e-6)
        # the same surface as the plain cut-out, by an independent reprojection
        assert np.isfinite(smap.data).mean() > 0.99, name
        # The synthetic Sun has network structure at 2-4 px, where maproj's cubic convolution and
        # reproject's bicubic spline differ by about 2 % (measured 1.8-2.3 %, an RMS of 0.17-0.18 of
        # the image's spread); the same map moved by 2 px is off by 0.83-0.89 of it, so the sharp
        # check is the comparison with the shifted WCS.
        assert _median_relative(smap, cutout) < 0.03, name
        true = _nrms(smap, cutout, smap.wcs)
        for dx, dy in ((2, 0), (-2, 0), (0, 2), (0, -2)):
            assert true < 0.35 * _nrms(smap, cutout, _shifted(smap.wcs, dx, dy)), (name, dx, dy)


def test_off_equator_carree_header_is_jsocs_but_the_map_is_shifted(jsoc, email, tmp_path):
    """maproj shifts a carree map by clat (export_as_maproj.c L214-216) but writes CRVAL2=clat: faithful."""
    (cutout,) = _fetch_maps(email, tmp_path / "plain")
    with pytest.warns(SunpyUserWarning, match="only shifted"):
        (smap,) = _fetch_maps(email, tmp_path / "map", jc.MapProjection("carree", (LON, OFF), SCALE, COLS, ROWS))
    assert (smap.meta["ctype1"], smap.meta["crval2"]) == ("CRLN-CAR", OFF)
    shifted = smap.wcs.deepcopy()  # what the pixels are: plate carree about the equator, moved by clat
    shifted.wcs.crval = [shifted.wcs.crval[0], 0.0]
    shifted.wcs.crpix = [shifted.wcs.crpix[0], shifted.wcs.crpix[1] - OFF / SCALE]
    assert _nrms(smap, cutout, shifted) < 0.5 * _nrms(smap, cutout, smap.wcs)


def test_grid_overlay(jsoc, email, tmp_path):
    (smap,) = _fetch_maps(email, tmp_path, jc.MapProjection("Postel", (round(LON), OFF), SCALE, COLS, ROWS, grid=5))
    lines = np.isneginf(smap.data)
    assert lines.any()
    assert not np.isposinf(smap.data).any()  # every grid pixel is on the disk here
    rows, cols = np.nonzero(lines)
    world = smap.wcs.pixel_to_world(cols, rows)
    lon, lat = world.lon.to_value(u.deg), world.lat.to_value(u.deg)
    off = np.minimum(np.abs((lon + 2.5) % 5 - 2.5), np.abs((lat + 2.5) % 5 - 2.5))
    assert np.all(off < 0.05 + 1e-6)

"""The ``Maproj`` step (maproj, ``export_as_maproj.c``): its geometry against wcslib, its interpolator,
its arguments, and real exports checked against ``reproject`` of the unprocessed image."""

import math

import drms
import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from reproject import reproject_interp

import sunpy.map
from sunpy.coordinates import frames

from sunpy_jsoc_cutout.testing.processing.datatypes import ProcessError
from sunpy_jsoc_cutout.testing.processing.maproj import parse_maproj_args
from sunpy_jsoc_cutout.testing.processing.maproj_geometry import PROJECTIONS, map_plane, plane2sphere, projection
from sunpy_jsoc_cutout.testing.processing.maproj_interp import interpolate

HMI = "hmi.M_720s[2014.01.01_00:00:00_TAI]{magnetogram}"
COLS, ROWS, SCALE = 60, 50, 1.5


def _wcs(code: str, clon: float, clat: float, scale: float = SCALE) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = [f"CRLN-{code}", f"CRLT-{code}"]
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.crpix = [0.5 * COLS + 0.5, 0.5 * ROWS + 0.5]  # maproj's CRPIX (L1471-1472)
    w.wcs.crval = [clon, clat]
    w.wcs.cdelt = [scale, scale]
    return w


def _maproj_lonlat(p, clon, clat):
    x, y = map_plane(COLS, ROWS, SCALE)
    lat, lon, status = plane2sphere(x, y, math.radians(clat), math.radians(clon), p.code)
    return np.degrees(lon), np.degrees(lat), status


def _assert_same_points(lon, lat, wlon, wlat, where):
    dlon = (lon - wlon + 180) % 360 - 180
    assert np.all(np.isfinite(wlon[where]))
    assert np.max(np.abs(dlon * np.cos(np.radians(lat)))[where]) < 1e-9
    assert np.max(np.abs(lat - wlat)[where]) < 1e-9


# ---------------------------------------------------------------- geometry


#: Every WCS projection at three centre latitudes; carree only at 0 (test_carree_is_shifted_not_oblique).
WCS_CASES = [
    (p, clat) for p in PROJECTIONS if p.wcs != "CAS" for clat in (0.0, 20.0, -35.0) if p.arg != "carree" or not clat
]


@pytest.mark.parametrize(("p", "clat"), WCS_CASES, ids=[f"{p.arg}-{clat:g}" for p, clat in WCS_CASES])
def test_inverse_projection_is_wcslibs(p, clat):
    """maproj's plane2sphere is the WCS projection of its CTYPE (sineqa: SFL; carree: at latitude 0)."""
    code = "SFL" if p.arg == "sineqa" else p.wcs
    lon, lat, status = _maproj_lonlat(p, 120.0, clat)
    jj, ii = np.mgrid[0:ROWS, 0:COLS]
    wlon, wlat = _wcs(code, 120.0, clat).wcs_pix2world(ii, jj, 0)
    assert (status == 0).mean() > 0.5
    _assert_same_points(lon, lat, wlon, wlat, status == 0)


def test_carree_is_shifted_not_oblique():
    """L214-216: lon = clon + x, lat = clat + y; the WCS CAR with CRVAL2=clat would be oblique."""
    lon, lat, _status = _maproj_lonlat(projection("carree"), 120.0, 20.0)
    x, y = map_plane(COLS, ROWS, SCALE)
    np.testing.assert_allclose(lon, 120.0 + np.degrees(x), atol=1e-12)
    np.testing.assert_allclose(lat, 20.0 + np.degrees(y), atol=1e-12)
    jj, ii = np.mgrid[0:ROWS, 0:COLS]
    _wlon, wlat = _wcs("CAR", 120.0, 20.0).wcs_pix2world(ii, jj, 0)
    assert np.max(np.abs(lat - wlat)) > 1.0


def test_sineqa_is_written_as_gls_which_wcslib_reads_as_a_shift():
    """maproj writes GLS (L1143) for its oblique Sanson-Flamsteed map; wcslib reads GLS the AIPS way."""
    _lon, lat, status = _maproj_lonlat(projection("sineqa"), 120.0, 20.0)
    jj, ii = np.mgrid[0:ROWS, 0:COLS]
    with pytest.warns(Warning, match="celfix"):
        gls = WCS(_wcs("GLS", 120.0, 20.0).to_header())
    _wlon, wlat = gls.wcs_pix2world(ii, jj, 0)
    assert np.max(np.abs(lat - wlat)[status == 0]) > 1.0


def test_cassini_is_equidistant_along_its_axes():
    """Transverse plate carree at clat=0: the map's x axis is the equator, its y axis the central meridian."""
    step = math.radians(1.0)
    x = np.arange(-40, 41) * step
    lat, lon, _ = plane2sphere(x, np.zeros_like(x), 0.0, math.radians(30.0), projection("Cassini").code)
    np.testing.assert_allclose(np.degrees(lat), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.degrees(lon), 30.0 + np.arange(-40, 41), atol=1e-9)
    lat, lon, _ = plane2sphere(np.zeros_like(x), x, 0.0, math.radians(30.0), projection("Cassini").code)
    np.testing.assert_allclose(np.degrees(lat), np.arange(-40, 41), atol=1e-9)
    np.testing.assert_allclose(np.degrees(lon), 30.0, atol=1e-9)


@pytest.mark.parametrize(
    ("name", "r", "status"),
    [("Postel", 1.6, 1), ("orthographic", 1.01, -1), ("Lambert", 2.01, -1), ("stereographic", 2.1, 1)],
)
def test_points_beyond_the_projection_are_flagged(name, r, status):
    _, _, flags = plane2sphere(np.array([0.0, r]), np.array([0.0, 0.0]), 0.3, 1.0, projection(name).code)
    assert list(flags) == [0, status]


def test_projection_names_are_matched_exactly():
    assert projection("Postel").wcs == "ARC"
    assert projection("postel") is None  # cmdparams' ARG_NUME compares with strcmp
    assert [p.arg for p in PROJECTIONS][:3] == ["carree", "Cassini", "Mercator"]


# ---------------------------------------------------------------- interpolation


def test_cubic_convolution_is_exact_on_planes_and_missing_near_edges():
    yy, xx = np.mgrid[0:20, 0:30]
    image = 2.0 * xx - 3.0 * yy + 5.0
    x, y = np.array([1.0, 4.25, 27.99, 0.99, 28.0]), np.array([1.0, 7.5, 16.99, 5.0, 5.0])
    out = interpolate(image, x, y)
    np.testing.assert_allclose(out[:3], 2.0 * x[:3] - 3.0 * y[:3] + 5.0, atol=1e-9)
    assert np.isnan(out[3:]).all()  # x < 1 or x >= nx - 2 (ccint2, L719-720)
    image[8, 5] = np.nan
    assert np.isnan(interpolate(image, np.array([4.5]), np.array([7.5]))).all()


def test_nearest_and_bilinear():
    image = np.arange(12.0).reshape(3, 4)
    assert list(interpolate(image, np.array([1.4, 2.6]), np.array([0.6, 1.4]), "nearest")) == [5.0, 7.0]
    assert interpolate(image, np.array([1.5]), np.array([0.5]), "bilinear")[0] == pytest.approx(3.5)
    assert np.isnan(interpolate(image, np.array([-0.6]), np.array([1.0]), "nearest")).all()


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"map": "Albers", "scale": "1", "cols": "10"}, 'Parameter "map" is out of permissible range'),
        ({"map": "Postel", "cols": "10"}, "scale parameter must be set"),
        ({"map": "Postel", "scale": "0", "cols": "10"}, "scale parameter must be set"),
        ({"map": "Postel", "scale": "1"}, 'at least one of "cols" or "rows" must be set'),
        ({"map": "Postel", "scale": "x", "cols": "10"}, "invalid value 'x' for argument scale"),
        ({"map": "Postel", "scale": "1", "cols": "10", "interp": "spline"}, 'Parameter "interp"'),
    ],
)
def test_bad_arguments_fail_the_step(args, message):
    with pytest.raises(ProcessError, match=message):
        parse_maproj_args(args)


def test_defaults():
    args = parse_maproj_args({"scale": "0.5", "rows": "7"})
    assert (args.projection.arg, args.interp, args.cols, args.rows) == ("orthographic", "cubiconv", 7, 7)
    assert (args.clon, args.clat, args.map_pa, args.all_segments) == (0.0, 0.0, 0.0, False)
    assert math.isnan(args.grid)


# ---------------------------------------------------------------- real exports


def _export(client, ds, out, process=None):
    request = client.export(ds, method="url", protocol="fits", process=process)
    assert request.wait(sleep=0)
    out.mkdir(parents=True, exist_ok=True)
    (path,) = request.download(out).download
    with fits.open(path) as hdul:
        hdu = next(h for h in hdul if h.data is not None)  # HMI files are tile-compressed
        header = hdu.header.copy()
        return request, sunpy.map.Map(hdu.data.astype(float), header), header


def _nrms(smap, full, wcs):
    # bilinear: a spline would spread the NaN beyond HMI's limb over the whole image
    ref, _ = reproject_interp(full, wcs, shape_out=smap.data.shape, order="bilinear")
    good = np.isfinite(ref) & np.isfinite(smap.data)
    assert good.mean() > 0.9
    return float(np.sqrt(np.mean((smap.data[good] - ref[good]) ** 2)) / np.std(ref[good]))


def test_maproj_alone_on_a_full_disk_hmi_image(emulator, email, tmp_path):
    """HMI is stored rolled by 180 deg (CROTA2 ~ 180) with the old CRLN_OBS offset: maproj undoes both."""
    client = drms.Client(server=emulator.server_config, email=email)
    _, full, full_header = _export(client, HMI, tmp_path / "full")
    assert abs(full_header["CROTA2"]) > 179
    centre = SkyCoord(-200 * u.arcsec, 150 * u.arcsec, frame=full.coordinate_frame)
    hgc = centre.transform_to(frames.HeliographicCarrington(observer=full.observer_coordinate, obstime=full.date))
    clon, clat = round(float(hgc.lon.to_value(u.deg)), 3), round(float(hgc.lat.to_value(u.deg)), 3)
    args = {"map": "cyleqa", "clon": clon, "clat": clat, "scale": 0.5, "cols": 60, "rows": 50}
    request, smap, header = _export(client, HMI, tmp_path / "map", {"Maproj": args})
    assert list(request.data.record) == ["hmi.M_720s_mod[2014.01.01_00:00:00_TAI][3]"]
    assert smap.data.shape == (50, 60)
    expected = {
        "CTYPE1": "CRLN-CEA",
        "CTYPE2": "CRLT-CEA",
        "CUNIT1": "deg",
        "CUNIT2": "deg",
        "CRPIX1": 30.5,
        "CRPIX2": 25.5,
        "CRVAL1": clon,
        "CRVAL2": clat,
        "CDELT1": 0.5,
        "CDELT2": 0.5,
        "CROTA2": 0.0,
    }
    assert {key: header[key] for key in expected} == expected
    history = "\n".join(str(line) for line in header["HISTORY"])
    for line in ("MapProj=LambertCylindrical", f"LonHG={clon:f}, LatHG={clat:f}", "Interp=Cubic Convolution"):
        assert line in history
    assert "Source=hmi.M_720s[2014.01.01_00:00:00_TAI]" in history
    assert "MapProj" not in header  # not a keyword of hmi.M_720s_mod (L1506-1507)
    assert header["CRLN_OBS"] == full_header["CRLN_OBS"]  # copied, not corrected ...
    assert int(header["CALVER64"]) & (1 << 28)  # ... though the bit says it is (update_CALVERxx)
    assert header["DATAVALS"] == np.isfinite(smap.data).sum()
    # the same surface as the full-disk image, by an independent reprojection (sunpy's WCS)
    true = _nrms(smap, full, smap.wcs)
    for dx, dy in ((2, 0), (-2, 0), (0, 2), (0, -2)):
        shifted = smap.wcs.deepcopy()
        shifted.wcs.crpix = [shifted.wcs.crpix[0] + dx, shifted.wcs.crpix[1] + dy]
        assert true < 0.5 * _nrms(smap, full, shifted), (dx, dy)


def test_grid_and_far_side(emulator, email, tmp_path):
    client = drms.Client(server=emulator.server_config, email=email)
    _, full, _ = _export(client, HMI, tmp_path / "full")
    l0 = float(
        full.observer_coordinate.transform_to(frames.HeliographicCarrington(observer="self")).lon.to_value(u.deg)
    )
    args = {"map": "Postel", "clon": round(l0 + 60, 2), "clat": 0, "scale": 1.0, "cols": 90, "rows": 30, "grid": 10}
    _, smap, _ = _export(client, HMI, tmp_path / "map", {"Maproj": args})
    data = smap.data
    assert np.isneginf(data).any()  # grid on the disk
    assert np.isposinf(data).any()  # grid beyond the limb (the map reaches 105 deg from disk centre)
    assert np.isnan(data[:, -1]).all()  # the far side is missing
    assert np.isfinite(data[:, 0]).any()


def test_map_position_angle_turns_the_map_as_crota2_says(emulator, email, tmp_path):
    """``map_pa`` (not on the page) turns the map; maproj writes it as CROTA2 (L1477-1486)."""
    client = drms.Client(server=emulator.server_config, email=email)
    _, full, _ = _export(client, HMI, tmp_path / "full")
    hgc = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=full.coordinate_frame).transform_to(
        frames.HeliographicCarrington(observer=full.observer_coordinate, obstime=full.date)
    )
    clon, clat = round(float(hgc.lon.to_value(u.deg)), 3), round(float(hgc.lat.to_value(u.deg)), 3)
    args = {"map": "Postel", "clon": clon, "clat": clat, "scale": 0.5, "cols": 60, "rows": 60, "map_pa": 30}
    _, smap, header = _export(client, HMI, tmp_path / "map", {"Maproj": args})
    assert header["CROTA2"] == 30.0
    assert "PC1_1" not in header  # only set where the series has PCi_j (hmi.M_720s has not)
    turned_back = smap.wcs.deepcopy()
    c, sn = math.cos(math.radians(-30)), math.sin(math.radians(-30))
    turned_back.wcs.pc = [[c, -sn], [sn, c]]  # CROTA2 = -30: the other way round
    assert _nrms(smap, full, smap.wcs) < 0.5 * _nrms(smap, full, turned_back)

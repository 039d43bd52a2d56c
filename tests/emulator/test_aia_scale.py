"""The ``aia_scale_*`` (level 1.5) and ``resize`` steps through real exports, checked on the pixels."""

import drms
import numpy as np
import pytest
from scipy import ndimage

import astropy.units as u

import sunpy.map

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.processing.aia_scale import aia_scale_image, aia_scale_step_for
from sunpy_jsoc_cutout.testing.sun.fitsfiles import reduce_header
from sunpy_jsoc_cutout.testing.sun.render import render

AIA = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][193]{image}"
HMI = "hmi.M_720s[2014.01.01_00:00:00_TAI]{magnetogram}"


def fit_limb(data, guess, radius):
    """
    Circle through the limb: the steepest intensity drop along 360 rays, robust least squares.

    Returns (row, col, radius) in 0-based pixels.
    """
    coeffs = ndimage.spline_filter(np.nan_to_num(np.asarray(data, dtype=float)), order=3)
    radii = np.arange(0.7 * radius, 1.3 * radius, 0.05)
    points = []
    for theta in np.linspace(0, 2 * np.pi, 360, endpoint=False):
        rows, cols = guess[0] + radii * np.sin(theta), guess[1] + radii * np.cos(theta)
        grad = np.gradient(ndimage.map_coordinates(coeffs, [rows, cols], order=3, prefilter=False))
        i = int(np.argmin(grad))
        if 0 < i < len(grad) - 1:  # parabolic refinement of the minimum
            a, b, c = grad[i - 1 : i + 2]
            i += 0.5 * (a - c) / (a - 2 * b + c)
        r = radii[0] + i * 0.05
        points.append((guess[0] + r * np.sin(theta), guess[1] + r * np.cos(theta)))
    y, x = np.array(points).T
    keep = np.ones(len(x), dtype=bool)
    for _ in range(3):  # active regions on the limb give outliers
        design = np.c_[2 * x[keep], 2 * y[keep], np.ones(keep.sum())]
        xc, yc, c = np.linalg.lstsq(design, x[keep] ** 2 + y[keep] ** 2, rcond=None)[0]
        r_fit = np.sqrt(c + xc * xc + yc * yc)
        resid = np.hypot(x - xc, y - yc) - r_fit
        keep = np.abs(resid) < max(3 * 1.4826 * np.median(np.abs(resid[keep])), 0.05)
    return yc, xc, r_fit


@pytest.fixture
def client(emulator, email):
    return drms.Client(server=emulator.server_config, email=email)


def _download(request, path):
    assert request.wait(sleep=0)
    path.mkdir(parents=True, exist_ok=True)
    return [sunpy.map.Map(p) for p in request.download(path).download]


def test_aia_scale_centres_the_sun_at_0p6_arcsec_and_north_up(client, emulator, tmp_path):
    raw = _download(client.export(AIA, method="url", protocol="fits"), tmp_path / "raw")
    request = client.export(AIA, method="url", protocol="fits", process={"aia_scale_aialev1": {}})
    maps = _download(request, tmp_path / "lev15")
    assert all(r.startswith("aia.lev1_euv_12s_mod[") for r in request.data.record)
    n = emulator.image_size
    centre = (n - 1) / 2.0
    for smap, before in zip(maps, raw, strict=True):
        meta = smap.meta
        # 0.6"/px of the 4096-pixel frame: the emulator's reduced images keep that ratio.
        assert meta["cdelt1"] == pytest.approx(0.6 * 4096 / n)
        assert meta["cdelt2"] == pytest.approx(0.6 * 4096 / n)
        assert meta["crota2"] == 0
        assert (meta["crpix1"], meta["crpix2"]) == ((n + 1) / 2, (n + 1) / 2)
        assert meta["lvl_num"] == 1.5
        assert (meta["x0"], meta["y0"]) == (0, 0)
        radius = meta["rsun_obs"] / meta["cdelt1"]
        row, col, r_fit = fit_limb(smap.data, (centre, centre), radius)
        assert abs(row - centre) < 0.1
        assert abs(col - centre) < 0.1
        assert r_fit == pytest.approx(radius, abs=0.3)
        # Before the step the Sun was not centred (so the fit above sees the step's work).
        row0, col0, _ = fit_limb(before.data, (centre, centre), before.meta["rsun_obs"] / before.meta["cdelt1"])
        assert np.hypot(row0 - centre, col0 - centre) > 0.15


@pytest.mark.parametrize(("crota2", "series"), [(30.0, "aia.lev1_euv_12s"), (179.93, "hmi.M_720s")])
def test_resampling_path_matches_the_sun_drawn_for_the_output_header(crota2, series):
    """With pixels from an earlier step, the image is resampled; it must show what the new header says."""
    query = "aia.lev1_euv_12s[2014-01-01T00:00:01Z][193]" if series.startswith("aia") else HMI[:-13]
    header = reduce_header(Catalogue().query(query).header(0), 128)
    header["CROTA2"] = crota2
    kind = "aia" if series.startswith("aia") else "magnetogram"
    data = np.array(render(header, kind), dtype=np.float32)
    out_header, out = aia_scale_image(header, data, {}, series, image_size=128)
    truth = render(out_header, kind, shape=out.shape)
    inner = np.zeros(out.shape, dtype=bool)
    inner[10:-10, 10:-10] = True
    good = inner & np.isfinite(out) & np.isfinite(truth)
    assert np.corrcoef(out[good], truth[good])[0, 1] > 0.97
    if crota2 == 30.0:  # the opposite turn does not match: compare the fine structure (ARs, texture)
        _, wrong = aia_scale_image({**header, "CROTA2": -crota2}, data, {}, series, image_size=128)
        both = good & np.isfinite(wrong)

        def fine(image):
            return (image - ndimage.gaussian_filter(np.nan_to_num(image), 4.0))[both]

        assert np.corrcoef(fine(out), fine(truth))[0, 1] > 0.8
        assert np.corrcoef(fine(wrong), fine(truth))[0, 1] < 0.5


def test_cut_out_variant_centres_the_requested_point():
    header = reduce_header(Catalogue().query("aia.lev1_euv_12s[2014-01-01T00:00:01Z][193]").header(0), 256)
    args = {"wide": "2048", "high": "1024", "xc": "96", "yc": "-192"}  # arcsec from Sun centre
    out_header, out = aia_scale_image(header, None, args, "aia.lev1_euv_12s", image_size=256)
    assert out.shape == (64, 128)
    # Sun centre sits xc/CDELT1 = 10 px left of and -yc/CDELT2 = 20 px above the cut-out centre.
    assert (out_header["CRPIX1"], out_header["CRPIX2"]) == (64.5 - 10, 32.5 + 20)
    world = sunpy.map.Map(out, out_header).pixel_to_world(*(np.array(out.shape[::-1]) - 1) / 2 * u.pix)
    assert world.Tx.to_value(u.arcsec) == pytest.approx(96, abs=0.01)
    assert world.Ty.to_value(u.arcsec) == pytest.approx(-192, abs=0.01)


def test_export_page_choice_of_aia_scale_step():
    assert aia_scale_step_for("aia.lev1") == "aia_scale_orig"
    assert aia_scale_step_for("aia.lev1_euv_12s") == "aia_scale_aialev1"
    assert aia_scale_step_for("aia.lev1_euv_12s", [1.0, 1.5]) == "aia_scale_other"
    assert aia_scale_step_for("hmi.M_45s") == "aia_scale_other"


def test_aia_scale_orig_on_aia_lev1_with_pointing_table(client, tmp_path):
    ds = "aia.lev1[2014-01-01T00:00:01Z/12s][? WAVELNTH=193 ?]{image}"
    request = client.export(
        ds, method="url", protocol="fits", process={"aia_scale_orig": {"mpt": "aia.master_pointing3h"}}
    )
    (smap,) = _download(request, tmp_path)
    assert request.data.record[0].startswith("aia.lev1_mod[")
    assert smap.meta["lvl_num"] == 1.5
    assert smap.meta["content"].startswith("AIA level 1.5")


def test_resize_rescales_rotates_and_centres_hmi(client, emulator, tmp_path):
    request = client.export(
        HMI, method="url", protocol="fits", process={"resize": {"rescale": 1, "scale_to": 1.2, "regrid": 1}}
    )
    (smap,) = _download(request, tmp_path)
    n = emulator.image_size
    assert smap.data.shape == (n, n)
    assert smap.meta["cdelt1"] == pytest.approx(1.2 * 4096 / n)
    assert smap.meta["crota2"] == 0
    assert (smap.meta["crpix1"], smap.meta["crpix2"]) == ((n + 1) / 2, (n + 1) / 2)
    truth = render({k.upper(): v for k, v in smap.meta.items()}, "magnetogram", shape=(n, n))
    good = np.isfinite(smap.data) & np.isfinite(truth)
    assert good.sum() > 0.9 * np.pi * (smap.meta["rsun_obs"] / smap.meta["cdelt1"]) ** 2
    assert np.corrcoef(smap.data[good], truth[good])[0, 1] > 0.9

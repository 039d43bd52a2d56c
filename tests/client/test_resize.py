"""``a.jsoc_cutout.Resize`` (JSOC's ``resize`` step, ``jsoc_resize``) through Fido against the emulator."""

import re

import numpy as np
import pytest
from test_bad_inputs_fido import search_error  # raised (sunpy 7.0) or kept (sunpy >= 7.1)

import astropy.units as u

import sunpy.map
import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._query.walker import walker
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

TIME = a.Time("2014-02-05 08:00", "2014-02-05 08:00:30")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
HMI = a.jsoc.Series("hmi.M_720s")
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
FULL_FRAME = 4096


def _exp_requests(emulator):
    return [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]


def _fetch(email, path, *extra):
    result = Fido.search(TIME, EUV, a.Wavelength(171 * u.AA), BOX, jc.RecordLimit(1), a.jsoc.Notify(email), *extra)
    files = Fido.fetch(result, path=path / "{file}")
    assert not files.errors
    assert len(files) == 1
    return sunpy.map.Map(str(files[0]))


# ---------------------------------------------------------------- the attr


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "positive plate scale"),
        ({"scale": -1.2}, "positive plate scale"),
        ({"scale": float("nan")}, "positive plate scale"),
        ({"scale": "1.2"}, "plate scale such as"),
        ({"scale": True}, "plate scale such as"),
        ({"scale": 1.2 * u.m}, "angle per pixel"),
        ({"scale": [1, 2] * u.arcsec / u.pix}, "angle per pixel"),
        ({"method": "bilinear"}, "'bicubic' or 'nearest'"),
        ({"center_to": "disk"}, "'sun', 'first_image' or 'unchanged'"),
        ({"crop": 1}, "crop takes True or False"),
        ({"stretchmarks": "yes"}, "stretchmarks takes True or False"),
    ],
)
def test_bad_values_are_refused_when_the_attr_is_made(kwargs, message):
    with pytest.raises(CutoutQueryError, match=message):
        jc.Resize(**kwargs)


def test_scale_units():
    assert jc.Resize(1.2 * u.arcsec / u.pix).scale == pytest.approx(1.2)
    assert jc.Resize(0.02 * u.arcmin / u.pix).scale == pytest.approx(1.2)
    assert jc.Resize(1.2 * u.arcsec).scale == pytest.approx(1.2)
    assert jc.Resize(1.2).scale == 1.2
    assert jc.Resize().scale is None


def test_walker_fills_the_query_field():
    (block,) = walker.create(TIME & EUV & BOX & jc.Resize(1.2, method="nearest"))
    assert block.resize.scale == 1.2
    assert block.resize_scale == 1.2
    assert block.resize.regrid == 0
    (plain,) = walker.create(TIME & EUV & BOX)
    assert plain.resize is None
    assert plain.resize_scale is None


# ---------------------------------------------------------------- what is sent


def test_process_string_sent(jsoc, email, tmp_path):
    result = Fido.search(
        TIME, EUV, a.Wavelength(171 * u.AA), BOX, jc.Level1p5(), jc.Resize(1.2), jc.Rebin(0.5), a.jsoc.Notify(email)
    )
    Fido.fetch(result, path=tmp_path / "{file}")
    (request,) = _exp_requests(jsoc)
    process = request["params"]["process"]
    steps = process.split("|")
    # the export page's order: aia_scale, resize, im_patch, rebin (processing.js ProcessingInit)
    assert [s.split(",")[0] for s in steps[1:]] == ["aia_scale_aialev1", "resize", "im_patch", "rebin"]
    assert steps[2] == "resize,regrid=1,do_stretchmarks=0,center_to=0,rescale=1,scale_to=1.2"


@pytest.mark.parametrize(
    ("attr", "step"),
    [
        (jc.Resize(), "resize,regrid=1,do_stretchmarks=0,center_to=0,rescale=0"),
        (
            jc.Resize(0.75 * u.arcsec / u.pix, method="nearest", stretchmarks=True, crop=True),
            "resize,regrid=0,do_stretchmarks=1,center_to=0,rescale=1,scale_to=0.75,c=1",
        ),
    ],
)
def test_resize_arguments_on_hmi(jsoc, attr, step):
    # the search lists records only; the process is in the plan, sent at fetch: check it there
    result = Fido.search(a.Time("2014-02-05 08:00", "2014-02-05 08:12"), HMI, BOX, attr)
    process = str(result["jsoccutout"].plans[0].process)
    assert process.split("|")[1] == step
    assert process.split("|")[2].startswith("im_patch,")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ((TIME, EUV, BOX, jc.Resize(center_to="first_image")), r"center_to='first_image'.*Resize\(center_to='sun'\)"),
        ((TIME, EUV, BOX, jc.Resize(center_to="unchanged")), "im_patch would cut the wrong place"),
        ((TIME, EUV, jc.Box([2048, 2048] * u.pix, 100 * u.pix), jc.Resize(1.2)), "centre in CCD pixels"),
        ((TIME, EUV, BOX, jc.Resize(1.2, crop=True)), r"a\.jsoc_cutout\.Crop\(True\)"),
        ((TIME, EUV, BOX, jc.Resize(1.2), jc.Resize(2.4)), ""),
    ],
)
def test_refused_combinations_send_nothing(jsoc, query, message):
    if not message:  # two Resize attrs in one block collide (sunpy's attr machinery)
        with pytest.raises(TypeError):
            Fido.search(*query)
    else:
        error = search_error(*query)
        assert isinstance(error, CutoutQueryError)
        assert re.search(message, str(error)), str(error)
    assert len(jsoc.request_log) == 0, "a refused query reached the server"


def test_planned_size_follows_the_scale(jsoc):
    plain = Fido.search(TIME, EUV, a.Wavelength(171 * u.AA), BOX)["jsoccutout"]
    resized = Fido.search(TIME, EUV, a.Wavelength(171 * u.AA), BOX, jc.Resize(1.2))["jsoccutout"]
    same = Fido.search(TIME, EUV, a.Wavelength(171 * u.AA), BOX, jc.Resize())["jsoccutout"]
    size0 = float(np.sum(u.Quantity(plain["Size"]).value))
    # 345.6" is 576 px at 0.6"/px and 288 px at 1.2"/px: a quarter of the pixels
    assert float(np.sum(u.Quantity(resized["Size"]).value)) / size0 == pytest.approx(0.25, rel=0.1)  # + headers
    assert float(np.sum(u.Quantity(same["Size"]).value)) == size0  # rotation and re-centring only
    assert float(resized.plans[0].sizeratio) / float(plain.plans[0].sizeratio) == pytest.approx(0.25, rel=0.05)


# ---------------------------------------------------------------- the files


def test_resized_cutout_has_the_scaled_shape_and_wcs(jsoc, email, tmp_path):
    scale = 1.2  # arcsec/px at 4096 px: twice AIA's 0.6
    plain = _fetch(email, tmp_path / "plain")
    resized = _fetch(email, tmp_path / "resized", jc.Resize(scale * u.arcsec / u.pix))
    (plain_req, resized_req) = _exp_requests(jsoc)
    assert "resize" not in plain_req["params"]["process"]
    assert "|resize," in resized_req["params"]["process"]

    # the reference: the unresized cutout's own header, and the emulator's image reduction
    # (its images are image_size px across, so every plate scale is 4096/image_size times JSOC's)
    cdelt0 = abs(float(plain.meta["cdelt1"]))
    expected_cdelt = scale * FULL_FRAME / jsoc.image_size
    assert abs(float(resized.meta["cdelt1"])) == pytest.approx(expected_cdelt, rel=1e-4)
    assert abs(float(resized.meta["cdelt2"])) == pytest.approx(expected_cdelt, rel=1e-4)
    assert resized.scale.axis1.to_value(u.arcsec / u.pix) == pytest.approx(expected_cdelt, rel=1e-4)
    factor = cdelt0 / expected_cdelt  # 0.5: the same box in twice-as-large pixels
    ny0, nx0 = plain.data.shape
    ny, nx = resized.data.shape
    assert abs(nx - nx0 * factor) <= 1.5
    assert abs(ny - ny0 * factor) <= 1.5
    assert (ny, nx) != (ny0, nx0)
    # jsoc_resize rotates to north up; both cutouts show the same patch of Sun
    assert float(resized.meta.get("crota2", 0.0)) == 0.0
    centre_plain = plain.wcs.pixel_to_world((nx0 - 1) / 2, (ny0 - 1) / 2)
    centre_resized = resized.wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
    assert centre_plain.separation(centre_resized).to_value(u.arcsec) < 1.5 * expected_cdelt
    corner_plain = plain.wcs.pixel_to_world(0, 0)
    corner_resized = resized.wcs.pixel_to_world(0, 0)
    assert corner_plain.separation(corner_resized).to_value(u.arcsec) < 2 * expected_cdelt
    assert np.isfinite(resized.data).mean() > 0.9

    # the sizeratio sent follows the scale: about factor**2 of the plain cutout's
    ratio0 = float(plain_req["params"]["sizeratio"])
    ratio = float(resized_req["params"]["sizeratio"])
    assert ratio / ratio0 == pytest.approx((0.6 / scale) ** 2, rel=0.15)

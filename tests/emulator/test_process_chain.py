"""Processing steps chained in one export: each step's output records are the next step's input."""

import drms
import numpy as np
import pytest

import sunpy.map

from sunpy_jsoc_cutout.testing.processing.registry import STEP_REGISTRY

AIA = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][193]{image}"
IM_PATCH = {
    "t_ref": "2014-01-01T00:00:01Z",
    "t": 1,
    "r": 0,
    "c": 0,
    "locunits": "arcsec",
    "boxunits": "arcsec",
    "x": 0,
    "y": 0,
    "width": 600,
    "height": 600,
}


@pytest.fixture
def client(emulator, email):
    return drms.Client(server=emulator.server_config, email=email)


def _maps(request, path):
    assert request.wait(sleep=0)
    path.mkdir(parents=True, exist_ok=True)
    return [sunpy.map.Map(p) for p in request.download(path).download]


def _disk_centre(data):
    """Centroid (row, col) of the pixels brighter than half the disk-centre level."""
    image = np.nan_to_num(np.asarray(data, dtype=float))
    level = np.median(image[image > np.percentile(image, 60)])
    rows, cols = np.nonzero(image > 0.5 * level)
    return rows.mean(), cols.mean()


def test_aia_scale_then_rebin_bins_the_level_1p5_image(client, emulator, tmp_path):
    process = {"aia_scale_aialev1": {}, "rebin": {"method": "boxcar", "scale": 0.5}}
    request = client.export(AIA, method="url", protocol="fits", process=process)
    maps = _maps(request, tmp_path)
    assert all(r.startswith("aia.lev1_euv_12s_mod[") for r in request.data.record)  # one _mod, not _mod_mod
    n = emulator.image_size // 2
    for smap in maps:
        assert smap.data.shape == (n, n)
        # The level-1.5 header (0.6"/px of 4096, north up, centred) went through jsoc_rebin's fix-up.
        assert smap.meta["cdelt1"] == pytest.approx(2 * 0.6 * 4096 / emulator.image_size)
        assert smap.meta["lvl_num"] == 1.5
        assert smap.meta["crota2"] == 0
        assert smap.meta["crpix1"] == pytest.approx((n + 1) / 2)
        row, col = _disk_centre(smap.data)
        assert abs(row - (n - 1) / 2) < 0.15
        assert abs(col - (n - 1) / 2) < 0.15


def test_aia_scale_then_im_patch_completes(client, tmp_path):
    """The export page's chain; im_patch is whatever implementation is registered."""
    process = {"aia_scale_aialev1": {}, "im_patch": IM_PATCH}
    request = client.export(AIA, method="url", protocol="fits", process=process)
    maps = _maps(request, tmp_path)
    assert len(maps) == 2
    assert all(r.startswith("aia.lev1_euv_12s_mod[") for r in request.data.record)
    for smap in maps:
        assert max(smap.data.shape) < 256  # a cut-out, not the full disk
        assert np.isfinite(smap.data).mean() > 0.9


def test_im_patch_after_aia_scale_cuts_from_the_level_1p5_images(client, tmp_path):
    process = {"aia_scale_aialev1": {}, "im_patch": IM_PATCH}
    maps = _maps(client.export(AIA, method="url", protocol="fits", process=process), tmp_path)
    assert all(m.meta["lvl_num"] == 1.5 for m in maps)


def test_resize_then_rebin_on_hmi(client, emulator, tmp_path):
    ds = "hmi.M_720s[2014.01.01_00:00:00_TAI]{magnetogram}"
    process = {"resize": {"rescale": 1, "scale_to": 0.6}, "rebin": {"method": "boxcar", "scale": 0.25}}
    (smap,) = _maps(client.export(ds, method="url", protocol="fits", process=process), tmp_path)
    assert smap.data.shape == (emulator.image_size // 4,) * 2
    assert smap.meta["cdelt1"] == pytest.approx(4 * 0.6 * 4096 / emulator.image_size, rel=1e-5)
    assert smap.meta["crota2"] == 0


@pytest.mark.parametrize(
    ("process", "message"),
    [
        ({"HmiB2ptr": {"l": 1}}, "Processing step 'HmiB2ptr' not supported by emulator yet."),
        (
            {"Maproj": {"map": "carree", "cols": 10}},
            "maproj: Error: auto scaling from image resolution not implemented",
        ),
        ({"aia_scale_aialev1": {"wide": "abc"}}, "invalid value 'abc' for argument wide"),
        ({"resize": {"center_to": 5}}, "jsoc_resize: invalid arguments center_to=5"),
    ],
)
def test_failing_steps_fail_the_export_with_status_4(client, process, message):
    request = client.export(AIA, method="url", protocol="fits", process=process)
    with pytest.raises(drms.DrmsExportError, match=message):
        request.wait(sleep=0)
    assert request.status == 4


def test_registry_holds_the_resampling_steps(client):
    client.export(AIA, method="url", protocol="fits", process={"rebin": {"scale": 0.5}}).wait(sleep=0)
    for name in ("aia_scale_orig", "aia_scale_aialev1", "aia_scale_other", "resize", "rebin", "Maproj"):
        assert STEP_REGISTRY[name] is not None

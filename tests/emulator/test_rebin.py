"""The ``rebin`` step (jsoc_rebin) through real exports, and its pixel rules."""

import drms
import numpy as np
import pytest
from scipy import ndimage

import astropy.units as u

import sunpy.map

from sunpy_jsoc_cutout.testing.processing.datatypes import ProcessError
from sunpy_jsoc_cutout.testing.processing.rebin import crop_limb, rebin_array, up_n_center

HMI = "hmi.M_720s[2014.01.01_00:00:00_TAI/24m]{magnetogram}"


def _export(client, tmp_path, ds, **kwargs):
    request = client.export(ds, method="url", protocol="fits", **kwargs)
    assert request.wait(sleep=0)
    out = tmp_path / "download"
    out.mkdir(parents=True, exist_ok=True)
    return request, [sunpy.map.Map(p) for p in request.download(out).download]


def _peak(smap):
    """World position of the strongest smoothed |B|."""
    data = np.nan_to_num(np.abs(smap.data.astype(float)))
    row, col = np.unravel_index(np.argmax(ndimage.gaussian_filter(data, 1.0)), data.shape)
    return smap.pixel_to_world(col * u.pix, row * u.pix)


def _centroid(smap, around, radius=60 * u.arcsec):
    """World position of the |B|-weighted centroid of the pixels within ``radius`` of ``around``."""
    data = np.nan_to_num(np.abs(smap.data.astype(float)))
    yy, xx = np.mgrid[: data.shape[0], : data.shape[1]]
    near = smap.pixel_to_world(xx * u.pix, yy * u.pix).separation(around) < radius
    weights = np.where(near, data, 0.0)
    col, row = (weights * xx).sum() / weights.sum(), (weights * yy).sum() / weights.sum()
    return smap.pixel_to_world(col * u.pix, row * u.pix)


def test_drms_rebin_example_gives_quarter_size_mod_records_with_consistent_wcs(emulator, email, tmp_path):
    client = drms.Client(server=emulator.server_config, email=email)
    request, rebinned = _export(client, tmp_path, HMI, process={"rebin": {"method": "boxcar", "scale": 0.25}})
    assert list(request.data.record) == [
        "hmi.M_720s_mod[2014.01.01_00:00:00_TAI][3]",
        "hmi.M_720s_mod[2014.01.01_00:12:00_TAI][3]",
    ]
    _, (full,) = _export(client, tmp_path / "full", HMI[: HMI.index("/")] + "]{magnetogram}")
    small = rebinned[0]
    assert small.data.shape == (emulator.image_size // 4, emulator.image_size // 4)
    assert small.data.dtype.kind == "f"
    assert small.data.dtype.itemsize == 4
    assert small.meta["cdelt1"] == pytest.approx(4 * full.meta["cdelt1"], rel=1e-6)
    # jsoc_rebin turns HMI north up (CROTA2 near 180 -> near 0) unless u=1.
    assert abs(full.meta["crota2"]) > 179
    assert abs(small.meta["crota2"]) < 1
    assert "Boxcar bin by 4" in str(small.meta.get("history", ""))
    # The same feature is at the same place on the Sun in both maps, within one output pixel.
    feature = _peak(full)
    separation = _centroid(small, feature).separation(_centroid(full, feature))
    assert separation < small.scale.axis1 * u.pix
    # Binning preserves the mean field (means of the non-missing 4x4 blocks).
    assert np.nanmean(small.data) == pytest.approx(np.nanmean(full.data), rel=0.05, abs=0.5)


def test_gaussian_rebin_and_no_rotation_flag(emulator, email, tmp_path):
    client = drms.Client(server=emulator.server_config, email=email)
    process = {"rebin": {"method": "gaussian", "scale": 0.5, "FWHM": 2, "nvector": 4, "u": 1}}
    _, maps = _export(client, tmp_path, HMI, process=process)
    assert maps[0].data.shape == (emulator.image_size // 2,) * 2
    assert abs(maps[0].meta["crota2"]) > 179  # u=1: left as is
    assert maps[0].meta["fwhm"] == 2


@pytest.mark.parametrize(
    ("process", "message"),
    [
        ({"rebin": {"method": "median", "scale": 0.5}}, "invalid conversion method"),
        ({"rebin": {"method": "gaussian", "scale": 0.5}}, "Need FWHM parameter"),
        ({"rebin": {"method": "boxcar", "scale": "half"}}, "invalid value 'half' for argument scale"),
    ],
)
def test_bad_rebin_arguments_fail_the_export_with_status_4(emulator, email, process, message):
    client = drms.Client(server=emulator.server_config, email=email)
    request = client.export(HMI, method="url", protocol="fits", process=process)
    with pytest.raises(drms.DrmsExportError, match=message):
        request.wait(sleep=0)
    assert request.status == 4


def test_boxcar_mean_ignores_missing_pixels():
    data = np.arange(16, dtype=np.float32).reshape(4, 4)
    data[0, 0] = np.nan
    out = rebin_array(data, 0.5)
    assert out.shape == (2, 2)
    assert out[0, 0] == pytest.approx((1 + 4 + 5) / 3)
    assert out[1, 1] == pytest.approx((10 + 11 + 14 + 15) / 4)
    assert np.isnan(rebin_array(np.full((4, 4), np.nan), 0.5)).all()


def test_enlarging_replicates_pixels_and_gaussian_weights_centre_more():
    data = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    np.testing.assert_array_equal(rebin_array(data, 2.0), np.kron(data, np.ones((2, 2))))
    spike = np.zeros((6, 6), dtype=np.float32)
    spike[1, 1] = 9.0  # the centre of the first 3x3 block
    box, gauss = rebin_array(spike, 1 / 3), rebin_array(spike, 1 / 3, "gaussian", 3, 1.0)
    assert box[0, 0] == pytest.approx(1.0)
    assert gauss[0, 0] > box[0, 0]
    with pytest.raises(ProcessError, match="invalid conversion method"):
        rebin_array(data, 0.5, "cubic")


def test_up_n_center_flips_near_180_and_centres_non_aia_only():
    data = np.arange(100, dtype=np.float32).reshape(10, 10)
    header = {"CRPIX1": 6.5, "CRPIX2": 5.5, "CROTA2": 179.9, "CDELT1": 0.5}
    hdr, out = up_n_center(header, data, "hmi.M_720s")
    assert hdr["CROTA2"] == pytest.approx(-0.1)
    # Flipped (centre at 0-based x=10-1-5.5=3.5) then shifted one pixel right: x0 = 4.5 -> CRPIX1 = 5.5.
    assert hdr["CRPIX1"] == pytest.approx(5.5)
    assert np.isnan(out[:, 0]).all()
    np.testing.assert_array_equal(out[:, 1:], data[::-1, ::-1][:, :-1])
    hdr_aia, out_aia = up_n_center({**header, "CROTA2": 0.0}, data, "aia.lev1_euv_12s")
    np.testing.assert_array_equal(out_aia, data)
    assert hdr_aia["CRPIX1"] == 6.5


def test_crop_limb_uses_rsun_obs_over_cdelt():
    header = {"CRPIX1": 11.0, "CRPIX2": 11.0, "CDELT1": 1.0, "RSUN_OBS": 5.0}
    out = crop_limb(header, np.ones((21, 21), dtype=np.float32))
    assert out[10, 10] == 1
    assert out[10, 14] == 1
    assert np.isnan(out[10, 15])
    assert np.isnan(out[0, 0])

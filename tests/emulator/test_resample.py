"""NaN-safe affine resampling (testing/processing/resample.py)."""

import numpy as np
import pytest
from scipy import ndimage

from sunpy_jsoc_cutout.testing.processing.resample import affine_resample, scale_rotate


@pytest.fixture
def image():
    return np.random.default_rng(1).normal(size=(40, 50)).astype(np.float32)


def test_identity_is_exact_and_float32(image):
    out = affine_resample(image, np.eye(2), np.zeros(2), image.shape)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, image)


def test_matches_scipy_on_finite_input(image):
    matrix = np.array([[0.9, 0.1], [-0.1, 0.9]])
    offset = np.array([3.0, 2.0])
    out = affine_resample(image, matrix, offset, (30, 30), order=3)
    ref = ndimage.affine_transform(
        image.astype(np.float64), matrix, offset, output_shape=(30, 30), order=3, mode="nearest"
    )
    finite = np.isfinite(out)
    assert finite.sum() > 600
    np.testing.assert_allclose(out[finite], ref[finite], atol=1e-5)


@pytest.mark.parametrize("order", [1, 3, 5])
def test_nan_stays_within_bilinear_support(image, order):
    original = image.copy()
    image[20, 30] = np.nan
    out = affine_resample(image, np.eye(2) * 0.5, np.zeros(2), (80, 100), order=order)
    bad = np.argwhere(np.isnan(out[:-1, :-1]))  # the last row/column samples beyond the input
    # Sample points 19.5..20.5 (rows) and 29.5..30.5 (cols) touch the NaN pixel: 3x3 outputs.
    assert sorted(map(tuple, bad)) == [(r, c) for r in (39, 40, 41) for c in (59, 60, 61)]
    # Ten input pixels away from the NaN the spline hardly feels it.
    clean = affine_resample(original, np.eye(2) * 0.5, np.zeros(2), (80, 100), order=order)
    np.testing.assert_allclose(out[:20, :-1], clean[:20, :-1], atol=1e-2)


def test_outside_gets_cval(image):
    out = affine_resample(image, np.eye(2), np.array([-5.0, 0.0]), image.shape, cval=-7.0)
    assert np.all(out[:5] == -7.0)
    np.testing.assert_array_equal(out[5:], image[:-5])


def test_all_nan_input_gives_all_nan():
    out = affine_resample(np.full((8, 8), np.nan), np.eye(2), np.zeros(2), (8, 8))
    assert np.isnan(out).all()


def test_scale_rotate_maps_centre_and_axes():
    matrix, offset = scale_rotate(2.0, 90.0, c_in=(10.0, 20.0), c_out=(50.0, 50.0))
    np.testing.assert_allclose(matrix @ [50.0, 50.0] + offset, [10.0, 20.0])
    # One input pixel along +x (col) goes, rotated 90 deg counter-clockwise and doubled, to +2 in y (row).
    out_point = np.linalg.solve(matrix, np.array([10.0, 21.0]) - offset)
    np.testing.assert_allclose(out_point, [52.0, 50.0], atol=1e-12)


def test_scale_rotate_moves_a_feature_where_predicted():
    image = np.zeros((64, 64), dtype=np.float32)
    image[40, 44] = 1.0  # dx=+12, dy=+8 from the centre (32, 32)
    matrix, offset = scale_rotate(0.5, 30.0, c_in=(32.0, 32.0), c_out=(20.0, 20.0))
    out = affine_resample(np.asarray(ndimage.gaussian_filter(image, 2.0)), matrix, offset, (40, 40), order=1)
    row, col = np.unravel_index(np.nanargmax(out), out.shape)
    theta = np.deg2rad(30.0)
    dx, dy = 0.5 * (np.cos(theta) * 12 - np.sin(theta) * 8), 0.5 * (np.sin(theta) * 12 + np.cos(theta) * 8)
    assert abs(col - (20 + dx)) <= 1
    assert abs(row - (20 + dy)) <= 1


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="2-D image"):
        affine_resample(np.zeros(5), np.eye(2), np.zeros(2), (5, 5))
    with pytest.raises(ValueError, match="positive"):
        scale_rotate(0.0, 0.0, (0, 0), (0, 0))

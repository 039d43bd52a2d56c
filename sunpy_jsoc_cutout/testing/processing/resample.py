"""NaN-safe affine resampling of images, shared by the emulator's processing steps.

`affine_resample` follows `scipy.ndimage.affine_transform`: for every output pixel
``o = (row, col)`` the input is sampled at ``matrix @ o + offset`` (numpy ``(row, col)`` order,
pixel centres at integer coordinates).

NaN rule
--------
JSOC images carry NaN (``BLANK``) pixels, off-disk areas of processed data and missing blocks.
A spline of order > 1 is a global filter, so a single NaN would poison the whole image. Here:

1. NaN input pixels are replaced by the value of their nearest finite pixel before the spline
   is built (so they only shape the interpolant locally, without ringing);
2. an output pixel is NaN exactly when a NaN input pixel has a *bilinear* weight above
   `NAN_WEIGHT` at its sample point, i.e. when one of the (at most four) input pixels around the
   sample point is NaN. NaN therefore never spreads further than one input pixel, whatever
   ``order``;
3. a sample point outside the input's pixel-centre grid (``[0, n-1]`` on each axis, with a
   ``1e-6`` pixel tolerance) gets ``cval``.

`scale_rotate` builds the ``(matrix, offset)`` pair for "scale by ``s``, rotate by ``angle``
about input point ``c_in`` and put that point at output point ``c_out``".
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["NAN_WEIGHT", "affine_resample", "scale_rotate"]

#: Bilinear weight above which a NaN input pixel makes the output pixel NaN.
NAN_WEIGHT = 1e-3
_EDGE_TOLERANCE = 1e-6


def _fill_nan_nearest(image: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """A copy of ``image`` with NaN pixels replaced by their nearest finite neighbour."""
    if not bad.any():
        return image
    if bad.all():
        return np.zeros_like(image)
    indices = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return image[tuple(indices)]


def _inside_mask(matrix: np.ndarray, offset: np.ndarray, shape_in, shape_out) -> np.ndarray:
    """True where the sample point of an output pixel lies on the input's pixel-centre grid."""
    rows = np.arange(shape_out[0], dtype=np.float64)[:, None]
    cols = np.arange(shape_out[1], dtype=np.float64)[None, :]
    inside = np.ones(shape_out, dtype=bool)
    for axis in range(2):
        coord = matrix[axis, 0] * rows + matrix[axis, 1] * cols + offset[axis]
        inside &= (coord >= -_EDGE_TOLERANCE) & (coord <= shape_in[axis] - 1 + _EDGE_TOLERANCE)
    return inside


def affine_resample(
    image: np.ndarray,
    matrix: np.ndarray,
    offset: np.ndarray,
    shape_out: tuple[int, int],
    order: int = 3,
    cval: float = np.nan,
) -> np.ndarray:
    """
    Resample a 2-D image through an affine map, without letting NaN pixels spread.

    Parameters
    ----------
    image : numpy.ndarray
        2-D input, any real dtype; NaN marks missing pixels.
    matrix : numpy.ndarray
        2x2 matrix, ``input_coord = matrix @ output_coord + offset`` in ``(row, col)`` order.
    offset : numpy.ndarray
        Length-2 offset, ``(row, col)``.
    shape_out : tuple of int
        ``(rows, cols)`` of the output.
    order : int, optional
        Spline order 0-5 (default 3, cubic).
    cval : float, optional
        Value of output pixels whose sample point falls outside the input (default NaN).

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``shape_out``; NaN where a NaN input pixel lies within the
        bilinear support of the sample point (see the module docstring).

    Raises
    ------
    ValueError
        For an image that is not 2-D, a matrix that is not 2x2 or an offset not of length 2.
    """
    image = np.asarray(image, dtype=np.float64)
    matrix = np.asarray(matrix, dtype=np.float64)
    offset = np.asarray(offset, dtype=np.float64)
    if image.ndim != 2 or matrix.shape != (2, 2) or offset.shape != (2,):
        raise ValueError(
            f"expected a 2-D image, a 2x2 matrix and a length-2 offset, got shapes "
            f"{image.shape}, {matrix.shape}, {offset.shape}"
        )
    shape_out = (int(shape_out[0]), int(shape_out[1]))
    bad = ~np.isfinite(image)
    filled = _fill_nan_nearest(image, bad)
    out = ndimage.affine_transform(
        filled, matrix, offset, output_shape=shape_out, order=order, mode="nearest", prefilter=order > 1
    )
    if bad.any():
        weight = ndimage.affine_transform(
            bad.astype(np.float64), matrix, offset, output_shape=shape_out, order=1, mode="nearest"
        )
        out[weight > NAN_WEIGHT] = np.nan
    out[~_inside_mask(matrix, offset, image.shape, shape_out)] = cval
    return out.astype(np.float32)


def scale_rotate(
    scale: float, angle: float, c_in: tuple[float, float], c_out: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """
    The ``(matrix, offset)`` of "scale by ``scale``, rotate by ``angle`` about ``c_in``, put it at ``c_out``".

    In ``(x, y) = (col, row)`` pixel coordinates (FITS axes 1 and 2, origin at lower left when
    displayed), the map is ``out_xy - c_out_xy = scale * R(angle) @ (in_xy - c_in_xy)`` with
    ``R`` the counter-clockwise rotation. An image whose FITS header has ``CROTA2 = rho`` and
    square pixels of ``cdelt`` is turned solar-north-up on pixels of ``cdelt_out`` by
    ``scale_rotate(cdelt / cdelt_out, rho, ...)``.

    Parameters
    ----------
    scale : float
        Magnification (> 1 enlarges features; the ratio of input to output pixel size).
    angle : float
        Rotation in degrees, counter-clockwise.
    c_in : tuple of float
        Fixed point in the input, ``(row, col)``, 0-based.
    c_out : tuple of float
        Where ``c_in`` goes in the output, ``(row, col)``, 0-based.

    Returns
    -------
    matrix, offset : numpy.ndarray
        For `affine_resample` (output to input, ``(row, col)`` order).
    """
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale!r}")
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    # Inverse map in (x, y): in = c_in + R(-angle) @ (out - c_out) / scale; then swap to (row, col).
    inv_xy = np.array([[cos, sin], [-sin, cos]]) / scale
    matrix = inv_xy[::-1, ::-1].copy()
    c_in_rc = np.asarray(c_in, dtype=np.float64)
    c_out_rc = np.asarray(c_out, dtype=np.float64)
    offset = c_in_rc - matrix @ c_out_rc
    return matrix, offset

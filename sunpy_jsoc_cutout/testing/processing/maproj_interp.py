"""maproj's interpolators (``lm-jps/proj:util/apps/export_as_maproj.c`` L691-801), vectorised.

Positions are 0-based pixel centres (``array_imaginterp`` turns its plate units into these).

* ``cubiconv`` (`cubic_convolution`, ``ccint2``, L714-734): Keys' cubic convolution
  (a = -0.5, ``ccker`` L695-704) on the 4 x 4 neighbours; missing for ``x < 1`` or
  ``x >= nx - 2`` (and the same in y); a NaN neighbour makes the result NaN, which maproj
  writes as missing (L866).
* ``bilinear`` (`bilinear`, ``linint2``, L736-751): missing outside ``0 <= x <= nx``,
  ``0 <= y < ny``; the C then reads one pixel past the row (or the array) at the far edges,
  which this treats as missing.
* ``nearest`` (`nearest`, ``nearest_val``, L753-760): the pixel at ``(int)(x + 0.5)``, missing
  outside ``-0.5 <= x < nx - 0.5``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INTERPOLATORS", "bilinear", "cubic_convolution", "interpolate", "nearest"]

#: ``interp`` values in maproj's enumeration order (L110-111) and the ``Interp`` names (L1142).
INTERPOLATORS = {"cubiconv": "Cubic Convolution", "nearest": "Nearest Neighbor", "bilinear": "Bilinear"}


def _kernel(s: np.ndarray) -> list[np.ndarray]:
    s2, s3 = s * s, s * s * s
    return [s2 - 0.5 * (s3 + s), 1.5 * s3 - 2.5 * s2 + 1.0, -1.5 * s3 + 2.0 * s2 + 0.5 * s, 0.5 * (s3 - s2)]


def cubic_convolution(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``ccint2``: NaN where the point is too near the edge or a neighbour is NaN."""
    ny, nx = image.shape
    good = (x >= 1.0) & (x < nx - 2) & (y >= 1.0) & (y < ny - 2)
    xs, ys = np.where(good, x, 1.0), np.where(good, y, 1.0)
    ix, iy = xs.astype(int), ys.astype(int)
    ux, uy = _kernel(xs - ix), _kernel(ys - iy)
    total = np.zeros(x.shape)
    for i in range(4):
        for j in range(4):
            total += image[iy - 1 + i, ix - 1 + j] * uy[i] * ux[j]
    return np.where(good, total, np.nan)


def bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``linint2`` (neighbours beyond the array count as missing)."""
    ny, nx = image.shape
    good = (x >= 0.0) & (x <= nx) & (y >= 0.0) & (y < ny)
    col, row = np.where(good, x, 0.0).astype(int), np.where(good, y, 0.0).astype(int)
    p, q = np.where(good, x, 0.0) - col, np.where(good, y, 0.0) - row
    padded = np.full((ny + 1, nx + 1), np.nan)
    padded[:ny, :nx] = image
    val = (
        (1 - p) * (1 - q) * padded[row, col]
        + p * (1 - q) * padded[row, col + 1]
        + (1 - p) * q * padded[row + 1, col]
        + p * q * padded[row + 1, col + 1]
    )
    return np.where(good, val, np.nan)


def nearest(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``nearest_val``."""
    ny, nx = image.shape
    good = (x >= -0.5) & (x < nx - 0.5) & (y >= -0.5) & (y < ny - 0.5)
    col = (np.where(good, x, 0.0) + 0.5).astype(int)
    row = (np.where(good, y, 0.0) + 0.5).astype(int)
    return np.where(good, image[row, col], np.nan)


def interpolate(image: np.ndarray, x: np.ndarray, y: np.ndarray, method: str = "cubiconv") -> np.ndarray:
    """``array_imaginterp`` with maproj's ``interp`` value (anything unknown is cubic convolution, L796-800)."""
    image = np.asarray(image, dtype=np.float64)
    if method == "nearest":
        return nearest(image, x, y)
    if method == "bilinear":
        return bilinear(image, x, y)
    return cubic_convolution(image, x, y)

"""The pixels of one ``im_patch`` cut-out (``lm-jps/proj:util/apps/im_patch.c`` #L1000-1500).

For one record, in im_patch's order:

1. read the box ``[x1..x2, y1..y2]`` (padded by `REGISTER_PADDING` when registering) of the
   stored image; a box partly off the image is filled with MISSING (NaN), a box wholly off it
   skips the record (#L1088-1100, #L1307-1360). Only these pixels are rendered, and they are
   quantised as the stored segment holds them (AIA int16, HMI int32 with BSCALE);
2. ``CRPIX = 1 + (CRPIX_in - 1) - x1``;
3. crop (``c``): NaN where ``(i-ci)^2 + (j-cj)^2 >= 0.9995 R^2`` (#L1021-1035);
4. ``|CROTA2|`` within 1 degree of 180 (HMI): flip both axes, ``CROTA2 -= 180``,
   ``CRPIX = 1 + x2 - x0`` (#L1391-1420);
5. register (``r``): resample so that the tracked point sits exactly at the array centre
   (``dx = x1 + (nx-1)/2 - target_x``) with north up (rotation by the remaining ``CROTA2``),
   trim the padding, ``CROTA2 = 0`` (#L1426-1500). The C adds ``dx - padding`` to CRPIX and
   neglects the rotation of the reference pixel about the patch centre; here the reference
   pixel is rotated too, so that the output WCS is exact (the two agree when CROTA2 is 0).
   Resampling is cubic (`resample.affine_resample`); JSOC uses ``image_magrotate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sunpy_jsoc_cutout.testing.sun.render import render
from .patch_geometry import REGISTER_PADDING, BoxShape, crop_mask, patch_corners, rsun_pixels
from .resample import affine_resample

__all__ = ["Cutout", "extract_patch", "quantise"]


@dataclass
class Cutout:
    """A cut-out and the WCS numbers im_patch writes for it."""

    data: np.ndarray
    crpix1: float
    crpix2: float
    crota: float
    history: list[str] = field(default_factory=list)


def quantise(data: np.ndarray, storage: str, bscale: float | None, bzero: float | None) -> np.ndarray:
    """Values as an integer segment stores them (float storage is returned unchanged)."""
    if storage.startswith("float"):
        return data
    scale, zero = float(bscale or 1.0), float(bzero or 0.0)
    return np.round((data - zero) / scale) * scale + zero


def _read_box(header: Mapping, segment, corners, image: np.ndarray | None) -> np.ndarray | None:
    x1, y1, x2, y2 = corners.x1, corners.y1, corners.x2, corners.y2
    nx, ny = int(header["NAXIS1"]), int(header["NAXIS2"])
    if x1 >= nx or y1 >= ny or x2 < 0 or y2 < 0:
        return None
    out = np.full((y2 - y1 + 1, x2 - x1 + 1), np.nan, dtype=np.float32)
    c0, c1, r0, r1 = max(x1, 0), min(x2, nx - 1) + 1, max(y1, 0), min(y2, ny - 1) + 1
    if image is not None:  # pixels made by an earlier step of the chain
        pixels = image[r0:r1, c0:c1]
    else:
        pixels = render(header, segment.kind, region=(slice(r0, r1), slice(c0, c1)))
        pixels = quantise(pixels, segment.storage, segment.bscale, segment.bzero)
    out[r0 - y1 : r1 - y1, c0 - x1 : c1 - x1] = pixels
    return out


def _register(cut: Cutout, target: tuple[float, float], x1: int, y1: int, box: BoxShape) -> Cutout:
    ny, nx = cut.data.shape
    mid = np.array([(nx - 1) / 2.0, (ny - 1) / 2.0])
    d = np.array([x1 + mid[0] - target[0], y1 + mid[1] - target[1]])
    rot = math.radians(cut.crota)
    cos, sin = math.cos(rot), math.sin(rot)
    m = np.array([[cos, -sin], [sin, cos]])  # sunpy's PC matrix from CROTA2
    a = m.T  # input = A (out - mid) + mid - d, with M A = I
    off = mid - d - a @ mid
    matrix_rc = np.array([[a[1, 1], a[1, 0]], [a[0, 1], a[0, 0]]])
    data = affine_resample(cut.data, matrix_rc, np.array([off[1], off[0]]), cut.data.shape, order=3)
    pad = REGISTER_PADDING
    data = np.ascontiguousarray(data[pad : pad + box.height, pad : pad + box.width], dtype=np.float32)
    c_in = np.array([cut.crpix1 - 1.0, cut.crpix2 - 1.0])
    c_out = mid + m @ (c_in + d - mid) - pad
    history = [*cut.history, f"Image registered by shift of ({d[0]:0.3f},{d[1]:0.3f}) pixels."]
    return Cutout(data, float(c_out[0] + 1.0), float(c_out[1] + 1.0), 0.0, history)


def extract_patch(
    header: Mapping,
    segment,
    target: tuple[float, float],
    box: BoxShape,
    *,
    register: bool = False,
    crop: bool = False,
    rsun_ref: float | None = None,
    image: np.ndarray | None = None,
) -> Cutout | None:
    """
    Cut the box centred on ``target`` out of the stored image ``header`` describes.

    Parameters
    ----------
    header : Mapping
        The record's header as stored (``NAXIS1/2``, WCS and observer keywords).
    segment : SegmentDef
        The input segment (``kind`` to render, ``storage``/``bscale``/``bzero`` to quantise).
    target : tuple of float
        0-based pixel of the box centre (tracked or fixed).
    box : BoxShape
        The box size from the first image.
    register, crop : bool
        The ``r`` and ``c`` flags.
    rsun_ref : float, optional
        ``RSUN_REF`` of the reference image for the crop radius (default: the record's).
    image : numpy.ndarray, optional
        The full image when an earlier processing step made it (default: render the box).

    Returns
    -------
    Cutout or None
        None when the box lies wholly outside the image (the record is skipped).
    """
    pad = REGISTER_PADDING if register else 0
    corners = patch_corners(target[0], target[1], box, pad)
    x1, y1, x2, y2 = corners.x1, corners.y1, corners.x2, corners.y2
    data = _read_box(header, segment, corners, image)
    if data is None:
        return None
    x0, y0 = float(header["CRPIX1"]) - 1.0, float(header["CRPIX2"]) - 1.0
    crota = float(header.get("CROTA2", 0.0) or 0.0)
    cut = Cutout(data, 1.0 + x0 - x1, 1.0 + y0 - y1, crota)
    if crop:
        cut.data[crop_mask(data.shape, cut.crpix1, cut.crpix2, rsun_pixels(header, rsun_ref))] = np.nan
    tx, ty = target
    if abs(abs(crota) - 180.0) < 1.0:  # pa = -crota; HMI is stored upside down
        nx_in, ny_in = int(header["NAXIS1"]), int(header["NAXIS2"])
        cut = Cutout(
            cut.data[::-1, ::-1].copy(), 1.0 + x2 - x0, 1.0 + y2 - y0, crota - 180.0, ["Image rotated 180 degrees."]
        )
        x1, y1 = nx_in - 1 - x2, ny_in - 1 - y2
        tx, ty = nx_in - 1 - tx, ny_in - 1 - ty
    if register:
        cut = _register(cut, (tx, ty), x1, y1, box)
    return cut

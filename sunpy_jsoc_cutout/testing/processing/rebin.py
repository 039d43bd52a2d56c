"""The ``rebin`` processing step, as JSOC's ``jsoc_rebin`` (``lm-jps/proj:util/apps/jsoc_rebin.c``).

Arguments (``module_args``; the export page sends ``[A=1][,c=1],u=0|1[,scale=<f>],method=...``):

``scale`` (1.0)
    < 1 shrinks by the integer ``iscale = int(1/scale + 0.5)``, > 1 enlarges by
    ``int(scale + 0.5)``; the output is ``int(n*scale + 0.5)`` pixels on a side.
``method`` (``boxcar``)
    ``boxcar``: mean of the non-missing pixels of each ``nvector`` x ``nvector`` block (an
    enlargement replicates pixels); ``gaussian``: weights ``exp(-d^2/(FWHM^2*0.52034))`` over
    ``nvector`` pixels, ``FWHM`` required. Anything else fails: ``invalid conversion method``.
``nvector`` (``iscale``), ``FWHM`` (-1)
    Smoothing vector; ``nvector`` is bumped by one when its parity differs from ``iscale``'s.
``c`` (flag)
    Crop at the limb first: pixels at ``r^2 >= 0.9995 (RSUN_OBS/CDELT1)^2`` become missing.
``u`` (flag)
    Leave the image as is. Without it (the default!) an image with ``|CROTA2|`` within 1 deg of
    180 is turned by 180 deg ("flip-flip", ``CROTA2 -= 180``) and, except for AIA series, shifted
    by whole pixels to centre the Sun when that moves it less than 20 arcsec.

Records with ``QUALITY < 0`` are skipped. The output header copies the input's and sets
``CDELTi = CDELTi/scale``, ``CRPIXi = (CRPIXi - 0.5)*scale + 0.5``, ``CROTA2``, ``HISTORY``,
``DATE``, ``RequestID`` (and ``FWHM`` for gaussian); nothing else (``R_SUN`` is left as is,
as in the C). Output goes to ``<series>_mod``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sunpy import log

from .datatypes import ExportItem, ProcessError, StepContext
from .step_items import arg_float, arg_int, image_items, item_pixels, mod_item

__all__ = ["crop_limb", "rebin_array", "rebin_image", "rebin_step", "up_n_center"]

PROGRAM = "jsoc_rebin"


def up_n_center(header: dict, data: np.ndarray, series: str) -> tuple[dict, np.ndarray]:
    """
    JSOC's ``upNcenter``: turn by 180 deg if ``CROTA2`` is near 180, then centre by whole pixels.

    Parameters
    ----------
    header : dict
        ``CRPIX1/2``, ``CROTA2``, ``CDELT1`` of ``data``.
    data : numpy.ndarray
        The image (rows, cols).
    series : str
        Series name: AIA images (``aia*``) are never shifted.

    Returns
    -------
    header, data
        New header and array (missing pixels shifted in are NaN).
    """
    header = dict(header)
    ny, nx = data.shape
    x0, y0 = float(header["CRPIX1"]) - 1, float(header["CRPIX2"]) - 1
    crota2 = float(header.get("CROTA2", 0.0) or 0.0)
    if 179 < abs(crota2) < 181:
        data = data[::-1, ::-1].copy()
        x0, y0 = nx - 1 - x0, ny - 1 - y0
        rot = crota2 - 180.0
        header["CROTA2"] = rot + 360.0 if rot < -90.0 else rot
    mid = (nx - 1.0) / 2.0
    xoff, yoff = round(x0 - mid), round(y0 - mid)
    max_off = int(20.0 / float(header["CDELT1"]))
    if not series.lower().startswith("aia") and abs(xoff) < max_off and abs(yoff) < max_off:
        data = _shift(data, yoff, xoff)
        x0, y0 = x0 - xoff, y0 - yoff
    header["CRPIX1"], header["CRPIX2"] = x0 + 1, y0 + 1
    return header, data


def _shift(data: np.ndarray, yoff: int, xoff: int) -> np.ndarray:
    """``out[i, j] = data[i + yoff, j + xoff]``, NaN where that falls outside."""
    if not (yoff or xoff):
        return data
    ny, nx = data.shape
    out = np.full_like(data, np.nan)
    rows_out = slice(max(0, -yoff), min(ny, ny - yoff))
    cols_out = slice(max(0, -xoff), min(nx, nx - xoff))
    rows_in = slice(rows_out.start + yoff, rows_out.stop + yoff)
    cols_in = slice(cols_out.start + xoff, cols_out.stop + xoff)
    out[rows_out, cols_out] = data[rows_in, cols_in]
    return out


def crop_limb(header: Mapping, data: np.ndarray) -> np.ndarray:
    """JSOC's ``crop_image``: NaN at ``r^2 >= 0.9995 R^2`` about ``CRPIX``, ``R = RSUN_OBS/CDELT1``."""
    rsun = float(header["RSUN_OBS"]) / float(header["CDELT1"])
    ny, nx = data.shape
    y = (np.arange(ny) - (float(header["CRPIX2"]) - 1))[:, None] / rsun
    x = (np.arange(nx) - (float(header["CRPIX1"]) - 1))[None, :] / rsun
    out = data.copy()
    out[x * x + y * y >= 0.99950] = np.nan
    return out


def _weights(method: str, iscale: int, nvector: int, fwhm: float) -> np.ndarray:
    if method.lower() == "gaussian":
        if fwhm < 0:
            raise ProcessError(f"{PROGRAM}: Need FWHM parameter")
        offsets = np.arange(nvector) - (nvector - 1) / 2.0
        return np.exp(-(offsets**2) / (fwhm * fwhm * 0.52034))
    if method.lower() != "boxcar":
        raise ProcessError(f"{PROGRAM}: invalid conversion method")
    return np.ones(nvector)


def rebin_array(data: np.ndarray, scale: float, method: str = "boxcar", nvector: int = -1, fwhm: float = -1.0):
    """
    Resample ``data`` by ``scale`` exactly as ``jsoc_rebin``'s loops do.

    Returns
    -------
    numpy.ndarray
        float32 array of ``int(n*scale + 0.5)`` pixels per axis; NaN where no input pixel counted.

    Raises
    ------
    ProcessError
        For a bad method, a gaussian without ``FWHM`` or a non-positive scale.
    """
    if not scale > 0:
        raise ProcessError(f"{PROGRAM}: scale must be positive, not {scale}")
    iscale = int(1.0 / scale + 0.5) if scale < 1.0 else int(scale + 0.5)
    nvector = iscale if nvector < 0 else nvector
    if (iscale & 1) != (nvector & 1):
        nvector += 1
    weights = _weights(method, iscale, nvector, fwhm)
    if method.lower() == "boxcar" and scale >= 1 and nvector != iscale:
        raise ProcessError(f"{PROGRAM}: For fscale>=1 nvector must be fscale")
    ny, nx = data.shape
    out_ny, out_nx = int(ny * scale + 0.5), int(nx * scale + 0.5)
    half, go = nvector // 2, int((iscale - 1) / 2.0 + 0.5)
    if scale > 1.0:
        out = np.full((out_ny, out_nx), np.nan, dtype=np.float32)
        rows, cols = np.arange(ny) * iscale + go - half, np.arange(nx) * iscale + go - half
        for j in range(nvector):
            for i in range(nvector):
                r, c = rows + j, cols + i
                rk, ck = (r >= 0) & (r < out_ny), (c >= 0) & (c < out_nx)
                out[np.ix_(r[rk], c[ck])] = data[np.ix_(rk, ck)]
        return out
    total = np.zeros((out_ny, out_nx))
    weight = np.zeros((out_ny, out_nx))
    rows, cols = np.arange(out_ny) * iscale + go - half, np.arange(out_nx) * iscale + go - half
    for j in range(nvector):
        r = rows + j
        rk = (r >= 0) & (r < ny)
        for i in range(nvector):
            c = cols + i
            ck = (c >= 0) & (c < nx)
            block = np.full((out_ny, out_nx), np.nan)
            block[np.ix_(rk, ck)] = data[np.ix_(r[rk], c[ck])]
            good = np.isfinite(block)
            w = weights[i] * weights[j]
            total[good] += w * block[good]
            weight[good] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan).astype(np.float32)


def rebin_image(header: dict, data: np.ndarray, args: Mapping[str, str], series: str) -> tuple[dict, np.ndarray]:
    """
    One record through ``jsoc_rebin``: optional upNcenter and crop, rebin, header fix-up.

    Parameters
    ----------
    header : dict
        Header consistent with ``data``.
    data : numpy.ndarray
        The pixels.
    args : Mapping
        The step's arguments (``scale``, ``method``, ``FWHM``, ``nvector``, ``c``, ``u``).
    series : str
        The input series (AIA images are not re-centred).
    """
    scale = arg_float(args, "scale", 1.0, PROGRAM)
    method = args.get("method", "boxcar") or "boxcar"
    fwhm = arg_float(args, "FWHM", -1.0, PROGRAM)
    nvector = arg_int(args, "nvector", -1, PROGRAM)
    crop, as_is = arg_int(args, "c", 0, PROGRAM), arg_int(args, "u", 0, PROGRAM)
    if not as_is:
        header, data = up_n_center(header, data, series)
    if crop:
        data = crop_limb(header, data)
    out = rebin_array(data, scale, method, nvector, fwhm)
    header = dict(header)
    for axis in (1, 2):
        header[f"CDELT{axis}"] = float(header[f"CDELT{axis}"]) / scale
        header[f"CRPIX{axis}"] = (float(header[f"CRPIX{axis}"]) - 0.5) * scale + 0.5
    iscale = int(1.0 / scale + 0.5) if scale < 1.0 else int(scale + 0.5)
    flags = (", Cropped at rsun_obs" if crop else "") + ("" if as_is else ", North is up")
    if method.lower() == "gaussian":
        header["FWHM"] = fwhm
        history = f"Scale by {scale:f} with Gasussian smoothing FWHM={fwhm:f}, nvector={nvector}{flags}"
    else:
        history = f"{'Boxcar bin' if scale < 1 else 'Replicate to expand'} by {iscale}{flags}"
    header["HISTORY"] = history
    return header, out


def rebin_step(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """The ``rebin`` step: every image item through `rebin_image`, output in ``<series>_mod``."""
    out = []
    for item in image_items(items):
        if int(item.header.get("QUALITY", 0) or 0) < 0:
            continue
        header, data = item_pixels(item, context)
        header, data = rebin_image(header, data, args, item.seriesname)
        log.debug("rebin %s -> %s", item.record, data.shape)
        out.append(mod_item(item, context, header, data, "rebinned by jsoc_rebin"))
    return out

"""The ``aia_scale_*`` and ``resize`` processing steps (AIA level 1.5; ``jsoc_resize``).

``aia_scale_orig``, ``aia_scale_aialev1``, ``aia_scale_other``
    JSOC's export page picks one by series (`aia_scale_step_for`): ``_orig`` for ``aia.lev1``
    (whose lev1->lev1p5 name is ``aia.lev1p5``), ``_aialev1`` for the other AIA level-1 series
    (``aia.lev1_euv_12s``...), ``_other`` for anything else
    (``lm-jps/proj:export/webapps/exportdata.d/processing.js`` ``AiaScaleCheck``). All three run
    the program of ``lm-jps/proj:lev1.5_aia/apps/aia_lev1p5.c`` (the same pixels here): scale to
    ``0.6"/px`` (``mag = CDELT1/0.6``), rotate by ``CROTA2`` about ``CRPIX`` so solar north is
    up, and put ``CRPIX`` at the image centre, bicubic; the outer rows and columns are zeroed
    first and AIA values are clipped to ``[0, 16383.5]`` (off-image pixels are 0 for AIA, NaN
    otherwise). Records with ``T_OBS`` missing or ``QUALITY < 0`` are dropped. Header as aia_prep
    leaves it: ``CDELT1/2 = 0.6``, ``CROTA2 = 0``, ``CRPIX = ((n+1)/2, (m+1)/2)``, ``X0 = Y0 = 0``,
    ``LVL_NUM = 1.5``, ``R_SUN = RSUN_OBS/0.6``, ``CRVAL`` unchanged. Optional arguments:
    ``mpt=<pointing series>`` (accepted: the emulator's headers already hold the true pointing),
    ``xc``, ``yc`` (arcsec, the cut-out centre relative to Sun centre), ``wide``, ``high``
    (output pixels, of the 4096-pixel frame, scaled with the emulator's ``image_size``) for the
    page's cut-out variant. Output records go to ``<series>_mod`` (JSOC writes ``_orig`` into
    ``aia.lev1p5``, which the emulator does not have).
``resize`` (``lm-jps/proj:util/apps/jsoc_resize.c``)
    ``rescale=0|1`` (0), ``scale_to`` (0.6), ``regrid=0|1`` (1: bicubic; 0: nearest),
    ``center_to=0|1|2`` (0: Sun centre to image centre; 1: to the first image's ``CRPIX``; 2:
    unchanged), ``c`` (crop at the limb), ``do_stretchmarks`` (accepted). Non-AIA images first
    go through ``upNcenter`` (180 deg flip). The output keeps the input size and has
    ``CROTA2 = 0``; the emulator writes ``CRPIX`` where the reference pixel really went (the C
    writes the image centre even for ``center_to`` 1 and 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sunpy import log

from sunpy_jsoc_cutout.testing.sun.fitsfiles import reduce_header
from sunpy_jsoc_cutout.testing.sun.render import render
from .datatypes import ExportItem, ProcessError, StepContext
from .rebin import crop_limb, up_n_center
from .resample import affine_resample, scale_rotate
from .step_items import arg_float, arg_int, image_items, item_pixels, mod_item

__all__ = [
    "AIA_SCALE_STEPS",
    "aia_scale_image",
    "aia_scale_step",
    "aia_scale_step_for",
    "magrotate",
    "resize_step",
]

AIA_SCALE_STEPS = ("aia_scale_orig", "aia_scale_aialev1", "aia_scale_other")
AIA_MAX_DN = 16383.5
FULL_FRAME = 4096


def aia_scale_step_for(series: str, lvl_nums: Sequence[float] = (1.0,)) -> str:
    """
    The ``aia_scale`` step JSOC's export page chooses for a series.

    Parameters
    ----------
    series : str
        The series name.
    lvl_nums : sequence of float
        ``LVL_NUM`` of its records: the page treats the series as AIA level 1 when the name
        starts with ``aia.`` and every value is 1.
    """
    is_aia_lev1 = series.lower().startswith("aia.") and all(float(v) == 1.0 for v in lvl_nums)
    if not is_aia_lev1:
        return "aia_scale_other"
    return "aia_scale_orig" if series.lower().replace("lev1", "lev1p5") == "aia.lev1p5" else "aia_scale_aialev1"


def magrotate(
    data: np.ndarray,
    crota2: float,
    mag: float,
    c_in: tuple[float, float],
    c_out: tuple[float, float],
    *,
    shape_out: tuple[int, int] | None = None,
    order: int = 3,
    cval: float = np.nan,
) -> np.ndarray:
    """
    ``image_magrotate``: magnify by ``mag`` and rotate by ``crota2`` (degrees) about ``c_in``, placing it at ``c_out``.

    ``c_in``, ``c_out`` are 0-based ``(row, col)``. Returns float32 of ``shape_out`` (default: the input's).
    """
    matrix, offset = scale_rotate(mag, crota2, c_in, c_out)
    return affine_resample(data, matrix, offset, shape_out or data.shape, order=order, cval=cval)


def _cutout_geometry(args: Mapping[str, str], shape: tuple[int, int], scale_to: float, size: int | None):
    """Output shape and where Sun centre goes (0-based row, col) for the optional cut-out."""
    program = "aia_scale"
    ratio = (size or FULL_FRAME) / FULL_FRAME
    wide = arg_int(args, "wide", FULL_FRAME, program)
    high = arg_int(args, "high", wide if "wide" in args else FULL_FRAME, program)
    if not (0 < wide <= FULL_FRAME and 0 < high <= FULL_FRAME):
        raise ProcessError(f"{program}: invalid cut-out size wide={wide}, high={high}")
    ny = shape[0] if high == FULL_FRAME else max(1, round(high * ratio))
    nx = shape[1] if wide == FULL_FRAME else max(1, round(wide * ratio))
    xc, yc = arg_float(args, "xc", 0.0, program), arg_float(args, "yc", 0.0, program)
    pixel = scale_to / ratio if size else scale_to
    return (ny, nx), ((ny - 1) / 2.0 - yc / pixel, (nx - 1) / 2.0 - xc / pixel)


def aia_scale_image(
    header: Mapping,
    data: np.ndarray | None,
    args: Mapping[str, str],
    series: str,
    image_size: int | None = None,
    kind: str = "aia",
) -> tuple[dict, np.ndarray]:
    """
    Level 1.5 of one image: 0.6"/px (times the emulator's reduction), north up, Sun centred.

    Parameters
    ----------
    header : Mapping
        Header consistent with ``data`` (or, without data, with ``NAXIS1/2``).
    data : numpy.ndarray or None
        The pixels to resample. None renders the synthetic Sun directly for the output header:
        what a level-1.5 image of well-sampled data shows, without the resampling blur of the
        point-sampled synthetic limb (used when the record was not processed before).
    args : Mapping
        Step arguments (``scale_to`` for tests only; ``xc``, ``yc``, ``wide``, ``high``, ``mpt``).
    series : str
        The input series (AIA data are zero-edged and clipped).
    image_size : int, optional
        The emulator's full-disk size: the target scale is ``0.6 * 4096 / image_size``.
    kind : str
        The renderer's kind, when ``data`` is None.
    """
    scale_to = arg_float(args, "scale_to", 0.6, "aia_scale")
    target = scale_to * (FULL_FRAME / image_size if image_size else 1.0)
    is_aia = "aia" in series.lower()
    shape_in = (int(header["NAXIS2"]), int(header["NAXIS1"])) if data is None else data.shape
    shape_out, c_out = _cutout_geometry(args, shape_in, scale_to, image_size)
    hdr = dict(header)
    hdr.update(CDELT1=target, CDELT2=target, CROTA2=0.0, X0=0.0, Y0=0.0, LVL_NUM=1.5)
    hdr.update(CRPIX1=c_out[1] + 1, CRPIX2=c_out[0] + 1, NAXIS1=shape_out[1], NAXIS2=shape_out[0])
    for key in ("PC1_1", "PC1_2", "PC2_1", "PC2_2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"):
        hdr.pop(key, None)
    if hdr.get("RSUN_OBS") is not None:
        hdr["R_SUN"] = float(hdr["RSUN_OBS"]) / target
    if data is None:
        out = np.array(render(hdr, kind, shape=shape_out), dtype=np.float32)
    else:
        data = np.array(data, dtype=np.float32)
        if is_aia:
            data[[0, -1], :] = 0.0
            data[:, [0, -1]] = 0.0
        mag = abs(float(header["CDELT1"]) / target)
        c_in = (float(header["CRPIX2"]) - 1, float(header["CRPIX1"]) - 1)
        crota2 = float(header.get("CROTA2", 0.0) or 0.0)
        out = magrotate(data, crota2, mag, c_in, c_out, shape_out=shape_out, order=3, cval=0.0 if is_aia else np.nan)
    if is_aia:
        np.clip(out, 0.0, AIA_MAX_DN, out=out)
    finite = out[np.isfinite(out)]
    if finite.size:
        hdr.update(DATAMIN=float(finite.min()), DATAMAX=float(finite.max()), DATAMEAN=float(finite.mean()))
    return hdr, out


def _good_record(header: Mapping) -> bool:
    t_obs = str(header.get("T_OBS", "") or "")
    return bool(t_obs) and "MISSING" not in t_obs.upper() and int(header.get("QUALITY", 0) or 0) >= 0


def aia_scale_step(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """The ``aia_scale_*`` steps: every good image to level 1.5 in ``<series>_mod``."""
    out = []
    for item in image_items(items):
        if not _good_record(item.header):
            continue
        if item.data is None and item.region is None:  # first step: render the level-1.5 view directly
            header = reduce_header(item.header, context.image_size) if context.image_size else item.header
            data = None
        else:
            header, data = item_pixels(item, context)
        header, data = aia_scale_image(header, data, args, item.seriesname, context.image_size, item.segment.kind)
        log.debug("aia_scale %s -> %s", item.record, data.shape)
        out.append(mod_item(item, context, header, data, "AIA level 1.5, made by aia_scale"))
    return out


def _resize_one(header: dict, data: np.ndarray, args: Mapping[str, str], series: str, first: dict) -> tuple:
    program = "jsoc_resize"
    rescale = arg_int(args, "rescale", 0, program)
    scale_to = arg_float(args, "scale_to", 0.6, program)
    regrid = arg_int(args, "regrid", 1, program)
    center_to = arg_int(args, "center_to", 0, program)
    if center_to not in (0, 1, 2) or regrid not in (0, 1) or (rescale and scale_to <= 0):
        raise ProcessError(f"{program}: invalid arguments center_to={center_to}, regrid={regrid}, scale_to={scale_to}")
    is_aia = "aia" in series.lower()
    cdelt1 = float(header["CDELT1"])
    mag = abs(cdelt1 / scale_to) if rescale else 1.0
    if is_aia:
        data = data.copy()
        data[[0, -1], :] = 0.0
        data[:, [0, -1]] = 0.0
    else:
        header, data = up_n_center(header, data, series)
        if arg_int(args, "c", 0, program):
            data = crop_limb(header, data)
    crpix = (float(header["CRPIX2"]), float(header["CRPIX1"]))
    if center_to == 0:
        used = ((data.shape[0] + 1) / 2.0, (data.shape[1] + 1) / 2.0)
    else:
        if not first or center_to == 2:
            first.update(used=crpix, cdelt=cdelt1)
        used, mag = first["used"], cdelt1 / first["cdelt"]
    out = magrotate(
        data,
        float(header.get("CROTA2", 0.0) or 0.0),
        mag,
        (crpix[0] - 1, crpix[1] - 1),
        (used[0] - 1, used[1] - 1),
        order=3 if regrid else 0,
    )
    hdr = dict(header)
    new_cdelt = cdelt1 / mag
    hdr.update(CROTA2=0.0, CDELT1=new_cdelt, CDELT2=new_cdelt, CRPIX1=used[1], CRPIX2=used[0])
    hdr["COMMENT"] = f"resize: scale_to={scale_to:f}, mag={mag:f}, center_to={center_to}"
    return hdr, out


def resize_step(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """The ``resize`` step (``jsoc_resize``): rotate north up, optionally rescale, re-centre."""
    out: list[ExportItem] = []
    first: dict = {}
    if context.image_size and arg_int(args, "rescale", 0, "jsoc_resize"):  # the same scale relative to 4096 px
        scale_to = arg_float(args, "scale_to", 0.6, "jsoc_resize") * FULL_FRAME / context.image_size
        args = {**args, "scale_to": str(scale_to)}
    for item in image_items(items):
        if not _good_record(item.header):
            continue
        header, data = item_pixels(item, context)
        header, data = _resize_one(header, data, args, item.seriesname, first)
        out.append(mod_item(item, context, header, data, "resized by jsoc_resize"))
    return out

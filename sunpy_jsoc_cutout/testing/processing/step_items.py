"""What the pixel-processing steps share: an item's pixels, ``_mod`` output items, argument parsing.

Processing steps (``aia_scale_*``, ``resize``, ``rebin``, the image protocols) take
`~sunpy_jsoc_cutout.testing.processing.datatypes.ExportItem` objects whose pixels are either already made
by an earlier step (``item.data``) or still to be rendered from the record's header.
`item_pixels` returns both in the same form: the header *of those pixels* (``NAXIS``, ``CRPIX``,
``CDELT`` matching the array; reduced to the emulator's ``image_size`` as staging does) and a
float array. `mod_item` makes the item of the ``<series>_mod`` output series that JSOC's
processing programs write into (``jsoc_export_clone``), once per chain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from sunpy_jsoc_cutout.testing.catalogue.filenames import RecordNames
from sunpy_jsoc_cutout.testing.sun.fitsfiles import crop_header, reduce_header
from sunpy_jsoc_cutout.testing.sun.render import render
from .datatypes import ExportItem, ProcessError, StepContext

__all__ = ["arg_float", "arg_int", "data_statistics", "image_items", "item_pixels", "mod_item", "updated_calver"]

_CALVER_BIT28 = 1 << 28


def item_pixels(item: ExportItem, context: StepContext) -> tuple[dict, np.ndarray]:
    """
    The header and pixels of an item, rendering them if no earlier step made them.

    Parameters
    ----------
    item : ExportItem
        An image item (not ``spikes``).
    context : StepContext
        ``image_size`` sets the rendered full-disk size (None: as the header says).

    Returns
    -------
    header : dict
        A copy of the item's header, consistent with ``data`` (``NAXIS1/2``, ``CRPIX``, ``CDELT``).
    data : numpy.ndarray
        float32 pixels, a writable copy; NaN for missing.
    """
    header = dict(item.header)
    if item.data is not None:
        data = np.array(item.data, dtype=np.float32)
        header["NAXIS1"], header["NAXIS2"] = data.shape[1], data.shape[0]
        return header, data
    if context.image_size:
        header = reduce_header(header, context.image_size)
    data = np.array(render(header, item.segment.kind, region=item.region), dtype=np.float32)
    if item.region is not None:
        header = crop_header(header, item.region)
    return header, data


def image_items(items: list[ExportItem]) -> list[ExportItem]:
    """The items that carry an image (``spikes`` lists are dropped, as JSOC's programs read segment 0 only)."""
    return [item for item in items if item.segment.kind != "spikes"]


def mod_item(item: ExportItem, context: StepContext, header: Mapping, data: np.ndarray, content: str) -> ExportItem:
    """
    The item of the ``<series>_mod`` output record holding ``data``.

    Parameters
    ----------
    item : ExportItem
        The input item (of a stored series or already of a ``_mod`` series).
    context : StepContext
        Gives the catalogue and the request id.
    header : Mapping
        The output header (copied; ``NAXIS1/2``, ``RequestID``, ``SOURCE`` and ``CONTENT`` set here).
    data : numpy.ndarray
        The output pixels (stored as float32).
    content : str
        The ``CONTENT`` keyword, saying which program made the record.
    """
    out_header = dict(header)
    data = np.asarray(data, dtype=np.float32)
    out_header["NAXIS1"], out_header["NAXIS2"] = data.shape[1], data.shape[0]
    out_header.update(RequestID=context.requestid, CONTENT=content)
    out_header.setdefault("SOURCE", item.record)
    if item.seriesname.lower().endswith("_mod"):
        return dataclasses.replace(item, header=out_header, data=data, region=None)
    mod_series = context.catalogue.get_series(f"{item.seriesname}_mod")
    mod_segment = mod_series.segment(item.segment.name) or mod_series.segments[0]
    out_header["SOURCE"] = item.record
    record = mod_series.name + item.record[len(item.seriesname) :]
    names = RecordNames(item.records, item.index, mod_segment, seriesname=mod_series.name)
    return dataclasses.replace(
        item,
        record=record,
        seriesname=mod_series.name,
        segment=mod_segment,
        header=out_header,
        names=names,
        data=data,
        region=None,
    )


def arg_float(args: Mapping[str, str], key: str, default: float, program: str) -> float:
    """A float argument as DRMS cmdparams reads it; a value that does not parse fails the step."""
    value = args.get(key)
    if value is None or value == "":
        return float(default)
    try:
        return float(value)
    except ValueError:
        raise ProcessError(f"{program}: invalid value '{value}' for argument {key}.") from None


def arg_int(args: Mapping[str, str], key: str, default: int, program: str) -> int:
    """An integer argument (``1.0`` is accepted as 1, as strtol-based parsing would read it)."""
    value = args.get(key)
    if value is None or value == "":
        return int(default)
    try:
        return int(float(value))
    except ValueError:
        raise ProcessError(f"{program}: invalid value '{value}' for argument {key}.") from None


def data_statistics(data: np.ndarray) -> dict:
    """The statistics keywords of JSOC's ``set_statistics`` (``TOTVALS``, ``DATAVALS``, ``DATAMIN``...)."""
    good = data[np.isfinite(data)].astype(np.float64)
    out: dict[str, int | float] = {
        "TOTVALS": int(data.size),
        "DATAVALS": int(good.size),
        "MISSVALS": int(data.size - good.size),
    }
    if good.size:
        out.update(
            DATAMIN=float(good.min()),
            DATAMAX=float(good.max()),
            DATAMEAN=float(good.mean()),
            DATAMEDN=float(np.median(good)),
            DATARMS=float(good.std()),
        )
    return out


def updated_calver(header: Mapping) -> dict:
    """``update_CALVERxx`` (im_patch.c, export_as_maproj.c): bit 28 set in CALVER64 where the
    input has it, else in CALVER32 (a missing value counts as 0); nothing when the input has
    neither (as for ``aia.lev1_euv_12s``)."""
    for name, sign_bit in (("CALVER64", 1 << 63), ("CALVER32", 1 << 31)):
        if name in header:
            value = int(header[name] or 0)
            value = 0 if value < 0 or value & sign_bit else value
            return {name: value | _CALVER_BIT28}
    return {}

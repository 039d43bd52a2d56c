"""FITS files as JSOC stores and exports them.

* AIA level 1 images: 16-bit integers without scaling, Rice tile-compressed.
* HMI images (``hmi.M_45s`` ...): 32-bit integers with ``BSCALE`` 0.1, ``BZERO`` 0 and
  ``BLANK`` -2147483648 (NaN becomes BLANK), Rice tile-compressed.
* Processed data (``im_patch`` output): 32-bit floats, uncompressed: JSOC refuses to
  Rice-compress floating-point images.
* ``as-is`` exports: the stored file, which carries only structural keywords (the record's
  keywords travel separately in ``<requestid>.keywords.txt``).
* Every file has ``CHECKSUM`` and ``DATASUM`` in its image HDU (the compressed-image extension
  of a Rice file), as DRMS writes them when it closes a file (`~.fitschecksum.add_checksum`).

A compressed file is an empty primary HDU followed by the compressed image extension, as
CFITSIO writes it. `reduce_header` makes the header of a smaller full-disk image with the same
pixel-to-world mapping, for fast tests.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import numpy as np

from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from .fitschecksum import add_checksum
from .render import render

__all__ = [
    "FitsWriteError",
    "crop_header",
    "make_segment_file",
    "reduce_header",
    "segment_fits_bytes",
    "write_segment_fits",
]

_STORAGE: dict[str, type[np.int16] | type[np.int32] | type[np.float32]] = {
    "int16": np.int16,
    "short": np.int16,
    "int32": np.int32,
    "int": np.int32,
    "float32": np.float32,
    "float": np.float32,
}
_STRUCTURAL = re.compile(
    r"^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|END"
    r"|TFIELDS|THEAP|T(TYPE|FORM|UNIT|DIM)\d+|ZIMAGE|ZSIMPLE|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+"
    r"|ZVAL\d+|ZMASKCMP|ZQUANTIZ|ZDITHER0|ZEXTEND|ZBLOCKED|ZTENSION|ZPCOUNT|ZGCOUNT|ZHECKSUM|ZDATASUM"
    r"|ZBLANK|ZSCALE|ZZERO)$"
)
_VALID_KEY = re.compile(r"^[A-Z0-9_-]{1,8}$")


class FitsWriteError(ValueError):
    """The requested file cannot be written the way JSOC would write it."""


class SegmentLike(Protocol):
    """What `make_segment_file` needs of a segment definition (``series.SegmentDef``)."""

    kind: str
    storage: str
    bscale: float | None
    bzero: float | None
    blank: int | None
    cparms: str | None


def reduce_header(header: Mapping, size: int) -> dict:
    """Header of the same full-disk image resampled to ``size`` x ``size`` pixels.

    ``CDELTi`` (and ``CDi_j``) grow by ``f = NAXISi / size``, ``CRPIXi`` maps as
    ``(CRPIX - 0.5) / f + 0.5`` so that every pixel keeps its world coordinate, ``R_SUN``
    (radius in pixels) shrinks by ``f``. Everything else is copied.
    """
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    out = dict(header)
    for axis in (1, 2):
        naxis = header.get(f"NAXIS{axis}")
        if not naxis:
            raise KeyError(f"NAXIS{axis} is needed to reduce a header")
        factor = float(naxis) / size
        out[f"NAXIS{axis}"] = int(size)
        out[f"CDELT{axis}"] = float(header[f"CDELT{axis}"]) * factor
        out[f"CRPIX{axis}"] = (float(header[f"CRPIX{axis}"]) - 0.5) / factor + 0.5
        for other in (1, 2):
            if f"CD{other}_{axis}" in header:
                out[f"CD{other}_{axis}"] = float(header[f"CD{other}_{axis}"]) * factor
        if axis == 1 and header.get("R_SUN") is not None:
            out["R_SUN"] = float(header["R_SUN"]) / factor
    return out


def crop_header(header: Mapping, region: tuple[slice, slice]) -> dict:
    """Header of the sub-image ``[rows, cols]`` (0-based slices with step 1)."""
    rows, cols = region
    out = dict(header)
    out["NAXIS1"], out["NAXIS2"] = cols.stop - cols.start, rows.stop - rows.start
    out["CRPIX1"] = float(header["CRPIX1"]) - cols.start
    out["CRPIX2"] = float(header["CRPIX2"]) - rows.start
    return out


def _card_value(value: object) -> object | None:
    """A value astropy can write, or None to skip it (NaN, None, arrays, non-ASCII text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value if not isinstance(value, str) or value.isascii() else None
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    return None


def _record_header(header: Mapping) -> fits.Header:
    """Every writable, non-structural keyword of ``header`` (cards astropy refuses are skipped)."""
    out = fits.Header()
    for key, value in header.items():
        if str(key).startswith("_"):  # the emulator's internal truth (``_CRLN_TRUE``)
            continue
        key = str(key).upper()
        if key in ("COMMENT", "HISTORY"):
            for line in [value] if isinstance(value, str) else list(value or ()):
                (out.add_comment if key == "COMMENT" else out.add_history)(str(line))
            continue
        if _STRUCTURAL.match(key) or not _VALID_KEY.match(key):
            continue
        value = _card_value(value)
        if value is None:
            continue
        # Only astropy's card warnings become errors here: the filter list is process-wide, and a
        # blanket "error" would turn any other thread's warning (a download's) into an exception.
        with warnings.catch_warnings():
            warnings.simplefilter("error", VerifyWarning)
            try:
                card = fits.Card(key, value)
                _ = card.image  # formatting is where astropy refuses a card
            except (ValueError, VerifyWarning):
                continue
        out.append(card)
    return out


def _to_storage(data: np.ndarray, storage: str, bscale: float | None, bzero: float | None, blank: int | None):
    dtype = _STORAGE.get(storage)
    if dtype is None:
        raise FitsWriteError(f"unknown storage type {storage!r}; expected one of {sorted(_STORAGE)}")
    data = np.asarray(data, dtype=np.float64)
    if dtype is np.float32:
        return data.astype(np.float32), None
    info = np.iinfo(cast("type[np.int16] | type[np.int32]", dtype))  # float32 returned above
    blank = int(info.min if blank is None else blank)
    scaled = data if not (bscale or bzero) else (data - (bzero or 0.0)) / (bscale or 1.0)
    nan = np.isnan(scaled)
    low = info.min + 1 if blank == info.min else info.min
    raw = np.clip(np.round(np.where(nan, 0.0, scaled)), low, info.max).astype(dtype)
    raw[nan] = blank
    return raw, blank


def write_segment_fits(
    path: str | os.PathLike | BinaryIO,
    header: Mapping,
    data: np.ndarray,
    *,
    storage: str,
    bscale: float | None = None,
    bzero: float | None = None,
    blank: int | None = None,
    compress: bool = True,
    keywords: bool = True,
) -> int:
    """Write one segment file the way JSOC does.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        Destination (overwritten).
    header : Mapping
        Record keywords; structural ones (``NAXIS``, ``BITPIX``, ...) are ignored.
    data : numpy.ndarray
        Physical values (NaN for missing).
    storage : str
        ``"int16"``, ``"int32"`` or ``"float32"``.
    bscale, bzero : float, optional
        Integer storage scaling: ``physical = raw * bscale + bzero``. Omitted (or 1 and 0)
        writes no scaling keywords, as in AIA level 1.
    blank : int, optional
        Integer stored for NaN (default: the type's minimum); written as ``BLANK`` when there
        is scaling or NaN or when given.
    compress : bool
        Rice tile compression (row tiles, CFITSIO's default). Not allowed for floats.
    keywords : bool
        Copy the record keywords (``False``: structural keywords only, as in ``as-is`` files).

    Returns
    -------
    int
        Bytes written.
    """
    if compress and _STORAGE.get(storage) is np.float32:
        raise FitsWriteError("Cannot export Rice-compressed floating-point images.")
    scaled = (bscale not in (None, 1, 1.0)) or (bzero not in (None, 0, 0.0))
    raw, blank_value = _to_storage(data, storage, bscale if scaled else None, bzero if scaled else None, blank)
    hdr = _record_header(header) if keywords else fits.Header()
    if compress:
        hdu = fits.CompImageHDU(data=raw, header=hdr, compression_type="RICE_1")
        hdus = fits.HDUList([fits.PrimaryHDU(), hdu])
    else:
        hdu = fits.PrimaryHDU(data=raw, header=hdr)
        hdus = fits.HDUList([hdu])
    if scaled:
        hdu.header["BSCALE"] = float(bscale if bscale is not None else 1.0)
        hdu.header["BZERO"] = float(bzero or 0.0)
    if blank_value is not None and (scaled or blank is not None or np.isnan(np.asarray(data, float)).any()):
        hdu.header["BLANK"] = blank_value
    buffer = io.BytesIO()
    hdus.writeto(buffer)
    content = add_checksum(buffer.getvalue(), _checksum_time(header))
    if isinstance(path, str | os.PathLike):
        Path(path).write_bytes(content)
    else:
        path.write(content)
    return len(content)


def _checksum_time(header: Mapping) -> str | None:
    """The time in the checksum comments: the record's ``DATE`` (CFITSIO writes the time of writing)."""
    match = re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(header.get("DATE", "")))
    return match.group() if match else None


def _segment_data(header: Mapping, segment: SegmentLike, region: tuple[slice, slice] | None, active_regions):
    if segment.kind == "spikes":
        return header, render(header, "spikes")
    data = render(header, segment.kind, region=region, active_regions=active_regions)
    return (header if region is None else crop_header(header, region)), data


def make_segment_file(
    path: str | os.PathLike | BinaryIO,
    header: Mapping,
    segment: SegmentLike,
    *,
    size: int | None = None,
    keywords: bool = True,
    region: tuple[slice, slice] | None = None,
    active_regions: Iterable[object] | None = None,
) -> int:
    """Render a record's segment and write it as JSOC stores it; return the bytes written.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        Destination.
    header : Mapping
        The record's full header (4096² for AIA/HMI).
    segment : SegmentLike
        ``kind``, ``storage``, ``bscale``, ``bzero``, ``blank`` and ``cparms`` (Rice
        compression when it contains ``compress``; never for float storage).
    size : int, optional
        Render the full disk at ``size`` x ``size`` with a consistent WCS (`reduce_header`).
    keywords : bool
        Write the record keywords (``False`` for ``as-is`` files).
    region : tuple of slice, optional
        Write only these pixels (of the possibly reduced image), with a cropped header.
    active_regions : iterable, optional
        Passed to `render` (default: the emulator's NOAA regions at the record's time).
    """
    if size is not None and segment.kind != "spikes":
        header = reduce_header(header, size)
    header, data = _segment_data(header, segment, region, active_regions)
    cparms = getattr(segment, "cparms", "") or ""
    compress = "compress" in cparms.lower() and _STORAGE.get(segment.storage) is not np.float32
    return write_segment_fits(
        path,
        header,
        data,
        storage=segment.storage,
        bscale=getattr(segment, "bscale", None),
        bzero=getattr(segment, "bzero", None),
        blank=getattr(segment, "blank", None),
        compress=compress,
        keywords=keywords,
    )


def segment_fits_bytes(header: Mapping, segment: SegmentLike, **kwargs) -> bytes:
    """The bytes of the file `make_segment_file` would write (same keyword arguments)."""
    buffer = io.BytesIO()
    make_segment_file(buffer, header, segment, **kwargs)
    return buffer.getvalue()

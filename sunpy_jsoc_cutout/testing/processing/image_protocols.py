"""Image export protocols ``jpg``, ``mpg`` and ``mp4``, as JSOC's ``jsoc_export_as_images``/``render_image``.

Protocol text (drms, ``drms/json.py`` ``exp_request``)::

    jpg,CT=<colour table>,scaling=<MINMAX|MINMAXGIVEN|LOG|SQRT|mag>,size=<n>[,min=<f>][,max=<f>]

(drms always sends ``CT``, ``scaling`` and ``size``; JSOC's defaults are ``grey.sao``,
``MINMAX``, 1). The manager (``jsoc_export_manage.c``) runs ``jsoc_export_as_images`` for
``jpg`` and ``jsoc_export_as_movie`` for ``mpg``/``mp4``; both call ``render_image``
(``lm-jps/proj:util/apps/render_image.c``):

* one image per record (``QUALITY < 0`` skipped), segment 0, turned north up by ``upNcenter``
  (180 deg flip when ``CROTA2`` is near 180, whole-pixel centring for non-AIA series); HMI
  ``M_``, ``V_``, ``Ld_``, ``Lw_`` series are cropped at the limb (``-c``);
* ``size=n`` bins the image by ``n`` (mean of the non-missing pixels of each block);
* ``set_scaling``: values clipped to ``[min, max]`` (the image's own extremes for ``MINMAX``;
  ``MINMAX`` with both ``min`` and ``max`` given becomes ``MINMAXGIVEN``, which requires them;
  ``mag`` maps ``400 v / (|v| + 30)^0.75`` with default limits +-1500; ``LOG``/``SQRT`` scale the
  logarithm/square root), then ``index = 253 * (v - min)/(max - min) + 0.5`` plus one into a
  256-entry colour table whose entry 0 is the (black) missing colour;
* file name ``<yyyymmdd_hhmmss>_<series, lower case>_<dim>.jpg`` where the time is ``T_REC`` in
  TAI and ``<dim>`` is ``4k``, ``2k``, ``1k``, ``512``, ``256``, ``128`` or the width in pixels;
  FITS row 0 is the bottom row of the picture. The ``ppmlabel`` caption is not drawn.

Colour tables are those drms lists (``jsoc.Color_Tables``): ``grey.sao``, ``heat.sao``,
``bb.sao`` (ds9's piecewise-linear definitions), ``aia_<wavelength>.lut`` and ``HMI_mag.lut``
(sampled from sunpy's ``sdoaia<wavelength>`` and ``hmimag`` colour maps), and ``aia_mixed`` (per
record: the table, limits and scaling ``jsoc_export_as_images`` uses for its wavelength). Any
other table fails the export (the script says "Do not know how to proceed").

Movies (``mpg`` and ``mp4`` alike, as ``jsoc_export_as_movie`` runs ``ffmpeg -r 20`` into
``<name>.mp4``): the per-record JPEG frames are kept and listed, preceded by one row
``movie of the following data`` -> ``<series part after the dot, before '['>.mp4`` (drms clears
that first record name for movies). The emulator applies the protocol's options to the movie
frames too (the real script ignores them). ``png`` is refused as ``jsoc_export_as_images``
does: ``Illegal protocol png``. Movies need the ``imageio-ffmpeg`` package (the ``emulator``
extra).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sunpy import log

from sunpy_jsoc_cutout.testing.common.timeutil import format_time, parse_drms_time
from .datatypes import ExportItem, ProcessError, StepContext
from .rebin import crop_limb, up_n_center
from .step_items import image_items, item_pixels

__all__ = [
    "COLOR_TABLES",
    "SCALINGS",
    "ImageOptions",
    "ImageProtocolError",
    "colour_table",
    "image_file_name",
    "parse_image_protocol",
    "scale_to_index",
    "write_image_files",
]

COLOR_TABLES = (
    "HMI_mag.lut",
    "aia_131.lut",
    "aia_1600.lut",
    "aia_1700.lut",
    "aia_171.lut",
    "aia_193.lut",
    "aia_211.lut",
    "aia_304.lut",
    "aia_335.lut",
    "aia_4500.lut",
    "aia_94.lut",
    "aia_mixed",
    "bb.sao",
    "grey.sao",
    "heat.sao",
)
SCALINGS = ("MINMAX", "MINMAXGIVEN", "LOG", "SQRT", "MAG", "MAXMIN")
MOVIE_RECORD = "movie of the following data"
_MAXCOLOR = 254
# ds9 .sao tables: (position, value) knots per colour channel.
_SAO = {
    "grey.sao": (((0, 0), (1, 1)), ((0, 0), (1, 1)), ((0, 0), (1, 1))),
    "heat.sao": (((0, 0), (0.34, 1), (1, 1)), ((0, 0), (1, 1)), ((0, 0), (0.65, 0), (0.98, 1), (1, 1))),
    "bb.sao": (((0, 0), (0.5, 1), (1, 1)), ((0, 0), (0.25, 0), (0.75, 1), (1, 1)), ((0, 0), (0.5, 0), (1, 1))),
}
# jsoc_export_as_images, CT=aia_mixed: wavelength -> (min, max, scaling).
_AIA_MIXED = {
    94: (10, 100),
    131: (100, 2000),
    171: (100, 2000),
    193: (100, 10000),
    211: (100, 10000),
    304: (100, 10000),
    335: (100, 1000),
    1600: (100, 1000),
    1700: (100, 2500),
    4500: (100, 10000),
}


class ImageProtocolError(ProcessError):
    """An image export that fails (status 4); ``str(err)`` is the message."""


@dataclass(frozen=True)
class ImageOptions:
    """The parsed protocol: ``kind`` (``jpg``, ``mpg``, ``mp4``) and the ``render_image`` options."""

    kind: str
    ct: str = "grey.sao"
    scaling: str = "MINMAX"
    size: int = 1
    vmin: float = float("nan")
    vmax: float = float("nan")

    @property
    def movie(self) -> bool:
        return self.kind in ("mpg", "mp4")


def _option_float(key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ImageProtocolError(f"render_image: invalid {key}={value}") from None


def parse_image_protocol(protocol: str) -> ImageOptions:
    """
    Parse ``jpg,CT=grey.sao,scaling=MINMAX,size=1[,min=..][,max=..]``.

    Raises
    ------
    ImageProtocolError
        ``Illegal protocol <p>`` for anything but jpg, mpg, mp4; bad option values.
    """
    head, *parts = [p.strip() for p in protocol.split(",")]
    kind = head.lower()
    if kind not in ("jpg", "mpg", "mp4"):
        raise ImageProtocolError(f"Illegal protocol {head}")
    opts = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in parts if p)}
    try:
        size = int(opts.get("size", "1"))
    except ValueError:
        raise ImageProtocolError(f"render_image: invalid size={opts['size']}") from None
    if size < 1:
        raise ImageProtocolError(f"render_image: invalid size={size}")
    vmin = _option_float("min", opts["min"]) if "min" in opts else float("nan")
    vmax = _option_float("max", opts["max"]) if "max" in opts else float("nan")
    return ImageOptions(kind, opts.get("ct", "grey.sao"), opts.get("scaling", "MINMAX"), size, vmin, vmax)


def _piecewise(knots) -> np.ndarray:
    pos = np.array([k[0] for k in knots], dtype=float)
    val = np.array([k[1] for k in knots], dtype=float)
    return np.interp(np.arange(256) / _MAXCOLOR, pos, val)


def colour_table(ct: str, wavelength: float | None = None) -> np.ndarray:
    """
    The 256 x 3 uint8 table of a JSOC colour table name (entry 0 black, 255 white: missing colours).

    ``aia_mixed`` needs the record's ``wavelength``.
    """
    name = ct.strip()
    lower = {c.lower(): c for c in COLOR_TABLES}.get(name.lower())
    if lower is None:
        raise ImageProtocolError(f"jsoc_export_as_images: Do not know how to proceed (colour table '{ct}')")
    if lower == "aia_mixed":
        lower = f"aia_{int(wavelength or 171)}.lut"
    if lower in _SAO:
        rgb = np.stack([_piecewise(k) for k in _SAO[lower]], axis=1)
    else:
        import matplotlib as mpl  # noqa: PLC0415 (only image exports need it)

        import sunpy.visualization.colormaps  # noqa: F401, PLC0415 (registers sunpy's colour maps)

        cmap = "hmimag" if lower == "HMI_mag.lut" else "sdoaia" + lower[4:-4]
        rgb = mpl.colormaps[cmap](np.arange(256) / _MAXCOLOR)[:, :3]
    table = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    table[0], table[255] = 0, 255
    return table


def scale_to_index(data: np.ndarray, scaling: str, vmin: float = np.nan, vmax: float = np.nan) -> np.ndarray:
    """
    ``render_image``'s ``set_scaling``: colour-table indices (uint8, 0 for missing pixels).

    Raises
    ------
    ImageProtocolError
        ``MINMAXGIVEN`` without both limits, an unknown scaling, or no finite pixel to scale.
    """
    kind = scaling.upper()
    if kind not in SCALINGS:
        raise ImageProtocolError(f"render_image: unknown scaling {scaling}")
    data = np.array(data, dtype=np.float64)
    given = np.isfinite(vmin) and np.isfinite(vmax)
    if kind == "MINMAXGIVEN" and not given:
        raise ImageProtocolError("render_image: min and max must be specified for type MINMAXGIVEN")
    if kind == "MAG":
        data = 400.0 * data / (np.abs(data) + 30.0) ** 0.75
        vmin = -1500.0 if not np.isfinite(vmin) else vmin
        vmax = -vmin if not np.isfinite(vmax) else vmax
    finite = np.isfinite(data)
    if not (np.isfinite(vmin) and np.isfinite(vmax)):
        if not finite.any():
            raise ImageProtocolError("set_scaling, min or max is missing and no data values found.")
        vmin = float(np.min(data[finite])) if not np.isfinite(vmin) else vmin
        vmax = float(np.max(data[finite])) if not np.isfinite(vmax) else vmax
    clipped = np.clip(np.where(finite, data, vmin), vmin, vmax)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "LOG":
            lo, hi = np.log10(max(vmin, 1e-10)), np.log10(max(vmax, 1e-10))
            frac = (np.log10(np.maximum(clipped, 1e-10)) - lo) / (hi - lo)
        elif kind == "SQRT":
            lo, hi = np.sqrt(max(vmin, 0.0)), np.sqrt(max(vmax, 0.0))
            frac = (np.sqrt(np.maximum(clipped, 0.0)) - lo) / (hi - lo)
        else:
            frac = (clipped - vmin) / (vmax - vmin)
    frac = np.nan_to_num(frac, nan=0.0, posinf=1.0, neginf=0.0)
    index = np.clip((_MAXCOLOR - 1) * frac + 0.5, 0, _MAXCOLOR - 1).astype(np.int64)
    if kind == "MAXMIN":
        index = _MAXCOLOR - 1 - index
    return np.where(finite, index + 1, 0).astype(np.uint8)


def _bin(data: np.ndarray, size: int) -> np.ndarray:
    """``rebinArraySF``: mean of the non-missing pixels of ``size`` x ``size`` blocks."""
    if size == 1:
        return data
    ny, nx = data.shape[0] // size, data.shape[1] // size
    blocks = data[: ny * size, : nx * size].reshape(ny, size, nx, size)
    with warnings.catch_warnings():  # all-NaN blocks stay NaN (missing)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(blocks, axis=(1, 3))


def image_file_name(header: Mapping, series: str, width: int, ext: str = "jpg") -> str:
    """``render_image``'s ``<T_REC as yyyymmdd_hhmmss TAI>_<series lower case>_<dim>.<ext>``."""
    tai = format_time(parse_drms_time(str(header.get("T_REC"))), "tai")
    image_id = "".join(tai[i] for i in (0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 14, 15, 17, 18))
    dims = {4096: "4k", 2048: "2k", 1024: "1k", 512: "512", 256: "256", 128: "128"}
    return f"{image_id}_{series.lower()}_{dims.get(width, str(width))}.{ext}"


def _frame(item: ExportItem, context: StepContext, options: ImageOptions) -> np.ndarray:
    """The RGB picture of one record (top row first)."""
    header, data = item_pixels(item, context)
    header, data = up_n_center(header, data, item.seriesname)
    part = item.seriesname.split(".", 1)[-1].lower()
    if item.seriesname.lower().startswith("hmi") and part.startswith(("m_", "v_", "ld_", "lw_")):
        data = crop_limb(header, data)
    data = _bin(data, options.size)
    scaling, vmin, vmax = options.scaling, options.vmin, options.vmax
    wavelength = header.get("WAVELNTH")
    if options.ct.lower() == "aia_mixed":
        vmin, vmax = _AIA_MIXED.get(int(wavelength or 171), (100, 10000))
        scaling = "SQRT" if int(wavelength or 0) == 171 else "LOG"
    index = scale_to_index(data, scaling, vmin, vmax)
    return colour_table(options.ct, wavelength)[index][::-1]


def _write_movie(path: Path, frames: list[np.ndarray]) -> None:
    try:
        import imageio_ffmpeg  # noqa: PLC0415 (optional: the emulator extra)
    except ImportError:
        raise ImageProtocolError("jsoc_export_as_movie: ffmpeg is not available (install imageio-ffmpeg)") from None
    height, width = frames[0].shape[:2]
    even = [np.pad(f, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge") for f in frames]
    size = (width + width % 2, height + height % 2)
    writer = imageio_ffmpeg.write_frames(
        str(path), size, fps=20, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=1, quality=7
    )
    writer.send(None)
    for frame in even:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def write_image_files(
    protocol: str, items: list[ExportItem], context: StepContext, out_dir: Path
) -> tuple[list[tuple[str, str]], int]:
    """
    Make the pictures (and the movie) of an image export in ``out_dir``.

    Returns
    -------
    rows : list of (str, str)
        ``(record, filename)`` rows of the index, movie first.
    nbytes : int
        Bytes written.

    Raises
    ------
    ImageProtocolError
        For an illegal protocol, an unknown colour table or scaling, or no ffmpeg for a movie.
    """
    from PIL import Image  # noqa: PLC0415 (only image exports need it)

    options = parse_image_protocol(protocol)
    colour_table(options.ct, 171)  # an unknown table fails before any file is made
    rows, frames, written = [], [], set()
    for item in image_items(items):
        if int(item.header.get("QUALITY", 0) or 0) < 0:
            continue
        rgb = _frame(item, context, options)
        name = image_file_name(item.header, item.seriesname, rgb.shape[1])
        Image.fromarray(rgb).save(out_dir / name, quality=95)
        rows.append((item.record, name))
        written.add(name)
        frames.append(rgb)
    if options.movie and frames:
        movie = items[0].seriesname.split(".", 1)[-1].split("[", 1)[0] + ".mp4"
        _write_movie(out_dir / movie, frames)
        rows.insert(0, (MOVIE_RECORD, movie))
        written.add(movie)
    log.debug("image export: %d files (%s)", len(written), options.kind)
    return rows, sum((out_dir / name).stat().st_size for name in written)

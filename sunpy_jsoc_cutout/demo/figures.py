"""
The demo's pictures: a montage (wavelengths x times) and an animation of the tracked cutouts.

Every panel is the same tracked box, so no WCS axes are drawn: each wavelength gets sunpy's
AIA colour map and one brightness scale for all its frames, so that changes in time are
changes in the data. The montage is drawn with matplotlib; the animation's frames with Pillow
(a matplotlib dependency), which is much quicker than redrawing a figure per frame. The
animation is a GIF and, on request, an MP4 (needs ``imageio-ffmpeg``, which bundles ffmpeg).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from astropy.io import fits
from astropy.visualization import AsinhStretch, ImageNormalize

import sunpy.map

from sunpy_jsoc_cutout.exceptions import JSOCCutoutError

__all__ = [
    "MONTAGE_COLUMNS",
    "Series",
    "animation_frames",
    "ffmpeg_executable",
    "load_series",
    "write_animation",
    "write_montage",
]

#: Times shown in the montage (evenly spread over the run).
MONTAGE_COLUMNS = 6

#: Frames per second of the animation.
FPS = 10

#: Side of one cutout in the animation, the gap between cutouts and the height of the labels
#: above them, in screen pixels.
PANEL, GAP, TOP = 160, 6, 44


class Series:
    """
    The cutouts of one wavelength: their data, times, colour map and a common brightness scale.

    Parameters
    ----------
    wavelength : int
        In Å.
    files : list of `pathlib.Path`
        The cutouts, sorted by time.
    times : list of str
        ``T_REC`` of each file.
    """

    def __init__(self, wavelength: int, files: list[Path], times: list[str]):
        self.wavelength = wavelength
        self.times = times
        first = sunpy.map.Map(files[0])
        self.cmap = first.cmap
        self.data = [np.asarray(fits.getdata(path, ext=-1), dtype=float) for path in files]
        values = np.concatenate([d[np.isfinite(d)].ravel() for d in self.data])
        vmin, vmax = np.percentile(values, [1, 99.7]) if values.size else (0.0, 1.0)
        self.norm = ImageNormalize(vmin=vmin, vmax=max(vmax, vmin + 1), stretch=AsinhStretch(0.05), clip=True)


def load_series(files: dict[int, list[Path]], times: dict[int, list[str]]) -> list[Series]:
    """One `Series` per wavelength, in the order of ``files``."""
    return [Series(w, files[w], times[w]) for w in files]


def _panel(ax, series: Series, index: int):
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.imshow(series.data[index], origin="lower", cmap=series.cmap, norm=series.norm, interpolation="nearest")


def write_montage(series: list[Series], path: Path, columns: int = MONTAGE_COLUMNS) -> Path:
    """
    Save a grid of cutouts: one row per wavelength, ``columns`` times spread over the run.

    Parameters
    ----------
    series : list of `Series`
    path : `pathlib.Path`
        The PNG file to write.
    columns : int, optional
        Number of times shown.

    Returns
    -------
    `pathlib.Path`
        ``path``.
    """
    count = len(series[0].times)
    picks = np.unique(np.linspace(0, count - 1, min(columns, count)).round().astype(int))
    fig = Figure(figsize=(1.6 * len(picks) + 0.6, 1.6 * len(series) + 0.7), layout="constrained")
    axes = fig.subplots(len(series), len(picks), squeeze=False)
    for row, one in zip(axes, series, strict=True):
        for ax, index in zip(row, picks, strict=True):
            _panel(ax, one, index)
        row[0].set_ylabel(f"AIA {one.wavelength} Å")
    for ax, index in zip(axes[0], picks, strict=True):
        ax.set_title(series[0].times[index][11:16] + " UTC", fontsize="medium")
    fig.suptitle(f"Tracked cutouts, {series[0].times[0][:10]}")
    fig.savefig(path, dpi=100)
    return path


def _label_font(size: int):
    """matplotlib's DejaVu Sans (it has "Å") at ``size`` pixels, for Pillow."""
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def _palette(series: list[Series]) -> Image.Image:
    """
    One GIF palette for every frame: equal shares of each series' colour map, and greys for the text.

    A fixed palette keeps the colours of a pixel the same from frame to frame (an adaptive
    palette per frame flickers) and gives each wavelength its own colour ramp.
    """
    greys = np.linspace(0, 255, 16)[:, None].repeat(3, axis=1)
    levels = (256 - len(greys)) // len(series)
    ramps = [one.cmap(np.linspace(0, 1, levels))[:, :3] * 255 for one in series]
    colours = np.concatenate([*ramps, greys]).round().astype(np.uint8)
    palette = Image.new("P", (1, 1))
    palette.putpalette(colours.ravel().tolist() + [0] * (768 - colours.size))
    return palette


def animation_frames(series: list[Series], panel: int = PANEL) -> Iterator[Image.Image]:
    """
    Yield one RGB picture per time: the wavelengths side by side.

    Each cutout is colour-mapped with its series' scale, resized to ``panel`` x ``panel`` pixels
    and labelled with its wavelength; the time is written above the panels. Drawn with Pillow,
    not matplotlib, so that 60 frames take about a second.
    """
    gap, top = GAP, TOP
    width = len(series) * panel + (len(series) + 1) * gap
    big, small = _label_font(16), _label_font(13)
    for index, t_rec in enumerate(series[0].times):
        frame = Image.new("RGB", (width, top + panel + gap), "white")
        draw = ImageDraw.Draw(frame)
        draw.text((width // 2, 6), f"{t_rec[:16].replace('T', ' ')} UTC", fill="black", font=big, anchor="mt")
        for k, one in enumerate(series):
            rgba = one.cmap(one.norm(np.flipud(one.data[index])), bytes=True)  # FITS row 0 is the bottom
            picture = Image.fromarray(rgba[..., :3]).resize((panel, panel), Image.Resampling.BILINEAR)
            left = gap + k * (panel + gap)
            frame.paste(picture, (left, top))
            draw.text((left + panel // 2, top - 4), f"AIA {one.wavelength} Å", fill="black", font=small, anchor="mb")
        yield frame


def write_animation(series: list[Series], path: Path) -> Path:
    """
    Save every frame of the run as an animation, the wavelengths side by side.

    Parameters
    ----------
    series : list of `Series`
    path : `pathlib.Path`
        ``.gif`` (Pillow; loops forever) or ``.mp4`` (H.264, with the ffmpeg of ``imageio-ffmpeg``).

    Returns
    -------
    `pathlib.Path`
        ``path``.
    """
    frames = animation_frames(series)
    if path.suffix == ".mp4":
        import imageio_ffmpeg  # noqa: PLC0415  (optional; ffmpeg_executable() checks it is there)

        first = next(frames)
        width, height = first.size
        even = (width + width % 2, height + height % 2)  # yuv420p needs even sides
        writer = imageio_ffmpeg.write_frames(
            str(path), even, fps=FPS, macro_block_size=1, output_params=["-vf", f"pad={even[0]}:{even[1]}"]
        )
        writer.send(None)
        for frame in (first, *frames):
            writer.send(np.ascontiguousarray(np.asarray(frame)))
        writer.close()
    else:
        palette = _palette(series)
        pictures = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
        pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=1000 // FPS, loop=0)
    return path


def ffmpeg_executable() -> str:
    """
    The ffmpeg program of ``imageio-ffmpeg``.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.JSOCCutoutError
        If ``imageio-ffmpeg`` is not installed.
    """
    try:
        import imageio_ffmpeg  # noqa: PLC0415  (optional)
    except ImportError as err:
        msg = "An MP4 needs imageio-ffmpeg: pip install imageio-ffmpeg (or leave out --mp4)."
        raise JSOCCutoutError(msg) from err
    return imageio_ffmpeg.get_ffmpeg_exe()

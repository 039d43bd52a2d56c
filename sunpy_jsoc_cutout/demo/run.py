"""
`run_demo`: the emulator, the Fido request, the pictures; and `format_summary` of what it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sunpy import log

from sunpy_jsoc_cutout.testing import JSOCEmulator
from .figures import ffmpeg_executable, load_series, write_animation, write_montage
from .request import DEMO_EMAIL, Cutouts, fetch_cutouts

__all__ = ["DemoResult", "format_summary", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """
    What the demo made, and where.

    Parameters
    ----------
    out_dir : `pathlib.Path`
        The download directory (absolute).
    cutouts : `~sunpy_jsoc_cutout.demo.Cutouts`
        The export plan, the request IDs and the FITS files of each wavelength.
    montage : `pathlib.Path`
        The PNG montage (wavelengths x times).
    animations : tuple of `pathlib.Path`
        The GIF, and the MP4 if one was asked for.
    seconds : float
        Wall time from the emulator's start to the last picture.
    """

    out_dir: Path
    cutouts: Cutouts
    montage: Path
    animations: tuple[Path, ...]
    seconds: float


def run_demo(out_dir: str | Path, *, image_size: int = 1024, time_model: str = "fast", mp4: bool = False) -> DemoResult:
    """
    Start the emulator, fetch the demo's tracked cutouts with Fido and draw them.

    Parameters
    ----------
    out_dir : str or `pathlib.Path`
        Directory for the files: ``<wavelength>/`` with the FITS cutouts, ``montage.png``,
        ``cutouts.gif`` (and ``cutouts.mp4``).
    image_size : int, optional
        Side of the emulator's full-disk images in pixels (4096 on the real JSOC); the box is
        300" whatever the size, so larger images give cutouts with more pixels.
    time_model : {"fast", "realistic"}, optional
        The emulator's time model. ``"realistic"`` takes minutes, like the real JSOC.
    mp4 : bool, optional
        Also write ``cutouts.mp4`` (needs ``imageio-ffmpeg``; checked before anything starts).

    Returns
    -------
    `DemoResult`

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.JSOCCutoutError
        If ``mp4`` is asked for without ``imageio-ffmpeg``, or a request or a download fails.
    """
    if mp4:
        ffmpeg_executable()
    start = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with JSOCEmulator(image_size=image_size, registered=(DEMO_EMAIL,), time_model=time_model) as emulator:
        log.info("JSOC emulator listening on %s", emulator.url)
        cutouts = fetch_cutouts(emulator.url, out_dir)
    series = load_series(cutouts.files, cutouts.times)
    montage = write_montage(series, out_dir / "montage.png")
    names = ("cutouts.gif", "cutouts.mp4") if mp4 else ("cutouts.gif",)
    animations = tuple(write_animation(series, out_dir / name) for name in names)
    return DemoResult(out_dir, cutouts, montage, animations, time.perf_counter() - start)


def format_summary(result: DemoResult) -> str:
    """
    Describe what the demo did and where its files are.

    Parameters
    ----------
    result : `DemoResult`
        As returned by `run_demo`.

    Returns
    -------
    str
        One line per request (wavelength, ID, number of files and their folder), then the
        pictures and the time taken.
    """
    cutouts = result.cutouts
    lines = ["Fetched with Fido from the emulated JSOC (one im_patch export request per wavelength):"]
    for wavelength, files in cutouts.files.items():
        times = cutouts.times[wavelength]
        lines.append(
            f"  {wavelength} A: {cutouts.requests.get(wavelength, '?')}, {len(files)} FITS cutouts "
            f"{times[0][11:16]}-{times[-1][11:16]} UTC in {files[0].parent}"
        )
    lines.append(f"Montage (wavelengths x times): {result.montage}")
    lines.extend(f"Animation ({len(next(iter(cutouts.times.values())))} frames): {path}" for path in result.animations)
    lines.append(f"Done in {result.seconds:.0f} s. Files are in {result.out_dir}")
    return "\n".join(lines)

"""
An end-to-end demonstration that runs offline, against the JSOC emulator.

Run it with::

    python -m sunpy_jsoc_cutout.demo [--out DIR] [--image-size N] [--time-model fast|realistic] [--mp4]

or ``jsoc-cutout demo``. It starts `sunpy_jsoc_cutout.testing.JSOCEmulator` on ``127.0.0.1`` and
makes the JSOC export guide's request, shortened to one hour, with this package's Fido client,
as a user would:

* ``Fido.search`` for ``aia.lev1`` at 171, 193, 211 and 304 Å, 2014-02-05 08:00-09:00, one
  frame a minute, a 300" box on NOAA 11967 tracked at the Carrington rate, ``url-tar`` and the
  guide's filename format; it prints the export plan (four requests, 240 files);
* ``Fido.fetch`` into ``DIR/<wavelength>/``, and a check that every file's header is the
  frame (wavelength, ``T_REC``) of its search row;
* ``DIR/montage.png``: six times of the hour (columns) in the four wavelengths (rows);
* ``DIR/cutouts.gif``: all 60 frames, the four wavelengths side by side (``--mp4`` also writes
  ``cutouts.mp4``, with ``imageio-ffmpeg``).

It prints what it did and where the files are. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import logging

from sunpy import log

from .request import DEMO_EMAIL, Cutouts
from .run import DemoResult, format_summary, run_demo

__all__ = ["DEMO_EMAIL", "Cutouts", "DemoResult", "format_summary", "main", "run_demo"]


@contextlib.contextmanager
def _quiet_library_logging():
    """
    Keep the command's output readable while it runs.

    drms configures the root logger at INFO when it is imported (sunpy's JSOC attrs import it),
    which prints drms's and matplotlib's progress messages and a second copy of every sunpy log
    message. While the demo runs, the root logger shows warnings only and sunpy's messages are
    shown once, by sunpy's own handler; both are undone on exit.
    """
    root = logging.getLogger()
    old_level, old_propagate = root.level, log.propagate
    root.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield
    finally:
        root.setLevel(old_level)
        log.propagate = old_propagate


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sunpy_jsoc_cutout.demo",
        description=(
            "Fetch tracked AIA cutouts (4 wavelengths, 1 hour at 1-minute cadence) with Fido from the offline "
            "JSOC emulator, then draw a montage (PNG) and an animation (GIF)."
        ),
    )
    parser.add_argument("--out", default="jsoc_cutout_demo", help="output directory (default: %(default)s)")
    parser.add_argument(
        "--image-size", type=int, default=1024, help="full-disk image size of the emulator (default: %(default)s)"
    )
    parser.add_argument(
        "--time-model", choices=("fast", "realistic"), default="fast", help="emulator time model (default: %(default)s)"
    )
    parser.add_argument("--mp4", action="store_true", help="also write cutouts.mp4 (needs imageio-ffmpeg)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """
    Command-line entry point: run the demo and print what it did.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 when every frame arrived and the pictures were written.
    """
    args = _parse_args(argv)
    with _quiet_library_logging():
        result = run_demo(args.out, image_size=args.image_size, time_model=args.time_model, mp4=args.mp4)
    print(format_summary(result))
    return 0

"""
Serve the JSOC emulator from the command line.

Usage::

    python -m sunpy_jsoc_cutout.testing [--port N] [--time-model fast|realistic] [--time-scale K]
                                        [--bandwidth B] [--image-size N] [--register EMAIL]...
                                        [--root DIR] [--seed N]

``--time-model realistic --time-scale K`` runs the realistic model ``K`` times faster
(`~sunpy_jsoc_cutout.testing.exports.timemodel.TimeModel.scaled`: every duration divided by
``K``, the bandwidth multiplied by it), as ``benchmarks/run_all.py`` does; ``--bandwidth``
then overrides the per-connection download bandwidth (bytes per second).

The first line printed on standard output is the emulator's base URL; standard error then says
where its control API is and how to call it. The emulator serves until SIGINT or SIGTERM, then
stops cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .exports.timemodel import TimeModel
from .server.emulator import JSOCEmulator
from .server.wiring import resolve_time_model

__all__ = ["main", "parse_args", "time_model_of"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m sunpy_jsoc_cutout.testing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--time-model", choices=("fast", "realistic"), default="fast", help="export timings")
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=None,
        metavar="K",
        help="run the time model K times faster (durations / K, bandwidth * K)",
    )
    parser.add_argument(
        "--bandwidth", type=_positive, default=None, metavar="B", help="download bytes per second per connection"
    )
    parser.add_argument("--image-size", type=int, default=4096, help="full-disk image side in pixels")
    parser.add_argument(
        "--register", action="append", default=[], metavar="EMAIL", help="register a notification address (repeatable)"
    )
    parser.add_argument("--root", default=None, help="directory for the SUMS files (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--hide-series",
        action="append",
        default=[],
        metavar="SERIES",
        help="answer this stored series as unknown, e.g. su_rsb.NOAA_ActiveRegions as the public JSOC (repeatable)",
    )
    return parser.parse_args(argv)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return value


def time_model_of(args: argparse.Namespace) -> TimeModel:
    """The time model the command line asks for (a preset, scaled by ``--time-scale``)."""
    model = resolve_time_model(args.time_model, seed=args.seed)
    return model if args.time_scale is None else model.scaled(args.time_scale)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM; returns the exit status."""
    args = parse_args(argv)
    stop = threading.Event()

    def _request_stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    emulator = JSOCEmulator(
        host=args.host,
        port=args.port,
        time_model=time_model_of(args),
        image_size=args.image_size,
        registered=args.register,
        root=args.root,
        seed=args.seed,
        hidden_series=args.hide_series,
    )
    if args.bandwidth is not None:
        emulator.download_bandwidth = args.bandwidth
    with emulator:
        print(emulator.url, flush=True)
        print(
            f"JSOC emulator: JSOC at {emulator.url}cgi-bin/ajax/, files at {emulator.url}SUM.../; control API at "
            f"{emulator.url}_emulator/ (EmulatorControl({emulator.url!r}), or POST application/json; calls "
            "from web pages are refused). Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    print("JSOC emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

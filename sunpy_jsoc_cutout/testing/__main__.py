"""
Serve the JSOC emulator from the command line.

Usage::

    python -m sunpy_jsoc_cutout.testing [--port N] [--time-model fast|realistic] [--image-size N]
                                        [--register EMAIL]... [--root DIR] [--seed N]

The first line printed on standard output is the emulator's base URL; standard error then says
where its control API is and how to call it. The emulator serves until SIGINT or SIGTERM, then
stops cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server.emulator import JSOCEmulator

__all__ = ["main", "parse_args"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m sunpy_jsoc_cutout.testing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--time-model", choices=("fast", "realistic"), default="fast", help="export timings")
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
        time_model=args.time_model,
        image_size=args.image_size,
        registered=args.register,
        root=args.root,
        seed=args.seed,
        hidden_series=args.hide_series,
    )
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

"""
One run of every side-by-side benchmark (issue #14): ``tox -e benchmark`` or ``python benchmarks/run_all.py``.

The JSOC emulator runs in its own process (``python -m sunpy_jsoc_cutout.testing`` on 127.0.0.1,
a fresh one per measured run) and every client in a child process, so the client's wall time,
CPU seconds and peak memory are its own. Workloads:

W1
    The user's guide campaign (``aia.lev1`` 171/193/211/304 Å, Carrington-tracked box, one-minute
    cadence, ``url-tar``; 500² and 1000² pixel boxes) against the realistic time model divided by
    ``--scale``: our ``Fido.fetch``, sunpy's stock ``JSOCClient`` through ``Fido.fetch`` one
    wavelength after another (JSOC's one-pending rule), drms by hand (one export per wavelength,
    in turn), all polling every ``2 s / scale``, and the time model's lower bound
    (`sidebyside.figures.lower_bound`). Images are ``--image-size``² (1024: rendering 16 times
    cheaper than JSOC's 4096²) and the download bandwidth is cut by the ratio of the cutouts'
    bytes at that size to their bytes at 4096² (measured in W3), so that downloads last as long as
    JSOC's.
W2
    Search and planning of about 25k, 50k and 100k records (``aia.lev1_euv_12s`` 171 Å, a tracked
    box) with our ``Fido.search``, stock ``JSOCClient.search`` and drms asking for the keywords and
    segment our search asks for; and ``aia.lev1`` (four wavelengths, ``a.Sample(60 s)``) against
    drms's query of the same record sets.
W3
    Bytes per record of the cutouts against the full-disk files of the same records (4096² images).
W4
    Our fetch of a shorter campaign killed with SIGKILL when half its files are on disk, then run
    again: exports and bytes repeated.
W5
    The client's CPU seconds per record from search to files on disk (from the W1 runs).

Writes ``benchmarks/results/latest.json`` and ``latest.md``; with ``--docs`` (the default for a
full run) also ``docs/explanation/performance_results.inc`` and ``performance.png``. Nothing is
asserted: the figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sidebyside import report  # noqa: E402
from sidebyside.workloads import Settings, run_w1, run_w2, run_w3, run_w4  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=float, default=60.0, help="speed-up of the realistic time model (W1, W4)")
    parser.add_argument("--image-size", type=int, default=1024, help="full-disk side in pixels of W1, W2, W4")
    parser.add_argument("--hours", type=float, default=8.0, help="length of the W1 campaign (the guide: 8)")
    parser.add_argument("--boxes", type=int, nargs="+", default=[500, 1000], help="W1 box sides (pixels at 4096²)")
    parser.add_argument("--records", type=int, nargs="+", default=[25200, 50400, 100800], help="W2 record counts")
    parser.add_argument("--lev1-days", type=float, default=5.0, help="span of the W2 aia.lev1 cadence case")
    parser.add_argument("--resume-hours", type=float, default=2.0, help="length of the W4 campaign")
    parser.add_argument("--only", default="W1,W2,W3,W4", help="comma-separated workloads (W5 comes with W1)")
    parser.add_argument("--no-stock", action="store_true", help="leave sunpy's stock client out of W1 and W2")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a check that everything runs)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder of latest.json and latest.md")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None, help="write the docs' table")
    args = parser.parse_args(argv)
    if args.quick:
        args.hours, args.boxes, args.records = 0.1, [500], [1500]
        args.lev1_days, args.resume_hours, args.scale = 0.02, 0.1, max(args.scale, 200.0)
    if args.docs is None:
        args.docs = not args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = {w.strip().upper() for w in args.only.split(",")}
    settings = Settings(scale=args.scale, image_size=args.image_size, stock=not args.no_stock)
    results: dict = {
        "settings": {
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})",
            "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "command": " ".join(["python benchmarks/run_all.py", *(sys.argv[1:] if argv is None else argv)]),
            "scale": args.scale,
            "image_size": args.image_size,
        }
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jsoc-bench-") as tmp:
        work = Path(tmp)
        if only & {"W1", "W3", "W4"}:
            print("W3: bytes of cutouts and full-disk files", flush=True)
            results["W3"] = run_w3(settings, work / "w3", args.boxes, args.hours)
        if "W1" in only:
            results["W1"] = run_w1(settings, work / "w1", args.boxes, args.hours, results["W3"])
        if "W2" in only:
            results["W2"] = run_w2(settings, work / "w2", args.records, args.lev1_days)
        if "W4" in only:
            results["W4"] = run_w4(settings, work / "w4", args.resume_hours, results["W3"])
    results["settings"]["seconds"] = time.perf_counter() - t0
    docs = HERE.parent / "docs" / "explanation" if args.docs else None
    report.write_all(results, args.out, docs)
    print(report.markdown(results))
    print(f"whole run: {results['settings']['seconds']:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

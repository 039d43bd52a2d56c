"""The user's guide campaign in full through Fido, against the JSOC emulator (issue #5 figures).

Run with ``python benchmarks/bench_campaign.py`` from the repository root (the package must be
importable). Prints figures and ratios side by side; nothing is asserted.

The campaign: ``aia.lev1``, 2014-02-05 08:00-16:00, 171/193/211/304 Å, a Carrington-tracked
pixel box, ``a.Sample(60 s)``, ``FilenameFormat("aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits")``,
``Method("url-tar")``: 480 files per wavelength, 1920 in all. It runs ``Fido.search`` then
``Fido.fetch``; with ``--drms`` the same data is also fetched by hand with drms, one export per
wavelength with the same ``process`` string, one after another (submit, wait, download the tar,
extract), as a user of drms would.

Options: ``--image-size`` (JSOC: 4096; default 1024) with the guide's 500-pixel box scaled by
``image_size / 4096`` unless ``--box`` is given; ``--model fast`` (status by poll count) or
``--model realistic --scale K`` (``timemodel.REALISTIC.scaled(K)``: every duration divided by K
and the bandwidth multiplied by K; the client's poll intervals are divided by K too).

Times on the emulator clock (wall time plus the emulator's offset): *staging* is the union of
the exports' [submitted, completed] intervals, *downloading* the union of the file GETs' [first
byte, last byte] intervals (recorded by wrapping the emulator's connection counter), *overlap*
the time both were going on (downloads of request k while k+1 stages). The emulator's render
cache is cleared before each run. The emulator runs in this process: while it stages (rendering,
CPU bound) it holds the GIL much of the time, so downloads that overlap staging are slower here
than they would be from the real JSOC; compare the download figures with that in mind.
A box scaled to a smaller image makes files (500 / box)² times smaller than the guide's; with
``--guide-bytes`` (realistic model) the bandwidth is divided by that factor so downloads last as
long as they would for the guide's 1 MB files.
"""

import argparse
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import drms

import astropy.units as u

import sunpy.net.attrs as a
from sunpy import log
from sunpy.net import Fido
from sunpy.util import parfive_helpers

import sunpy_jsoc_cutout  # noqa: F401  (registers the client)
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.exports.timemodel import FAST, REALISTIC
from sunpy_jsoc_cutout.testing.sun.render import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sidebyside.clients import process_dict
from sidebyside.figures import union_length

EMAIL = "bench@example.com"
FORMAT = "aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"
WAVES = (171, 193, 211, 304)
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ROW = "{:<40s} {:>14s} {:>14s} {:>12s}"


def campaign_query(box_px: int) -> tuple:
    """The guide's query (``box_px`` pixels a side)."""
    return (
        a.Time("2014-02-05 08:00", "2014-02-05 16:00"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(*(w * u.AA for w in WAVES)),
        jc.Box.carrington(100 * u.deg, 10 * u.deg, box_px * u.pix, box_px * u.pix),
        jc.Tracking(True),
        a.Sample(60 * u.s),
        jc.FilenameFormat(FORMAT),
        jc.Method("url-tar"),
        a.jsoc.Notify(EMAIL),
    )


class DownloadTimes:
    """Record [start, end] of every file GET on the emulator clock (wraps its connection counter)."""

    def __init__(self, emu: JSOCEmulator):
        self.intervals: list[list[float]] = []
        self._open: list[list[float]] = []
        counter, clock = emu.connections, emu.clock
        started, finished = counter.download_started, counter.download_finished

        def on_start():
            started()
            interval = [clock.now(), None]
            self._open.append(interval)
            self.intervals.append(interval)

        def on_finish():
            finished()
            if self._open:
                self._open.pop(0)[1] = clock.now()

        counter.download_started, counter.download_finished = on_start, on_finish


def overlap_length(first, second) -> float:
    """Length of (union of ``first``) ∩ (union of ``second``)."""
    both = union_length(first) + union_length(second)
    return both - union_length(list(first) + list(second))


def _staging(emu: JSOCEmulator, since: float) -> list[tuple[float, float]]:
    rows = emu.exports.state()["requests"]
    return [(r["submitted"], r["completed_at"]) for r in rows if r["completed_at"] and r["submitted"] >= since]


def _figures(emu, downloads, since_log, since_clock, wall, files, nbytes) -> dict:
    entries = emu.request_log.since(since_log)
    staging = _staging(emu, since_clock)
    fetched = [i for i in downloads.intervals if i[0] >= since_clock]
    return {
        "wall": wall,
        "files": files,
        "bytes": nbytes,
        "requests": len(entries),
        "exp_request": sum(e["params"].get("op") == "exp_request" for e in entries),
        "exp_status": sum(e["params"].get("op") == "exp_status" for e in entries),
        "jsoc_info": sum((e["endpoint"] or "").endswith("jsoc_info") for e in entries),
        "file_gets": sum(e["endpoint"] == "files" and e["method"] == "GET" for e in entries),
        "exports": len(staging),
        "staging": union_length(staging),
        "downloading": union_length(fetched),
        "overlap": overlap_length(staging, fetched),
        "max_conn": emu.connections.snapshot()["max_connections"],
    }


def run_fido(emu: JSOCEmulator, downloads: DownloadTimes, out: Path, box_px: int) -> dict:
    """Fido.search + Fido.fetch of the campaign; figures."""
    clear_cache()  # each run renders its images afresh
    since_log, since_clock = len(emu.request_log), emu.clock.now()
    t0 = time.perf_counter()
    result = Fido.search(*campaign_query(box_px))
    t1 = time.perf_counter()
    files = Fido.fetch(result, path=out / "{file}")
    wall = time.perf_counter() - t0
    if files.errors:
        print("Fido.fetch errors:", files.errors)
    figures = _figures(emu, downloads, since_log, since_clock, wall, len(files), _bytes(files))
    figures.update(search=t1 - t0, rows=len(result["jsoccutout"]), plans=result["jsoccutout"].plans)
    return figures


def _bytes(paths) -> int:
    return sum(Path(p).stat().st_size for p in paths)


def _wavelength_ds(plans, wave: int) -> tuple[str, str, str]:
    """One ``ds`` covering every planned request of ``wave`` (same series, filter and cadence)."""
    mine = [p for p in plans if p.wavelength == wave]
    first, last = mine[0].ds, mine[-1].ds
    head, rest = first.split("[", 1)
    start = rest.split("-", 1)[0]
    stop_and_tail = last.split("[", 1)[1].split("-", 1)[1]
    return f"{head}[{start}-{stop_and_tail}", mine[0].process, mine[0].filenamefmt


def run_drms(emu, downloads, out: Path, plans, poll: float) -> dict:
    """The same campaign by hand: one drms export per wavelength, sequential, url-tar."""
    clear_cache()  # each run renders its images afresh
    since_log, since_clock = len(emu.request_log), emu.clock.now()
    client = drms.Client(server=emu.server_config, email=EMAIL)
    t0 = time.perf_counter()
    paths = []
    for wave in WAVES:
        ds, process, _ = _wavelength_ds(plans, wave)
        request = client.export(
            ds, method="url-tar", protocol="fits", filenamefmt=FORMAT, process=process_dict(process), email=EMAIL
        )
        request.wait(sleep=poll)
        (out / "tars").mkdir(parents=True, exist_ok=True)
        table = request.download(out / "tars")
        for tar_path in table.download:
            with tarfile.open(tar_path) as tar:
                members = [m for m in tar.getmembers() if m.name.endswith(".fits")]
                tar.extractall(out / str(wave), members=members, filter="data")
            paths += [out / str(wave) / m.name for m in members]
            Path(tar_path).unlink()
    wall = time.perf_counter() - t0
    return _figures(emu, downloads, since_log, since_clock, wall, len(paths), _bytes(paths))


def _print(fido: dict, by_hand: dict | None) -> None:
    def ratio(key):
        if not by_hand or not fido[key]:
            return "-"
        return f"{by_hand[key] / fido[key]:.2f}"

    def both(label, key, fmt="{:.2f}"):
        other = fmt.format(by_hand[key]) if by_hand else "-"
        print(ROW.format(label, fmt.format(fido[key]), other, ratio(key)))

    for figures in filter(None, (fido, by_hand)):
        figures["MB"] = figures["bytes"] / 1e6
        figures["files/s"] = figures["files"] / figures["wall"]
        figures["overlap %"] = 100 * figures["overlap"] / figures["downloading"] if figures["downloading"] else 0
    print(ROW.format("figure", "Fido", "drms by hand", "drms/Fido"))
    both("total wall time, s", "wall")
    print(ROW.format("  of which Fido.search, s", f"{fido['search']:.2f}", "-", "-"))
    both("staging (emulator clock, union), s", "staging")
    both("downloading (emulator clock, union), s", "downloading")
    both("downloads overlapping staging, s", "overlap")
    both("  as % of downloading", "overlap %", "{:.0f}")
    both("files", "files", "{:d}")
    both("MB downloaded (extracted FITS)", "MB", "{:.1f}")
    both("files/s (wall)", "files/s", "{:.1f}")
    both("HTTP requests to the emulator", "requests", "{:d}")
    both("  exp_request", "exp_request", "{:d}")
    both("  exp_status", "exp_status", "{:d}")
    both("  jsoc_info", "jsoc_info", "{:d}")
    both("  file GETs", "file_gets", "{:d}")
    both("exports completed", "exports", "{:d}")
    both("max download connections", "max_conn", "{:d}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--image-size", type=int, default=1024, help="full-disk side in pixels (JSOC: 4096)")
    parser.add_argument("--box", type=int, default=None, help="box side in pixels (default 500 * image_size / 4096)")
    parser.add_argument("--model", choices=("fast", "realistic"), default="fast")
    parser.add_argument("--scale", type=float, default=20.0, help="speed-up of the realistic model")
    parser.add_argument("--drms", action="store_true", help="also fetch the same data by hand with drms")
    parser.add_argument(
        "--guide-bytes",
        action="store_true",
        help="divide the download bandwidth by (500 / box)² so downloads take as long as the guide's 500 px files",
    )
    args = parser.parse_args(argv)
    os.environ["PARFIVE_HIDE_PROGRESS"] = "1"
    for name in PROXIES:
        os.environ.pop(name, None)  # everything here is on 127.0.0.1
    parfive_helpers.config.http_proxy = parfive_helpers.config.https_proxy = None
    log.setLevel("WARNING")
    box = args.box or round(500 * args.image_size / 4096)
    model, poll = (FAST, 0.2) if args.model == "fast" else (REALISTIC.scaled(args.scale), 2.0 / args.scale)
    print(f"time model {model.name}, image_size {args.image_size}, box {box}x{box} px, poll {poll:g} s")
    with (
        tempfile.TemporaryDirectory() as tmp,
        JSOCEmulator(time_model=model, image_size=args.image_size, registered=(EMAIL,), root=Path(tmp) / "sums") as emu,
        use_jsoc(emu.url),
        conf.set_temp("ledger", str(Path(tmp) / "ledger.sqlite")),
        conf.set_temp("min_poll", poll),
        conf.set_temp("max_poll", max(poll, 60.0 / (1 if args.model == "fast" else args.scale))),
    ):
        if args.guide_bytes and model.bandwidth:
            emu.download_bandwidth = model.bandwidth / (500 / box) ** 2
            print(f"download bandwidth {emu.download_bandwidth / 1e6:.3g} MB/s (guide-sized download times)")
        downloads = DownloadTimes(emu)
        fido = run_fido(emu, downloads, Path(tmp) / "fido", box)
        by_hand = run_drms(emu, downloads, Path(tmp) / "drms", fido["plans"], poll) if args.drms else None
    _print(fido, by_hand)


if __name__ == "__main__":
    main()

"""Start-to-end figures for the JSOC emulator: start-up, a quick as-is export, one 4096² render.

Run with ``python benchmarks/bench_emulator.py`` from the repository root (the package must be
importable). Prints wall times side by side; nothing is asserted.

* start-up: ``JSOCEmulator(...)`` construction plus ``start()`` (then ``stop()``, not timed);
* export: a ``url_quick``/``as-is`` request for AIA 171 images with drms, then every file
  downloaded with parfive ``Downloader(max_conn=1, max_splits=1)`` (one connection, no split
  downloads), FAST time model; 100 records at 1024² and 5 records at 4096² (JSOC's size). The
  emulator makes each stored file on its first download, so the download time includes rendering;
* render: `sunpy_jsoc_cutout.testing.sun.render.render` of one 4096² full-disk image from a record
  header of the catalogue (cache cleared first).
"""

import os
import statistics
import tempfile
import time
from pathlib import Path

import drms
from parfive import Downloader

from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.sun.render import clear_cache, render

EMAIL = "bench@example.com"
START = "2014-02-05T08:00:00Z"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ROW = "{:<66s} {:>10s} {:>10s} {:>10s}"


def bench_startup(repeats: int = 5) -> list[float]:
    """Seconds from construction to a serving emulator, ``repeats`` times."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        emu = JSOCEmulator(time_model="fast", image_size=1024, registered=(EMAIL,))
        emu.start()
        times.append(time.perf_counter() - t0)
        emu.stop()
    return times


def bench_export(image_size: int, records: int) -> dict:
    """Request and download ``records`` AIA 171 images (url_quick, as-is) from a fresh emulator."""
    clear_cache()
    spec = f"aia.lev1_euv_12s[{START}/{12 * records}s][171]{{image}}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        JSOCEmulator(time_model="fast", image_size=image_size, registered=(EMAIL,), root=Path(tmp) / "sums") as emu,
    ):
        client = drms.Client(server=emu.server_config, email=EMAIL)
        t0 = time.perf_counter()
        request = client.export(spec, method="url_quick", protocol="as-is")
        urls = list(request.urls.url)
        t1 = time.perf_counter()
        downloader = Downloader(max_conn=1, max_splits=1)
        for url in urls:
            downloader.enqueue_file(url, path=Path(tmp) / "out", filename=url.replace("/", "_"))
        results = downloader.download()
        t2 = time.perf_counter()
        if results.errors or len(results) != records:
            raise RuntimeError(f"download failed: {len(results)} files, errors {results.errors}")
        nbytes = sum(Path(path).stat().st_size for path in results)
    return {"request": t1 - t0, "download": t2 - t1, "total": t2 - t0, "files": len(results), "bytes": nbytes}


def bench_render() -> tuple[float, float]:
    """Seconds to render one 4096² AIA 171 and one 4096² HMI magnetogram full disk."""
    emu = JSOCEmulator(time_model="fast")  # only its catalogue is used; never started
    try:
        out = []
        for spec, kind in (
            (f"aia.lev1_euv_12s[{START}/12s][171]", "aia"),
            ("hmi.M_45s[2014.02.05_08:00:00_TAI]", "magnetogram"),
        ):
            header = emu.catalogue.query(spec).header(0)
            clear_cache()
            t0 = time.perf_counter()
            data = render(header, kind)
            out.append(time.perf_counter() - t0)
            assert data.shape == (4096, 4096)
        return out[0], out[1]
    finally:
        emu.stop()


def main():
    os.environ["PARFIVE_HIDE_PROGRESS"] = "1"  # read when a Downloader is made
    for name in PROXIES:
        os.environ.pop(name, None)  # everything here is on 127.0.0.1
    startup = bench_startup()
    print(ROW.format("figure", "seconds", "files", "MB"))
    print(ROW.format("emulator start-up (construct + start), first", f"{startup[0]:.3f}", "", ""))
    print(
        ROW.format(
            f"emulator start-up, median of next {len(startup) - 1}", f"{statistics.median(startup[1:]):.3f}", "", ""
        )
    )
    for size, records in ((1024, 100), (4096, 5)):
        fig = bench_export(size, records)
        label = f"url_quick as-is, {records} AIA records at {size}², FAST"
        mb = f"{fig['bytes'] / 1e6:.1f}"
        print(ROW.format(label + ": request", f"{fig['request']:.3f}", "", ""))
        print(ROW.format(label + ": download (1 conn)", f"{fig['download']:.3f}", str(fig["files"]), mb))
        print(ROW.format(label + ": total", f"{fig['total']:.3f}", str(fig["files"]), mb))
        print(ROW.format("  per file", f"{fig['total'] / fig['files']:.3f}", "", ""))
    aia, hmi = bench_render()
    print(ROW.format("render() one 4096² AIA 171 full disk", f"{aia:.3f}", "", ""))
    print(ROW.format("render() one 4096² HMI magnetogram full disk", f"{hmi:.3f}", "", ""))


if __name__ == "__main__":
    main()

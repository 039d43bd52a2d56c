"""Figures for ``Fido.search`` with ``a.jsoc_cutout`` attrs against the JSOC emulator (issue #4).

Run with ``python benchmarks/bench_search.py`` from the repository root (the package must be
importable); ``--quick`` stops at 25,200 records, ``--no-stock`` skips sunpy's JSOCClient.
Prints figures and ratios side by side; nothing is asserted.

For growing record counts it times ``Fido.search`` of a Carrington-tracked box (conf.page_size
at its default, 20000), and the same record sets

* through a plain drms query, ``drms.Client(server=emu.server_config).query(ds,
  key="T_REC,QUALITY,WAVELNTH")``, one per planned request (``ds`` taken from the plan), and
* through sunpy's stock ``JSOCClient.search`` (``emu.use_for_drms_jsoc()``), where it can make
  the same query: ``aia.lev1_euv_12s`` with ``a.Wavelength`` only (it cannot ask ``aia.lev1``
  for a wavelength, which is not a prime key there). The stock client asks for every keyword
  (``**ALL**``), so its figure includes building much wider tables: that is its real cost.

Columns: seconds, rows, rows/s, ``jsoc_info`` calls made (from ``emu.request_log``), the bytes
of the largest ``rs_list`` reply of the search (fetched again after timing), and the ratios
``drms/ours`` and ``stock/ours`` (above 1: ours is faster).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import drms
import requests

import astropy.units as u

import sunpy.net.attrs as a
from sunpy import log
from sunpy.net import Fido
from sunpy.net.jsoc import JSOCClient
from sunpy.util import parfive_helpers

import sunpy_jsoc_cutout  # noqa: F401  (registers the client)
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator

START = "2014-02-05 00:00"
NOTES = """ours s: Fido.search (one reference record, series_struct, rs_summary, paged rs_list, table);
drms s: drms query of the planned ds with key=T_REC,QUALITY,WAVELNTH (one reply per ds);
drms= s: the same with the keywords and segment our search asks for (a like-for-like transfer);
stock s: sunpy JSOCClient.search (key=**ALL**); ratios are other/ours (above 1: ours is faster).
Rows can differ by one per lev1 cadence request: im_patch's slots (t_start..t_stop) decide the frames,
the ds may hold one more record at its closed end; the table lists the frames im_patch will make.
For aia.lev1 with a.Sample our search lists every frame of the span (about 5 per minute, without @60s)
to predict im_patch's choice of the nearest good frame, so it moves about 5 times the rows drms= moves."""
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ROW = "{:<26s} {:>7s} {:>7s} {:>7s} {:>5s} {:>6s} {:>7s} {:>7s} {:>7s} {:>9s} {:>9s} {:>9s}"
HEAD = (
    "case",
    "ours s",
    "rows",
    "rows/s",
    "calls",
    "max MB",
    "drms s",
    "drms= s",
    "stock s",
    "drms/ours",
    "drms=/our",
    "stock/our",
)
BOX = jc.Box.carrington(100 * u.deg, 10 * u.deg, 500 * u.pix, 500 * u.pix)
#: (label, series, wavelengths in Å, span in hours, sample or None, whether the stock client can do it)
CASES = (
    ("euv_12s 171, 1 h", "aia.lev1_euv_12s", (171,), 1, None, True),
    ("euv_12s 171, 8 h", "aia.lev1_euv_12s", (171,), 8, None, True),
    ("euv_12s 171, 1 d", "aia.lev1_euv_12s", (171,), 24, None, True),
    ("euv_12s 171, 3.5 d", "aia.lev1_euv_12s", (171,), 84, None, True),
    ("euv_12s 171, 7 d", "aia.lev1_euv_12s", (171,), 168, None, True),
    ("euv_12s 171, 14 d", "aia.lev1_euv_12s", (171,), 336, None, True),
    ("lev1 4 waves @60s, 1 d", "aia.lev1", (171, 193, 211, 304), 24, 60, False),
    ("lev1 4 waves @60s, 3 d", "aia.lev1", (171, 193, 211, 304), 72, 60, False),
    ("lev1 4 waves @60s, 5 d", "aia.lev1", (171, 193, 211, 304), 120, 60, False),
)


def _query(series: str, waves: tuple, hours: float, sample: float | None) -> tuple:
    start = a.Time(START, START).start
    query = [
        a.Time(start, start + hours * u.h),
        a.jsoc.Series(series),
        jc.Wavelengths(*(w * u.AA for w in waves)) if len(waves) > 1 else a.Wavelength(waves[0] * u.AA),
        BOX,
        jc.Tracking(True),
    ]
    if sample:
        query.append(a.Sample(sample * u.s))
    return tuple(query)


def _info_calls(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["endpoint"].endswith("jsoc_info")]


def _largest_reply(emu: JSOCEmulator, entries: list[dict]) -> tuple[int, dict]:
    """Bytes and parameters of the largest ``rs_list`` reply among ``entries`` (asked again, untimed)."""
    lists = [e["params"] for e in _info_calls(entries) if e["params"].get("op") == "rs_list"]
    url = f"{emu.url}cgi-bin/ajax/jsoc_info"
    sizes = [(len(requests.get(url, params=params, timeout=300).content), params) for params in lists]
    return max(sizes, key=lambda pair: pair[0], default=(0, {}))


def bench_ours(emu: JSOCEmulator, query: tuple) -> dict:
    """Time one ``Fido.search``; return seconds, rows, calls, largest reply and the planned ``ds``."""
    before = len(emu.request_log)
    t0 = time.perf_counter()
    result = Fido.search(*query)
    seconds = time.perf_counter() - t0
    table = result["jsoccutout"]
    entries = emu.request_log.since(before)
    largest, params = _largest_reply(emu, entries)
    return {
        "seconds": seconds,
        "rows": len(table),
        "calls": len(_info_calls(entries)),
        "largest": largest,
        "key": params.get("key", "T_REC").replace("*recnum*,", ""),
        "seg": params.get("seg"),
        "ds": sorted({plan.ds for plan in table.plans}),
    }


def bench_drms(emu: JSOCEmulator, datasets: list[str], key: str = "T_REC,QUALITY,WAVELNTH", seg=None):
    """Seconds and rows of plain drms queries of ``datasets`` (one ``query`` each, one reply each)."""
    client = drms.Client(server=emu.server_config)
    t0 = time.perf_counter()
    rows = 0
    for ds in datasets:
        reply = client.query(ds, key=key, seg=seg)
        rows += len(reply[0] if isinstance(reply, tuple) else reply)
    return time.perf_counter() - t0, rows


def bench_stock(emu: JSOCEmulator, series: str, wave: int, hours: float) -> tuple[float, int]:
    """Seconds and rows of sunpy's ``JSOCClient.search`` of the same record set."""
    start = a.Time(START, START).start
    with emu.use_for_drms_jsoc():
        client = JSOCClient()
        t0 = time.perf_counter()
        response = client.search(a.Time(start, start + hours * u.h), a.jsoc.Series(series), a.Wavelength(wave * u.AA))
        return time.perf_counter() - t0, len(response)


def _print_case(label: str, ours: dict, plain: tuple, same: tuple, stock: tuple | None) -> None:
    seconds = ours["seconds"]
    print(
        ROW.format(
            label,
            f"{seconds:.2f}",
            str(ours["rows"]),
            f"{ours['rows'] / seconds:,.0f}",
            str(ours["calls"]),
            f"{ours['largest'] / 1e6:.2f}",
            f"{plain[0]:.2f}",
            f"{same[0]:.2f}",
            f"{stock[0]:.2f}" if stock else "-",
            f"{plain[0] / seconds:.2f}",
            f"{same[0] / seconds:.2f}",
            f"{stock[0] / seconds:.2f}" if stock else "-",
        )
    )
    rows = {"drms": plain[1], "drms=": same[1]} | ({"stock": stock[1]} if stock else {})
    if any(n != ours["rows"] for n in rows.values()):
        print("   rows of the same record sets:", ", ".join(f"{k} {v}" for k, v in rows.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="stop at 25,200 records per wavelength")
    parser.add_argument("--no-stock", action="store_true", help="skip sunpy's JSOCClient")
    parser.add_argument("--stock-max-hours", type=float, default=336, help="longest span given to JSOCClient")
    args = parser.parse_args(argv)
    os.environ["PARFIVE_HIDE_PROGRESS"] = "1"
    for name in PROXIES:
        os.environ.pop(name, None)  # everything here is on 127.0.0.1
    parfive_helpers.config.http_proxy = parfive_helpers.config.https_proxy = None
    log.setLevel("WARNING")  # the planner's INFO lines would break the table
    cases = [c for c in CASES if not args.quick or c[3] <= 84]
    print(f"conf.page_size = {conf.page_size}")
    print(ROW.format(*HEAD))
    with (
        tempfile.TemporaryDirectory() as tmp,
        JSOCEmulator(time_model="fast", image_size=256, root=Path(tmp) / "sums") as emu,
        use_jsoc(emu.url),
        conf.set_temp("ledger", str(Path(tmp) / "ledger.sqlite")),
    ):
        Fido.search(*_query("aia.lev1_euv_12s", (171,), 1, None))  # warm-up: imports, series_struct cache
        for label, series, waves, hours, sample, stock_ok in cases:
            ours = bench_ours(emu, _query(series, waves, hours, sample))
            plain = bench_drms(emu, ours["ds"])
            same = bench_drms(emu, ours["ds"], key=ours["key"], seg=ours["seg"])
            stock = None
            if stock_ok and not args.no_stock and hours <= args.stock_max_hours:
                stock = bench_stock(emu, series, waves[0], hours)
            _print_case(label, ours, plain, same, stock)
    print(NOTES)


if __name__ == "__main__":
    main()

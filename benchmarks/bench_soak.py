"""Soak: 2,000 records fetched through one ``Fido.fetch`` while every endpoint fails at random (issue #11).

Run with ``python benchmarks/bench_soak.py`` from the repository root (the package must be
importable). Prints figures; the only checks are the ones a user would make of the result: every
planned file arrived, no error entry, and each file's header holds its row's wavelength and time.

The job: ``aia.lev1_euv_12s`` 171 and 193 Å over 3 h 20 min (1,000 slots each), a small arcsec
box, ``url``. The emulator's transport fault knobs are set on every endpoint (``jsoc_info``,
``jsoc_fetch``, ``manage-request``, the files...): HTTP 500 and connection resets at ``--rate / 2``
each, plus truncated file bodies at ``--rate / 5`` of the file GETs, seeded; then one
``Fido.search`` and one ``Fido.fetch`` are made. Options: ``--rate`` (0.05), ``--hours``,
``--image-size`` (256).
"""

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator

EMAIL = "soak@example.com"


def header_identity(path: str) -> tuple[int, str]:
    with fits.open(path) as hdul:
        header = next(h.header for h in hdul if h.header.get("NAXIS", 0) == 2)
    return int(header["WAVELNTH"]), Time(header["T_REC"].replace("Z", ""), scale="utc").isot[:19]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.05, help="fraction of requests that fail")
    parser.add_argument("--hours", type=float, default=10 / 3, help="length of the time range")
    parser.add_argument("--image-size", type=int, default=256)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jsoc_soak_"))
    start = Time("2014-02-05T08:00:00")
    query = (
        a.Time(start, start + args.hours * u.h),
        a.jsoc.Series("aia.lev1_euv_12s"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA),
        jc.Box([-200, 150] * u.arcsec, 60 * u.arcsec),
        a.jsoc.Notify(EMAIL),
    )
    with (
        JSOCEmulator(time_model="fast", image_size=args.image_size, registered=[EMAIL], root=work / "sums") as emu,
        use_jsoc(emu.url),
        conf.set_temp("ledger", str(work / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),
        conf.set_temp("retry_wait", 0.2),
    ):
        emu.faults.set("http500", "all", fraction=args.rate / 2)
        emu.faults.set("reset", "all", fraction=args.rate / 2)
        emu.faults.set("truncate", "files", fraction=args.rate / 5)
        t0 = time.perf_counter()
        result = Fido.search(*query)
        search_wall = time.perf_counter() - t0
        search_log = emu.request_log.since(0)
        table = result["jsoccutout"]
        planned = int((np.asarray(table["Skip"]) == "").sum())
        rows = {
            (int(w), t[:19])
            for w, t, skip in zip(table["Wavelength"].value, table["T_REC"].isot, table["Skip"], strict=True)
            if skip == ""
        }
        before = len(emu.request_log)
        t0 = time.perf_counter()
        files = Fido.fetch(result, path=work / "out" / "{file}", progress=False)
        wall = time.perf_counter() - t0
        log = emu.request_log.since(before)
        emu.faults.clear()
    faults = Counter(e["fault"] for e in log if e.get("fault"))
    by_endpoint = Counter(e["endpoint"] for e in log)
    identities = [header_identity(str(f)) for f in files]
    wrong = [i for i in identities if i not in rows]
    exports = sum(1 for e in log if e["params"].get("op") == "exp_request")
    search_faults = sum(1 for e in search_log if e.get("fault"))
    print(
        f"Fido.search under the same faults: {search_wall:.1f} s, {len(search_log)} jsoc_info calls, "
        f"{search_faults} of them faulted"
    )
    print(f"records in the table: {len(table)}, planned files: {planned}, export requests: {len(table.plans)}")
    print(f"one Fido.fetch: {wall:.1f} s wall time, {len(files)} files, {len(files.errors)} error entries")
    print(f"files whose header is not their row's: {len(wrong)}; rows without a file: {len(rows - set(identities))}")
    print(f"HTTP calls during the fetch: {len(log)} ({dict(by_endpoint)}); exp_request calls: {exports}")
    print(f"faults the emulator injected: {sum(faults.values())} ({dict(faults)})")
    gets = sum(1 for e in log if e["endpoint"] == "files" and e["method"] == "GET")
    heads = sum(1 for e in log if e["endpoint"] == "files" and e["method"] == "HEAD")
    print(f"file GETs: {gets} ({gets / max(planned, 1):.3f} per planned file; {heads} HEAD probes by parfive)")
    print(f"file downloads tried again within the fetch: {gets - planned}")
    ok = not files.errors and len(files) == planned and not wrong and not (rows - set(identities))
    print("complete and correct in one call" if ok else "NOT complete in one call")


if __name__ == "__main__":
    main()

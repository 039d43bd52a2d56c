"""The workloads W1-W4 (W5 is read from W1): each starts its emulator process(es) and child clients."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sunpy_jsoc_cutout.config import conf
from sunpy_jsoc_cutout.testing.exports.timemodel import REALISTIC
from . import figures
from .child import run_task
from .emulator import EmulatorProcess
from .queries import campaign

__all__ = ["Settings", "run_w1", "run_w2", "run_w3", "run_w4"]

#: The W2 and W4 spans start here (the emulator's catalogue holds these days).
SEARCH_START = "2014-02-05 00:00"
CLIENT_COSTS = ("staging_per_record", "request_overhead", "download_rate", "min_poll", "max_poll")


@dataclass(frozen=True)
class Settings:
    """What every workload shares: the time model's speed-up, the image size, whether to run the stock client."""

    scale: float = 60.0
    image_size: int = 1024
    stock: bool = True

    @property
    def poll(self) -> float:
        """The polling interval of every client (our ``min_poll``, 2 s, on the scaled clock)."""
        return 2.0 / self.scale

    def our_conf(self, bytes_factor: float) -> dict:
        """Our client's cost estimates and polls on the scaled clock (downloads of ``1 / bytes_factor``-sized files)."""
        values = {name: float(getattr(conf, name)) for name in CLIENT_COSTS}
        for name in ("staging_per_record", "request_overhead", "min_poll", "max_poll"):
            values[name] /= self.scale
        values["download_rate"] *= self.scale / bytes_factor
        return values


def _collect(emu: EmulatorProcess, fig: dict, since: int = 0, submitted_after: float = float("-inf")) -> dict:
    """Add what the emulator saw of one run to its figures: calls, exports, staging, bytes, connections."""
    control = emu.control
    entries = control.log(since)
    requests = control.state()["exports"]["requests"]
    staging = figures.staging_intervals(requests, submitted_after)
    served, _ = figures.served_bytes(entries, emu.file_bytes)
    fig.update(
        calls=figures.calls_by_endpoint(entries),
        exports=len(staging),
        staging=figures.union_length(staging),
        served_bytes=served,
        max_connections=control.connections()["max_connections"],
    )
    return fig


def _full_disk_plans(spec: dict) -> list[dict]:
    """The full-disk images of ``spec``'s records: ``aia.lev1_euv_12s`` (the same images as ``aia.lev1``), one request a wavelength."""
    start = spec["start"].replace(" ", "T") + ":00Z"
    span = f"{round(spec['hours'] * 60)}m@{spec['sample']}s"
    return [
        {"wavelength": w, "ds": f"aia.lev1_euv_12s[{start}/{span}][{w}]{{image}}", "process": "",
         "filenamefmt": "{seriesname}.{T_REC:A}.{WAVELNTH}.{segment}"}
        for w in spec["waves"]
    ]  # fmt: skip


def run_w3(settings: Settings, work: Path, boxes: list[int], hours: float) -> dict:
    """Cutout bytes per record at 4096² and at ``image_size``², full-disk bytes per record at 4096²."""
    spec_of = {box: campaign(hours=2 / 60, box_px=box) for box in boxes}
    out: dict = {"cutout_bytes_per_record": {}, "small_bytes_per_record": {}, "campaign_records": int(hours * 60 * 4)}
    for size in dict.fromkeys((4096, settings.image_size)):
        with EmulatorProcess(work / f"sums{size}", "fast", image_size=size) as emu:
            for box in boxes:
                fig = run_task(
                    "ours_fetch",
                    {"url": emu.url, "spec": spec_of[box], "out": str(work / f"{size}-{box}"), "image_size": size,
                     "settings": {"min_poll": 0.1}},
                )  # fmt: skip
                key = "cutout_bytes_per_record" if size == 4096 else "small_bytes_per_record"
                out[key][str(box)] = fig["bytes"] / max(fig["files"], 1)
                if size == 4096 and box == boxes[0]:
                    full = run_task(
                        "drms_fetch",
                        {"url": emu.url, "plans": _full_disk_plans(spec_of[box]), "out": str(work / "full"),
                         "poll": 0.1, "method": "url", "full_disk": True},
                    )  # fmt: skip
                    out["full_disk_bytes_per_record"] = full["bytes"] / max(full["files"], 1)
                    out["full_disk_files"] = full["files"]
    if settings.image_size == 4096:
        out["small_bytes_per_record"] = dict(out["cutout_bytes_per_record"])
    out["bytes_factor"] = {
        box: out["cutout_bytes_per_record"][box] / out["small_bytes_per_record"][box]
        for box in out["small_bytes_per_record"]
    }
    return out


def _w1_emulator(settings: Settings, root: Path, factor: float) -> EmulatorProcess:
    bandwidth = REALISTIC.scaled(settings.scale).bandwidth / factor
    return EmulatorProcess(root, "realistic", settings.scale, settings.image_size, bandwidth)


def run_w1(settings: Settings, work: Path, boxes: list[int], hours: float, w3: dict) -> dict:
    """The guide's campaign for each box with our client, the stock client and drms, and the lower bound."""
    model = REALISTIC.scaled(settings.scale)
    out = {}
    for box in boxes:
        factor = w3["bytes_factor"][str(box)]
        spec = campaign(hours=hours, box_px=box)
        run: dict = {"bytes_factor": factor}
        print(f"W1 {box}² box: our Fido.fetch", flush=True)
        with _w1_emulator(settings, work / f"ours{box}" / "sums", factor) as emu:
            args = {"url": emu.url, "spec": spec, "out": str(work / f"ours{box}"), "image_size": settings.image_size,
                    "settings": settings.our_conf(factor)}  # fmt: skip
            run["ours"] = _collect(emu, run_task("ours_fetch", args))
            bandwidth = emu.control.state()["download_bandwidth"]
        plans = run["ours"].pop("plans")
        if settings.stock:
            print(f"W1 {box}² box: stock JSOCClient through Fido.fetch", flush=True)
            with _w1_emulator(settings, work / f"stock{box}" / "sums", factor) as emu:
                args = {"url": emu.url, "spec": spec, "out": str(work / f"stock{box}"), "poll": settings.poll}
                run["stock"] = _collect(emu, run_task("stock_fetch", args))
        print(f"W1 {box}² box: drms by hand", flush=True)
        with _w1_emulator(settings, work / f"drms{box}" / "sums", factor) as emu:
            args = {"url": emu.url, "plans": plans, "out": str(work / f"drms{box}"), "poll": settings.poll}
            run["drms"] = _collect(emu, run_task("drms_fetch", args))
        records = run["ours"]["planned"]
        last_file = run["ours"]["bytes"] / max(run["ours"]["files"], 1)
        run["records"] = records
        run["lower_bound"] = figures.lower_bound(model, records, ["im_patch"], True, last_file, bandwidth)
        for key in ("ours", "stock", "drms"):
            if key in run:
                fig = run[key]
                fig["observed_bound"] = fig["staging"] + run["lower_bound"]["last_download"]
        out[str(box)] = run
        w3["campaign_records"] = records
    return out


def _last_rs_list(entries: list[dict]) -> dict:
    lists = [e["params"] for e in entries if e.get("endpoint") == "jsoc_info" and e["params"].get("op") == "rs_list"]
    return lists[-1] if lists else {}


def _search_spec(series: str, waves: list[int], hours: float, sample: int | None = None, tracked: bool = True) -> dict:
    """A search of ``hours`` with the guide's tracked box, or (``tracked=False``: spans of more than 5 days, where
    the tracked centre would cross the limb) a box of the same size at disk centre."""
    spec = {"start": SEARCH_START, "hours": hours, "series": series, "waves": waves, "box_px": 500, "sample": sample}
    return {**spec, "tracking": True} if tracked else {**spec, "box": "helioprojective", "tracking": False}


def _search_case(settings: Settings, emu: EmulatorProcess, work: Path, label: str, spec: dict, stock: bool) -> dict:
    warm = {"spec": {**spec, "hours": 1.0}}
    base = {"url": emu.url, "out": str(work)}
    since = emu.control.state()["log_length"]
    ours = run_task("ours_search", {**base, "spec": spec, "image_size": settings.image_size, "warm": warm})
    listed = _last_rs_list(emu.control.log(since))
    key = listed.get("key", "T_REC").replace("*recnum*,", "")
    warm_ds = {"datasets": [f"{spec['series']}[2014.02.05_00:00:00_TAI/1h]"]}
    drms = run_task(
        "drms_search", {**base, "datasets": ours["ds"], "key": key, "seg": listed.get("seg"), "warm": warm_ds}
    )
    case = {"label": label, "ours": ours, "drms": drms, "key": key, "seg": listed.get("seg")}
    if spec.get("sample") and spec["series"] in ("aia.lev1", "hmi.lev1"):
        # what drms must list to know the frames im_patch will make: every frame of each set's span
        every = [ds.replace(f"@{spec['sample']}s]", "]") for ds in ours["ds"]]
        case["drms_every_frame"] = run_task("drms_search", {**base, "datasets": every, "key": key,
                                                             "seg": listed.get("seg"), "warm": warm_ds})  # fmt: skip
    if stock:
        case["stock"] = run_task("stock_search", {**base, "spec": spec, "warm": warm})
    print(f"  {label}: ours {ours['wall']:.2f} s, drms {drms['wall']:.2f} s"
          + (f", stock {case['stock']['wall']:.2f} s" if stock else ""), flush=True)  # fmt: skip
    return case


def run_w2(settings: Settings, work: Path, records: list[int], lev1_days: float) -> list[dict]:
    """Searches of ``records`` records (12 s cadence) and the ``aia.lev1`` cadence case."""
    print("W2: search and planning", flush=True)
    cases = []
    with EmulatorProcess(work / "sums", "fast", image_size=settings.image_size) as emu:
        for n in records:
            spec = _search_spec("aia.lev1_euv_12s", [171], n / 300, tracked=False)
            label = f"aia.lev1_euv_12s 171 Å, {n:,} records"
            cases.append(_search_case(settings, emu, work, label, spec, settings.stock))
        spec = _search_spec("aia.lev1", [171, 193, 211, 304], lev1_days * 24, sample=60)
        cases.append(_search_case(settings, emu, work, f"aia.lev1 4 wavelengths @60 s, {lev1_days:g} d", spec, False))
    return cases


def _fits_on_disk(folder: Path) -> int:
    return len(list(folder.glob("*.fits"))) if folder.is_dir() else 0


def run_w4(settings: Settings, work: Path, hours: float, w3: dict) -> dict:
    """Our fetch killed (SIGKILL) when half its files are on disk, then run again."""
    print("W4: resume after SIGKILL at half way", flush=True)
    box = next(iter(w3["bytes_factor"]))
    factor = w3["bytes_factor"][box]
    spec = campaign(hours=hours, box_px=int(box))
    expected = int(hours * 60) * len(spec["waves"])
    files = work / "out" / "files"
    with _w1_emulator(settings, work / "sums", factor) as emu:
        args = {"url": emu.url, "spec": spec, "out": str(work / "out"), "image_size": settings.image_size,
                "settings": settings.our_conf(factor)}  # fmt: skip
        first = run_task("ours_fetch", args, kill_when=lambda: _fits_on_disk(files) >= expected / 2)
        on_disk = _fits_on_disk(files)
        kill_index, kill_clock = emu.control.state()["log_length"], emu.control.now()
        rerun = run_task("ours_fetch", args)
        entries = emu.control.log(0)
        requests = emu.control.state()["exports"]["requests"]
        bytes_first, got_first = figures.served_bytes(entries[:kill_index], emu.file_bytes)
        bytes_rerun, got_rerun = figures.served_bytes(entries[kill_index:], emu.file_bytes)
        again = [path for path in got_rerun if path in got_first]
        first_sets = {r["dataset"] for r in requests if r["submitted"] < kill_clock}
        rerun_sets = [r["dataset"] for r in requests if r["submitted"] >= kill_clock]
        return {
            "planned": rerun["planned"],
            "killed": first.get("killed", False),
            "on_disk_at_kill": on_disk,
            "files": _fits_on_disk(files),
            "exports_first": len(first_sets),
            "exports_rerun": len(rerun_sets),
            "exports_repeated": sum(ds in first_sets for ds in rerun_sets),
            "exp_request_rerun": sum(e["params"].get("op") == "exp_request" for e in entries[kill_index:]),
            "files_again": len(again),
            "bytes_again": sum(emu.file_bytes(p) for p in again),
            "bytes_first": bytes_first,
            "bytes_rerun": bytes_rerun,
            "rerun_wall": rerun["wall"],
        }

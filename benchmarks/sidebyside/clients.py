"""
The client tasks, each run in a child process of its own (``python -m sidebyside.clients TASK
ARGS_JSON RESULT_JSON``) so that its wall time, CPU seconds and peak memory are the client's alone.

Every task takes the emulator's URL and JSON-friendly arguments and returns a dict of figures;
`measured` adds ``wall`` (seconds), ``cpu`` (user + system seconds of the task, all threads:
``resource.getrusage(RUSAGE_SELF)`` before and after), ``rss_before_mb`` and ``peak_rss_mb``
(``VmRSS`` before the task, ``VmHWM`` after: the process's peak, interpreter and imports
included). Imports happen before the measurement (at the top of this module).

Tasks: `ours_fetch` (``Fido.search`` + ``Fido.fetch`` with this package), `stock_fetch`
(sunpy's ``JSOCClient`` through ``Fido``, one wavelength after another), `drms_fetch` (drms by
hand: one export per wavelength, submit, wait, download the tar, extract), `ours_search`,
`stock_search` (``JSOCClient.search``) and `drms_search` (``drms.Client.query``). A search task
runs `SEARCH_REPEATS` times and reports its median run (one search is too short for one sample
on a shared machine); ``walls`` keeps every run's wall time.
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import tarfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import drms

from sunpy import log
from sunpy.net import Fido
from sunpy.net.jsoc import JSOCClient
from sunpy.util import parfive_helpers

import sunpy_jsoc_cutout  # noqa: F401  (registers the client with Fido)
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing.server.emulator import drms_server_config as server_config
from .emulator import EMAIL
from .queries import ours_query, stock_query

__all__ = ["TASKS", "measured", "process_dict"]


def _vm(field: str) -> float:
    """``VmRSS``/``VmHWM`` of this process in MB (0 where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(task: Callable[..., dict], **kwargs) -> dict:
    """Run ``task(**kwargs)``; its figures plus wall, CPU and memory (see the module docstring)."""
    rss, cpu, t0 = _vm("VmRSS"), _cpu(), time.perf_counter()
    figures = task(**kwargs)
    figures.update(wall=time.perf_counter() - t0, cpu=_cpu() - cpu, rss_before_mb=rss)
    figures["peak_rss_mb"] = _vm("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _files(paths) -> tuple[int, int]:
    paths = [Path(p) for p in paths]
    return len(paths), sum(p.stat().st_size for p in paths if p.is_file())


def _our_settings(stack: ExitStack, url: str, out: Path, settings: dict) -> None:
    stack.enter_context(use_jsoc(url))
    stack.enter_context(conf.set_temp("ledger", str(out / "ledger.sqlite")))
    for name, value in settings.items():
        stack.enter_context(conf.set_temp(name, value))


def ours_fetch(url: str, spec: dict, out: str, image_size: int, settings: dict) -> dict:
    """``Fido.search`` then ``Fido.fetch`` of ``spec``; ``settings`` are ``conf`` values (polls, costs)."""
    out_dir = Path(out)
    with ExitStack() as stack:
        _our_settings(stack, url, out_dir, settings)
        t0 = time.perf_counter()
        result = Fido.search(*ours_query(spec, image_size))
        searched = time.perf_counter() - t0
        files = Fido.fetch(result, path=out_dir / "files" / "{file}", progress=False)
    table = result["jsoccutout"]
    count, nbytes = _files(files)
    plans = [
        {"wavelength": p.wavelength, "ds": p.ds, "process": p.process, "filenamefmt": p.filenamefmt}
        for p in table.plans
    ]
    return {
        "search": searched,
        "rows": len(table),
        "planned": int(sum(skip == "" for skip in table["Skip"])),
        "files": count,
        "bytes": nbytes,
        "errors": len(files.errors),
        "plans": plans,
    }


def _drms_jsoc(url: str, poll: float) -> None:
    """Point drms's ``jsoc`` server (sunpy's stock client uses it) at ``url``; drms waits ``poll`` s between polls."""
    drms.config._server_configs["jsoc"] = server_config(url)
    drms.ExportRequest.wait = functools.partialmethod(drms.ExportRequest.wait, sleep=poll)


def stock_fetch(url: str, spec: dict, out: str, poll: float) -> dict:
    """Sunpy's stock ``JSOCClient`` through Fido: search and fetch one wavelength after another."""
    _drms_jsoc(url, poll)
    paths, errors, rows, searched = [], 0, 0, 0.0
    for wave in spec["waves"]:
        t0 = time.perf_counter()
        result = Fido.search(*stock_query(spec, wave))
        searched += time.perf_counter() - t0
        rows += len(result["jsoc"])
        files = Fido.fetch(result, path=Path(out) / str(wave) / "{file}", progress=False, sleep=poll)
        paths += list(files)
        errors += len(files.errors)
    count, nbytes = _files(paths)
    return {"search": searched, "rows": rows, "files": count, "bytes": nbytes, "errors": errors}


def process_dict(process: str) -> dict:
    """``"n=0|im_patch,k=v,..."`` as drms's ``process`` argument ``{"im_patch": {k: v}}``."""
    steps = {}
    for step in process.split("|")[1:]:
        name, *options = step.split(",")
        steps[name] = dict(option.split("=", 1) for option in options)
    return steps


def _wavelength_requests(plans: list[dict]) -> list[tuple[int, str, str, str]]:
    """One ``(wavelength, ds, process, filenamefmt)`` per wavelength, covering every planned request of it."""
    out = []
    for wave in dict.fromkeys(p["wavelength"] for p in plans):
        mine = [p for p in plans if p["wavelength"] == wave]
        ds = mine[0]["ds"]
        if len(mine) > 1:  # "series[start-stop...]...": the first start to the last stop
            head, rest = ds.split("[", 1)
            start = rest.split("-", 1)[0]
            stop_and_tail = mine[-1]["ds"].split("[", 1)[1].split("-", 1)[1]
            ds = f"{head}[{start}-{stop_and_tail}"
        out.append((wave, ds, mine[0]["process"], mine[0]["filenamefmt"]))
    return out


def drms_fetch(
    url: str, plans: list[dict], out: str, poll: float, method: str = "url-tar", full_disk: bool = False
) -> dict:
    """
    The same job by hand with drms: one export per wavelength, in turn (submit, wait, download,
    extract); with ``full_disk``, the same record sets without processing (full-disk files).
    """
    client = drms.Client(server=server_config(url), email=EMAIL)
    paths, errors = [], 0
    for wave, ds, process, fmt in _wavelength_requests(plans):
        request = client.export(
            ds,
            method=method,
            protocol="fits",
            filenamefmt=fmt,
            process=None if full_disk else process_dict(process),
            email=EMAIL,
        )
        request.wait(sleep=poll)
        target = Path(out) / str(wave)
        target.mkdir(parents=True, exist_ok=True)
        table = request.download(target)
        for path in table.download:
            if path is None:  # drms could not download it
                errors += 1
            elif str(path).endswith(".tar"):
                with tarfile.open(path) as tar:
                    members = [m for m in tar.getmembers() if m.name.endswith(".fits")]
                    tar.extractall(target, members=members, filter="data")
                paths += [target / m.name for m in members]
                Path(path).unlink()
            else:
                paths.append(Path(path))
    count, nbytes = _files(paths)
    return {"files": count, "bytes": nbytes, "errors": errors}


def ours_search(url: str, spec: dict, image_size: int, out: str, warm: dict | None = None) -> dict:
    """``Fido.search`` of ``spec`` (after an untimed warm-up search ``warm``, made before `measured`)."""
    with ExitStack() as stack:
        _our_settings(stack, url, Path(out), {})
        result = Fido.search(*ours_query(spec, image_size))
    table = result["jsoccutout"]
    return {"rows": len(table), "ds": sorted({plan.ds for plan in table.plans})}


def stock_search(url: str, spec: dict, out: str = "", warm: dict | None = None) -> dict:
    """Sunpy's stock ``JSOCClient.search`` of each wavelength of ``spec`` (no cutout: it asks for ``**ALL**``)."""
    _drms_jsoc(url, 1.0)
    client = JSOCClient()
    rows = sum(len(client.search(*stock_query(spec, wave, cutout=False))) for wave in spec["waves"])
    return {"rows": rows}


def drms_search(url: str, datasets: list[str], key: str, seg: str | None = None, out: str = "", warm=None) -> dict:
    """``drms.Client.query`` of each record set with the keywords (and segment) given."""
    client = drms.Client(server=server_config(url))
    rows = 0
    for ds in datasets:
        reply = client.query(ds, key=key, seg=seg)
        rows += len(reply[0] if isinstance(reply, tuple) else reply)
    return {"rows": rows}


#: A search task runs this many times in its process (after the warm-up); its figures are the median run's.
SEARCH_REPEATS = 3

TASKS: dict[str, Callable[..., dict]] = {
    "ours_fetch": ours_fetch,
    "stock_fetch": stock_fetch,
    "drms_fetch": drms_fetch,
    "ours_search": ours_search,
    "stock_search": stock_search,
    "drms_search": drms_search,
}


def _warm_up(name: str, args: dict) -> None:
    """An untimed first call of a search task (imports, caches, first connection) on ``args["warm"]``."""
    warm = args.get("warm")
    if warm is not None:
        TASKS[name](**{**args, **warm, "warm": None})


def main(argv: list[str]) -> int:
    """``TASK ARGS_JSON RESULT_JSON``: run the task measured, write its figures as JSON."""
    name, args, result = argv[0], json.loads(argv[1]), Path(argv[2])
    log.setLevel("WARNING")
    parfive_helpers.config.http_proxy = parfive_helpers.config.https_proxy = None
    _warm_up(name, args)
    runs = [measured(TASKS[name], **args) for _ in range(SEARCH_REPEATS if name.endswith("_search") else 1)]
    figures = sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]  # the median run
    figures["walls"] = [run["wall"] for run in runs]
    result.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

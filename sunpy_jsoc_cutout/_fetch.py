"""
``JSOCCutoutClient.fetch``: stage the planned exports politely and download them.

* One pending export per user: `~._scheduler.ExportRunner` submits request *k+1* as soon as *k*
  is complete and hands *k* over, so *k* downloads while *k+1* stages.
* Downloads use this package's own parfive downloader, one connection by default
  (``conf.max_conn``), never Fido's (Fido makes five connections for clients that are not
  sunpy's ``JSOCClient``); the finished `parfive.Results` are returned and Fido merges them.
* Everything is recorded in the ledger (``config.ledger_path()``): fetching the same results
  again, after a crash or a kill, adopts the requests already made and skips complete files.
* A failed or expired export does not stop the others. It is logged with its request ID and
  JSOC's message, kept in ``client.last_report`` and added to the returned Results' ``errors``
  with an http URL (JSOC's status page of the request), so ``Fido.fetch(results, max_conn=1)``
  retries the downloads that failed and never raises for it.
"""

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import parfive
from tqdm.auto import tqdm

import astropy.units as u

from sunpy import log

from ._coords import parse_drms_time
from ._download import download_request, extend_results, make_downloader
from ._export_files import check_free_space
from ._jsoc_export import JSOCExportAPI, ReadyExport
from ._ledger import Ledger
from ._paths import target_path
from ._report import JobReport
from ._scheduler import ExportRunner
from ._validation import require_notify
from .config import base_url, conf, download_dir, ledger_path
from .exceptions import UnsafeArchiveError

__all__ = ["fetch"]

_FIRST_BRACKET = re.compile(r"\[([^\]]*)\]")


def path_template(path) -> str:
    """Fido's rule for ``path``: sunpy's download directory by default, ``/{file}`` appended when missing."""
    if path is None:
        return str(download_dir() / "{file}")
    text = str(path)
    return text if "{file}" in text else str(Path(text) / "{file}")


def _root(template: str) -> Path:
    """The deepest directory of a path template that holds no ``{...}`` field."""
    parts = []
    for part in Path(template).expanduser().parts:
        if "{" in part:
            break
        parts.append(part)
    return Path(*parts) if parts else Path.cwd()


def _path_maker(template: str, rows) -> Callable[[str, str], Path]:
    """``path_for(record, filename)``: fill the template from the table row of that record."""
    seconds = np.round(rows["T_REC"].unix).astype(np.int64) if len(rows) else []
    by_time = {int(t): i for i, t in enumerate(seconds)}

    def path_for(record: str, filename: str) -> Path:
        index = 0
        match = _FIRST_BRACKET.search(record or "")
        if match:
            try:
                index = by_time.get(round(parse_drms_time(match.group(1)).unix), 0)
            except ValueError:
                index = 0
        return target_path(template, filename, rows[index] if len(rows) else None)

    return path_for


def _status_url(requestid: str | None, plan) -> str:
    """A harmless http URL standing for a failed export in ``Results.errors``."""
    if requestid:
        return f"{base_url()}cgi-bin/ajax/jsoc_fetch?op=exp_status&requestid={requestid}"
    return f"{base_url()}cgi-bin/ajax/jsoc_info?op=series_struct&ds={plan.series}"


def _advance(bar, done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)


def _report_skipped(table) -> JobReport:
    """A job report that already lists the rows JSOC will skip."""
    report = JobReport()
    for i in np.flatnonzero(np.asarray(table["Skip"]) != ""):
        report.skip(str(table["Skip"][i]), f"{table['Series'][i]}[{table['T_REC'][i].isot}]")
    return report


def runner_from_config(api: JSOCExportAPI, ledger: Ledger, notify: str, **options) -> ExportRunner:
    """An `ExportRunner` with the polling bounds and timeout of ``sunpy_jsoc_cutout.config.conf``."""
    settings = {
        "min_poll": float(conf.min_poll),
        "max_poll": float(conf.max_poll),
        "timeout": float(conf.export_timeout),
    }
    return ExportRunner(api, ledger, notify=notify, **{**settings, **options})


def _download_ready(outcome, ledger, path_for, root, report, *, progress, overwrite, keep_tar) -> parfive.Results:
    """Download the files of one completed export; an unsafe tar becomes an error entry, not an exception."""
    log.info("Export %s is complete; downloading its files", outcome.requestid)
    batch = int(conf.download_batch) or None
    bar = tqdm(desc=f"Files of {outcome.requestid}", unit="file", disable=not (progress and batch))
    try:
        return download_request(
            ledger,
            outcome.requestid,
            outcome.index,
            base_url(),
            path_for,
            downloader=make_downloader(int(conf.max_conn), 1, progress and not batch, overwrite),
            new_downloader=lambda: make_downloader(int(conf.max_conn), 1, False, overwrite),
            batch=batch,
            on_batch=lambda done, total: _advance(bar, done, total),
            tar_dir=root,
            keep_tar=keep_tar,
            report=report,
        )
    except UnsafeArchiveError as err:
        report.fail(outcome.requestid, str(err), "refused (unsafe tar)")
        results = parfive.Results()
        stand_in = root / f"{outcome.requestid}.unsafe.tar"
        results.add_error(str(stand_in), _status_url(outcome.requestid, outcome.plan), err)
        return results
    finally:
        bar.close()


def fetch(
    client,
    table,
    *,
    path=None,
    downloader=None,
    progress: bool = True,
    overwrite: bool = False,
    keep_tar: bool = False,
    cancel_foreign: bool = False,
    ledger: Ledger | str | os.PathLike | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    **kwargs,
) -> parfive.Results:
    """
    Stage the exports of ``table`` one at a time and download their files.

    Parameters
    ----------
    client : `~sunpy_jsoc_cutout.client.JSOCCutoutClient`
    table : `~sunpy_jsoc_cutout._table.JSOCCutoutResponse`
        Search results (a slice of them fetches only the requests its rows belong to).
    path : str, optional
        Path template; ``{file}`` and any column of the table (``{wavelength}``, ``{T_REC:%Y%m%d}``).
    downloader : parfive.Downloader, optional
        Not used for downloading (Fido always passes one with five connections; set
        ``conf.max_conn`` instead); only its ``progress`` setting is followed.
    progress, overwrite : bool
        Show progress bars and staging progress; parfive's overwrite rule.
    keep_tar : bool
        Keep the tar files of ``url-tar`` exports after extracting them.
    cancel_foreign : bool
        Cancel a pending export of the same address made by another program instead of waiting.
    ledger : `~sunpy_jsoc_cutout._ledger.Ledger` or path, optional
        Default: ``config.ledger_path()``.
    clock, sleep : callable
        Injectable for tests.

    Returns
    -------
    parfive.Results
        The files, and an error entry (with an http URL) for every failed export or download.
    """
    if not len(table) or not getattr(table, "plans", None):
        # nothing to export (e.g. sunpy >= 7.1 keeps a failed search as an empty table with .errors)
        return parfive.Results()
    notify = require_notify({"notify": table.notify})
    if downloader is not None and not downloader.config.progress:
        progress = False  # Fido.fetch(progress=False) reaches clients only through its downloader
    template = path_template(path)
    target_path(template, "check.fits", table[0])  # a bad template fails before anything is sent
    report = client.last_report = _report_skipped(table)
    root = _root(template)
    root.mkdir(parents=True, exist_ok=True)
    check_free_space(root, int(np.sum(table["Size"].to_value(u.byte))))
    if not isinstance(ledger, Ledger):
        ledger = Ledger(ledger or ledger_path())
    out = parfive.Results()
    request_of_row = np.asarray(table["Request"])
    used = sorted({int(i) for i in request_of_row})
    plans = [table.plans[i] for i in used]
    rows_of = {id(table.plans[i]): table[request_of_row == i] for i in used}
    with JSOCExportAPI(base_url()) as api:
        runner = runner_from_config(
            api, ledger, notify, cancel_foreign=cancel_foreign, clock=clock, sleep=sleep, progress=progress
        )
        for outcome in runner.iter_ready(plans):
            if isinstance(outcome, ReadyExport):
                options = {"progress": progress, "overwrite": overwrite, "keep_tar": keep_tar}
                rows = rows_of[id(outcome.plan)]
                extend_results(
                    out, _download_ready(outcome, ledger, _path_maker(template, rows), root, report, **options)
                )
            else:
                report.fail(outcome.requestid or "(none)", outcome.message, f"failed (status {outcome.status})")
                stand_in = root / f"{outcome.requestid or outcome.plan.series}.failed.json"
                out.add_error(str(stand_in), _status_url(outcome.requestid, outcome.plan), outcome.exception())
    report.log()
    return out

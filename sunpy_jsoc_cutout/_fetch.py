"""
``JSOCCutoutClient.fetch``: stage the planned exports politely and download them.

* One pending export per user: `~._transfer.scheduler.ExportRunner` submits request *k+1* as soon as *k*
  is complete and hands *k* over, so *k* downloads while *k+1* stages.
* Downloads use this package's own parfive downloader, one connection by default
  (``conf.max_conn``), never Fido's (Fido makes five connections for clients that are not
  sunpy's ``JSOCClient``); the finished `parfive.Results` are returned and Fido merges them.
* Everything is recorded in the ledger (``config.ledger_path()``): fetching the same results
  again, after a crash or a kill, adopts the requests already made and skips complete files.
* Every file is mapped to its row by its record's full identity (series and every prime key,
  `~._jsoc.export_files.RecordMatcher`), and a completed request's records are checked against its
  plan's rows before any file is accepted (`_PlanRows.check`): a request whose records are not
  the planned ones (another program's export, another plan's request ID given by JSOC's
  duplicate rule) or that completed without any file is refused, never downloaded.
* A failed, refused or expired export does not stop the others. It is logged with its request ID
  and JSOC's message, kept in ``client.last_report`` and added to the returned Results' ``errors``
  with an http URL (JSOC's status page of the request), so ``Fido.fetch(results, max_conn=1)``
  retries the downloads that failed and never raises for it. The report counts every planned
  file that did not arrive.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import parfive

import astropy.units as u

from sunpy import log

from ._jsoc.export import JSOCExportAPI, ReadyExport
from ._jsoc.export_files import RecordMatcher, check_free_space, data_rows, export_warnings
from ._plan.checks import require_notify
from ._plan.recordset import RecordSet
from ._plan.series_rules import rules_for
from ._transfer.deliver import Delivery
from ._transfer.download import extend_results
from ._transfer.fido_fetch import FidoFetch
from ._transfer.interrupt import InterruptGuard, restore_after_download
from ._transfer.ledger import Ledger
from ._transfer.paths import path_template, target_path
from ._transfer.report import JobReport
from ._transfer.scheduler import runner_from_config
from ._transfer.session import DownloadSession
from ._transfer.staging_thread import StagingThread
from .config import FETCH_SETTINGS, base_url, check_settings, conf_value, ledger_path
from .exceptions import (
    CutoutQueryError,
    ExportMismatchError,
)

__all__ = ["fetch"]

#: How many offending records a refusal message names.
_SHOW = 3


def _root(template: str) -> Path:
    """The deepest directory of a path template that holds no ``{...}`` field."""
    parts = []
    for part in Path(template).expanduser().parts:
        if "{" in part:
            break
        parts.append(part)
    return Path(*parts) if parts else Path.cwd()


def _prime_keys(plan) -> tuple[str, ...]:
    """The prime keys of the plan's series: its record set's (as planned), else the known series' table."""
    if isinstance(plan.recordset, RecordSet):
        return plan.recordset.prime_keys
    try:
        return rules_for(plan.series).prime_keys
    except CutoutQueryError:
        return ("T_REC",)  # a series the client does not know: its time is all it can compare


class _PlanRows:
    """
    The rows of one planned request: the files' paths and the check of JSOC's reply against them.

    Parameters
    ----------
    plan : `~sunpy_jsoc_cutout._plan.plans.ExportPlan`
    rows : `~astropy.table.Table`
        The search-result rows of the plan.
    report : `~sunpy_jsoc_cutout._transfer.report.JobReport`
        Planned files JSOC does not list go to it.
    """

    def __init__(self, plan, rows, report: JobReport) -> None:
        self.plan, self.rows, self.report = plan, rows, report
        self.matcher = RecordMatcher(plan.series, _prime_keys(plan), rows)
        self.planned = np.flatnonzero(np.asarray(rows["Skip"]) == "") if len(rows) else np.array([], int)

    def _label(self, index: int) -> str:
        row = self.rows[index]
        return f"{self.plan.series}[{row['T_REC'].isot}]" + (
            f"[{row['Wavelength']:g}]" if "Wavelength" in row.colnames else ""
        )

    def _records(self, reply: dict) -> list[str]:
        """The distinct records of a reply (a movie's summary row is no record)."""
        files, no_data = data_rows(reply)
        movie = str(reply.get("protocol", "")).lower() in ("mpg", "mp4")
        records = [r for r, _ in files if not (movie and r.startswith("movie"))] + no_data
        return list(dict.fromkeys(records))

    def check(self, plan, requestid: str, reply: dict) -> str | None:
        """`None` if ``reply`` is the planned export (planned files it lacks go to the report), else why not."""
        records = self._records(reply)
        unmatched = [reason for record in records for index, reason in [self.matcher.match(record)] if index is None]
        if unmatched:
            shown = "; ".join(unmatched[:_SHOW]) + ("; ..." if len(unmatched) > _SHOW else "")
            return (
                f"JSOC request {requestid} is not the export planned for {plan.ds}: {len(unmatched)} of its "
                f"{len(records)} records are not rows of this plan ({shown}). None of its files was accepted."
            )
        warnings = export_warnings(reply)
        if not data_rows(reply)[0] and len(self.planned):
            text = " ".join(warnings) or "JSOC lists no file."
            return f"JSOC export {requestid} completed without any file of the {len(self.planned)} planned: {text}"
        for text in warnings:
            log.warning("JSOC export %s: %s", requestid, text)
        listed = {self.matcher.match(record)[0] for record in records}
        for index in self.planned:
            if int(index) not in listed:
                self.report.missing_file(
                    requestid, self._label(index), "", "planned, but JSOC's export does not list it"
                )
        return None

    def path_for(self, template: str) -> Callable[[str, str], Path]:
        """``path_for(record, filename)``: the template filled from the row of that record."""

        def path_for(record: str, filename: str) -> Path:
            if not record and len(self.rows):  # a movie: one file for the whole request
                return target_path(template, filename, self.rows[0])
            index, reason = self.matcher.match(record)
            if index is None:
                raise ExportMismatchError(reason)
            return target_path(template, filename, self.rows[index])

        return path_for


def check_fetch_settings() -> int:
    """
    The download batch size from ``conf``, after checking every setting a fetch reads.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.ConfigurationError
        If a setting (``conf.download_batch``, ``conf.max_conn``, the polling bounds, the
        timeouts, the ledger path) is out of its range (`sunpy_jsoc_cutout.config.SETTINGS`).
    """
    return check_settings(FETCH_SETTINGS)["download_batch"]


def _status_url(requestid: str | None, plan) -> str:
    """A harmless http URL standing for a failed export in ``Results.errors``."""
    if requestid:
        return f"{base_url()}cgi-bin/ajax/jsoc_fetch?op=exp_status&requestid={requestid}"
    return f"{base_url()}cgi-bin/ajax/jsoc_info?op=series_struct&ds={plan.series}"


def _report_skipped(table) -> JobReport:
    """A job report that already lists the rows JSOC will skip."""
    report = JobReport()
    for i in np.flatnonzero(np.asarray(table["Skip"]) != ""):
        report.skip(str(table["Skip"][i]), f"{table['Series'][i]}[{table['T_REC'][i].isot}]")
    return report


def _not_fetched(plans, error: OSError, root: Path, report: JobReport, out: parfive.Results) -> None:
    """Plans left out after the disk filled up: a failure each, with an error entry."""
    for plan in plans:
        report.fail("(none)", f"{plan.ds} was not fetched: {error}", "not fetched (disk full)")
        out.add_error(str(root / f"{plan.series}.not_fetched"), _status_url(None, plan), error)


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
) -> parfive.Results | None:
    """
    Stage the exports of ``table`` one at a time and download their files.

    Called by ``Fido.fetch`` (a ``downloader`` and ``wait=False``), the fetch is checked at once and
    kept on the downloader (`~._transfer.fido_fetch.FidoFetch`): it runs when Fido starts the
    downloader, after the paths of every block of the fetch were checked against each other.

    Parameters
    ----------
    client : `~sunpy_jsoc_cutout.client.JSOCCutoutClient`
    table : `~sunpy_jsoc_cutout.response.JSOCCutoutResponse`
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
    ledger : `~sunpy_jsoc_cutout._transfer.ledger.Ledger` or path, optional
        Default: ``config.ledger_path()``.
    clock, sleep : callable
        Injectable for tests.

    Returns
    -------
    parfive.Results or None
        The files, and an error entry (with an http URL) for every failed export or download;
        `None` from ``Fido.fetch`` (the files are in what the downloader's ``download()`` returns).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.PathCollisionError
        From ``Fido.fetch``: a planned file would take the path of a different file of another
        block of the same fetch (nothing is sent).
    """
    fido = FidoFetch.of(downloader) if downloader is not None and kwargs.get("wait") is False else None
    if not len(table) or not getattr(table, "plans", None):
        # nothing to export (e.g. sunpy >= 7.1 keeps a failed search as an empty table with .errors)
        return parfive.Results()
    try:
        notify = require_notify(table.notify)
        batch = check_fetch_settings()
        if downloader is not None and not downloader.config.progress:
            progress = False  # Fido.fetch(progress=False) reaches clients only through its downloader
        template = path_template(path)
        target_path(template, "check.fits", table[0])  # a bad template fails before anything is sent
        root = _download_root(template, table)
        if not isinstance(ledger, Ledger):
            ledger = Ledger(ledger or ledger_path())
    except Exception:
        if fido is not None:
            fido.drop()  # a refused block of a Fido.fetch: none of its blocks is staged
        raise
    if downloader is not None:
        restore_after_download(downloader)  # Fido downloads its own queue with it after this fetch

    def run() -> parfive.Results:
        report = client.last_report = _report_skipped(table)
        plans, rows_of = _plan_rows(table, report)
        job = _Job(plans, rows_of, template, root, report, ledger, notify)
        out = _stage_and_download(
            job,
            {"batch": batch, "progress": progress, "keep_tar": keep_tar},
            {"cancel_foreign": cancel_foreign, "clock": clock, "sleep": sleep, "check": job.check},
            overwrite,
        )
        report.arrived(len(out))
        report.log()
        return out

    if fido is None:
        return run()
    # Fido.fetch: staged when Fido starts its downloader, after every block was checked against the others
    fido.add(template, table, run)
    return None


def _download_root(template: str, table) -> Path:
    """The template's root directory, created, after checking it has room for the table's files."""
    root = _root(template)
    root.mkdir(parents=True, exist_ok=True)
    check_free_space(root, int(np.sum(table["Size"].to_value(u.byte))))
    return root


def _plan_rows(table, report: JobReport) -> tuple[list, dict[int, _PlanRows]]:
    """The plans the table's rows belong to, and the rows of each (by the plan's ``id``)."""
    request_of_row = np.asarray(table["Request"])
    used = sorted({int(i) for i in request_of_row})
    plans = [table.plans[i] for i in used]
    rows_of = {id(table.plans[i]): _PlanRows(table.plans[i], table[request_of_row == i], report) for i in used}
    report.expect(sum(len(rows.planned) for rows in rows_of.values()))
    return plans, rows_of


@dataclass
class _Job:
    """What one fetch stages and downloads, and where the files go."""

    plans: list
    rows_of: dict[int, _PlanRows]
    template: str
    root: Path
    report: JobReport
    ledger: Ledger
    notify: str

    def check(self, plan, requestid: str, reply: dict) -> str | None:
        """`_PlanRows.check` of the plan's rows."""
        return self.rows_of[id(plan)].check(plan, requestid, reply)

    def fail(self, outcome, out: parfive.Results) -> None:
        """A failed or refused export: in the report, and an error entry with JSOC's status page."""
        status = "refused" if outcome.kind == "mismatch" else f"failed (status {outcome.status})"
        self.report.fail(outcome.requestid or "(none)", outcome.message, status)
        stand_in = self.root / f"{outcome.requestid or outcome.plan.series}.failed.json"
        out.add_error(str(stand_in), _status_url(outcome.requestid, outcome.plan), outcome.exception())


def _stage_and_download(job: _Job, options: dict, settings: dict, overwrite: bool) -> parfive.Results:
    """Stage the job's exports one at a time and download each as soon as it is ready."""
    out = parfive.Results()
    handled: set[int] = set()
    ledger, notify = job.ledger, job.notify
    with (
        InterruptGuard(str(ledger.path)) as guard,
        DownloadSession(
            conf_value("max_conn"), False, overwrite, guard, conf_value("download_retries"), conf_value("retry_wait")
        ) as session,
        JSOCExportAPI(base_url()) as api,
        JSOCExportAPI(base_url()) as staging_api,
    ):
        planned = [len(job.rows_of[id(plan)].planned) for plan in job.plans]

        def staged(sleep):
            staging = {**settings, "sleep": sleep}
            runner = runner_from_config(staging_api, ledger, notify, progress=options["progress"], **staging)
            return runner.iter_ready(job.plans, planned)

        delivery = Delivery(
            api,
            ledger,
            session,
            lambda: runner_from_config(api, ledger, notify, **settings),
            job.root,
            job.report,
            **options,
        )
        with StagingThread(staged, settings.get("sleep", time.sleep)) as outcomes:  # polls go on during downloads
            for outcome in outcomes:
                handled.add(id(outcome.plan))
                if isinstance(outcome, ReadyExport):
                    path_for = job.rows_of[id(outcome.plan)].path_for(job.template)
                    extend_results(out, delivery.ready(outcome, path_for))
                else:
                    job.fail(outcome, out)
                if session.disk_full is not None:
                    break
        if session.disk_full is not None:
            left = [p for p in job.plans if id(p) not in handled]
            _not_fetched(left, session.disk_full, job.root, job.report, out)
    return out

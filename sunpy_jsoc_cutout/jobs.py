"""
Working with export requests by ID (list, re-download, re-stage and cancel), and the job report.

JSOC e-mails a request ID when an export is done, and the e-mails get lost; this package writes
every request it makes to a ledger on disk (`sunpy_jsoc_cutout.config.ledger_path`), so nothing
depends on them. These functions are the public calls behind a command line.

`JobReport` is what a fetch reports (`JSOCCutoutClient.last_report
<sunpy_jsoc_cutout.client.JSOCCutoutClient.last_report>`): the rows JSOC skipped, the requests that
failed (`FailedRequest`) and the planned files that did not arrive (`MissingFile`).

Examples
--------
>>> from sunpy_jsoc_cutout import jobs
>>> for entry in jobs.list_requests():  # doctest: +SKIP
...     print(entry.requestid, entry.status, entry.params["ds"])
>>> files = jobs.download("JSOC_20140205_123", path="~/data/{file}")  # doctest: +SKIP
>>> report = result["jsoccutout"].client.last_report  # after Fido.fetch(result)  # doctest: +SKIP
>>> report.ok, report.shortfall, [f.requestid for f in report.failed]  # doctest: +SKIP
(True, 0, [])
"""

import os
from contextlib import closing

import parfive

from sunpy import log

from ._jsoc.export import FailedExport, JSOCExportAPI, ReadyExport
from ._transfer.download import download_request
from ._transfer.interrupt import InterruptGuard
from ._transfer.ledger import FileEntry, Ledger, RequestEntry, plan_from_params
from ._transfer.paths import path_template, target_path
from ._transfer.report import FailedRequest, JobReport, MissingFile
from ._transfer.scheduler import ExportRunner, runner_from_config
from ._transfer.session import DownloadSession
from .config import base_url, conf_value, ledger_path
from .exceptions import JSOCExportError, MissingNotifyError

__all__ = [
    "FailedRequest",
    "JobReport",
    "MissingFile",
    "cancel",
    "download",
    "list_requests",
    "pending_request",
    "request_files",
    "restage",
]


def _ledger(ledger) -> Ledger:
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger or ledger_path())


def _entry(ledger: Ledger, requestid: str) -> RequestEntry:
    entry = ledger.get(requestid)
    if entry is None:
        msg = f"The ledger {ledger.path} has no request {requestid}; list the known ones with jobs.list_requests()."
        raise JSOCExportError(msg)
    return entry


def _runner(api: JSOCExportAPI, ledger: Ledger, notify: str) -> ExportRunner:
    return runner_from_config(api, ledger, notify)


def list_requests(status: str | None = None, *, ledger: Ledger | str | os.PathLike | None = None) -> list[RequestEntry]:
    """
    The requests in the ledger, oldest first.

    Parameters
    ----------
    status : str, optional
        Only those with this status: ``"submitted"`` (pending at JSOC), ``"complete"``,
        ``"failed"``, ``"expired"`` or ``"cancelled"``.
    ledger : Ledger or path, optional
        Default ``config.ledger_path()``.
    """
    return _ledger(ledger).requests(status)


def request_files(requestid: str, *, ledger: Ledger | str | os.PathLike | None = None) -> list[FileEntry]:
    """The files of a ledger request: record, name, URL, and where and whether each was downloaded."""
    return _ledger(ledger).files(requestid)


def pending_request(notify: str) -> str | None:
    """The ID of the export JSOC holds pending for ``notify`` (any program's), or None."""
    with JSOCExportAPI(base_url()) as api:
        return api.check_pending(notify)


def download(
    requestid: str,
    path: str | os.PathLike | None = None,
    *,
    ledger: Ledger | str | os.PathLike | None = None,
    progress: bool = True,
    keep_tar: bool = False,
) -> parfive.Results:
    """
    Download (again) the files of a completed request; files the ledger holds complete are skipped.

    Parameters
    ----------
    requestid : str
        A JSOC request ID (``JSOC_YYYYMMDD_NNN``); it need not be in the ledger.
    path : str or path-like, optional
        Path template with ``{file}`` (default: sunpy's download directory).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.JSOCExportError
        If JSOC does not have the request complete (status and message in the text); an expired
        request of the ledger can be staged again with `restage`.
    """
    ledger = _ledger(ledger)
    template = path_template(path)
    max_conn = conf_value("max_conn")  # a bad setting or path fails before anything is sent
    retries = (conf_value("download_retries"), conf_value("retry_wait"))
    target_path(template, "check.fits")
    with JSOCExportAPI(base_url()) as api:
        reply = api.exp_status(requestid)
    if int(reply.get("status", -1)) != 0:
        msg = (
            f"JSOC request {requestid} is not ready to download (status {reply.get('status')}: "
            f"{reply.get('error') or reply.get('message') or 'no message'}); if it expired, call jobs.restage()."
        )
        raise JSOCExportError(msg)
    with (
        InterruptGuard(str(ledger.path)) as guard,
        DownloadSession(max_conn, progress, False, guard, *retries) as session,
    ):
        return download_request(
            ledger,
            requestid,
            reply,
            base_url(),
            lambda record, filename: target_path(template, filename),
            session=session,
            keep_tar=keep_tar,
        )


def restage(
    requestid: str, *, notify: str | None = None, ledger: Ledger | str | os.PathLike | None = None
) -> ReadyExport | FailedExport:
    """
    Stage a ledger request again if JSOC deleted it (after about 7 days), and wait for it.

    A request still complete at JSOC is returned as it is. Download it with `download` using
    the returned ``requestid``.

    Parameters
    ----------
    notify : str, optional
        The JSOC-registered address to stage it with. The ledger keeps a request's address only
        while the request is pending, so a finished or expired request needs it here (the same
        address the request was made with, for the ledger to know it as the same request).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.MissingNotifyError
        If ``notify`` is not given and the ledger no longer holds the request's address.
    """
    ledger = _ledger(ledger)
    entry = _entry(ledger, requestid)
    notify = notify or entry.params.get("notify")
    if not notify:
        msg = (
            f"The ledger keeps the address of a request only while it is pending, and {requestid} is "
            f"{entry.status}: call jobs.restage({requestid!r}, notify='the address it was made with')."
        )
        raise MissingNotifyError(msg)
    with (
        JSOCExportAPI(base_url()) as api,
        closing(_runner(api, ledger, notify).iter_ready([plan_from_params(entry.params)])) as staged,
    ):
        return next(staged)


def cancel(requestid: str, *, ledger: Ledger | str | os.PathLike | None = None) -> bool:
    """
    Cancel a pending request of the ledger, so that the address may submit another.

    Returns whether JSOC cancelled it (JSOC only deletes its pending row; the ledger marks the
    request cancelled).
    """
    ledger = _ledger(ledger)
    entry = _entry(ledger, requestid)
    if entry.status != "submitted" or not entry.params.get("notify"):
        log.info("JSOC request %s is %s, not pending: nothing to cancel", requestid, entry.status)
        return False
    with JSOCExportAPI(base_url()) as api:
        cancelled = api.cancel_pending(entry.params["notify"], requestid)
    if cancelled:
        ledger.set_status(requestid, "cancelled", "cancelled by the user")
    return cancelled

"""
The downloads of one fetch: each completed export's files through the fetch's one
`~._transfer.session.DownloadSession`, failures counted in the job report, and an export that JSOC
deleted before its files were downloaded staged again within the same fetch.

Expiry: when downloads of a completed export fail and JSOC then answers status 5 for it (it
deleted the export, ``exp_status`` says so and its files answer 404), the request is marked
``expired`` in the ledger, logged, and its plan (the same plan: same records, processing and
names) is staged again at once, then downloaded; the files that had arrived are taken from the
ledger, not downloaded again. This happens once per export; a second expiry is reported.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import parfive
from tqdm.auto import tqdm

from sunpy import log

from sunpy_jsoc_cutout._jsoc.export import ReadyExport, reply_status
from sunpy_jsoc_cutout.config import base_url
from sunpy_jsoc_cutout.exceptions import FileOverwriteError, JSOCExportError, UnsafeArchiveError
from .download import download_request
from .report import JobReport

__all__ = ["Delivery", "status_url"]


def status_url(requestid: str | None, plan) -> str:
    """A harmless http URL standing for a failed export in ``Results.errors``."""
    if requestid:
        return f"{base_url()}cgi-bin/ajax/jsoc_fetch?op=exp_status&requestid={requestid}"
    return f"{base_url()}cgi-bin/ajax/jsoc_info?op=series_struct&ds={plan.series}"


def _advance(bar, done: int, total: int) -> None:
    bar.total = total
    bar.update(done - bar.n)


class Delivery:
    """
    Downloads the completed exports of one fetch.

    Parameters
    ----------
    api : `~._jsoc.export.JSOCExportAPI`
    ledger : `~._transfer.ledger.Ledger`
    session : `~._transfer.session.DownloadSession`
    new_runner : callable
        Makes an `~._transfer.scheduler.ExportRunner` (without progress) to stage an expired plan again.
    root : `pathlib.Path`
        The download folder (tar files are unpacked there).
    report : `~._transfer.report.JobReport`
    batch : int
    progress, keep_tar : bool
    """

    def __init__(self, api, ledger, session, new_runner, root: Path, report: JobReport, **options) -> None:
        self.api, self.ledger, self.session, self.new_runner = api, ledger, session, new_runner
        self.root, self.report = root, report
        self.batch, self.progress, self.keep_tar = options["batch"], options["progress"], options["keep_tar"]

    def ready(self, outcome: ReadyExport, path_for) -> parfive.Results:
        """The files of a completed export (staged again once if it expired before they arrived)."""
        results = self._download(outcome, path_for)
        if self._failed(results) and not self.session.disk_full:
            message = self._expired(outcome)
            if message is not None:
                log.info(
                    "JSOC export %s expired before its files were downloaded (%s); staging %s again in this fetch",
                    outcome.requestid,
                    message,
                    outcome.plan.ds,
                )
                with closing(self.new_runner().iter_ready([outcome.plan])) as staged:
                    again = next(staged)
                if isinstance(again, ReadyExport):
                    log.info("JSOC export %s stands for the expired %s", again.requestid, outcome.requestid)
                    outcome, results = again, self._download(again, path_for)
                else:
                    self.report.fail(
                        outcome.requestid, f"{message}; staging it again failed: {again.message}", "expired"
                    )
                    return results
        self._count_failures(outcome, results)
        return results

    @staticmethod
    def _failed(results: parfive.Results) -> list:
        """The failed downloads (a refused tar or a refused overwrite is no download failure)."""
        return [
            error
            for error in results.errors
            if not isinstance(error.exception, (UnsafeArchiveError, FileOverwriteError))
        ]

    def _download(self, outcome: ReadyExport, path_for) -> parfive.Results:
        """One completed export's files; an unsafe tar becomes an error entry, not an exception."""
        log.info("Export %s is complete; downloading its files", outcome.requestid)
        bar = tqdm(desc=f"Files of {outcome.requestid}", unit="file", disable=not self.progress)
        try:
            return download_request(
                self.ledger,
                outcome.requestid,
                outcome.index,
                base_url(),
                path_for,
                session=self.session,
                batch=self.batch,
                on_batch=lambda done, total: _advance(bar, done, total),
                tar_dir=self.root,
                keep_tar=self.keep_tar,
                report=self.report,
            )
        except UnsafeArchiveError as err:
            self.report.fail(outcome.requestid, str(err), "refused (unsafe tar)")
            results = parfive.Results()
            stand_in = self.root / f"{outcome.requestid}.unsafe.tar"
            results.add_error(str(stand_in), status_url(outcome.requestid, outcome.plan), err)
            return results
        finally:
            bar.close()

    def _expired(self, outcome: ReadyExport) -> str | None:
        """JSOC's message if it deleted the export (status 5; the ledger then says expired), else `None`."""
        if not outcome.requestid:
            return None
        try:
            reply = self.api.exp_status(outcome.requestid)
        except JSOCExportError:
            return None
        if reply_status(reply) != 5:
            return None
        message = str(reply.get("error") or "JSOC deleted the export")
        if self.ledger.get(outcome.requestid) is not None:
            self.ledger.set_status(outcome.requestid, "expired", message)
        return message

    def _count_failures(self, outcome: ReadyExport, results: parfive.Results) -> None:
        """Every failed download goes to the report; an export JSOC deleted meanwhile is marked expired."""
        failed = self._failed(results)
        refused = [e for e in results.errors if isinstance(e.exception, FileOverwriteError)]
        for error in failed:
            where = error.filepath_partial
            where = where(None, error.url) if callable(where) else where
            self.report.missing_file(
                outcome.requestid, "", Path(str(where)).name, f"download failed: {error.exception}"
            )
        for error in refused:
            name = Path(error.exception.path).name
            self.report.missing_file(outcome.requestid, "", name, f"not written: {error.exception}")
        if failed and not self.session.disk_full:
            message = self._expired(outcome)
            if message is not None:
                self.report.fail(outcome.requestid, f"{message} (before all its files were downloaded)", "expired")

"""
A per-job report: what was skipped, which requests failed, which files are missing.

One `JobReport` goes with each ``fetch``. The fetch records the rows the search marked skipped (the
reasons of the ``Skip`` column, `~sunpy_jsoc_cutout._plan.frames.SKIP_REASONS`), the scheduler records failed, refused or expired requests with
JSOC's request ID and message, and the download step records files that could not be had (a
failed download, a planned record JSOC did not list, a file missing from its tar). The fetch also
says how many files it planned (`JobReport.expect`) and how many arrived (`JobReport.arrived`),
so that every planned file that did not arrive is counted, whatever the cause. `str` gives a
summary for people; `JobReport.log` sends it to ``sunpy.log`` (a warning when something is
missing, else an info line).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from sunpy import log

from sunpy_jsoc_cutout._plan.frames import SKIP_BOX_OFF, SKIP_NO_IMAGE, SKIP_QUALITY

__all__ = ["SKIP_BOX_OFF", "SKIP_NO_IMAGE", "SKIP_QUALITY", "FailedRequest", "JobReport", "MissingFile"]

#: How many record names `JobReport.__str__` lists per reason before eliding.
_SHOW = 5


@dataclass(frozen=True)
class FailedRequest:
    """
    An export request that failed, was refused or expired, with JSOC's message.

    Parameters
    ----------
    requestid : str
        JSOC's request ID (``"(none)"`` when JSOC gave none).
    message : str
        JSOC's message, or what went wrong.
    status : str
        ``"failed"``, ``"failed (status <n>)"`` with JSOC's status, ``"refused"`` (JSOC's reply
        was not the planned export), ``"expired"``, ``"cancelled"`` or ``"not fetched (disk full)"``.
    """

    requestid: str
    message: str
    status: str = "failed"


@dataclass(frozen=True)
class MissingFile:
    """
    A planned file that did not arrive.

    Parameters
    ----------
    requestid : str
        The request it belongs to.
    record : str
        The record it holds.
    filename : str
        Its name in the export (empty when JSOC listed none).
    reason : str
        Why it is missing (a failed download, not listed by JSOC, missing from its tar...).
    """

    requestid: str
    record: str
    filename: str
    reason: str


class JobReport:
    """
    What a fetch skipped, which of its requests failed and which planned files did not arrive.

    Each fetch of `~sunpy_jsoc_cutout.client.JSOCCutoutClient` makes one and keeps it as
    ``client.last_report``; `str` gives a summary for people. Safe to fill from several threads.

    Attributes
    ----------
    skipped : dict of str to list of str
        The rows JSOC skips, by reason (the texts of the search results' ``Skip`` column:
        ``"QUALITY < 0"``, ``"no image"``, ``"box off the image"``): their records.
    failed : list of `FailedRequest`
        The export requests that failed, were refused or expired.
    missing : list of `MissingFile`
        The planned files that could not be had.
    planned : int or None
        The files the fetch planned (rows JSOC will not skip); `None` before a fetch said so.
    delivered : int
        The files the fetch returned.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.skipped: dict[str, list[str]] = {}
        self.failed: list[FailedRequest] = []
        self.missing: list[MissingFile] = []
        self.planned: int | None = None
        self.delivered: int = 0

    def expect(self, files: int) -> None:
        """Add ``files`` to the number of files planned."""
        with self._lock:
            self.planned = (self.planned or 0) + int(files)

    def arrived(self, files: int) -> None:
        """Add ``files`` to the number of files that arrived."""
        with self._lock:
            self.delivered += int(files)

    @property
    def shortfall(self) -> int:
        """Planned files that did not arrive (0 when nothing was planned)."""
        return max(0, (self.planned or 0) - self.delivered)

    def skip(self, reason: str, record: str) -> None:
        """Record a row left out of the job, and why (a ``Skip`` text such as ``"QUALITY < 0"``)."""
        with self._lock:
            self.skipped.setdefault(reason, []).append(record)

    def fail(self, requestid: str, message: str, status: str = "failed") -> None:
        """Record a request that failed (or ``status="expired"``/``"cancelled"``) with JSOC's message."""
        with self._lock:
            self.failed.append(FailedRequest(requestid, message, status))
        log.warning("JSOC export request %s %s: %s", requestid, status, message)

    def missing_file(self, requestid: str, record: str, filename: str, reason: str) -> None:
        """Record an expected file that could not be had."""
        with self._lock:
            self.missing.append(MissingFile(requestid, record, filename, reason))

    @property
    def ok(self) -> bool:
        """`True` if no request failed, no file is missing and every planned file arrived (skips do not count)."""
        return not self.failed and not self.missing and not self.shortfall

    def counts(self) -> Counter:
        """The number of skipped frames per reason."""
        return Counter({reason: len(records) for reason, records in self.skipped.items()})

    def _skipped_lines(self) -> list[str]:
        lines = []
        for reason, records in sorted(self.skipped.items()):
            shown = ", ".join(records[:_SHOW]) + (", ..." if len(records) > _SHOW else "")
            lines.append(f"  skipped {len(records)} ({reason}): {shown}")
        return lines

    def _arrival(self, end: str) -> str:
        if self.planned is None:
            return ""
        return f" {self.delivered} of {self.planned} planned files arrived{end}"

    def __str__(self) -> str:
        with self._lock:
            if not (self.skipped or self.failed or self.missing or self.shortfall):
                return f"JSOC cutout job:{self._arrival(';')} nothing skipped, no failed requests, no missing files."
            lines = [f"JSOC cutout job report:{self._arrival('.')}", *self._skipped_lines()]
            lines += [f"  request {f.requestid} {f.status}: {f.message}" for f in self.failed]
            lines += [
                f"  missing {m.filename or m.record} (request {m.requestid}, record {m.record}): {m.reason}"
                for m in self.missing
            ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: {sum(self.counts().values())} skipped, {len(self.failed)} failed requests, "
            f"{len(self.missing)} missing files, {self.shortfall} planned files not arrived>"
        )

    def log(self) -> None:
        """Log the report: a warning if a request failed or a file is missing, else info."""
        if self.ok:
            log.info("%s", self)
        else:
            log.warning("%s", self)

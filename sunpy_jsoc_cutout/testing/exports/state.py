"""State of the export manager: requests, the pending-request table and the duplicate table.

These mirror JSOC's ``jsoc.export``/``jsoc.export_new`` records, ``jsoc.export_pending_reqs``
(address, IP, request id, start time; rows older than 60 minutes are ignored) and
``jsoc.export_md5`` (MD5 -> request id, 24 hour window). They hold no lock of their own: the
manager guards them with its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DuplicateTable", "ExportFaults", "ExportRequest", "PendingRow", "PendingTable", "manage_request_reply"]

PENDING_TIMEOUT = 60 * 60.0
DUPLICATE_WINDOW = 24 * 3600.0
RETENTION = 7 * 86400.0
CONTACT = "jsoc_help@jsoc.stanford.edu"
DELETED = "Request was completed but is now deleted, 7 day limit exceeded"
OFFLINE = (
    "One or more data files are offline; please send a request for help to jsoc@sun.stanford.edu and we "
    "will place the requested data online, and then you may try again; "
)


@dataclass
class ExportRequest:
    """
    One export request and where it is in its life.

    ``state`` is ``queued`` (waiting for the worker), ``staging`` (files being made),
    ``staged`` (files made, the time model not yet satisfied), ``done``, ``failed`` or
    ``deleted`` (expired).
    """

    requestid: str
    serial: int
    notify: str
    ip: str
    dataset: str
    records: Any
    chain: Any
    method: str
    protocol: str
    filenamefmt: str | None
    md5: str
    rcount: int
    size: int
    nfiles: int
    submitted: float
    est_time: float
    ready_at: float
    state: str = "queued"
    polls: int = 0
    error: str | None = None
    completed_at: float | None = None
    sums_dir: str | None = None
    local_dir: Path | None = None
    index: dict | None = None
    faults: Any = None
    tape_sunums: frozenset = frozenset()  # storage units on tape that this export stages

    def describe(self) -> dict:
        """JSON-serialisable summary (control API)."""
        return {
            "requestid": self.requestid,
            "notify": self.notify,
            "ip": self.ip,
            "dataset": self.dataset,
            "process": getattr(self.chain, "text", None),
            "method": self.method,
            "protocol": self.protocol,
            "filenamefmt": self.filenamefmt,
            "rcount": self.rcount,
            "size": self.size,
            "nfiles": self.nfiles,
            "state": self.state,
            "polls": self.polls,
            "error": self.error,
            "submitted": self.submitted,
            "ready_at": self.ready_at,
            "completed_at": self.completed_at,
            "dir": self.sums_dir,
        }

    def status_reply(self, now: float) -> dict:
        """The ``exp_status`` reply: ``index.json`` when done, else JSOC's status object."""
        if self.state == "done":
            assert self.index is not None, "a done request has its index"
            return dict(self.index)
        reply = {
            "status": 1,
            "requestid": self.requestid,
            "method": self.method,
            "protocol": self.protocol,
            "wait": round(self.est_time - now),
            "rcount": 0,
            "size": self.size,
        }
        if self.state == "failed":
            reply.update(
                status=4, wait=999999, error=self.error or "RecordSet specified does not exist", contact=CONTACT
            )
        elif self.state == "deleted":
            reply.update(status=5, wait=999999, error=DELETED, contact=CONTACT)
        elif self.state == "offline":
            reply.update(status=25, wait=999999, error=OFFLINE + self.requestid, contact=CONTACT)
        return reply


@dataclass
class PendingRow:
    """A row of ``jsoc.export_pending_reqs``."""

    address: str
    ip: str
    requestid: str
    start: float


@dataclass
class PendingTable:
    """Pending export requests per address and per IP."""

    rows: list[PendingRow] = field(default_factory=list)
    timeout: float = PENDING_TIMEOUT

    def live(self, now: float) -> list[PendingRow]:
        return [r for r in self.rows if now - r.start < self.timeout]

    def for_address(self, address: str, now: float) -> list[PendingRow]:
        """Live rows of ``address`` (case-insensitive, as ``lower(address) = lower(...)``)."""
        low = address.lower()
        return [r for r in self.live(now) if r.address.lower() == low]

    def for_address_exact(self, address: str, now: float) -> list[PendingRow]:
        """Live rows of ``address`` compared exactly (``manage-request.sh``'s query)."""
        return [r for r in self.live(now) if r.address == address]

    def count_ip(self, ip: str, now: float) -> int:
        return sum(1 for r in self.live(now) if r.ip == ip)

    def add(self, address: str, ip: str, requestid: str, now: float) -> None:
        self.rows.append(PendingRow(address, ip, requestid, now))

    def release(self, requestid: str) -> int:
        """Delete the rows of ``requestid`` (completion, failure, cancel); return how many."""
        before = len(self.rows)
        self.rows = [r for r in self.rows if r.requestid != requestid]
        return before - len(self.rows)

    def describe(self, now: float) -> list[dict]:
        return [
            {
                "address": r.address,
                "ip": r.ip,
                "requestid": r.requestid,
                "start": r.start,
                "live": now - r.start < self.timeout,
            }
            for r in self.rows
        ]


@dataclass
class DuplicateTable:
    """``jsoc.export_md5``: MD5 of a request -> (request id, time)."""

    rows: dict[str, tuple[str, float]] = field(default_factory=dict)
    window: float = DUPLICATE_WINDOW

    def find(self, md5: str, now: float) -> str | None:
        row = self.rows.get(md5)
        if row is None or now - row[1] >= self.window:
            return None
        return row[0]

    def add(self, md5: str, requestid: str, now: float) -> None:
        self.rows[md5] = (requestid, now)

    def forget(self, requestid: str) -> None:
        """Drop the hash of a failed request (``ErrorOutExpRec`` does that)."""
        self.rows = {k: v for k, v in self.rows.items() if v[0] != requestid}


class ExportFaults:
    """
    The export-level fault knobs (see `~sunpy_jsoc_cutout.testing.exports.manager.ExportManager.set_faults`).

    Held under the manager's lock.
    """

    UNSAFE_KINDS = ("absolute", "dotdot", "symlink", "hardlink")
    DEFAULT_MESSAGE = "Export failed: simulated fault in the export system."

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.fail_after: int | None = None
        self.fail_message = self.DEFAULT_MESSAGE
        self.fail_requests: int | None = None
        self.unsafe_tar: tuple[str, ...] = ()
        self.offline = False

    def update(self, fail_after=None, fail_message=None, fail_requests=None, unsafe_tar=(), offline=None) -> None:
        if offline is not None:
            self.offline = bool(offline)
        if fail_after is not None:
            self.fail_after, self.fail_requests = int(fail_after), fail_requests
        if fail_message is not None:
            self.fail_message = fail_message
        if unsafe_tar:
            bad = set(unsafe_tar) - set(self.UNSAFE_KINDS)
            if bad:
                raise ValueError(f"unknown unsafe tar member kinds {sorted(bad)}; expected {self.UNSAFE_KINDS}")
            self.unsafe_tar = tuple(unsafe_tar)

    def take(self, method: str) -> dict:
        """The faults a new request gets (consumes one of ``fail_requests``)."""
        fail = self.fail_after is not None and self.fail_requests != 0
        if fail and self.fail_requests is not None:
            self.fail_requests -= 1
        return {
            "fail_after": self.fail_after if fail else None,
            "fail_message": self.fail_message,
            "unsafe_tar": self.unsafe_tar if method.endswith("-tar") else (),
        }

    def describe(self) -> dict:
        return {
            "fail_after": self.fail_after,
            "fail_message": self.fail_message,
            "fail_requests": self.fail_requests,
            "unsafe_tar": list(self.unsafe_tar),
            "offline": self.offline,
        }


def manage_request_reply(pending: PendingTable, params, now: float, start_text) -> dict:
    """
    ``manage-request.sh``'s reply (``lm-jps/drms:base/export/scripts/manage-request.py``).

    Parameters
    ----------
    pending : PendingTable
        The table (a ``cancel`` deletes the row).
    params : Mapping
        ``address`` and ``operation`` (``check`` or ``cancel``).
    now : float
        Current time.
    start_text : callable
        Formats a row's start time (``%Y-%m-%d %H:%M:%S``).
    """
    address, operation = params.get("address"), params.get("operation", params.get("op"))
    if not address or not operation:
        missing = "address" if not address else "operation"
        return {"status": "-3", "msg": f"[ ArgumentError ] missing required argument '{missing}'"}
    operation = operation.lower()
    if operation not in ("check", "cancel"):
        return {"status": "-3", "msg": f"[ ArgumentError ] invalid operation type {params.get('operation')}"}
    rows = pending.for_address_exact(address, now)
    if len(rows) > 1:
        kind, code = ("CheckError", "-5") if operation == "check" else ("CancelError", "-6")
        return {
            "status": code,
            "msg": f"[ {kind} ] unable to {operation} export request for export user "
            f"{address}(unexpected number of rows returned)",
        }
    if not rows:
        return {"status": "1", "msg": f"no existing export request for export user {address}"}
    row = rows[0]
    text = (
        f"existing export request for export user {address} [ request_id={row.requestid}, "
        f"start_time={start_text(row.start)} ]"
    )
    if operation == "check":
        return {"status": "2", "msg": text}
    pending.release(row.requestid)
    return {"status": "3", "msg": text + " was canceled"}

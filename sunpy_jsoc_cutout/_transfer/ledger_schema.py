"""
The ledger's tables and entries: the request key, `RequestEntry`, `FileEntry` and the SQL schema.

A request's parameters are stored as `ledger_params` writes them and read back into a plan with
`plan_from_params`; the fields that identify a request are listed once, in `REQUEST_KEY_FIELDS`.

The ``claims`` table is the lock of two processes downloading into one folder, the ``intents``
table the lock of two processes submitting the same request (see `~._transfer.ledger_claims`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sunpy_jsoc_cutout._plan.plans import ExportPlan

__all__ = [
    "ADDED_COLUMNS",
    "REQUEST_KEY_FIELDS",
    "SCHEMA",
    "STATUSES",
    "FileEntry",
    "RequestEntry",
    "ledger_params",
    "plan_from_params",
    "request_key",
]

#: The export parameters that identify a request (see `request_key`).
REQUEST_KEY_FIELDS = (
    "series",
    "ds",
    "process",
    "protocol",
    "method",
    "filenamefmt",
    "sizeratio",
    "notify",
    "requestor",
)
#: The `ExportPlan` fields among them (the rest, ``notify``, is the address the plan is sent with).
_PLAN_KEY_FIELDS = tuple(name for name in REQUEST_KEY_FIELDS if name != "notify")

#: The statuses a request can have in the ledger.
STATUSES = frozenset({"submitted", "complete", "failed", "expired", "cancelled"})

#: Columns added to tables after their first release: ``(table, column, declaration)``. A ledger
#: written by an earlier version gets them when it is opened; their defaults mean "unknown".
ADDED_COLUMNS = (
    ("intents", "owner", "TEXT NOT NULL DEFAULT ''"),
    ("intents", "host", "TEXT NOT NULL DEFAULT ''"),
    ("intents", "pid", "INTEGER NOT NULL DEFAULT 0"),
)

#: Statuses of requests that `Ledger.request_for` never returns (they must be asked again).
_UNUSABLE = ("failed", "cancelled")

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    requestid TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    submitted REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_key ON requests (key);
CREATE TABLE IF NOT EXISTS intents (
    key TEXT PRIMARY KEY,
    started REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS files (
    requestid TEXT NOT NULL,
    filename TEXT NOT NULL,
    record TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    path TEXT,
    size INTEGER,
    sha256 TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    PRIMARY KEY (requestid, filename)
);
CREATE INDEX IF NOT EXISTS files_path ON files (path);
CREATE TABLE IF NOT EXISTS claims (
    requestid TEXT NOT NULL,
    filename TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    PRIMARY KEY (requestid, filename)
);
"""


def _canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces; values JSON cannot hold are written with `str`."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def request_key(params: Mapping[str, Any]) -> str:
    """
    A stable identifier of an export request's parameters.

    Parameters
    ----------
    params : `~collections.abc.Mapping`
        The export's parameters. Only the fields in `REQUEST_KEY_FIELDS` (``series``, ``ds``,
        ``process``, ``protocol``, ``method``, ``filenamefmt``, ``sizeratio``, ``notify``,
        ``requestor``) count; other keys (``op``, ``format``, ...) and fields set to `None` are
        ignored, so the same fetch planned again gives the same key.

    Returns
    -------
    `str`
        The sha256 hex digest of the canonical JSON of those fields.
    """
    picked = {name: params[name] for name in REQUEST_KEY_FIELDS if params.get(name) is not None}
    return hashlib.sha256(_canonical_json(picked).encode("utf-8")).hexdigest()


def ledger_params(plan: ExportPlan, notify: str) -> dict[str, Any]:
    """
    The parameters the ledger stores for a plan: the `REQUEST_KEY_FIELDS` plus ``wavelength``.

    `plan_from_params` rebuilds the plan from them.
    """
    params: dict[str, Any] = {name: getattr(plan, name) for name in _PLAN_KEY_FIELDS}
    params["notify"] = notify
    params["wavelength"] = plan.wavelength
    return params


def plan_from_params(params: Mapping[str, Any]) -> ExportPlan:
    """
    The `ExportPlan` of a ledger entry's parameters (as `ledger_params` wrote them): the record set
    and the process are the text that was sent (`~sunpy_jsoc_cutout._plan.jsoc_text.Verbatim`).
    """
    sent = {"recordset": params.get("ds"), "processing": params.get("process")}
    fields: dict[str, Any] = {f.name: sent.get(f.name, params.get(f.name)) for f in dataclasses.fields(ExportPlan)}
    return ExportPlan(**fields)


@dataclass(frozen=True)
class RequestEntry:
    """
    One export request in the ledger.

    Attributes
    ----------
    requestid : `str`
        JSOC's request ID (e.g. ``JSOC_20140205_123``).
    key : `str`
        The `request_key` of ``params``.
    params : `dict`
        The export parameters the request was made with.
    status : `str`
        One of ``"submitted"``, ``"complete"``, ``"failed"``, ``"expired"``, ``"cancelled"``.
    message : `str`
        JSOC's last message about the request (empty if none).
    submitted, updated : `float`
        Unix times of the submission and of the last change.
    """

    requestid: str
    key: str
    params: dict
    status: str
    message: str
    submitted: float
    updated: float


@dataclass(frozen=True)
class FileEntry:
    """
    One file of an export request.

    Attributes
    ----------
    requestid : `str`
        The request the file belongs to.
    record : `str`
        The record (or ``"tarfile"`` for a url-tar export) the file holds.
    filename : `str`
        The file's name in the export.
    url : `str`
        Where the file is downloaded from.
    path : `str` or `None`
        Where the file was saved, once done.
    size : `int` or `None`
        Its size in bytes, once done.
    sha256 : `str` or `None`
        The sha256 hex digest of its contents, once done.
    done : `bool`
        Whether the file was downloaded completely.
    """

    requestid: str
    record: str
    filename: str
    url: str
    path: str | None
    size: int | None
    sha256: str | None
    done: bool


_REQUEST_COLUMNS = "requestid, key, params, status, message, submitted, updated"
_FILE_COLUMNS = "requestid, record, filename, url, path, size, sha256, done"


def _request_entry(row: tuple) -> RequestEntry:
    requestid, key, params, status, message, submitted, updated = row
    return RequestEntry(requestid, key, json.loads(params), status, message, submitted, updated)


def _file_entry(row: tuple) -> FileEntry:
    requestid, record, filename, url, path, size, sha256, done = row
    return FileEntry(requestid, record, filename, url, path, size, sha256, bool(done))

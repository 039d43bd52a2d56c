"""
The download ledger: what was asked of JSOC and which files are already on disk.

A `Ledger` is a small SQLite database (standard library ``sqlite3``) kept next to the
downloads. It records every export request (its JSOC request ID, the parameters it was made
with, its status and JSOC's message) and every file of each request (record, file name, URL,
and once downloaded, its path, size and sha256). Re-running the same fetch after a crash or a
kill looks the request up by `request_key` and reuses a pending or finished request instead
of submitting a new one, and skips files whose `Ledger.done_file` entry still matches the
file on disk.

Two processes may use the same ledger file at once: the database runs in WAL mode, every
operation opens its own short transaction (``BEGIN IMMEDIATE`` for writes) and waits up to
`Ledger.BUSY_TIMEOUT` seconds for a lock held by another process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["REQUEST_KEY_FIELDS", "STATUSES", "FileEntry", "Ledger", "RequestEntry", "request_key"]

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

#: The statuses a request can have in the ledger.
STATUSES = frozenset({"submitted", "complete", "failed", "expired", "cancelled"})

#: Statuses of requests that `Ledger.request_for` never returns (they must be asked again).
_UNUSABLE = ("failed", "cancelled")

_SCHEMA = """
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
    started REAL NOT NULL
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


class Ledger:
    """
    The on-disk record of a job's export requests and downloaded files.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The SQLite file; it and its parent directories are created if missing.

    Notes
    -----
    Every method opens its own connection and transaction, so a `Ledger` can be shared by
    threads, and several processes can use the same file at once.
    """

    #: Seconds a write waits for another process's lock before giving up.
    BUSY_TIMEOUT = 30.0

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser().resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            # WAL lets readers and one writer work at once; it is a property of the file.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in its own transaction, committed on success and always closed."""
        connection = sqlite3.connect(self.path, timeout=self.BUSY_TIMEOUT, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.BUSY_TIMEOUT * 1000)}")
            connection.execute("PRAGMA synchronous = NORMAL")
            if not write:
                yield connection
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    # Requests ---------------------------------------------------------------------------------

    def request_for(self, key: str) -> RequestEntry | None:
        """
        The newest request made with parameters of this `request_key` that can still be used.

        Failed and cancelled requests are never returned; submitted, complete and expired ones
        are (the caller decides what to do with an expired one: its done files stay valid).
        """
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE key = ? AND status NOT IN (?, ?) "
                "ORDER BY submitted DESC, rowid DESC LIMIT 1",
                (key, *_UNUSABLE),
            ).fetchone()
        return None if row is None else _request_entry(row)

    def add_request(self, key: str, requestid: str, params: Mapping[str, Any]) -> RequestEntry:
        """
        Record a newly submitted request (status ``"submitted"``).

        Adding a request ID that is already in the ledger changes nothing and returns the
        existing entry.
        """
        now = time.time()
        with self._connect(write=True) as connection:
            connection.execute(
                f"INSERT OR IGNORE INTO requests ({_REQUEST_COLUMNS}) VALUES (?, ?, ?, 'submitted', '', ?, ?)",
                (requestid, key, _canonical_json(dict(params)), now, now),
            )
            row = connection.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE requestid = ?", (requestid,)
            ).fetchone()
        return _request_entry(row)

    # Submissions in flight --------------------------------------------------------------------

    def add_intent(self, key: str) -> None:
        """
        Note that a request with this `request_key` is about to be submitted.

        A process killed after JSOC accepted the request but before `add_request` leaves the
        intent behind; the next run then knows that a pending request JSOC names for the same
        address may be its own.
        """
        with self._connect(write=True) as connection:
            connection.execute("INSERT OR REPLACE INTO intents (key, started) VALUES (?, ?)", (key, time.time()))

    def intent(self, key: str) -> float | None:
        """When an unfinished submission with this key started (unix time), or `None`."""
        with self._connect() as connection:
            row = connection.execute("SELECT started FROM intents WHERE key = ?", (key,)).fetchone()
        return None if row is None else float(row[0])

    def clear_intent(self, key: str) -> None:
        """Forget the submission intent of this key (it was recorded or refused)."""
        with self._connect(write=True) as connection:
            connection.execute("DELETE FROM intents WHERE key = ?", (key,))

    def get(self, requestid: str) -> RequestEntry | None:
        """The entry of a request ID, or `None` if the ledger does not know it."""
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE requestid = ?", (requestid,)
            ).fetchone()
        return None if row is None else _request_entry(row)

    def set_status(self, requestid: str, status: str, message: str = "") -> None:
        """
        Change a request's status and message.

        Raises
        ------
        ValueError
            If ``status`` is not one of `STATUSES`.
        KeyError
            If the ledger does not know ``requestid``.
        """
        if status not in STATUSES:
            raise ValueError(f"Unknown request status {status!r}; use one of {sorted(STATUSES)}.")
        with self._connect(write=True) as connection:
            cursor = connection.execute(
                "UPDATE requests SET status = ?, message = ?, updated = ? WHERE requestid = ?",
                (status, message, time.time(), requestid),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"The ledger {self.path} has no request {requestid!r}.")

    def requests(self, status: str | None = None) -> list[RequestEntry]:
        """All requests (or those with ``status``), oldest first."""
        query = f"SELECT {_REQUEST_COLUMNS} FROM requests"
        args: tuple = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY submitted, rowid", args).fetchall()
        return [_request_entry(row) for row in rows]

    def known_request_ids(self) -> set[str]:
        """Every request ID in the ledger, whatever its status."""
        with self._connect() as connection:
            return {row[0] for row in connection.execute("SELECT requestid FROM requests")}

    # Files ------------------------------------------------------------------------------------

    def add_files(self, requestid: str, files: Iterable[tuple[str, str, str]]) -> None:
        """
        Record the files of a request from ``(record, filename, url)`` tuples.

        Idempotent: a file already recorded keeps its done state (its record and URL are
        updated if they changed, e.g. after the export was staged again).
        """
        rows = [(requestid, filename, record, url) for record, filename, url in files]
        with self._connect(write=True) as connection:
            start = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM files").fetchone()[0]
            connection.executemany(
                "INSERT INTO files (requestid, filename, record, url, seq) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (requestid, filename) DO UPDATE SET record = excluded.record, url = excluded.url",
                [(*row, start + i) for i, row in enumerate(rows, 1)],
            )

    def files(self, requestid: str) -> list[FileEntry]:
        """The files of a request, in the order they were added."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_FILE_COLUMNS} FROM files WHERE requestid = ? ORDER BY seq", (requestid,)
            ).fetchall()
        return [_file_entry(row) for row in rows]

    def mark_done(self, requestid: str, filename: str, path: str, size: int, sha256: str) -> None:
        """Record that a file was downloaded completely to ``path`` (a file not yet added is added)."""
        with self._connect(write=True) as connection:
            start = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM files").fetchone()[0]
            connection.execute(
                "INSERT INTO files (requestid, filename, path, size, sha256, done, seq) VALUES (?, ?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (requestid, filename) DO UPDATE SET path = excluded.path, size = excluded.size, "
                "sha256 = excluded.sha256, done = 1",
                (requestid, filename, str(path), int(size), sha256, start + 1),
            )

    def done_file(self, requestid: str, filename: str) -> FileEntry | None:
        """
        The entry of a file that is done and still on disk with its recorded size, else `None`.

        A file that was deleted or changed size since it was downloaded counts as not done.
        """
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_FILE_COLUMNS} FROM files WHERE requestid = ? AND filename = ? AND done = 1",
                (requestid, filename),
            ).fetchone()
        if row is None:
            return None
        entry = _file_entry(row)
        try:
            size = Path(entry.path).stat().st_size
        except (OSError, TypeError):
            return None
        return entry if size == entry.size else None

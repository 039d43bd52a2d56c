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

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sunpy import log

from sunpy_jsoc_cutout.exceptions import LedgerError
from .ledger_claims import _HOST, ClaimsMixin, Intent, owner_id
from .ledger_schema import (
    _FILE_COLUMNS,
    _REQUEST_COLUMNS,
    _UNUSABLE,
    ADDED_COLUMNS,
    REQUEST_KEY_FIELDS,
    STATUSES,
    FileEntry,
    RequestEntry,
    _canonical_json,
    _file_entry,
    _request_entry,
    ledger_params,
    plan_from_params,
    request_key,
)
from .ledger_schema import SCHEMA as _SCHEMA

__all__ = [
    "REQUEST_KEY_FIELDS",
    "STATUSES",
    "FileEntry",
    "Ledger",
    "RequestEntry",
    "SubmissionTurn",
    "ledger_params",
    "plan_from_params",
    "request_key",
]

#: What SQLite's messages mean for a ledger that cannot be opened.
_SQLITE_REASONS = {
    "file is not a database": "it is not a ledger (not a SQLite file); move it away or choose another path",
    "unable to open database file": "it cannot be created or opened there (is the folder read-only?)",
    "attempt to write a readonly database": "it or its folder is read-only (the ledger writes beside itself)",
}


def _ledger_error(path: Path, reason: str) -> LedgerError:
    """The error of a ledger that cannot be opened: its path, why, and what to do."""
    return LedgerError(
        f"The request ledger {str(path)!r} cannot be opened: {reason}. Set conf.ledger (or pass ledger=) to a "
        "file in a folder you can write, new or made by this client; an existing ledger there is reused."
    )


def _private_file(path: Path) -> None:
    """
    Create the ledger file (and its missing folders) readable by its owner only: 0600 (0700).

    An existing ledger readable by others (earlier versions used the umask) is made 0600.
    """
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode) and mode & 0o077 and path.stat().st_uid == getattr(os, "getuid", lambda: -1)():
            path.chmod(0o600)
            log.info("The ledger %s was readable by others; it is now readable by its owner only", path)


def _drop_address(connection, requestid: str) -> None:
    """Remove the notification address from a request's parameters (kept only while it is pending)."""
    (params,) = connection.execute("SELECT params FROM requests WHERE requestid = ?", (requestid,)).fetchone()
    params = json.loads(params)
    if params.pop("notify", None) is not None:
        connection.execute("UPDATE requests SET params = ? WHERE requestid = ?", (_canonical_json(params), requestid))


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Give a ledger written by an earlier version the columns added since (`ADDED_COLUMNS`)."""
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


@dataclass(frozen=True)
class SubmissionTurn:
    """
    What `Ledger.take_intent` found: whether this process may submit a request now.

    Attributes
    ----------
    granted : `bool`
        This process now holds the submission intent and may submit.
    previous : `float` or `None`
        When granted: the start (unix time) of an unfinished submission of an earlier run (a
        killed process, or this one) that was taken over; JSOC may hold that request already.
    holder : `Intent` or `None`
        Not granted: the intent of another process that is submitting the request now.
    request : `RequestEntry` or `None`
        Not granted: the request (submitted or complete) the ledger already holds for the key.
    """

    granted: bool
    previous: float | None = None
    holder: Intent | None = None
    request: RequestEntry | None = None


_INTENT_COLUMNS = "key, owner, host, pid, started"


class Ledger(ClaimsMixin):
    """
    The on-disk record of a job's export requests and downloaded files.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The SQLite file; it and its parent directories are created if missing.

    Notes
    -----
    Every method runs in its own transaction, on a connection of its thread (opened once and kept:
    opening one costs more than most operations), so a `Ledger` can be shared by threads, and
    several processes can use the same file at once. `close` closes the connections.
    """

    #: Seconds a write waits for another process's lock before giving up.
    BUSY_TIMEOUT = 30.0

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser().resolve()
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        if self.path.is_dir() or (self.path.exists() and not self.path.is_file()):
            kind = "a folder" if self.path.is_dir() else "not a regular file"
            raise _ledger_error(self.path, f"it is {kind}")
        blocker = next((p for p in self.path.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise _ledger_error(self.path, f"its folder cannot be made: {str(blocker)!r} is a file, not a folder")
        try:
            _private_file(self.path)
            with self._connect() as connection:
                # WAL lets readers and one writer work at once; it is a property of the file.
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                _add_missing_columns(connection)
            self._forget_addresses()
        except sqlite3.DatabaseError as err:
            raise _ledger_error(self.path, _SQLITE_REASONS.get(str(err), f"SQLite says {str(err)!r}")) from err
        except OSError as err:  # the file or its folder cannot be made (a file in the way, a read-only place)
            where = Path(err.filename) if err.filename else self.path.parent
            what = "it cannot be created" if where == self.path else "its folder cannot be made"
            raise _ledger_error(self.path, f"{what} ({err.strerror or err}: {str(where)!r})") from err

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def close(self) -> None:
        """Close the connections this ledger keeps (a later call opens a new one)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()

    def __del__(self) -> None:
        if getattr(self, "_opened", None):
            self.close()

    def _open(self, shared: bool) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=self.BUSY_TIMEOUT, isolation_level=None, check_same_thread=not shared
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.BUSY_TIMEOUT * 1000)}")
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def _take(self) -> tuple[sqlite3.Connection, bool]:
        """This thread's kept connection (True) or, while it is in use or in a forked child, a new one (False)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # new thread, or a child process: nothing of the parent's
            local.pid, local.connection, local.busy = os.getpid(), None, False
        if local.busy:
            return self._open(shared=False), False
        if local.connection is None:
            local.connection = self._open(shared=True)  # closed by `close`, possibly from another thread
            with self._opened_lock:
                self._opened.append(local.connection)
        local.busy = True
        return local.connection, True

    def _give_back(self, connection: sqlite3.Connection, kept: bool, failed: bool) -> None:
        if not kept:
            connection.close()
            return
        self._local.busy = False
        if failed:  # a connection that saw an error is not trusted again
            self._local.connection = None
            with self._opened_lock:
                if connection in self._opened:
                    self._opened.remove(connection)
            connection.close()

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in its own transaction, committed on success (rolled back on an error)."""
        connection, kept = self._take()
        failed = True
        try:
            if not write:
                yield connection
            else:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            failed = False
        finally:
            self._give_back(connection, kept, failed)

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

    def take_intent(self, key: str) -> SubmissionTurn:
        """
        Take the turn to submit the request of this `request_key`, unless another process has it.

        One ``BEGIN IMMEDIATE`` transaction looks for a submitted or complete request with the key
        and for the submission intent of another process that still runs; if there is neither,
        this process's intent is written (replacing one left by a killed run). So of two
        processes that plan the same request, one submits it and the other adopts it, even when
        both ask at the same moment (JSOC's own checks are not atomic across its CGI processes).

        A process killed after JSOC accepted the request but before `add_request` leaves the
        intent behind; the next run then knows (`SubmissionTurn.previous`) that a pending request
        JSOC names for the same address may be its own.
        """
        with self._connect(write=True) as connection:
            row = connection.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE key = ? AND status IN ('submitted', 'complete') "
                "ORDER BY submitted DESC, rowid DESC LIMIT 1",
                (key,),
            ).fetchone()
            if row is not None:
                return SubmissionTurn(False, request=_request_entry(row))
            row = connection.execute(f"SELECT {_INTENT_COLUMNS} FROM intents WHERE key = ?", (key,)).fetchone()
            intent = None if row is None else Intent(*row)
            if intent is not None and intent.live:
                return SubmissionTurn(False, holder=intent)
            self._write_intent(connection, key)
        return SubmissionTurn(True, previous=None if intent is None else intent.started)

    def add_intent(self, key: str) -> None:
        """Note that this process is about to submit the request of this key (see `take_intent`)."""
        with self._connect(write=True) as connection:
            self._write_intent(connection, key)

    @staticmethod
    def _write_intent(connection: sqlite3.Connection, key: str) -> None:
        connection.execute(
            f"INSERT OR REPLACE INTO intents ({_INTENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (key, owner_id(), _HOST, os.getpid(), time.time()),
        )

    def intent(self, key: str) -> float | None:
        """When an unfinished submission with this key started (unix time), or `None`."""
        with self._connect() as connection:
            row = connection.execute("SELECT started FROM intents WHERE key = ?", (key,)).fetchone()
        return None if row is None else float(row[0])

    def clear_intent(self, key: str) -> None:
        """Forget this process's submission intent of this key (it was recorded or refused)."""
        with self._connect(write=True) as connection:
            connection.execute("DELETE FROM intents WHERE key = ? AND owner = ?", (key, owner_id()))

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
            if status != "submitted":
                _drop_address(connection, requestid)

    def _forget_addresses(self) -> None:
        """Drop the address of every request that is no longer pending (ledgers of earlier versions kept it)."""
        with self._connect(write=True) as connection:
            rows = connection.execute("SELECT requestid, params FROM requests WHERE status != 'submitted'").fetchall()
            for requestid, params in rows:
                if "notify" in json.loads(params):
                    _drop_address(connection, requestid)

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
            connection.execute("DELETE FROM claims WHERE requestid = ? AND filename = ?", (requestid, filename))

    def done_in_plan(self, requestid: str, filename: str) -> FileEntry | None:
        """
        The newest done entry of ``filename`` in any request made with the same parameters as
        ``requestid`` (an expired request staged again names its files as before), if still on disk.
        """
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {', '.join('f.' + c for c in _FILE_COLUMNS.split(', '))} FROM files f "
                "JOIN requests r ON r.requestid = f.requestid WHERE f.filename = ? AND f.done = 1 AND r.key = "
                "(SELECT key FROM requests WHERE requestid = ?) ORDER BY f.seq DESC",
                (filename, requestid),
            ).fetchall()
        for row in rows:
            entry = self.done_file(row[0], filename)
            if entry is not None:
                return entry
        return None

    def done_at(self, path: str | os.PathLike) -> list[tuple[FileEntry, dict | None]]:
        """
        Every done entry recorded at ``path`` (as `mark_done` wrote it), newest added first, each
        with the parameters of its request (`None` for a request the ledger does not know).

        Several entries mean several files were moved to that path over time: the one whose sha256
        is the file's on disk is the one there now (see `~._transfer.overwrite`).
        """
        columns = ", ".join("f." + c for c in _FILE_COLUMNS.split(", "))
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {columns}, r.params FROM files f LEFT JOIN requests r ON r.requestid = f.requestid "
                "WHERE f.path = ? AND f.done = 1 ORDER BY f.seq DESC",
                (str(path),),
            ).fetchall()
        return [(_file_entry(row[:-1]), None if row[-1] is None else json.loads(row[-1])) for row in rows]

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
        if entry.path is None:
            return None
        try:
            size = Path(entry.path).stat().st_size
        except (OSError, TypeError):
            return None
        return entry if size == entry.size else None

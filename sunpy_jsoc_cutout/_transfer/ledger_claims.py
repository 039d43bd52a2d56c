"""
Claims: the ledger as the lock of processes that download the same files.

Before a process downloads a file it claims it (`ClaimsMixin.claim`, one ``BEGIN IMMEDIATE``
transaction, so two processes never both win). A file claimed by another process that still runs
is not downloaded again: the process waits until it is done (and takes it from the ledger) or
until the claim is released or stale, and then claims it itself. A claim is stale when its
process is gone (same host: its process ID no longer runs) or, for a process on another host,
after `CLAIM_TIMEOUT` seconds. Finishing a file (``mark_done``) or releasing the claim removes it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

__all__ = ["CLAIM_TIMEOUT", "Claim", "ClaimsMixin", "owner_id"]

#: Seconds after which a claim made on another host counts as abandoned.
CLAIM_TIMEOUT = 1800.0

_HOST = socket.gethostname()
_TOKEN: dict[int, str] = {}


def owner_id() -> str:
    """This process's claim owner: host, process ID and a random token (new after a fork)."""
    pid = os.getpid()
    if pid not in _TOKEN:
        _TOKEN.clear()
        _TOKEN[pid] = uuid.uuid4().hex[:12]
    return f"{_HOST}:{pid}:{_TOKEN[pid]}"


@dataclass(frozen=True)
class Claim:
    """Who claimed a file of a request, and when (unix time)."""

    requestid: str
    filename: str
    owner: str
    host: str
    pid: int
    started: float

    @property
    def mine(self) -> bool:
        """Whether this process made the claim."""
        return self.owner == owner_id()

    @property
    def stale(self) -> bool:
        """Whether the claiming process is gone (see the module notes)."""
        if self.mine:
            return False
        if self.host == _HOST:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            return False
        return time.time() - self.started > CLAIM_TIMEOUT


_COLUMNS = "requestid, filename, owner, host, pid, started"


class ClaimsMixin:
    """The claim methods of `~._transfer.ledger.Ledger` (it provides ``_connect``)."""

    if TYPE_CHECKING:

        def _connect(self, write: bool = False) -> AbstractContextManager[sqlite3.Connection]: ...

    def claim(self, requestid: str, filename: str) -> Claim | None:
        """
        Claim a file for this process.

        Returns
        -------
        Claim or None
            `None` if this process now holds the claim (a stale claim is taken over), else the
            live claim of another process.
        """
        me = owner_id()
        with self._connect(write=True) as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM claims WHERE requestid = ? AND filename = ?", (requestid, filename)
            ).fetchone()
            if row is not None and not Claim(*row).mine and not Claim(*row).stale:
                return Claim(*row)
            connection.execute(
                f"INSERT OR REPLACE INTO claims ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (requestid, filename, me, _HOST, os.getpid(), time.time()),
            )
        return None

    def claim_of(self, requestid: str, filename: str) -> Claim | None:
        """The live claim of another process on a file, else `None`."""
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM claims WHERE requestid = ? AND filename = ?", (requestid, filename)
            ).fetchone()
        claim = None if row is None else Claim(*row)
        return None if claim is None or claim.mine or claim.stale else claim

    def release(self, requestid: str, filename: str) -> None:
        """Give up this process's claim on a file (another process's claim is left alone)."""
        with self._connect(write=True) as connection:
            connection.execute(
                "DELETE FROM claims WHERE requestid = ? AND filename = ? AND owner = ?",
                (requestid, filename, owner_id()),
            )

"""
Claims and intents: the ledger as the lock of processes that submit and download the same things.

Before a process downloads a file it claims it (`ClaimsMixin.claim`, one ``BEGIN IMMEDIATE``
transaction, so two processes never both win). A file claimed by another process that still runs
is not downloaded again: the process waits until it is done (and takes it from the ledger) or
until the claim is released or stale, and then claims it itself. A claim is stale when its
process is gone (same host: its process ID no longer runs) or, for a process on another host,
after `CLAIM_TIMEOUT` seconds. Finishing a file (``mark_done``) or releasing the claim removes it.

A submission intent (`Intent`, see `~._transfer.ledger.Ledger.take_intent`) is the same kind of
lock on submitting one request: its owner, host and process ID say whether the process that is
about to submit is still running. An intent from another host is abandoned after `INTENT_TIMEOUT`
seconds (a submission takes one HTTP call).
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

__all__ = ["CLAIM_TIMEOUT", "INTENT_TIMEOUT", "Claim", "ClaimsMixin", "Intent", "owner_id"]

#: Seconds after which a claim made on another host counts as abandoned.
CLAIM_TIMEOUT = 1800.0
#: Seconds after which a submission intent made on another host counts as abandoned.
INTENT_TIMEOUT = 600.0

_HOST = socket.gethostname()
_TOKEN: dict[int, str] = {}


def owner_id() -> str:
    """This process's claim owner: host, process ID and a random token (new after a fork)."""
    pid = os.getpid()
    if pid not in _TOKEN:
        _TOKEN.clear()
        _TOKEN[pid] = uuid.uuid4().hex[:12]
    return f"{_HOST}:{pid}:{_TOKEN[pid]}"


class _Owned:
    """What a claim and an intent share: the process that wrote it (``owner``, ``host``, ``pid``, ``started``)."""

    owner: str
    host: str
    pid: int
    started: float

    @property
    def mine(self) -> bool:
        """Whether this process wrote it."""
        return self.owner == owner_id()

    def _gone(self, timeout: float) -> bool:
        """Whether the writing process no longer runs (another host: ``timeout`` s after ``started``)."""
        if not self.host or self.pid <= 0:
            return True  # written by a version that did not record its owner
        if self.host == _HOST:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            return False
        return time.time() - self.started > timeout


@dataclass(frozen=True)
class Claim(_Owned):
    """Who claimed a file of a request, and when (unix time)."""

    requestid: str
    filename: str
    owner: str
    host: str
    pid: int
    started: float

    @property
    def stale(self) -> bool:
        """Whether the claiming process is gone (see the module notes)."""
        return not self.mine and self._gone(CLAIM_TIMEOUT)


@dataclass(frozen=True)
class Intent(_Owned):
    """A process that is about to submit (or is submitting) the request of a `request_key`."""

    key: str
    owner: str
    host: str
    pid: int
    started: float

    @property
    def live(self) -> bool:
        """Whether another process holds it and still runs (an intent of this process is not live)."""
        return not self.mine and not self._gone(INTENT_TIMEOUT)


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

"""
What the emulator records about its traffic: the request log and the download connection counter.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping

__all__ = ["ConnectionCounter", "RequestLog"]


class RequestLog:
    """
    Thread-safe log of every HTTP request the emulator served.

    Each entry is a dict with ``index``, ``endpoint``, ``method``, ``path``, ``params`` (the
    decoded parameters as a dict), ``time`` (emulator clock, UTC POSIX seconds), ``client``
    (``"host:port"``), ``status`` (the HTTP status sent, or None if the connection was reset)
    and ``fault`` (the transport fault applied, or None). JSON replies also carry
    ``jsoc_status`` (the ``status`` member of the reply, when present).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []

    def add(self, entry: Mapping) -> dict:
        """Append one entry (a copy of ``entry`` with its ``index`` set) and return it."""
        with self._lock:
            stored = {"index": len(self._entries), **entry}
            self._entries.append(stored)
        return stored

    def since(self, index: int = 0) -> list[dict]:
        """Entries from ``index`` on (copies)."""
        with self._lock:
            return [dict(e) for e in self._entries[max(0, index) :]]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, item):
        with self._lock:
            return self._entries[item]

    def __iter__(self):
        return iter(self.since(0))

    def endpoints(self) -> list[str]:
        """The endpoint of every entry, in order."""
        with self._lock:
            return [e["endpoint"] for e in self._entries]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class ConnectionCounter:
    """
    Current and maximum concurrent file downloads and download connections.

    A *download* is one ``GET`` of a file under ``/SUM...`` in flight. A *connection* is a TCP
    connection that has made at least one ``/SUM`` request (HEAD or GET) and is still open;
    aiohttp keeps connections alive across files, so this is what JSOC's one-connection rule
    limits. A connection whose peer has closed it is not open, even if the thread that serves it
    has not read the end of the stream yet: before a new connection is counted, the others are
    checked for it (`peer_closed`), so that a client that closes one connection and then opens the
    next is not counted as holding two.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.current_downloads = 0
        self.max_downloads = 0
        self.current_connections = 0
        self.max_connections = 0
        self.total_downloads = 0
        self.total_connections = 0
        self._open: set[object] = set()

    def download_started(self) -> None:
        """Count one more download in flight."""
        with self._lock:
            self.current_downloads += 1
            self.total_downloads += 1
            self.max_downloads = max(self.max_downloads, self.current_downloads)

    def download_finished(self) -> None:
        """Count one download fewer in flight."""
        with self._lock:
            self.current_downloads -= 1

    def connection_opened(self, connection: object = None) -> None:
        """Count a connection (its socket, if given) that just made its first file request."""
        with self._lock:
            for other in [c for c in self._open if peer_closed(c)]:
                self._open.discard(other)
                self.current_connections -= 1
            if connection is not None:
                self._open.add(connection)
            self.current_connections += 1
            self.total_connections += 1
            self.max_connections = max(self.max_connections, self.current_connections)

    def connection_closed(self, connection: object = None) -> None:
        """Count a counted connection that closed (once: it may have been found closed already)."""
        with self._lock:
            if connection is not None:
                if connection not in self._open:
                    return
                self._open.discard(connection)
            self.current_connections -= 1

    def reset(self) -> dict:
        """
        Reset the maxima (to the current values) and totals (to 0).

        Returns
        -------
        dict
            The figures just before the reset.
        """
        with self._lock:
            before = self._snapshot()
            self.max_downloads = self.current_downloads
            self.max_connections = self.current_connections
            self.total_downloads = 0
            self.total_connections = 0
        return before

    def snapshot(self) -> dict:
        """The figures as a dict."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict:
        return {
            "current_downloads": self.current_downloads,
            "max_downloads": self.max_downloads,
            "current_connections": self.current_connections,
            "max_connections": self.max_connections,
            "total_downloads": self.total_downloads,
            "total_connections": self.total_connections,
        }


def peer_closed(connection: object) -> bool:
    """Whether the peer of a socket has closed it (its end of stream is waiting to be read)."""
    if not isinstance(connection, socket.socket):
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # open, nothing to read
    except OSError:
        return True  # reset or already closed

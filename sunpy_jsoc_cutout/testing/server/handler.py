"""
The HTTP request handler of the JSOC emulator: routing, JSON replies, file serving and the
transport faults.

The handler knows nothing about JSOC's rules; it decodes a request, asks the emulator (its
server's ``emulator`` attribute, a `~sunpy_jsoc_cutout.testing.server.emulator.JSOCEmulator`) for a
reply, and sends it, applying any transport fault drawn for the call.
"""

from __future__ import annotations

import json
import mimetypes
import socket
import struct
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import cast
from urllib.parse import parse_qsl, unquote, urlsplit

from sunpy import log

from .control import refusal
from .faults import corrupt_bytes
from .protocols import EmulatorHTTPServer, ServedEmulator

__all__ = ["CGI_ENDPOINTS", "EmulatorRequestHandler"]

#: CGI script name -> endpoint name used by the log and the fault knobs.
CGI_ENDPOINTS = {
    "jsoc_info": "jsoc_info",
    "jsoc_fetch": "jsoc_fetch",
    "checkAddress.sh": "checkAddress",
    "show_series": "show_series",
    "showextseries": "showextseries",
    "manage-request.sh": "manage_request",
}

#: URL prefixes under which the CGI scripts answer (JSOC serves them under ``/cgi-bin/ajax/``).
CGI_PREFIXES = ("/cgi-bin/ajax/", "/cgi-bin/")

CONTROL_PREFIX = "/_emulator/"
CHUNK = 64 * 1024
#: Bytes written at a time under a bandwidth limit.
THROTTLED_PIECE = 8 * 1024
MAX_BODY = 1 << 20
APACHE_500 = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>500 Internal Server Error'
    b"</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or"
    b"\nmisconfiguration and was unable to complete\nyour request.</p>\n</body></html>\n"
)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """One TCP connection to the emulator (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    #: TCP_NODELAY, as Apache httpd sets on every connection (``ap_sock_disable_nagle``); without it a
    #: small reply written in pieces waits for the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True

    @property
    def emulator(self) -> ServedEmulator:
        """The emulator that this connection's server serves."""
        # The server is an EmulatorServer; its module imports this one, so it is typed by protocol.
        return cast(EmulatorHTTPServer, self.server).emulator

    def setup(self):
        super().setup()
        self._counted_connection = False

    def finish(self):
        try:
            super().finish()
        finally:
            if self._counted_connection:
                self._counted_connection = False
                self.emulator.connections.connection_closed(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        log.debug("JSOC emulator: %s - %s", self.address_string(), format % args)

    # ------------------------------------------------------------------ entry points
    def do_GET(self):
        self._dispatch(body=b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send_json({"status": 4, "error": "request body too large"}, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self._dispatch(body=self.rfile.read(length) if length else b"")

    def do_HEAD(self):
        path = urlsplit(self.path).path
        if path.startswith("/SUM"):
            self._serve_file(unquote(path), head=True)
        else:
            self._dispatch(body=b"")

    # ------------------------------------------------------------------ routing
    def _dispatch(self, body: bytes) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path.startswith(CONTROL_PREFIX):
            self._serve_control(path[len(CONTROL_PREFIX) :], url.query, body)
        elif path.startswith("/SUM"):
            self._serve_file(path, head=self.command == "HEAD")
        else:
            script = _cgi_script(path)
            if script is None:
                self._send_plain(HTTPStatus.NOT_FOUND, b"Not Found\n", endpoint="unknown")
            else:
                self._serve_cgi(CGI_ENDPOINTS[script], self._params(url.query, body))

    def _params(self, query: str, body: bytes) -> dict[str, str]:
        params = dict(parse_qsl(query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        if body and ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("latin1"), keep_blank_values=True))
        return params

    def _serve_cgi(self, endpoint: str, params: dict[str, str]) -> None:
        emulator = self.emulator
        entry = {"endpoint": endpoint, "params": params}
        if self._apply_call_faults(endpoint, entry):
            return
        try:
            reply = emulator.handle_cgi(endpoint, params, self.client_address[0])
        except Exception:  # noqa: BLE001 - like a crashing CGI script behind Apache
            text = traceback.format_exc()
            log.warning("JSOC emulator: %s raised:\n%s", endpoint, text)
            self._send_plain(HTTPStatus.INTERNAL_SERVER_ERROR, text.encode("utf-8", "replace"), entry=entry)
            return
        self._send_json(reply, HTTPStatus.OK, entry=entry)

    def _serve_control(self, name: str, query: str, body: bytes) -> None:
        params = dict(parse_qsl(query, keep_blank_values=True))
        emulator = self.emulator
        refused = refusal(self.command, self.headers, emulator.host, emulator.port)
        if refused is not None:
            self._send_json({"error": refused}, HTTPStatus.FORBIDDEN)
            return
        status, reply = emulator.control.handle(self.command, name.strip("/"), params, body)
        self._send_json(reply, status)  # control calls are not logged: the log is the JSOC traffic

    # ------------------------------------------------------------------ faults
    def _apply_call_faults(self, endpoint: str, entry: dict) -> bool:
        """Apply slow/reset/http500 faults; return True if the call has been dealt with."""
        hits = self.emulator.faults.draw(endpoint)
        entry["hits"] = hits
        if "slow" in hits:
            time.sleep(hits["slow"].delay)
            entry["fault"] = "slow"
        if "reset" in hits:
            self._log(entry, status=None, fault="reset")
            self._reset_connection()
            return True
        if "http500" in hits:
            self._send_plain(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                APACHE_500,
                entry=entry,
                fault="http500",
                ctype="text/html; charset=iso-8859-1",
            )
            return True
        return False

    def _reset_connection(self) -> None:
        """Close the socket with SO_LINGER 0, so the peer sees a TCP RST and no reply."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:  # pragma: no cover - the peer went away first
            pass

    # ------------------------------------------------------------------ files
    def _serve_file(self, path: str, head: bool) -> None:
        emulator = self.emulator
        if not self._counted_connection:
            self._counted_connection = True
            emulator.connections.connection_opened(self.connection)
        entry = {"endpoint": "files", "params": {}, "hits": {}}
        # File faults act on GET only: a HEAD (parfive's probe) is always answered normally, so
        # "times=1" means one failed download.
        if not head and self._apply_call_faults("files", entry):
            return
        try:
            local = emulator.locate_file(path)
        except Exception:  # noqa: BLE001 - a failure to make the file is a server error
            text = traceback.format_exc()
            log.warning("JSOC emulator: making %s failed:\n%s", path, text)
            self._send_plain(HTTPStatus.INTERNAL_SERVER_ERROR, text.encode("utf-8", "replace"), entry=entry)
            return
        if local is None:
            self._send_plain(HTTPStatus.NOT_FOUND, b"Not Found\n", entry=entry)
            return
        if head:
            self._log(entry, status=HTTPStatus.OK)
            self._send_file_headers(local, local.stat().st_size)
            return
        emulator.connections.download_started()
        try:
            self._send_file_body(local, entry)
        finally:
            emulator.connections.download_finished()

    def _send_file_headers(self, local: Path, size: int) -> None:
        self.send_response(HTTPStatus.OK)
        ctype = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(size))
        self.send_header("Accept-Ranges", "none")
        self.send_header("Content-Disposition", f'attachment; filename="{local.name}"')
        self.end_headers()

    def _send_file_body(self, local: Path, entry: dict) -> None:
        hits = entry["hits"]
        size = local.stat().st_size
        if "corrupt" in hits:
            chunks = [corrupt_bytes(local.read_bytes())]
            entry["fault"] = "corrupt"
        else:
            chunks = _read_chunks(local, size)
        if "truncate" in hits:
            chunks = _limit(chunks, int(size * hits["truncate"].keep))
            entry["fault"] = "truncate"
            self.close_connection = True
        self._log(entry, status=HTTPStatus.OK)
        self._send_file_headers(local, size)
        self._write_throttled(chunks, self.emulator.download_bandwidth)

    def _write_throttled(self, chunks, bandwidth: float | None) -> None:
        """Send ``chunks``; with a ``bandwidth``, each piece no sooner than the bandwidth allows, so
        that the last byte arrives ``size / bandwidth`` after the first (not the whole of a small file
        at once and the wait after it)."""
        start = time.monotonic()
        sent = 0
        try:
            for chunk in chunks:
                for piece in _pieces(chunk, THROTTLED_PIECE if bandwidth else len(chunk)):
                    if bandwidth:
                        ahead = (sent + len(piece)) / bandwidth - (time.monotonic() - start)
                        if ahead > 0:
                            time.sleep(ahead)
                    self.wfile.write(piece)
                    sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ------------------------------------------------------------------ replies
    def _send_json(self, obj, status: int, entry: dict | None = None) -> None:
        body = json.dumps(obj).encode("latin1")
        if entry is not None:  # logged before the reply leaves, so a client never sees a reply missing from the log
            jsoc_status = obj.get("status") if isinstance(obj, dict) else None
            self._log(entry, status=status, jsoc_status=jsoc_status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_plain(self, status, body: bytes, entry=None, fault=None, endpoint=None, ctype="text/plain") -> None:
        self._log(entry or {"endpoint": endpoint, "params": {}}, status=status, fault=fault)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _log(self, entry: dict, status, fault=None, jsoc_status=None) -> None:
        emulator = self.emulator
        record = {
            "endpoint": entry.get("endpoint"),
            "method": self.command,
            "path": urlsplit(self.path).path,
            "params": entry.get("params", {}),
            "time": emulator.clock.now(),
            "client": "{}:{}".format(*self.client_address[:2]),
            "status": None if status is None else int(status),
            "fault": fault or entry.get("fault"),
        }
        if jsoc_status is not None:
            record["jsoc_status"] = jsoc_status
        emulator.request_log.add(record)


def _cgi_script(path: str) -> str | None:
    for prefix in CGI_PREFIXES:
        if path.startswith(prefix):
            name = path[len(prefix) :]
            return name if name in CGI_ENDPOINTS else None
    return None


def _pieces(chunk: bytes, size: int):
    """``chunk`` in pieces of at most ``size`` bytes."""
    for start in range(0, len(chunk), max(1, size)):
        yield chunk[start : start + max(1, size)]


def _read_chunks(local: Path, size: int):
    """Yield the file's bytes in `CHUNK`-sized pieces (at most ``size`` bytes)."""
    with local.open("rb") as f:
        remaining = size
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _limit(chunks, nbytes: int):
    """Yield from ``chunks`` up to ``nbytes`` bytes in total."""
    for chunk in chunks:
        if nbytes <= 0:
            return
        yield chunk[:nbytes]
        nbytes -= len(chunk)

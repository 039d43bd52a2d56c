"""
A loopback HTTP server that answers with JSOC replies transcribed from real recordings.

Contract tests feed the client's own readers with the shapes the real JSOC sent, without the
emulator (which is written from the same reading of JSOC as the client, so a shared misreading
would pass there). The replies are short transcriptions of the ``jsoc_info``, ``jsoc_fetch`` and
``checkAddress.sh`` replies that sunpy's test suite recorded from jsoc.stanford.edu in April 2020
(sunpy/sunpy commit b361c0cd, ``sunpy/net/jsoc/tests/cassettes/*.yaml``) and of the replies JSOC's
C sources write (``lm-jps/drms:base/export/apps/jsoc_fetch.c``, ``jsoc_export_make_index.c``); each reply constant in ``test_real_jsoc_replies.py`` says which one and
how it was trimmed.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ReplayJSOC"]


class ReplayJSOC:
    """
    Serve fixed bodies on 127.0.0.1: ``answer(script, body, **params)`` registers one.

    A GET whose path ends in ``script`` and whose query holds every given parameter (values
    compared as strings) gets ``body``; the first match wins. Everything asked is kept in ``log``.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, dict[str, str], str]] = []
        self.log: list[tuple[str, dict[str, str]]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                replay.log.append((parts.path, params))
                body = replay._match(parts.path, params)
                data = (body if body is not None else '{"status": 4, "error": "not recorded"}').encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, like ``http://jsoc.stanford.edu/``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def answer(self, script: str, body: str | dict, **params) -> None:
        """Answer GETs of ``script`` with ``params`` by ``body`` (a dict is sent as JSON)."""
        text = body if isinstance(body, str) else json.dumps(body)
        self._routes.append((script, {k: str(v) for k, v in params.items()}, text))

    def _match(self, path: str, params: dict[str, str]) -> str | None:
        for script, wanted, body in self._routes:
            if path.endswith(script) and all(params.get(k) == v for k, v in wanted.items()):
                return body
        return None

    def __enter__(self) -> "ReplayJSOC":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

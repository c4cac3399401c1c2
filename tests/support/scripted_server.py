"""A real local HTTP/1.1 server whose answer the request's path chooses, for the wire's tests
(``tests/unit/test_wire.py``): keep-alive, closing, chunked, gzip, duplicate headers, no answer.

    with ScriptedServer() as server:          # http://127.0.0.1:PORT
        server.requests                       # (connection number, method, path, headers, body)
        server.connections                    # connections accepted so far
        server.closed.wait()                  # set each time the server has closed a connection
        server.status = 429                   # every path answers as /status/429 from now on

Paths: ``/ok`` 200 JSON echoing the path; ``/close-idle`` answers and then closes the connection
without saying so (what a keep-alive timeout does); ``/close`` answers ``Connection: close``;
``/short`` (a body cut short); ``/chunked``; ``/gzip``; ``/dup`` (a header twice, a cookie);
``/empty/204``, ``/empty/304``; ``/status/N`` (a JSON error); ``/hang`` never answers; ``/drop``
closes without answering. Any method; HEAD gets no body.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.http_servers import _Served, _Server

__all__ = ["ScriptedServer"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ClosingServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        owner = self.server.owner
        with owner.lock:
            owner.connections += 1
            self.number = owner.connections

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with owner.lock:
            owner.requests.append((self.number, self.command, self.path, list(self.headers.items()), body))
        path = self.path.split("?", 1)[0] if owner.status is None else f"/status/{owner.status}"
        payload = json.dumps({"path": self.path, "method": self.command}).encode()
        kind = {"Content-Type": "application/json"}
        if path == "/hang":
            owner.release.wait()
            self.close_connection = True
        elif path == "/drop":
            self.close_connection = True
        elif path == "/close-idle":
            self._answer(200, payload, kind)
            self.close_connection = True
        elif path == "/close":
            self._answer(200, payload, {**kind, "Connection": "close"})
            self.close_connection = True
        elif path == "/short":  # says 100 bytes, sends 9 and closes
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(payload[:9])
            self.close_connection = True
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (payload[:5], payload[5:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/gzip":
            self._answer(200, gzip.compress(payload), {**kind, "Content-Encoding": "gzip"})
        elif path == "/dup":
            self.send_response(200)
            for name, value in (("X-Dup", "a"), ("x-dup", "b"), ("Set-Cookie", "lb=a1; Path=/"), ("Set-Cookie", "s=2")):
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif path.startswith("/empty/"):
            self._answer(int(path.rsplit("/", 1)[1]), b"")
        elif path.startswith("/status/"):
            error = b'{"error_code": "APIGW.0308", "error_msg": "throttled"}'
            self._answer(int(path.rsplit("/", 1)[1]), error, {**kind, "X-Request-Id": "r-1"})
        else:
            self._answer(200, payload, kind)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle


class _ClosingServer(_Server):
    """Tells when it has closed a connection."""

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.owner.closed.set()


class ScriptedServer(_Served):
    """Answers as the path says (see the module's docstring) and records every request."""

    def __init__(self) -> None:
        self.connections = 0
        self.status: int | None = None  # set: every path answers /status/N
        self.closed = threading.Event()
        self.release = threading.Event()  # set at the end: a /hang answer must not keep a thread
        super().__init__(_Handler, server_class=_ClosingServer)

    def stop(self) -> None:
        self.release.set()
        super().stop()

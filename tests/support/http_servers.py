"""Real local HTTP servers for the transport's tests: one that records what reaches the wire, its
TLS variant (a self-signed certificate made with the ``openssl`` CLI), and a forward proxy.

    with RecordingServer() as server:             # http://127.0.0.1:PORT, any path, any method
        server.set_cookie = "lb=a1"               # answer with Set-Cookie from now on
        server.redirect_to = "/elsewhere"         # answer 302 with this Location
        server.hold.clear()                       # hold every answer until server.hold.set()
        server.requests                           # method, path, headers (a list of pairs), body
    with RecordingServer(tls=self_signed(tmp_path)) as server: ...   # https://127.0.0.1:PORT
    with ForwardProxy() as proxy: ...             # http://127.0.0.1:PORT: forwards http:// requests

All listen on 127.0.0.1, port 0 (any free port), in daemon threads.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RecordingServer", "ForwardProxy", "Certificate", "self_signed"]


@dataclass(frozen=True)
class Certificate:
    cert: str  # PEM certificate (its own CA: self-signed)
    key: str


def self_signed(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (subjectAltName IP), made with the openssl CLI."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return Certificate(str(cert), str(key))


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with owner.lock:
            owner.requests.append(
                {"method": self.command, "path": self.path, "headers": list(self.headers.items()), "body": body}
            )
        owner.hold.wait()
        payload = json.dumps({"ports": []}).encode()
        self.send_response(302 if owner.redirect_to else 200)
        if owner.redirect_to:
            self.send_header("Location", owner.redirect_to)
        if owner.set_cookie:
            self.send_header("Set-Cookie", owner.set_cookie)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = _handle


class _Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        owner = self.server.owner
        target = urlsplit(self.path)  # a forward proxy is sent the absolute URL
        with owner.lock:
            owner.requests.append({"method": self.command, "url": self.path})
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
        try:
            upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
            answer = upstream.getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = _forward


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Any

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client gone (timed out): quiet
        pass


class _Served:
    scheme = "http"

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], tls: Certificate | None = None, server_class: type | None = None
    ):
        self.requests: list[Any] = []
        self.lock = threading.Lock()
        self._server = (server_class or _Server)(("127.0.0.1", 0), handler)
        self._server.owner = self
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert, tls.key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-http", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RecordingServer(_Served):
    """Answers every request 200 ``{"ports": []}`` (or as set below) and records it."""

    def __init__(self, tls: Certificate | None = None):
        self.set_cookie: str | None = None
        self.redirect_to: str | None = None
        self.hold = threading.Event()
        self.hold.set()
        super().__init__(_Recorder, tls)

    def stop(self) -> None:
        self.hold.set()  # a held answer must not keep a thread waiting
        super().stop()


class ForwardProxy(_Served):
    """An HTTP forward proxy for ``http://`` URLs; records each request's method and URL."""

    def __init__(self) -> None:
        super().__init__(_Proxy)

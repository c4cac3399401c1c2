"""A local webhook receiver for the ``webhook`` sink: real HTTP, real signature check.

    with WebhookReceiver(keys={"hooks-1": "secret..."}) as hook:
        ... # configure WEBHOOK_URLS={"servicenow": hook.url}
        hook.events          # the CloudEvents whose X-Signature verified, in arrival order
        hook.requests        # every request: method, path, headers, body, status answered, errors
        hook.fail(2, 503)    # answer the next 2 requests with 503 (then accept again)

It listens on 127.0.0.1, port 0 (any free port), in a daemon thread. A request whose signature
does not verify (``shared.signing.verify_payload_headers``) is answered 401 and its event is not
recorded, exactly as a ticketing system should behave.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shared.signing import verify_payload_headers

__all__ = ["WebhookReceiver"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        record: dict[str, Any] = {"method": "POST", "path": self.path, "headers": headers, "body": body}
        status, extra_headers = receiver._answer(record)
        record["status"] = status
        with receiver._lock:
            receiver.requests.append(record)
        payload = json.dumps({"status": status}).encode()
        self.send_response(status)
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_PUT = do_POST


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: WebhookReceiver


class WebhookReceiver:
    def __init__(self, keys: Mapping[str, str], *, path: str = "/hooks/sgguard", max_skew_s: int = 300):
        self.keys = dict(keys)
        self.path = path
        self.max_skew_s = max_skew_s
        self.events: list[dict] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._fail_left = 0
        self._fail_status = 503
        self._fail_headers: dict[str, str] = {}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def fail(self, times: int | None, status: int = 503, headers: Mapping[str, str] | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (``None``: until told otherwise)."""
        with self._lock:
            self._fail_left = -1 if times is None else times
            self._fail_status = status
            self._fail_headers = dict(headers or {})

    def recover(self) -> None:
        self.fail(0)

    def _answer(self, record: dict) -> tuple[int, dict]:
        with self._lock:
            if self._fail_left:
                if self._fail_left > 0:
                    self._fail_left -= 1
                record["injected"] = True
                return self._fail_status, dict(self._fail_headers)
        if record["path"] != self.path:
            return 404, {}
        errors = verify_payload_headers(
            record["body"],
            record["headers"],
            keys=self.keys,
            now=datetime.now(timezone.utc),
            max_skew_s=self.max_skew_s,
        )
        if errors:
            record["errors"] = [error.to_dict() for error in errors]
            return 401, {}
        content_type = record["headers"].get("Content-Type", "")
        try:
            payload = json.loads(record["body"])
        except ValueError:
            return 400, {}
        if content_type == "application/cloudevents-batch+json" and isinstance(payload, list):
            received = payload
        elif content_type == "application/cloudevents+json" and isinstance(payload, dict):
            received = [payload]
        else:
            return 415, {}
        with self._lock:
            self.events.extend(received)
        return 200, {}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

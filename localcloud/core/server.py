"""The HTTP front door: control API, signature check, faults, dispatch, request log.

Order of a cloud API request: route lookup (unknown API -> APIGW.0101) -> signature and project
check (401/403, API gateway body) -> injected faults and latency (outside the state lock) ->
handler under the state lock (a model's CloudError is rendered in the route's style) ->
``X-Request-Id`` on every response -> one request-log entry.

Before all of that, a *route hook* (:meth:`LocalCloudServer.add_route_hook`) may take a request
whose path is under its prefix and answer it itself: how the runtime serves APIG triggers on
``/_apig/...`` (:mod:`localcloud.runtime.apig`) without the core knowing about it.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .auth import verify_signature
from .errors import (
    BadRequest,
    CloudError,
    Forbidden,
    InternalError,
    NotFound,
    ServiceUnavailable,
    Throttled,
    Unauthorized,
    render_error,
)
from .faults import FaultBook
from .routing import ApiContext, Router
from .state import Backend, new_request_id

__all__ = ["LocalCloudServer", "CONTROL_PREFIX", "RouteHook"]

CONTROL_PREFIX = "/_localcloud/"
_LOGGED_BODY_LIMIT = 8192

# hook(request_handler) -> True when it answered the request, False to let it go on as usual.
RouteHook = Callable[[BaseHTTPRequestHandler], bool]


class _DroppedConnection(Exception):
    """Raised to end a request with no response (read-timeout / reset faults)."""

    def __init__(self, kind: str, hold_s: float):
        self.kind = kind
        self.hold_s = hold_s


class LocalCloudServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], backend: Backend, routers: list[Router], control: Router, latency_ms: int = 0
    ):
        self.backend = backend
        self.routers = routers
        self.control = control
        self.faults = FaultBook()
        self.latency_ms = latency_ms
        self.route_hooks: dict[str, RouteHook] = {}
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, (bytes, bytearray)):
            host = host.decode()
        return f"http://{host}:{port}"

    def add_route_hook(self, prefix: str, hook: RouteHook) -> None:
        """Offer every request for ``prefix`` or ``prefix/...`` (any method, OPTIONS included) to
        ``hook`` first, before the control API, auth, faults and the request log; a second hook
        for the same prefix replaces the first."""
        self.route_hooks[prefix.rstrip("/")] = hook

    def route_hook(self, path: str) -> RouteHook | None:
        for prefix, hook in list(self.route_hooks.items()):
            if path == prefix or path.startswith(prefix + "/"):
                return hook
        return None

    def find_route(self, method: str, path: str, routers: list[Router]):
        path_matched = False
        for router in routers:
            for route in router.routes:
                match = route.pattern.match(path)
                if match:
                    path_matched = True
                    if route.method == method:
                        return route, match.groupdict()
        return None, path_matched


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalCloudServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every response on a keep-alive connection.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
        pass

    def do_GET(self):
        hook = self.server.route_hook(urlsplit(self.path).path)
        if hook is None or not hook(self):
            self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def do_OPTIONS(self):
        # OPTIONS is served (by a hook, else as an unknown API) once a route hook is installed;
        # before that, as http.server answers a method it has no do_<METHOD> for.
        if not self.server.route_hooks:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        self.do_GET()

    # --------------------------------------------------------------------------------------
    def _handle(self) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        split = urlsplit(self.path)
        path, raw_query = split.path, split.query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        method = self.command.upper()
        entry: dict[str, Any] = {
            "time": self.server.backend.clock(),
            "method": method,
            "path": path,
            "query": raw_query,
            "body_size": len(body),
            "request_id": request_id,
        }
        if path.startswith(CONTROL_PREFIX):
            status, payload, style = self._control(method, path, raw_query, body, headers, request_id)
            self._respond(status, payload, request_id)
            return
        fault_kind = None
        try:
            route, params = self.server.find_route(method, path, self.server.routers)
            if route is None:
                # Real API gateways answer an unknown API with 404 APIGW.0101.
                raise NotFound("APIGW.0101", "The API does not exist or has not been published in the environment")
            entry.update(service=route.service, route=f"{route.method} {route.template}", write=route.write)
            if route.write and body:
                entry["body"] = body[:_LOGGED_BODY_LIMIT].decode("utf-8", "replace")
            style = route.style
            ctx = self._authenticate(method, path, raw_query, headers, body, params, request_id)
            entry.update(
                ak=ctx.ak,
                project_id=ctx.project.project_id,
                security_token="X-Security-Token" in headers or "x-security-token" in headers,
            )
            fault_kind = self._apply_faults(method, path, "before", entry["route"], ctx)
            with self.server.backend.lock:
                status, payload = route.handler(ctx)
            after = self._apply_faults(method, path, "after", entry["route"], ctx)
            if after:
                fault_kind = after
        except _DroppedConnection as dropped:
            entry.update(
                status=0,
                fault=dropped.kind,
                applied=dropped.kind.endswith("_after"),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            self.server.backend.log_request(entry)
            self._drop(dropped)
            return
        except CloudError as error:
            style = locals().get("style", "apigw")
            if isinstance(error, Throttled) or error.code.startswith(("APIGW.", "APIG.")):
                style = "apigw"
            if error.code.startswith("IAM."):
                style = "iam"
            status, payload = error.status, render_error(error, style, request_id)
            entry["error_code"] = error.code
            fault_kind = getattr(error, "fault", fault_kind)
        except Exception as error:  # a bug in the emulator must still answer like a server
            status, payload = 500, render_error(InternalError("LocalCloud.Internal", repr(error)), "apigw", request_id)
            entry["error_code"] = "LocalCloud.Internal"
        entry.update(status=status, fault=fault_kind, duration_ms=round((time.perf_counter() - started) * 1000, 3))
        self.server.backend.log_request(entry)
        self._respond(status, payload, request_id)

    def _authenticate(self, method, path, raw_query, headers, body, params, request_id) -> ApiContext:
        backend = self.server.backend
        ak = verify_signature(
            method=method,
            raw_path=path,
            raw_query=raw_query,
            headers=headers,
            body=body,
            secret_for=lambda key: c.sk if (c := backend.credential(key)) else None,
        )
        credential = backend.credential(ak)
        if credential is None:  # expired since its signature was checked
            raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: unknown access key")
        if credential.security_token is not None:
            token = headers.get("X-Security-Token") or headers.get("x-security-token")
            if token != credential.security_token:
                raise CloudError(
                    "APIGW.0301", "Incorrect IAM authentication information: security token invalid", status=401
                )
        project_id = params.get("project_id")
        header_project = headers.get("X-Project-Id") or headers.get("x-project-id")
        for claimed in (project_id, header_project):
            if claimed is not None and claimed != credential.project_id:
                raise Forbidden("APIGW.0302", "The IAM credential is not authorized to access this project")
        project = backend.project(credential.project_id, create=True)
        return ApiContext(
            method=method,
            path=path,
            params=params,
            query=parse_qs(raw_query, keep_blank_values=True),
            headers=headers,
            raw_body=body,
            request_id=request_id,
            project=project,
            backend=backend,
            ak=ak,
        )

    def _apply_faults(
        self, method: str, path: str, phase: str, route: str | None = None, ctx: ApiContext | None = None
    ) -> str | None:
        if phase == "before" and self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000)
        fired = self.server.faults.pick(method, path, phase, route)
        kind = None
        for rule in fired:
            if rule.kind == "latency":
                time.sleep(rule.latency_ms / 1000)
                continue
            if rule.kind == "concurrent_write":
                self._concurrent_write(rule, ctx)
                continue
            kind = rule.kind
            injected: CloudError | None = None
            if rule.kind == "throttle":
                injected = Throttled(
                    "APIG.0308",
                    "The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 minute",
                )
            if rule.kind == "rate_limit":
                injected = Throttled(
                    "APIG.0308",
                    f"The throttling threshold has been reached: policy api over ratelimit,limit:{rule.per_s:g},"
                    "time:1 second",
                )
            if rule.kind == "deny":
                injected = Forbidden(
                    "IAM.0003", f"Policy doesn't allow {rule.action or 'this action'} to be performed."
                )
            if rule.kind == "error500":
                injected = InternalError("LocalCloud.Injected500", "Internal server error (injected)")
            if rule.kind == "error503":
                injected = ServiceUnavailable("LocalCloud.Injected503", "Service unavailable (injected)")
            if injected is not None:
                injected.fault = rule.kind  # so that the request log names the fault
                raise injected
            if rule.kind in ("timeout", "reset"):
                suffix = "_after" if phase == "after" else ""
                raise _DroppedConnection(rule.kind + suffix, rule.hold_ms / 1000 if rule.kind == "timeout" else 0)
        return kind

    def _concurrent_write(self, rule: Any, ctx: ApiContext | None) -> None:
        """Another caller changes a port's groups (or a group's rules) now, atomically, as its v3 call
        would (faults.py)."""
        change = rule.port_change or {}
        if ctx is None:
            return
        try:
            with self.server.backend.lock:
                vpc = ctx.project.service("vpc")
                if "add_rule" in change:
                    fields = dict(change["add_rule"])
                    vpc.add_rule(fields.pop("security_group_id"), **fields)
                elif "insert" in change:
                    vpc.insert_security_groups(change["port_id"], change["insert"], change.get("index"))
                else:
                    vpc.remove_security_groups(change["port_id"], change["remove"])
        except CloudError as error:
            rule.last_error = f"{error.code}: {error.message}"
        except TypeError as error:  # add_rule with a field the API does not have
            rule.last_error = f"bad add_rule: {error}"

    def _drop(self, dropped: _DroppedConnection) -> None:
        if dropped.hold_s:
            time.sleep(dropped.hold_s)
        self.close_connection = True
        try:
            if dropped.kind.startswith("reset"):
                # SO_LINGER 0: close sends RST, the client sees "connection reset by peer".
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _respond(self, status: int, payload: Any, request_id: str) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("X-Request-Id", request_id)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ---- control API ------------------------------------------------------------------------
    def _control(self, method, path, raw_query, body, headers, request_id):
        route, params = self.server.find_route(method, path, [self.server.control])
        if route is None:
            return 404, {"error_code": "LocalCloud.0404", "error_msg": f"no control route {method} {path}"}, "apigw"
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, {"error_code": "LocalCloud.0400", "error_msg": "body is not JSON"}, "apigw"
        ctx = ApiContext(
            method=method,
            path=path,
            params=params,
            query=parse_qs(raw_query, keep_blank_values=True),
            headers=headers,
            raw_body=body,
            request_id=request_id,
            project=None,
            backend=self.server.backend,
            _json=payload,
        )
        ctx.server = self.server
        try:
            status, result = route.handler(ctx)
        except CloudError as error:
            return error.status, render_error(error, "apigw", request_id), "apigw"
        except BadRequest as error:  # pragma: no cover - covered by CloudError
            return 400, render_error(error, "apigw", request_id), "apigw"
        return status, result, "apigw"


def serve_in_thread(server: LocalCloudServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="localcloud", daemon=True
    )
    thread.start()
    return thread


__all__ += ["serve_in_thread"]

"""APIG triggers: ``{localcloud url}/_apig/<path>`` invokes the function whose APIG trigger has that
``path`` and ``req_method``, synchronously, and answers with the function's APIG response.

* Matching: every ACTIVE ``APIG`` / ``DEDICATEDGATEWAY`` trigger of every project; ``path`` may hold
  ``{name}`` parameters (``pathParameters``); ``match_mode`` ``SWA`` matches the path as a prefix,
  anything else exactly; ``req_method`` ``ANY`` matches every method. None: 404 ``APIG.0101``.
* The event is the APIG event FunctionGraph receives: ``body`` base64-encoded with
  ``isBase64Encoded: true``, ``httpMethod``, ``path``, ``headers`` (lower-case names),
  ``queryStringParameters``, ``pathParameters``, ``requestContext`` {``apiId``, ``requestId``,
  ``stage``, ``sourceIp``}.
* The answer: the handler must return ``{"statusCode": int, "headers": {...}, "body": str,
  "isBase64Encoded": bool}``; its status, headers and (decoded) body are sent as they are. A
  handler that fails answers 502, one that runs past ``func_info.timeout`` (ms, at most the
  function's timeout) 504, one whose result is not an APIG response 502 — with
  ``{"error_code": "LocalCloud.Apig...", "error_msg"}`` (local codes: the gateway's own are not
  documented for these cases).
* Not emulated: the trigger's ``auth`` (IAM / APP signatures are not checked), throttling, CORS.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .engine import LocalRuntime

__all__ = ["APIG_PREFIX", "install_http", "find_route", "apig_event"]

APIG_PREFIX = "/_apig"
_HOP_BY_HOP = {"content-length", "connection", "transfer-encoding", "keep-alive", "date", "server"}


def _path_regex(template: str, prefix: bool) -> re.Pattern:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template.rstrip("/") or "/"))
    return re.compile("^" + pattern + ("(?:/.*)?$" if prefix else "/?$"))


def find_route(backend: Any, method: str, path: str) -> tuple[str, Any, dict, dict] | None:
    """``(project_id, function, trigger, path_parameters)`` of the APIG trigger serving the call."""
    with backend.lock:
        for project_id, state in sorted(backend.projects.items()):
            model = state.service("functiongraph")
            for kind in ("APIG", "DEDICATEDGATEWAY"):
                for function, trigger in model.functions_with_trigger(kind):
                    data = trigger["event_data"]
                    wanted = str(data.get("req_method") or "ANY").upper()
                    if wanted not in ("ANY", method):
                        continue
                    match = _path_regex(str(data.get("path") or "/"), data.get("match_mode") == "SWA").match(path)
                    if match:
                        return project_id, function, trigger, match.groupdict()
    return None


def apig_event(handler: Any, method: str, path: str, body: bytes, trigger: dict, path_parameters: dict) -> dict:
    split = urlsplit(handler.path)
    return {
        "body": base64.b64encode(body).decode("ascii"),
        "requestContext": {
            "apiId": trigger["trigger_id"].replace("-", "")[:32],
            "requestId": uuid.uuid4().hex,
            "stage": trigger["event_data"].get("env_name") or "RELEASE",
            "sourceIp": handler.client_address[0],
        },
        "queryStringParameters": {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
        "httpMethod": method,
        "pathParameters": path_parameters,
        "headers": {k.lower(): v for k, v in handler.headers.items()},
        "path": path,
        "isBase64Encoded": True,
    }


def _send(handler: Any, status: int, headers: dict, body: bytes, request_id: str) -> None:
    try:
        handler.send_response(status)
        sent = set()
        for name, value in headers.items():
            if name.lower() in _HOP_BY_HOP:
                continue
            for item in value if isinstance(value, list) else [value]:
                handler.send_header(str(name), str(item))
            sent.add(name.lower())
        if "content-type" not in sent:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("X-Apig-Request-Id", request_id)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body and handler.command != "HEAD":
            handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


_NO_API = "The API does not exist or has not been published in the environment"


def _error(handler: Any, status: int, code: str, message: str, request_id: str) -> None:
    _send(
        handler,
        status,
        {},
        json.dumps({"error_code": code, "error_msg": message, "request_id": request_id}).encode(),
        request_id,
    )


def handle(handler: Any, runtime: LocalRuntime) -> None:
    split = urlsplit(handler.path)
    path = split.path[len(APIG_PREFIX) :] or "/"
    method = handler.command.upper()
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    request_id = uuid.uuid4().hex
    route = find_route(runtime.backend, method, path)
    if route is None:
        _error(handler, 404, "APIG.0101", _NO_API, request_id)
        return
    project_id, function, trigger, path_parameters = route
    event = apig_event(handler, method, path, body, trigger, path_parameters)
    event["requestContext"]["requestId"] = request_id
    with runtime.backend.lock:
        project = runtime.backend.project(project_id)
        if project is None:  # reset since the route was found
            _error(handler, 404, "APIG.0101", _NO_API, request_id)
            return
        model = project.service("functiongraph")
        invocation = model.receive(function, event, "sync", source=f"trigger:APIG:{trigger['trigger_id']}")
    timeout_ms = (trigger["event_data"].get("func_info") or {}).get("timeout")
    timeout_s = float(timeout_ms) / 1000 if isinstance(timeout_ms, (int, float)) and timeout_ms > 0 else None
    started = time.monotonic()
    answer = runtime.run_sync(invocation, timeout_s=timeout_s)
    result = answer.get("result")
    if answer.get("status") != 200:
        error = result if isinstance(result, dict) else {}
        if error.get("errorType") == "FunctionTimeout":
            _error(
                handler,
                504,
                "LocalCloud.ApigBackendTimeout",
                f"the function did not answer within {time.monotonic() - started:.1f} s",
                request_id,
            )
        else:
            _error(
                handler,
                502,
                "LocalCloud.ApigBackendError",
                f"the function failed: {error.get('errorType')}: {error.get('errorMessage')}",
                request_id,
            )
        return
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        _error(
            handler,
            502,
            "LocalCloud.ApigBadResponse",
            "the function's result is not an APIG response ({statusCode, headers, body, isBase64Encoded})",
            request_id,
        )
        return
    content = result.get("body", "")
    if not isinstance(content, str):
        content = json.dumps(content)
    try:
        data = base64.b64decode(content, validate=True) if result.get("isBase64Encoded") else content.encode("utf-8")
    except ValueError:
        _error(
            handler, 502, "LocalCloud.ApigBadResponse", "isBase64Encoded is true but the body is not base64", request_id
        )
        return
    headers = result.get("headers")
    if not isinstance(headers, dict):
        headers = {}
    _send(handler, result["statusCode"], headers, data, request_id)


def _route_hook(handler: Any) -> bool:
    runtime = getattr(handler.server.backend, "_localcloud_runtime", None)
    if runtime is None:  # uninstalled: /_apig/... is an unknown API again
        return False
    handle(handler, runtime)
    return True


def install_http(server: Any) -> None:
    """Serve ``/_apig/...`` on localcloud's own port (while a runtime is installed on its backend)
    through the core's route hook; every other path goes on as before. Idempotent."""
    server.add_route_hook(APIG_PREFIX, _route_hook)

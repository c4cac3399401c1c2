"""Handing a message to localcloud as the platform would: its DMS topics, its APIG, its executions.

``sgguard submit`` and ``sgguard dms`` publish through these; on an account, :mod:`.publishing`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

__all__ = ["DEFAULT_APIG_PATH", "publish", "post_apig", "last_execution_seq", "wait_for_result"]

DEFAULT_APIG_PATH = "/sgguard/change-requests"


def _call(url: str, body: bytes | None, method: str = "POST", content_type: str = "application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def publish(
    endpoint: str,
    messages: list[str],
    *,
    via: str = "kafka",
    topic: str = "sg-change-requests",
    instance_id: str | None = None,
) -> dict:
    """Put messages on a localcloud DMS topic (kafka) or exchange (rabbitmq)."""
    kind = "topics" if via == "kafka" else "exchanges"
    body: dict[str, Any] = {"messages": messages}
    if instance_id:
        body["instance_id"] = instance_id
    status, raw = _call(
        f"{endpoint.rstrip('/')}/_localcloud/dms/{kind}/{quote(topic, safe='')}/messages", json.dumps(body).encode()
    )
    answer = json.loads(raw) if raw else {}
    if status != 202:
        raise RuntimeError(f"publishing answered {status}: {answer}")
    return answer


def post_apig(endpoint: str, request: dict, path: str = DEFAULT_APIG_PATH) -> tuple[int, object]:
    status, raw = _call(f"{endpoint.rstrip('/')}/_apig{path}", json.dumps(request).encode())
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def _executions(endpoint: str, since: int) -> list[dict]:
    status, raw = _call(
        f"{endpoint.rstrip('/')}/_localcloud/functiongraph/executions?function=change_request&since={since}",
        None,
        method="GET",
    )
    if status != 200:
        raise RuntimeError(f"listing executions answered {status}: {raw[:300]!r}")
    return json.loads(raw)["executions"]


def last_execution_seq(endpoint: str) -> int:
    executions = _executions(endpoint, 0)
    return executions[-1]["seq"] if executions else 0


def wait_for_result(endpoint: str, request_id: str, since: int, timeout_s: float) -> dict | None:
    """The result event of ``request_id`` logged by change_request after execution ``since``."""
    from .localenv import read_results

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in read_results(_executions(endpoint, since)):
            if event["data"].get("request_id") == request_id:
                return event
        time.sleep(0.2)
    return None

"""The sweep's continuation: a sweep that stops for time hands the rest on to itself.

When the next server page may not fit in the invocation's remaining time, the sweep
(:mod:`shared.drift_sweep`) stops and invokes its own function asynchronously with
``{"sweep": {"first_page": N, "hop": H, "sweep_id": ...}}``: FunctionGraph
``AsyncInvokeFunction`` (``huaweicloudsdkfunctiongraph.v2``, ``POST
/v2/{project_id}/fgs/functions/{function_urn}/invocations-async``, 202 ``{"request_id"}``; IAM
``functiongraph:function:invokeAsync``, as the functiongraph result sink). The function's own URN is
``urn:fss:<region>:<project_id>:function:<package>:<name>:<version>`` from the context
(``getPackage``, ``getFunctionName``, ``getVersion``); the endpoint is ``FUNCTIONGRAPH_ENDPOINT``,
else the region's. At most :data:`MAX_HOPS` continuations follow one timer event: after that the
summary keeps ``continue_from`` and says the bound was reached (a loop can never run away).
The continuation carries the sweep's id, so its results and summary share the first one's
``request_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .config import read_setting
from .envelopes import Envelope
from .pipeline import Run

__all__ = ["MAX_HOPS", "SweepStart", "read_sweep_start", "own_function_urn", "continue_sweep"]

MAX_HOPS = 5
_SWEEP_ID = re.compile(r"^sweep:[0-9]{8}T[0-9]{6}Z\Z")
_NAME = re.compile(r"^[A-Za-z0-9_.!-]{1,128}\Z")


@dataclass(frozen=True)
class SweepStart:
    first_page: int = 1
    hop: int = 0  # 0: the timer's (or a direct) sweep; 1..MAX_HOPS: a continuation
    sweep_id: str | None = None


def _int(value: object, low: int, high: int, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return value if ok and isinstance(value, int) else default


def read_sweep_start(envelope: Envelope) -> SweepStart:
    """Where a sweep starts: page 1 for a timer; ``{"sweep": {...}}``'s fields for a direct call."""
    if envelope.kind != "direct" or not envelope.messages:
        return SweepStart()
    body = envelope.messages[0].body
    sweep = body.get("sweep") if isinstance(body, dict) else None
    if not isinstance(sweep, dict):
        return SweepStart()
    sweep_id = sweep.get("sweep_id")
    return SweepStart(
        _int(sweep.get("first_page"), 1, 1000, 1),
        _int(sweep.get("hop"), 0, MAX_HOPS, 0),
        sweep_id if isinstance(sweep_id, str) and _SWEEP_ID.match(sweep_id) else None,
    )


def own_function_urn(run: Run) -> str | None:
    """This function's URN, from the FunctionGraph context; None outside FunctionGraph."""

    def call(name: str) -> str | None:
        method = getattr(run.context, name, None)
        try:
            value = method() if callable(method) else None
        except Exception:  # noqa: BLE001 - a runtime without the method
            return None
        return str(value) if value else None

    name, package, version = call("getFunctionName"), call("getPackage") or "default", call("getVersion") or "latest"
    if not name or not all(_NAME.match(part) for part in (name, package, version)) or not run.settings.project_id:
        return None
    return f"urn:fss:{run.settings.region}:{run.settings.project_id}:function:{package}:{name}:{version}"


def _client(run: Run, endpoint: str) -> Any:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient

    agency = run.factory().credentials
    credentials = BasicCredentials(agency.ak, agency.sk, agency.project_id)
    if agency.security_token:
        credentials = credentials.with_security_token(agency.security_token)
    config = HttpConfig.get_default_config()
    config.timeout = (run.settings.connect_timeout_s, run.settings.read_timeout_s)
    config.retry_times = 0  # one invocation, never two: a lost answer is reported, not re-sent
    return (
        FunctionGraphClient.new_builder()
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .with_http_config(config)
        .build()
    )


def continue_sweep(run: Run, start: SweepStart, sweep_id: str, next_page: int) -> dict[str, Any]:
    """Invoke this function asynchronously with the rest of the sweep; what the summary says of it."""
    hop = start.hop + 1
    event = {"sweep": {"first_page": next_page, "hop": hop, "sweep_id": sweep_id}}
    if hop > MAX_HOPS:
        return {"hop": start.hop, "invoked": False, "reason": f"hop limit ({MAX_HOPS}) reached", "event": event}
    urn = own_function_urn(run)
    if urn is None:
        return {"hop": hop, "invoked": False, "reason": "not running in FunctionGraph: no function URN", "event": event}
    endpoint = (read_setting(run.context, "FUNCTIONGRAPH_ENDPOINT") or "").strip().rstrip("/")
    endpoint = endpoint or f"https://functiongraph.{run.settings.region}.myhuaweicloud.com"
    try:
        from huaweicloudsdkfunctiongraph.v2 import AsyncInvokeFunctionRequest

        response = _client(run, endpoint).async_invoke_function(
            AsyncInvokeFunctionRequest(function_urn=urn, body=event)
        )
    except Exception as error:  # noqa: BLE001 - reported in the summary (and the sweep is retried hourly)
        detail = getattr(error, "error_msg", None) or type(error).__name__
        return {"hop": hop, "invoked": False, "reason": f"async invocation failed: {detail}", "event": event}
    return {"hop": hop, "invoked": True, "request_id": getattr(response, "request_id", None), "event": event}

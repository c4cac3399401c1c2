"""Nothing fails for lack of time: messages not started before the safety margin are handed on.

When a batch cannot finish within the invocation, :func:`shared.pipeline.process_batch` stops
starting messages and gives the rest to :func:`hand_on`, which invokes **the same function**
asynchronously (FunctionGraph ``invocations-async``, through the SDK, with the agency's
``functiongraph:function:invokeAsync``) with those messages as a *continuation*::

    {"sgguard_continuation": {"hop": 1, "origin": "<first invocation's request id>",
                              "received_at": 1764363600.0, "trigger": "kafka",
                              "key_id": "ticketing-1", "mac": "<64 hex>"},
     "messages": ["<message 812 as received>", ...]}

Each handed-on message gets the result ``deferred`` naming the continuation (``{"id", "hop"}``);
the continuation gives it its real outcome. Messages of one server stay together and in queue
order (a continuation is split, at 256 KB, between servers only). After ``MAX_HOPS``
continuations a message that still could not start ends ``failed``, ``retryable: true``; so does
one whose continuation could not be invoked (the platform then re-delivers the batch).

Signed requests are checked for freshness against the time the *first* invocation received them
(``received_at``): a backlog that takes several invocations is not rejected as expired. That time
is only believed when the continuation carries a valid ``mac`` (HMAC-SHA256 with a key derived
from a request signing key: only this function can make one); otherwise it is ignored and the
messages are judged like any direct invocation. The hop count bounds self-invocation either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .canonical_json import canonical_json
from .errors import ErrorCode, ErrorDetail
from .results import ResultData, new_result_data

if TYPE_CHECKING:
    from .envelopes import Envelope
    from .pipeline import Prepared, Run

__all__ = ["CONTINUATION_KEY", "MAX_HOPS", "Continuation", "read_continuation", "hand_on", "signature_time"]

CONTINUATION_KEY = "sgguard_continuation"
MAX_HOPS = 5
MAX_EVENT_BYTES = 240 * 1024  # FunctionGraph's async request limit is 256 KB
_KEY_LABEL = b"sgguard-continuation-v1"


@dataclass(frozen=True)
class Continuation:
    hop: int
    origin: str
    received_at: float  # epoch seconds
    trigger: str
    trusted: bool  # the mac verified: received_at may be believed


def _mac(secret: str, header: dict[str, Any], messages: list[Any]) -> str:
    key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
    body = canonical_json({"continuation": {k: v for k, v in header.items() if k != "mac"}, "messages": messages})
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def read_continuation(envelope: Envelope, settings: Any) -> Continuation | None:
    """The continuation an envelope carries (``parse_envelope`` keeps its header in ``meta``)."""
    header = envelope.meta.get("continuation")
    if not isinstance(header, dict):
        return None
    messages = envelope.meta.get("continuation_messages", [])
    keys = settings.signing_keys
    key_id, mac = header.get("key_id"), header.get("mac")
    trusted = (
        isinstance(key_id, str)
        and isinstance(mac, str)
        and key_id in keys
        and hmac.compare_digest(mac, _mac(keys[key_id], header, messages))
    )
    return Continuation(
        hop=int(header["hop"]),
        origin=str(header["origin"]),
        received_at=float(header["received_at"]),
        trigger=str(header["trigger"]),
        trusted=trusted,
    )


def signature_time(run: Run) -> datetime:
    """When the request signatures are judged: when the first invocation received the messages
    (a trusted continuation), else now."""
    continuation = run.resources.get("continuation")
    if isinstance(continuation, Continuation) and continuation.trusted:
        return datetime.fromtimestamp(continuation.received_at, timezone.utc)
    return run.clock.now()


def _self_urn(run: Run) -> str:
    from .config import read_setting

    configured = read_setting(run.context, "SELF_FUNCTION_URN")
    if configured:
        return configured
    context = run.context
    name = getattr(context, "getFunctionName", lambda: None)() or read_setting(None, "RUNTIME_FUNC_NAME")
    version = getattr(context, "getVersion", lambda: None)() or read_setting(None, "RUNTIME_FUNC_VERSION") or "latest"
    package = read_setting(context, "FUNCTION_PACKAGE") or "default"
    return (
        f"urn:fss:{run.settings.region}:{run.settings.project_id}:function:{package}:{name or run.function}:{version}"
    )


def _chunks(prepared: list[Prepared]) -> list[list[Prepared]]:
    """Under the async size limit, never splitting one server's messages; message order kept."""
    lanes: dict[str, list[int]] = {}
    for index, item in enumerate(prepared):
        lanes.setdefault(item.key if item.key is not None else f"#{index}", []).append(index)
    chunks: list[list[int]] = [[]]
    size = 0
    for lane in lanes.values():
        lane_size = sum(len(json.dumps(prepared[i].message.body, ensure_ascii=False)) + 2 for i in lane)
        if chunks[-1] and size + lane_size > MAX_EVENT_BYTES - 1024:
            chunks.append([])
            size = 0
        chunks[-1].extend(lane)
        size += lane_size
    return [[prepared[i] for i in sorted(chunk)] for chunk in chunks if chunk]


def _identity(item: Prepared) -> dict[str, Any]:
    payload: dict[str, Any] = item.payload if isinstance(item.payload, dict) else {}
    raw_target = payload.get("target")
    target: dict[str, Any] = raw_target if isinstance(raw_target, dict) else {}
    ticket = payload.get("ticket")
    request_id, server_id = payload.get("request_id"), target.get("server_id")
    return {
        "request_id": request_id if isinstance(request_id, str) else None,
        "ticket": ticket if isinstance(ticket, dict) else None,
        "server_id": server_id if isinstance(server_id, str) else None,
        "dry_run": payload.get("dry_run") is True,
    }


def _failed(item: Prepared, message: str, code: str) -> ResultData:
    data = new_result_data("failed", **_identity(item))
    data.errors = [ErrorDetail(code, message, "$")]
    data.retryable = True
    return data


def hand_on(run: Run, envelope: Envelope, prepared: list[Prepared]) -> list[ResultData]:
    """Invoke this function asynchronously with ``prepared`` (not started); one result each."""
    current = run.resources.get("continuation")
    hop = (current.hop if isinstance(current, Continuation) else 0) + 1
    if hop > MAX_HOPS:
        text = f"not started in time after {MAX_HOPS} continuations; the batch may be re-delivered"
        return [_failed(item, text, ErrorCode.TIMEOUT) for item in prepared]
    trusted = isinstance(current, Continuation) and current.trusted
    origin = current.origin if isinstance(current, Continuation) else _request_id(run)
    received_at = current.received_at if trusted and isinstance(current, Continuation) else run.started_at
    trigger = current.trigger if isinstance(current, Continuation) else envelope.kind
    results: dict[int, ResultData] = {}
    for chunk in _chunks(prepared):
        messages = [item.message.body for item in chunk]
        header: dict[str, Any] = {"hop": hop, "origin": origin, "received_at": received_at, "trigger": trigger}
        if run.settings.signing_keys:
            key_id = min(run.settings.signing_keys)
            header["key_id"] = key_id
            header["mac"] = _mac(run.settings.signing_keys[key_id], header, messages)
        try:
            invocation_id = _invoke(run, {CONTINUATION_KEY: header, "messages": messages})
        except Exception as error:  # noqa: BLE001 - any failure: these messages fail, retryably
            text = f"could not hand the message on to a continuation: {str(error)[:300]}"
            results.update({id(item): _failed(item, text, ErrorCode.CLOUD_ERROR) for item in chunk})
            continue
        for item in chunk:
            data = new_result_data("deferred", **_identity(item))
            data.reason = (
                f"not started before the safety margin; handed on to an asynchronous invocation of {run.function}"
            )
            data.continuation = {"id": invocation_id, "hop": hop}
            results[id(item)] = data
    return [results[id(item)] for item in prepared]


def _request_id(run: Run) -> str:
    method = getattr(run.context, "getRequestID", None)
    value = method() if callable(method) else None
    return str(value) if value else "unknown"


def _invoke(run: Run, event: dict[str, Any]) -> str:
    from huaweicloudsdkfunctiongraph.v2 import AsyncInvokeFunctionRequest, FunctionGraphClient

    from .cloud.retry import translate
    from .config import read_setting

    endpoint = read_setting(run.context, "FUNCTIONGRAPH_ENDPOINT")
    endpoint = (endpoint or f"https://functiongraph.{run.settings.region}.myhuaweicloud.com").rstrip("/")
    client = run.factory().functiongraph(FunctionGraphClient, endpoint)
    request = AsyncInvokeFunctionRequest(function_urn=_self_urn(run), body=event)
    last: Exception | None = None
    for _ in range(2):  # a throttled invoke (refused by the gateway) is repeated once
        try:
            response = client.async_invoke_function(request)
            return str(getattr(response, "request_id", None) or "unknown")
        except Exception as raw:  # noqa: BLE001
            error = translate("functiongraph.async_invoke_function", raw)
            last = error
            if not error.throttled:  # a timeout may have landed: never invoke the continuation twice
                break
    assert last is not None
    raise last

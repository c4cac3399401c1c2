"""Nothing fails for lack of time: messages not started before the safety margin are handed on.

When a batch cannot finish within the invocation, :func:`shared.runtime.batch.process_batch` stops
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

A continuation is bounded in time as well: it is accepted only within ``REPLAY_WINDOW_S`` of
``received_at`` (and not more than ``SIGNATURE_MAX_SKEW_S`` ahead of this clock); later, each of its
messages is ``rejected`` with ``CONTINUATION_EXPIRED`` before anything is read. Within that window
its requests are claimed in the idempotency store from the moment they are handed on: the flow's
``hold`` claims each one (in progress, under the continuation's ``hold`` token, which the header
carries under the mac) until the window ends; the continuation's own claim takes the hold over,
once, and completes it. So a replay of an authentic continuation, before its window ends, finds
each request in progress or completed and changes nothing; after, it is refused whole.

The **retry lane** is the same continuation, marked ``"lane": "retry"`` in the header (under the
mac): in a queue batch (``shared.runtime.envelopes.QUEUE_TRIGGERS``), a message that ends ``failed`` / ``rolled_back``
with ``retryable: true`` is handed on with its server's later messages, in order, and its result is
``deferred`` with ``continuation: {"id", "hop", "lane": "retry"}``. In the lane, a retryable failure
makes the invocation raise after its results are delivered, so that FunctionGraph's async retry
policy runs it again (idempotency: what succeeded is a duplicate the next time); when the policy
gives up, its on-failure destination - this function again - gets the platform's payload, and
:mod:`shared.runtime.dead_letter` publishes each message in full to ``DEAD_LETTER_TOPIC_URN``.
A store that does not answer a hold does not keep a message out of the lane (the store is usually
why it failed); the lane's own claim guards it. docs/retries.md has the whole story.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from shared.canonical_json import canonical_json
from shared.errors import ErrorCode, ErrorDetail
from shared.idempotency import StoreError, store_failure
from shared.results import ResultData, failure_data, new_result_data

if TYPE_CHECKING:
    from shared.runtime.batch import Prepared
    from shared.runtime.envelopes import Envelope
    from shared.runtime.run import Run

__all__ = [
    "CONTINUATION_KEY",
    "MAX_HOPS",
    "RETRY_LANE",
    "Continuation",
    "Hold",
    "read_continuation",
    "expired",
    "holder_token",
    "hand_on",
    "signature_time",
    "own_function_urn",
    "invoke_self",
]

CONTINUATION_KEY = "sgguard_continuation"
MAX_HOPS = 5
RETRY_LANE = "retry"
MAX_EVENT_BYTES = 240 * 1024  # FunctionGraph's async request limit is 256 KB
_KEY_LABEL = b"sgguard-continuation-v1"
_URN_PART = re.compile(r"^[A-Za-z0-9_.!-]{1,128}\Z")
_HOLD_TOKEN = re.compile(r"^[0-9a-f]{32}\Z")

# A flow's hold on one message handed on: (run, message, the continuation's token, seconds the hold
# must last) -> how to give it up (the continuation could not be invoked), or None: nothing held.
# Raises StoreError when the store does not answer (the message then fails closed, not handed on).
Hold = Callable[["Run", "Prepared[Any]", str, float], "Callable[[], None] | None"]


@dataclass(frozen=True)
class Continuation:
    hop: int
    origin: str
    received_at: float  # epoch seconds
    trigger: str
    trusted: bool  # the mac verified: received_at may be believed
    hold: str | None = None  # the token its requests are held under in the idempotency store
    lane: str | None = None  # RETRY_LANE: retryable failures raise (FunctionGraph's async retries)


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
        hold=header["hold"] if isinstance(header.get("hold"), str) and _HOLD_TOKEN.match(header["hold"]) else None,
        lane=RETRY_LANE if header.get("lane") == RETRY_LANE else None,
    )


def expired(run: Run) -> ErrorDetail | None:
    """Why this run's continuation is refused, if it is: received more than ``REPLAY_WINDOW_S`` ago
    (its requests' records may be gone: a replay must not pass for new), or dated ahead of this
    clock by more than ``SIGNATURE_MAX_SKEW_S``. None for a run that is no continuation."""
    continuation = run.resources.get("continuation")
    if not isinstance(continuation, Continuation):
        return None
    age_s = run.clock.epoch() - continuation.received_at
    window_s, skew_s = run.settings.replay_window_s, run.settings.signature_max_skew_s
    if -skew_s <= age_s <= window_s:
        return None
    when = f"{age_s:.0f} s ago" if age_s > 0 else f"{-age_s:.0f} s in the future"
    return ErrorDetail(
        ErrorCode.CONTINUATION_EXPIRED,
        f"this continuation's batch was received {when}; a continuation is accepted within "
        f"REPLAY_WINDOW_S ({window_s} s) of the first receipt only: nothing was done",
        "$.sgguard_continuation.received_at",
    )


def holder_token(run: Run) -> str | None:
    """The hold token this run's claims may take over: its continuation's, when the continuation is
    authentic (a valid mac; without signing keys nothing can be, and the random token is the proof)."""
    continuation = run.resources.get("continuation")
    if not isinstance(continuation, Continuation) or continuation.hold is None:
        return None
    return continuation.hold if continuation.trusted or not run.settings.signing_keys else None


def signature_time(run: Run) -> datetime:
    """When the request signatures are judged: when the first invocation received the messages
    (a trusted continuation), else now."""
    continuation = run.resources.get("continuation")
    if isinstance(continuation, Continuation) and continuation.trusted:
        return datetime.fromtimestamp(continuation.received_at, timezone.utc)
    return run.clock.now()


# ---- the one self-invocation ---------------------------------------------------------------------


def own_function_urn(run: Run) -> str | None:
    """This function's URN: ``SELF_FUNCTION_URN``, else
    ``urn:fss:<region>:<project_id>:function:<package>:<name>:<version>`` from the FunctionGraph
    context (``getFunctionName``, ``getPackage``, ``getVersion``; the preset ``RUNTIME_FUNC_NAME`` /
    ``RUNTIME_FUNC_VERSION`` where the context has none). None outside FunctionGraph."""
    settings = run.settings
    if settings.self_function_urn:
        return settings.self_function_urn

    def call(name: str) -> str | None:
        method = getattr(run.context, name, None)
        try:
            value = method() if callable(method) else None
        except Exception:  # noqa: BLE001 - a runtime without the method
            return None
        return str(value) if value else None

    name = call("getFunctionName") or settings.function_name
    package = call("getPackage") or settings.function_package
    version = call("getVersion") or settings.function_version or "latest"
    if not name or not settings.project_id or not all(_URN_PART.match(part) for part in (name, package, version)):
        return None
    return f"urn:fss:{settings.region}:{settings.project_id}:function:{package}:{name}:{version}"


def invoke_self(run: Run, event: dict[str, Any]) -> str:
    """Invoke this function asynchronously with ``event`` (through :mod:`shared.cloud.functions`);
    the invocation's request id. Raises :class:`LookupError` outside FunctionGraph, a cloud error
    when the invocation failed (never sent twice: a timeout may have landed)."""
    urn = own_function_urn(run)
    if urn is None:
        raise LookupError("not running in FunctionGraph: no function URN")
    return run.functions().async_invoke(urn, event)


# ---- handing a batch on ----------------------------------------------------------------------------


def _chunks(prepared: list[Prepared[Any]]) -> list[list[Prepared[Any]]]:
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


def _failed(item: Prepared[Any], message: str, code: str) -> ResultData:
    return failure_data(ErrorDetail(code, message, "$"), retryable=True, identity=item.identity)


def _held(
    run: Run,
    chunk: list[Prepared[Any]],
    hold: Hold | None,
    token: str,
    hold_s: float,
    results: dict[int, ResultData],
    strict: bool = True,
) -> tuple[list[Prepared[Any]], list[Callable[[], None]]]:
    """The messages of ``chunk`` to hand on, each held by ``hold``; one the store could not hold
    fails closed (its result goes into ``results``), unless not ``strict`` (the retry lane): then it
    goes on unheld."""
    if hold is None:
        return chunk, []
    kept, releases = [], []
    for item in chunk:
        try:
            release = hold(run, item, token, hold_s)
        except StoreError as error:
            if not strict:
                kept.append(item)
                continue
            results[id(item)] = store_failure(error, item.identity)
            continue
        kept.append(item)
        if release is not None:
            releases.append(release)
    return kept, releases


def _release_all(releases: list[Callable[[], None]]) -> None:
    for release in releases:
        try:
            release()
        except StoreError:  # the hold expires with the continuation's window
            pass


def hand_on(
    run: Run,
    envelope: Envelope,
    prepared: list[Prepared[Any]],
    *,
    hold: Hold | None = None,
    lane: str | None = None,
    failures: dict[int, ResultData] | None = None,
) -> list[ResultData]:
    """Invoke this function asynchronously with ``prepared``; one result each.

    ``hold``: the flow's claim on each message for the continuation (see the module's docstring).
    ``lane``: :data:`RETRY_LANE` to hand them to the retry lane (a continuation of a lane stays in
    it); ``failures`` (by ``id`` of the message) are the retryable failures that send them there,
    kept as their results when they cannot be handed on."""
    current = run.resources.get("continuation")
    retrying = lane is not None  # handed on for a failure, not for lack of time
    lane = lane or (current.lane if isinstance(current, Continuation) else None)
    failures = failures or {}

    def fallback(item: Prepared[Any], text: str, code: str) -> ResultData:
        if id(item) in failures:
            return failures[id(item)]
        if retrying:  # never started: behind its server's failed message (queue order)
            return _failed(
                item, f"not started: its server's earlier message failed retryably; {text}", ErrorCode.BEHIND_RETRY
            )
        return _failed(item, text, code)

    hop = (current.hop if isinstance(current, Continuation) else 0) + 1
    if hop > MAX_HOPS:
        # taken over and given up at once: a redelivery of the batch must find the requests free
        _release_all(_held(run, prepared, hold, secrets.token_hex(16), 1.0, {}, strict=lane is None)[1])
        text = f"not started in time after {MAX_HOPS} continuations; the batch may be re-delivered"
        return [fallback(item, text, ErrorCode.TIMEOUT) for item in prepared]
    trusted = isinstance(current, Continuation) and current.trusted
    origin = current.origin if isinstance(current, Continuation) else run.request_id()
    received_at = current.received_at if trusted and isinstance(current, Continuation) else run.started_at
    trigger = current.trigger if isinstance(current, Continuation) else envelope.kind
    # held until the continuation would be refused as expired (at least a second: a store's unit)
    hold_s = max(1.0, received_at + run.settings.replay_window_s - run.clock.epoch())
    results: dict[int, ResultData] = {}
    for whole_chunk in _chunks(prepared):
        token = secrets.token_hex(16)
        chunk, releases = _held(run, whole_chunk, hold, token, hold_s, results, strict=lane is None)
        if not chunk:
            continue
        messages = [item.message.body for item in chunk]
        header: dict[str, Any] = {"hop": hop, "origin": origin, "received_at": received_at, "trigger": trigger}
        if hold is not None:
            header["hold"] = token
        if lane is not None:
            header["lane"] = lane
        if run.settings.signing_keys:
            key_id = min(run.settings.signing_keys)
            header["key_id"] = key_id
            header["mac"] = _mac(run.settings.signing_keys[key_id], header, messages)
        try:
            invocation_id = invoke_self(run, {CONTINUATION_KEY: header, "messages": messages})
        except Exception as error:  # noqa: BLE001 - any failure: these messages fail, retryably
            _release_all(releases)  # a redelivery of the batch must find them free
            text = f"could not hand the message on to a continuation: {str(error)[:300]}"
            results.update({id(item): fallback(item, text, ErrorCode.CLOUD_ERROR) for item in chunk})
            continue
        continuation: dict[str, Any] = {"id": invocation_id, "hop": hop}
        if lane is not None:
            continuation["lane"] = lane
        for item in chunk:
            failure = failures.get(id(item))
            results[id(item)] = new_result_data(
                "deferred",
                item.identity,
                reason=_deferral_reason(run, retrying, failure),
                warnings=list(failure.errors) if failure is not None else [],
                continuation=continuation,
            )
    return [results[id(item)] for item in prepared]


def _deferral_reason(run: Run, retrying: bool, failure: ResultData | None) -> str:
    if not retrying:
        return f"not started before the safety margin; handed on to an asynchronous invocation of {run.function}"
    why = "failed, retryably (warnings: why)" if failure is not None else "queued behind its server's earlier message"
    return (
        f"{why}; handed to the retry lane, an asynchronous invocation of {run.function} that "
        "FunctionGraph's async retry policy retries (its result follows)"
    )

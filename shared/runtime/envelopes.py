"""Recognise how FunctionGraph delivered an event and unwrap its messages.

:func:`parse_envelope` turns any trigger's event into an :class:`Envelope`:
its ``kind`` and a list of :class:`InboundMessage` whose ``body`` is the raw
payload as found (str, bytes, dict, list...). Decoding and validating each body
is left to :func:`shared.validation.decode_json_message`, per message, so one
poison message in a Kafka batch affects only itself. It never raises.

Kinds: kafka, rabbitmq (``records[].messages[]``), smn (``record[].smn``),
apig (``httpMethod`` + ``body``), eventgrid (CloudEvent, list of CloudEvents or
``{"events": [...]}``), cts (``{"cts": trace}``), timer (no messages), direct
(a request object or a list of them), dead_letter (the platform's async destination payload
``{timestamp, request_context, request_payload, response_context, response_payload}``: the event
the async retry policy gave up on, its messages those of ``request_payload``; ``meta["dead_letter"]``
has ``condition``, ``approximate_invoke_count``, ``request_id``, ``trigger`` and ``depth``, 2 when
that event was itself a dead letter) and unknown (``error`` says why).

``InboundMessage.source`` is the JSON path of the message inside the event
(``$.records[0].messages[2]``), so a report can point at it.
"""

from __future__ import annotations

import json

from shared import records
from shared.errors import ErrorCode, ErrorDetail, excerpt, format_json_path
from shared.validation import decode_json_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CHANGE_REQUEST_TRIGGERS",
    "ENVELOPE_KINDS",
    "QUEUE_TRIGGERS",
    "ENVELOPE_MAX_BYTES",
    "Envelope",
    "InboundMessage",
    "apig_response",
    "is_cloudevent",
    "parse_envelope",
]

ENVELOPE_KINDS = (
    "kafka",
    "rabbitmq",
    "smn",
    "apig",
    "eventgrid",
    "cts",
    "timer",
    "direct",
    "dead_letter",
    "unknown",
)
# The triggers change_request serves (here, not in shared.flows.change_request: its handler checks them
# before importing the steps, so that a timer tick never pays for them).
CHANGE_REQUEST_TRIGGERS = ("kafka", "rabbitmq", "smn", "apig", "eventgrid", "direct")
# Triggers whose batch nobody retries message by message: a retryable failure goes to the retry lane
# (shared.runtime.continuation).
QUEUE_TRIGGERS = ("kafka", "rabbitmq", "smn", "eventgrid", "cts")
# FunctionGraph's synchronous payload limit; per-message limits are applied later.
ENVELOPE_MAX_BYTES = 6 * 1024 * 1024
_CLOUDEVENT_KEYS = ("specversion", "id", "source", "type")


@records.record
class InboundMessage:
    """One payload found in an event: ``index`` counts from 0 across the whole event."""

    index: int
    body: object
    source: str
    meta: dict[str, Any] = records.field(default_factory=dict)

    @property
    def decode_error(self) -> ErrorDetail | None:
        """Problem unwrapping this message from its envelope (e.g. bad base64), if any."""
        error = self.meta.get("decode_error")
        return error if isinstance(error, ErrorDetail) else None


@records.record
class Envelope:
    """What was delivered: the trigger ``kind``, its messages and envelope-level ``meta``."""

    kind: str
    messages: list[InboundMessage]
    error: ErrorDetail | None = None
    meta: dict[str, Any] = records.field(default_factory=dict)


def is_cloudevent(value: object) -> bool:
    """True for a dict carrying the four required CloudEvents attributes as strings."""
    return isinstance(value, dict) and all(isinstance(value.get(key), str) for key in _CLOUDEVENT_KEYS)


def _unknown(message: str) -> Envelope:
    return Envelope("unknown", [], ErrorDetail(ErrorCode.UNKNOWN_ENVELOPE, message, "$"))


def _pick(mapping: object, *keys: str) -> dict[str, Any]:
    """Scalar values of the given keys, for provenance; ``"src:dst"`` renames to snake_case."""
    if not isinstance(mapping, dict):
        return {}
    picked = {}
    for key in keys:
        source, _, target = key.partition(":")
        value = mapping.get(source)
        if isinstance(value, (str, int, float, bool)):
            picked[target or source] = value
    return picked


def _poison(index: int, body: object, parts: list[str | int], message: str, **meta: Any) -> InboundMessage:
    # A malformed part of the envelope still yields a message, so it gets its own rejection.
    path = format_json_path(parts)
    detail = ErrorDetail(ErrorCode.UNKNOWN_ENVELOPE, message, path)
    return InboundMessage(index, body, path, {**meta, "decode_error": detail})


# --------------------------------------------------------------------------- per kind


def _records(event: dict[str, Any]) -> Envelope:
    trigger_type = str(event.get("trigger_type") or "")
    kind = "rabbitmq" if "RABBIT" in trigger_type.upper() else "kafka"
    meta = _pick(event, "event_version", "event_time", "trigger_type", "region", "instance_id")
    messages: list[InboundMessage] = []
    for record_index, record in enumerate(event["records"]):
        record_meta = {"record_index": record_index, **_pick(record, "topic_id", "topic_name")}
        raw_messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(raw_messages, list):
            messages.append(
                _poison(
                    len(messages),
                    record,
                    ["records", record_index],
                    "record has no messages list",
                    **record_meta,
                )
            )
            continue
        for message_index, body in enumerate(raw_messages):
            messages.append(
                InboundMessage(
                    index=len(messages),
                    body=body,
                    source=format_json_path(["records", record_index, "messages", message_index]),
                    meta={**record_meta, "message_index": message_index},
                )
            )
    return Envelope(kind, messages, meta=meta)


def _smn(event: dict[str, Any]) -> Envelope:
    meta = _pick(event, "functionname:function_name", "requestId:request_id", "timestamp")
    messages: list[InboundMessage] = []
    for record_index, record in enumerate(event["record"]):
        smn = record.get("smn") if isinstance(record, dict) else None
        if not isinstance(smn, dict) or "message" not in smn:
            messages.append(
                _poison(
                    len(messages),
                    record,
                    ["record", record_index],
                    "SMN record has no smn.message",
                    record_index=record_index,
                )
            )
            continue
        record_meta = {
            "record_index": record_index,
            **_pick(smn, "message_id", "topic_urn", "subject", "type", "timestamp"),
            **_pick(record, "event_subscription_urn"),
        }
        messages.append(
            InboundMessage(
                len(messages), smn["message"], format_json_path(["record", record_index, "smn", "message"]), record_meta
            )
        )
    return Envelope("smn", messages, meta=meta)


def _split_json_list(body: object) -> list[Any] | None:
    """Elements of ``body`` when it is (JSON text of) a list; None otherwise."""
    if isinstance(body, list):
        return body
    if isinstance(body, (str, bytes)) and body.lstrip()[:1] in ("[", b"["):
        value, error = decode_json_message(body, max_bytes=ENVELOPE_MAX_BYTES)
        if error is None and isinstance(value, list):
            return value
    return None


def _b64decode(text: str) -> bytes:
    """Strict base64 (raises ``ValueError``); imported here: few events carry it (cold start)."""
    import base64

    return base64.b64decode(text, validate=True)


def _apig(event: dict[str, Any]) -> Envelope:
    context = event.get("requestContext")
    meta = {
        **_pick(event, "httpMethod:http_method", "path"),
        **_pick(context, "requestId:request_id", "sourceIp:source_ip", "stage", "apiId:api_id"),
    }
    body = event.get("body")
    if event.get("isBase64Encoded") is True and isinstance(body, str):
        try:
            body = _b64decode(body)
        except ValueError:  # binascii.Error is one
            detail = ErrorDetail(ErrorCode.INVALID_JSON, "body is marked base64 but is not valid base64", "$.body")
            return Envelope("apig", [InboundMessage(0, body, "$.body", {**meta, "decode_error": detail})], meta=meta)
    elements = _split_json_list(body)
    if elements is None:
        return Envelope("apig", [InboundMessage(0, body, "$.body", dict(meta))], meta=meta)
    messages = [
        InboundMessage(i, element, format_json_path(["body", i]), {**meta, "list_index": i})
        for i, element in enumerate(elements)
    ]
    return Envelope("apig", messages, meta=meta)


def _cloudevent_message(index: int, cloud_event: dict[str, Any], parts: list[str | int]) -> InboundMessage:
    meta = _pick(cloud_event, "id", "source", "type", "subject", "time", "datacontenttype", "specversion")
    if "data" not in cloud_event and isinstance(cloud_event.get("data_base64"), str):
        try:
            body: object = _b64decode(cloud_event["data_base64"])
        except ValueError:  # binascii.Error is one
            detail = ErrorDetail(
                ErrorCode.INVALID_JSON, "data_base64 is not valid base64", format_json_path(parts + ["data_base64"])
            )
            return InboundMessage(index, cloud_event["data_base64"], detail.path, {**meta, "decode_error": detail})
        return InboundMessage(index, body, format_json_path(parts + ["data_base64"]), meta)
    return InboundMessage(index, cloud_event.get("data"), format_json_path(parts + ["data"]), meta)


def _eventgrid(items: list[Any], parts: list[str | int]) -> Envelope:
    messages = []
    for i, item in enumerate(items):
        if is_cloudevent(item):
            messages.append(_cloudevent_message(i, item, parts + [i]))
        else:
            messages.append(_poison(i, item, parts + [i], "element is not a CloudEvent"))
    return Envelope("eventgrid", messages)


def _continuation(event: dict[str, Any]) -> Envelope:
    """A batch this function handed on to itself (:mod:`shared.runtime.continuation`): its messages, as a
    direct invocation, with the header in ``meta``."""
    header, messages = event.get("sgguard_continuation"), event.get("messages")
    if not (
        isinstance(header, dict)
        and isinstance(messages, list)
        and messages
        and type(header.get("hop")) is int
        and header["hop"] >= 1
        and isinstance(header.get("origin"), str)
        and type(header.get("received_at")) in (int, float)
        and isinstance(header.get("trigger"), str)
    ):
        return _unknown("a continuation needs sgguard_continuation {hop, origin, received_at, trigger} and messages")
    items = [InboundMessage(i, body, format_json_path(["messages", i]), {}) for i, body in enumerate(messages)]
    return Envelope("direct", items, meta={"continuation": header, "continuation_messages": messages})


def _dead_letter(event: dict[str, Any]) -> Envelope:
    """The platform's on-failure destination payload: the messages of the event it gave up on."""
    context, payload = event["request_context"], event["request_payload"]
    inner = parse_envelope(payload)  # a JSON text: the original event
    messages = inner.messages or [InboundMessage(0, payload, "$.request_payload", {})]  # never lost
    before = inner.meta.get("dead_letter") if inner.kind == "dead_letter" else None
    meta = {k: v for k, v in inner.meta.items() if k != "dead_letter"}
    meta["dead_letter"] = {
        "condition": str(context.get("condition") or ""),
        "approximate_invoke_count": context.get("approximate_invoke_count"),
        "request_id": str(context.get("request_id") or ""),
        "trigger": before["trigger"] if before else inner.kind,
        "depth": (before["depth"] + 1) if before else 1,
    }
    return Envelope("dead_letter", messages, meta=meta)


def _is_destination_payload(event: dict[str, Any]) -> bool:
    return (
        isinstance(event.get("request_context"), dict)
        and isinstance(event.get("request_payload"), str)
        and isinstance(event.get("response_context"), dict)
    )


def _from_dict(event: dict[str, Any]) -> Envelope:
    if "sgguard_continuation" in event:
        return _continuation(event)
    if _is_destination_payload(event):
        return _dead_letter(event)
    trigger_type = event.get("trigger_type")
    if isinstance(trigger_type, str) and trigger_type.upper() == "TIMER":
        return Envelope("timer", [], meta=_pick(event, "version", "time", "trigger_type", "trigger_name", "user_event"))
    if "records" in event:
        if not isinstance(event["records"], list):
            return _unknown(f"'records' must be a list, got {type(event['records']).__name__}")
        return _records(event)
    if trigger_type is not None:
        return _unknown(f"trigger_type {excerpt(trigger_type)} without a records list")
    if "record" in event:
        if not isinstance(event["record"], list):
            return _unknown(f"'record' must be a list, got {type(event['record']).__name__}")
        return _smn(event)
    if "httpMethod" in event:
        return _apig(event)
    if "cts" in event:
        if not isinstance(event["cts"], dict):
            return _unknown(f"'cts' must be an object, got {type(event['cts']).__name__}")
        trace = event["cts"]
        meta = _pick(trace, "trace_id", "trace_name", "trace_type", "service_type", "resource_id", "resource_type")
        return Envelope("cts", [InboundMessage(0, trace, "$.cts", meta)])
    if is_cloudevent(event):
        return Envelope("eventgrid", [_cloudevent_message(0, event, [])])
    events = event.get("events")
    if isinstance(events, list) and any(is_cloudevent(item) for item in events):
        return _eventgrid(events, ["events"])
    return Envelope("direct", [InboundMessage(0, event, "$", {})])


def _from_list(event: list[Any]) -> Envelope:
    if not event:
        return _unknown("event is an empty list")
    if all(is_cloudevent(item) for item in event):
        return _eventgrid(event, [])
    return Envelope(
        "direct",
        [InboundMessage(i, item, format_json_path([i]), {"list_index": i}) for i, item in enumerate(event)],
    )


def parse_envelope(event: object) -> Envelope:
    """Detect the trigger kind of ``event`` and list its messages. Never raises."""
    try:
        if isinstance(event, dict):
            return _from_dict(event)
        if isinstance(event, list):
            return _from_list(event)
        if isinstance(event, (str, bytes, bytearray)):
            # Some invokers hand over the JSON text itself: unwrap exactly one level.
            value, error = decode_json_message(
                bytes(event) if isinstance(event, bytearray) else event, max_bytes=ENVELOPE_MAX_BYTES
            )
            if error is not None:
                return _unknown(f"event is text but not JSON: {error.message}")
            if isinstance(value, dict):
                return _from_dict(value)
            if isinstance(value, list):
                return _from_list(value)
            return _unknown(f"event is JSON {type(value).__name__}, not an object or list")
        return _unknown(f"event of type {type(event).__name__} is not a known envelope")
    except Exception as exc:  # never let a strange event crash the handler
        return _unknown(f"event could not be parsed ({type(exc).__name__})")


def apig_response(status_code: int, payload: dict[str, Any]) -> dict[str, Any]:
    """API Gateway integration response with a JSON body."""
    return {
        "statusCode": int(status_code),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False),
        "isBase64Encoded": False,
    }

"""Signing the change requests inside a trigger event, wherever its envelope carries them.

``sgguard invoke`` runs the samples under ``events/change_request/`` — unsigned, so that they stay
readable and never go stale — through a function that requires signatures. It signs each request
with the local key just before the invocation, in place, in the envelope's own encoding: a Kafka,
RabbitMQ or SMN message stays JSON text, an APIG body stays text (or base64), an EventGrid
``data`` stays an object. A request that already carries a ``signature`` is left as it is (an
event someone signed on purpose, e.g. with ``sgguard sign``).

Only objects that look like change requests (``request_id`` and ``change``) are signed; anything
else (a CTS trace, a timer tick) passes through untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from shared.runtime.envelopes import is_cloudevent

__all__ = ["sign_event_requests", "Signer"]

Signer = Callable[[dict[str, Any]], dict[str, Any]]


def _is_unsigned_request(value: object) -> bool:
    return isinstance(value, dict) and "request_id" in value and "change" in value and "signature" not in value


class _Walk:
    def __init__(self, sign: Signer):
        self.sign = sign
        self.signed: list[str] = []  # the request ids, in the event's order

    def value(self, value: Any) -> Any:
        """A request (or a list of them) as an object: signed when unsigned."""
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if _is_unsigned_request(value):
            self.signed.append(str(value.get("request_id")))
            return self.sign(value)
        return value

    def text(self, text: Any) -> Any:
        """JSON text of a request (or of a list of them): signed, still text; anything else as is."""
        if not isinstance(text, str):
            return text
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        before = len(self.signed)
        signed = self.value(decoded)
        return json.dumps(signed, ensure_ascii=False, separators=(",", ":")) if len(self.signed) > before else text

    def cloudevent(self, event: dict[str, Any]) -> dict[str, Any]:
        data = event.get("data")
        return {**event, "data": self.text(data) if isinstance(data, str) else self.value(data)}

    def apig(self, event: dict[str, Any]) -> dict[str, Any]:
        body = event.get("body")
        if event.get("isBase64Encoded") is True and isinstance(body, str):
            try:
                plain = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                return event
            signed = self.text(plain)
            return {**event, "body": base64.b64encode(signed.encode("utf-8")).decode("ascii")}
        return {**event, "body": self.text(body)}

    def event(self, event: Any) -> Any:
        if isinstance(event, list):
            return [self.cloudevent(item) if is_cloudevent(item) else self.value(item) for item in event]
        if not isinstance(event, dict):
            return event
        if isinstance(event.get("records"), list):  # Kafka, RabbitMQ
            return {**event, "records": [self._record(record) for record in event["records"]]}
        if isinstance(event.get("record"), list):  # SMN
            return {**event, "record": [self._smn(record) for record in event["record"]]}
        if "httpMethod" in event:
            return self.apig(event)
        if is_cloudevent(event):
            return self.cloudevent(event)
        if isinstance(event.get("events"), list):
            return {**event, "events": [self.cloudevent(e) if is_cloudevent(e) else e for e in event["events"]]}
        return self.value(event)

    def _record(self, record: Any) -> Any:
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            return record
        return {**record, "messages": [self.text(message) for message in record["messages"]]}

    def _smn(self, record: Any) -> Any:
        if not isinstance(record, dict) or not isinstance(record.get("smn"), dict):
            return record
        return {**record, "smn": {**record["smn"], "message": self.text(record["smn"].get("message"))}}


def sign_event_requests(event: Any, sign: Signer) -> tuple[Any, list[str]]:
    """``event`` with every unsigned change request in it signed by ``sign`` (a new object; the
    argument is not changed), and the request ids that were signed."""
    walk = _Walk(sign)
    return walk.event(event), walk.signed

"""Dead letters: what FunctionGraph's async retry policy gave up on, each message in full, on a topic.

Every function's async invoke config (template.yaml) names the function itself as its
``on_failure`` destination: when the policy gives up on an event (``RetriesExhausted``,
``EventAgeExceeded``), the platform invokes the function with its destination payload, whose
``request_payload`` is that event (:func:`shared.runtime.envelopes.parse_envelope` makes it a
``dead_letter`` envelope with the event's messages). Nothing is applied: each message is published,
as received, to ``DEAD_LETTER_TOPIC_URN`` (SMN, ``smn:topic:publish``) as
``{"sgguard_dead_letter": {...}, "message": <the message as received>}`` and gets a ``failed``
result with ``dead_lettered: true`` (``DEAD_LETTERED``). A message that could not be published gets
``dead_lettered: false``, retryable the first time (the invocation raises: the platform retries it,
and gives up on it to this function again); a dead letter of a dead letter is never retried (the
cycle ends there, the message's result and the function log say what was lost).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from shared.errors import ErrorCode, ErrorDetail
from shared.results import Identity, ResultData, failure_data

if TYPE_CHECKING:
    from shared.runtime.envelopes import Envelope, InboundMessage
    from shared.runtime.run import Run

__all__ = ["dead_letter_results", "dead_letter_body"]

_SUBJECT_BYTES = 512


def dead_letter_body(run: Run, envelope: Envelope, message: InboundMessage) -> str:
    """What goes to the dead-letter topic for ``message``: the message as received, and where from."""
    info = envelope.meta["dead_letter"]
    header = {
        "function": run.function,
        "condition": info["condition"],
        "approximate_invoke_count": info["approximate_invoke_count"],
        "request_id": info["request_id"],
        "trigger": info["trigger"],
        "message_index": message.index,
    }
    body: Any = message.body
    if isinstance(body, (bytes, bytearray)):
        header["encoding"] = "base64"
        body = base64.b64encode(bytes(body)).decode()
    return json.dumps({"sgguard_dead_letter": header, "message": body}, ensure_ascii=False, separators=(",", ":"))


def dead_letter_results(run: Run, envelope: Envelope, identities: list[Identity]) -> list[ResultData]:
    """Publish each message of a ``dead_letter`` envelope; one result each (``identities``: in order)."""
    info = envelope.meta["dead_letter"]
    first = info["depth"] == 1
    topic = run.settings.dead_letter_topic_urn
    sink = None
    if topic is not None:
        from shared.sinks.smn import SmnSink  # only dead letters pay for it (cold start)

        sink = SmnSink("dead_letter", {"type": "smn", "topic_urn": topic}, run, run.deadline)
    attempts = info["approximate_invoke_count"]
    why = f"FunctionGraph's async retry policy gave up ({info['condition'] or 'failed'}, {attempts} attempt(s))"
    results = []
    for message, identity in zip(envelope.messages, identities):
        error = "DEAD_LETTER_TOPIC_URN is not set" if sink is None else None
        if sink is not None:
            subject = f"sgguard {run.function} dead letter {identity.request_id or message.index}"
            try:
                sink.publish(
                    subject.encode()[:_SUBJECT_BYTES].decode("utf-8", "ignore"),
                    dead_letter_body(run, envelope, message),
                    [],
                )
            except Exception as failure:  # noqa: BLE001 - any failure: said in the result, retried once
                error = str(failure)[:300]
        if error is None:
            detail = ErrorDetail(
                ErrorCode.DEAD_LETTERED, f"{why}; nothing was applied; the message is on the dead-letter topic", "$"
            )
            results.append(failure_data(detail, identity=identity, dead_lettered=True))
            continue
        then = "this invocation is retried" if first else "it is lost: the function log has this result"
        detail = ErrorDetail(
            ErrorCode.DEAD_LETTERED,
            f"{why}; nothing was applied; publishing it to the dead-letter topic failed ({error}): {then}",
            "$",
        )
        results.append(failure_data(detail, retryable=first, identity=identity, dead_lettered=False))
    return results

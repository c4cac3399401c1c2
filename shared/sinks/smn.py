"""The ``smn`` sink: publish each result to an SMN topic, with message attributes to filter on.

``{"type": "smn", "topic_urn": "urn:smn:<region>:<project_id>:<topic>"}``; endpoint from
``SMN_ENDPOINT`` (default ``https://smn.<REGION>.myhuaweicloud.com``).

``huaweicloudsdksmn.v2.SmnClient.publish_message`` ->
``POST /v2/{project_id}/notifications/topics/{topic_urn}/publish`` with
``{"subject", "message", "message_attributes": [{"name", "type": "STRING", "value"}]}``.
The message is the CloudEvent as JSON text (at most 256 KB). Attributes, so that subscription
filter policies (``filter_polices: [{"name": "outcome", "string_equals": ["failed"]}]``) can
pick what a subscriber gets: ``outcome``, ``function``, ``trigger``, ``ticket_system``,
``dry_run``. SMN allows only letters, digits and underscores (1-32 characters) in a STRING
value: other characters become ``_``; an attribute with nothing left is left out.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from shared.sinks.base import Sink, config_str, sdk_client, sdk_error
from shared.sinks.exceptions import SinkError

if TYPE_CHECKING:
    from shared.clock import Deadline
    from shared.sinks.base import SinkRun

__all__ = ["SmnSink", "message_attributes", "attribute_value"]

MAX_MESSAGE_BYTES = 256 * 1024  # PublishMessageRequestBody.message: "at most 256KB"
MAX_SUBJECT_BYTES = 512
_NOT_ALLOWED = re.compile(r"[^0-9A-Za-z_\u4e00-\u9fff]+")
_TOPIC_URN = re.compile(r"^urn:smn:[a-z0-9-]+:[0-9a-f]{32}:[A-Za-z0-9][A-Za-z0-9_-]{0,255}$")


def attribute_value(value: object) -> str | None:
    """A STRING attribute value SMN accepts (letters, digits, ``_``; 1-32 chars), or None."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, (str, int)):
        return None
    text = _NOT_ALLOWED.sub("_", str(value)).strip("_")[:32]
    return text or None


def message_attributes(event: dict[str, Any]) -> list[dict[str, str]]:
    """``[{"name", "type": "STRING", "value"}]`` for a result event (names: SMN's rules)."""
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    ticket = data["ticket"] if isinstance(data.get("ticket"), dict) else {}
    candidates = [
        ("outcome", data.get("outcome")),
        ("function", data.get("function")),
        ("trigger", data.get("trigger")),
        ("ticket_system", ticket.get("system")),
        ("dry_run", data.get("dry_run")),
    ]
    attributes = []
    for name, raw in candidates:
        value = attribute_value(raw)
        if value is not None:
            attributes.append({"name": name, "type": "STRING", "value": value})
    return attributes


def subject_of(event: dict[str, Any]) -> str:
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    parts = ["sgguard", str(data.get("function") or ""), str(data.get("outcome") or "")]
    if data.get("request_id"):
        parts.append(str(data["request_id"]))
    text = " ".join(part for part in parts if part)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text.encode("utf-8")[:MAX_SUBJECT_BYTES].decode("utf-8", "ignore")


class SmnSink(Sink):
    kind = "smn"

    def __init__(self, name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline) -> None:
        super().__init__(name, config, run, deadline)
        self.topic_urn = config_str(self, "topic_urn")
        if not _TOPIC_URN.match(self.topic_urn):
            raise self.config_error(
                f"RESULT_SINKS entry {name!r}: topic_urn must look like urn:smn:<region>:<project_id>:<topic name>",
                "RESULT_SINKS",
            )
        self.endpoint = run.settings.smn_endpoint

    def check(self, event: dict[str, Any], size: int) -> SinkError | None:
        if size > MAX_MESSAGE_BYTES:
            return self.error(
                f"the event is {size} bytes; an SMN message takes at most 256 KB ({MAX_MESSAGE_BYTES} bytes)",
                code="MESSAGE_TOO_LARGE",
            )
        return None

    def _client(self) -> Any:
        def load() -> Any:
            from huaweicloudsdksmn.v2 import SmnClient

            return SmnClient

        return sdk_client(self, "smn", load, self.endpoint)

    def send(self, events: list[dict[str, Any]]) -> dict[int, SinkError] | None:
        (event,) = events
        message = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        self.publish(subject_of(event), message, message_attributes(event))
        return None

    def publish(self, subject: str, message: str, attributes: list[dict[str, str]]) -> None:
        """One message to the topic (also the dead letters of :mod:`shared.runtime.dead_letter`)."""
        client = self._client()
        from huaweicloudsdksmn.v2 import MessageAttribute, PublishMessageRequest, PublishMessageRequestBody

        body = PublishMessageRequestBody(
            subject=subject,
            message=message,
            message_attributes=[MessageAttribute(**attribute) for attribute in attributes],
        )
        try:
            client.publish_message(PublishMessageRequest(topic_urn=self.topic_urn, body=body))
        except Exception as error:  # noqa: BLE001 - classified below
            raise sdk_error(self, "smn publish_message", error) from None

"""The SMN model of one project: topics, their subscriptions and the messages published to them.

A published message is recorded per topic and announced with::

    backend.publish("smn.message_published", project_id=..., topic_urn=..., message={...},
                    subscriptions=[...])

where ``subscriptions`` are the confirmed subscriptions of the topic whose filter policies the
message's attributes satisfy (``protocol``, ``endpoint``, ``subscription_urn``...). That is the
hook for "publishing to a topic invokes the subscribed functions": a listener for protocol
``functionstage`` / ``functiongraph`` builds the SMN trigger event (``{"record": [{"smn": {...}}]}``)
from ``message`` and invokes ``endpoint``. Listeners run under the backend lock, inside the
publishing request: hand the invocation to another thread.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import TYPE_CHECKING

from localcloud.core.timefmt import iso_millis

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["SmnModel", "MAX_MESSAGE_BYTES", "PROTOCOLS", "topic_urn", "filter_matches"]

MAX_MESSAGE_BYTES = 256 * 1024
MAX_SUBJECT_BYTES = 512
PROTOCOLS = (
    "email",
    "sms",
    "functionstage",
    "functiongraph",
    "http",
    "https",
    "callnotify",
    "wechat",
    "dingding",
    "feishu",
    "welink",
    "dingTalkBot",
)
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$")
_TOPIC_URN = re.compile(
    r"^urn:smn:(?P<region>[a-z0-9-]+):(?P<project>[0-9a-f]{32}):(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,255})$"
)
# MessageAttribute.name / SubscriptionsFilterPolicy.name: [a-z0-9_], no leading, trailing or double '_'
_ATTRIBUTE_NAME = re.compile(r"^(?!_)(?!.*__)[a-z0-9_]{1,32}(?<!_)$")
_ATTRIBUTE_VALUE = re.compile(r"^[0-9A-Za-z_\u4e00-\u9fff]{1,32}$")


def topic_urn(region: str, project_id: str, name: str) -> str:
    return f"urn:smn:{region}:{project_id}:{name}"


def _check_attributes(attributes: object) -> list[dict]:
    if attributes is None:
        return []
    if not isinstance(attributes, list):
        raise errors.message_invalid("message_attributes must be a list.")
    seen = set()
    checked = []
    for attribute in attributes:
        if not isinstance(attribute, dict):
            raise errors.message_invalid("each message attribute must be an object.")
        name, kind, value = attribute.get("name"), attribute.get("type"), attribute.get("value")
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
            raise errors.message_invalid(f"message attribute name {name!r} is invalid.")
        if name in seen:
            raise errors.message_invalid(f"message attribute {name!r} is repeated.")
        seen.add(name)
        if kind == "STRING":
            if not isinstance(value, str) or not _ATTRIBUTE_VALUE.match(value):
                raise errors.message_invalid(
                    f"message attribute {name!r}: a STRING value has 1 to 32 letters, digits or underscores."
                )
        elif kind == "STRING_ARRAY":
            if (
                not isinstance(value, list)
                or not 1 <= len(value) <= 10
                or len(set(map(str, value))) != len(value)
                or not all(isinstance(v, str) and _ATTRIBUTE_VALUE.match(v) for v in value)
            ):
                raise errors.message_invalid(
                    f"message attribute {name!r}: a STRING_ARRAY value has 1 to 10 distinct "
                    "strings of 1 to 32 letters, digits or underscores."
                )
        elif kind == "PROTOCOL":
            if not isinstance(value, list) or not value or not all(v in PROTOCOLS for v in value):
                raise errors.message_invalid(f"message attribute {name!r}: a PROTOCOL value lists protocols.")
        else:
            raise errors.message_invalid(f"message attribute {name!r}: type must be STRING, STRING_ARRAY or PROTOCOL.")
        checked.append({"name": name, "type": kind, "value": copy.deepcopy(value)})
    return checked


def filter_matches(policies: list[dict], attributes: list[dict]) -> bool:
    """A subscription's filter policies against a message's attributes: every policy must match
    (an attribute of that name with one of the ``string_equals`` values); no policy: everything."""
    values = {}
    for attribute in attributes:
        value = attribute["value"]
        values[attribute["name"]] = set(value) if isinstance(value, list) else {value}
    for policy in policies or []:
        if not values.get(policy["name"], set()) & set(policy["string_equals"]):
            return False
    return True


def _check_policies(policies: object) -> list[dict]:
    if policies is None:
        return []
    if not isinstance(policies, list):
        raise errors.message_invalid("filter_polices must be a list.")
    checked, names = [], set()
    for policy in policies:
        name = policy.get("name") if isinstance(policy, dict) else None
        values = policy.get("string_equals") if isinstance(policy, dict) else None
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name) or name.startswith("smn_") or name in names:
            raise errors.message_invalid(f"filter policy name {name!r} is invalid or repeated.")
        if (
            not isinstance(values, list)
            or not 1 <= len(values) <= 10
            or len(set(map(str, values))) != len(values)
            or not all(isinstance(v, str) and _ATTRIBUTE_VALUE.match(v) for v in values)
        ):
            raise errors.message_invalid(f"filter policy {name!r}: string_equals has 1 to 10 distinct values.")
        names.add(name)
        checked.append({"name": name, "string_equals": list(values)})
    return checked


class SmnModel:
    def __init__(self, project: ProjectState) -> None:
        self.project = project
        self._topics: dict[str, dict] = {}  # urn -> topic (with its subscriptions)
        self._messages: list[dict] = []
        self._seq = 0

    def _now(self) -> str:
        return iso_millis(self.project.backend.clock())

    # ---- topics and subscriptions ----------------------------------------------------------
    def create_topic(self, name: str, display_name: str = "") -> dict:
        """A topic of this project (creating an existing name returns that topic, as SMN does)."""
        if not isinstance(name, str) or not _TOPIC_NAME.match(name):
            raise errors.name_invalid()
        urn = topic_urn(self.project.backend.region, self.project.project_id, name)
        topic = self._topics.get(urn)
        if topic is None:
            topic = {
                "topic_urn": urn,
                "name": name,
                "display_name": display_name or "",
                "project_id": self.project.project_id,
                "create_time": self._now(),
                "subscriptions": [],
            }
            self._topics[urn] = topic
        return copy.deepcopy(topic)

    def list_topics(self, name: str | None, offset: int, limit: int) -> dict:
        """ListTopics: ``name`` is an exact match; newest first (SMN's order), ``offset`` / ``limit`` pages."""
        found = sorted(
            (t for t in self._topics.values() if not name or t["name"] == name),
            key=lambda t: t["create_time"],
            reverse=True,
        )
        keys = ("topic_urn", "name", "display_name", "create_time")
        page = [
            {
                **{k: t[k] for k in keys},
                "push_policy": 0,
                "enterprise_project_id": "0",
                "topic_id": t["topic_urn"].rsplit(":", 1)[-1],
            }
            for t in found[offset : offset + limit]
        ]
        return {"topic_count": len(found), "topics": page}

    def topic(self, urn: str) -> dict:
        if not isinstance(urn, str) or not _TOPIC_URN.match(urn):
            raise errors.topic_urn_invalid()
        topic = self._topics.get(urn)
        if topic is None:
            raise errors.topic_not_found()
        return topic

    def subscribe(
        self, urn: str, protocol: str, endpoint: str, *, filter_polices: list | None = None, remark: str = ""
    ) -> dict:
        topic = self.topic(urn)
        if protocol not in PROTOCOLS:
            raise errors.protocol_invalid()
        if not isinstance(endpoint, str) or not endpoint:
            raise errors.endpoint_invalid()
        subscription = {
            "subscription_urn": f"{urn}:{uuid.uuid4().hex}",
            "topic_urn": urn,
            "protocol": protocol,
            "endpoint": endpoint,
            "owner": self.project.project_id,
            "remark": remark or "",
            "status": 1,
            "filter_polices": _check_policies(filter_polices),
        }
        topic["subscriptions"].append(subscription)
        return copy.deepcopy(subscription)

    # ---- publishing -------------------------------------------------------------------------
    def publish(self, urn: str, body: object, *, request_id: str) -> dict:
        topic = self.topic(urn)
        if not isinstance(body, dict):
            raise errors.message_invalid("The request body must be an object.")
        message, structure, template = (
            body.get("message"),
            body.get("message_structure"),
            body.get("message_template_name"),
        )
        if structure is not None:
            try:
                parsed = json.loads(structure) if isinstance(structure, str) else None
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
                raise errors.message_structure_invalid()
        elif template is None:
            if not isinstance(message, str) or not message:
                raise errors.message_invalid("One of message, message_structure or message_template_name is required.")
        for text in (message, structure):
            if isinstance(text, str) and len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
                raise errors.message_invalid(f"The message is larger than {MAX_MESSAGE_BYTES} bytes.")
        subject = body.get("subject")
        if subject is not None and (
            not isinstance(subject, str) or len(subject.encode("utf-8")) > MAX_SUBJECT_BYTES or "\n" in subject
        ):
            raise errors.subject_invalid()
        ttl = body.get("time_to_live")
        if ttl is not None and (not isinstance(ttl, str) or not ttl.isdigit() or not 1 <= int(ttl) <= 86400):
            raise errors.message_invalid("time_to_live must be a whole number of seconds within 1..86400.")
        attributes = _check_attributes(body.get("message_attributes"))
        self._seq += 1
        record = {
            "seq": self._seq,
            "message_id": uuid.uuid4().hex,
            "topic_urn": urn,
            "request_id": request_id,
            "published_at": self._now(),
            "subject": subject,
            "message": message,
            "message_structure": structure,
            "message_template_name": template,
            "message_attributes": attributes,
            "time_to_live": ttl,
        }
        self._messages.append(record)
        matching = [
            copy.deepcopy(s)
            for s in topic["subscriptions"]
            if s["status"] == 1 and filter_matches(s["filter_polices"], attributes)
        ]
        self.project.backend.publish(
            "smn.message_published",
            project_id=self.project.project_id,
            topic_urn=urn,
            message=copy.deepcopy(record),
            subscriptions=matching,
        )
        return {"request_id": request_id, "message_id": record["message_id"]}

    def messages(self, urn: str | None = None) -> list[dict]:
        return [copy.deepcopy(m) for m in self._messages if urn is None or m["topic_urn"] == urn]

    def to_dict(self) -> dict:
        return {"topics": [copy.deepcopy(topic) for topic in self._topics.values()], "messages": self.messages()}

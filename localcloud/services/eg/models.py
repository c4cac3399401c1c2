"""The EG (EventGrid) model of one project: custom channels and the events published to them.

State is plain dicts, guarded by the backend lock (routes and control routes take it). A
published event is recorded as ``{"seq", "channel_id", "request_id", "received_at", "event"}``
and announced with ``backend.publish("eg.events_published", project_id=..., channel_id=...,
events=[...])`` so that a later emulation of subscriptions (event rules -> targets) can hook in.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from localcloud.core.timefmt import iso_seconds

from . import errors
from .subscriptions import Subscriptions

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["EgModel", "MAX_EVENT_BYTES", "MAX_REQUEST_BYTES", "MAX_EVENTS_PER_REQUEST"]

MAX_EVENT_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 256 * 1024
MAX_EVENTS_PER_REQUEST = 20
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_REQUIRED = ("id", "source", "specversion", "type")
_OPTIONAL_STRINGS = ("datacontenttype", "dataschema", "subject", "time")


def _check_event(position: int, event: object) -> str | None:
    """Why ``event`` is not a CloudEvent EG takes, or None."""
    where = f"events[{position}]"
    if not isinstance(event, dict):
        return f"{where} must be an object"
    for name in _REQUIRED:
        value = event.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"{where}.{name} is required and must be a non-empty string"
    if event["specversion"] != "1.0":
        return f"{where}.specversion must be 1.0"
    for name in _OPTIONAL_STRINGS:
        if name in event and event[name] is not None and not isinstance(event[name], str):
            return f"{where}.{name} must be a string"
    content_type = event.get("datacontenttype")
    if content_type is not None and content_type.split(";")[0].strip().lower() != "application/json":
        return f"{where}.datacontenttype must be application/json"
    stamp = event.get("time")
    if stamp is not None:
        try:
            valid = bool(_RFC3339.match(stamp)) and datetime.fromisoformat(stamp[:19]) is not None
        except ValueError:
            valid = False
        if not valid:
            return f"{where}.time must be an RFC 3339 date-time, like 2018-04-05T17:31:00Z"
    size = len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        return f"{where} is {size} bytes; at most {MAX_EVENT_BYTES} bytes per event"
    return None


class EgModel:
    def __init__(self, project: ProjectState) -> None:
        self.project = project
        self._channels: dict[str, dict] = {}
        self._events: list[dict] = []
        self._seq = 0
        self.subscriptions = Subscriptions()

    def _now(self) -> str:
        return iso_seconds(self.project.backend.clock())

    # ---- channels ---------------------------------------------------------------------------
    def create_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        description: str = "",
        sources: list[str] | None = None,
        cross_account: bool = False,
        policy: dict | None = None,
    ) -> dict:
        if not isinstance(name, str) or not _CHANNEL_NAME.match(name) or name == "default":
            raise errors.invalid_parameters(
                "channel name must be 1-128 letters, digits, '.', '_' or '-', start "
                "with a letter or digit, and not be 'default'"
            )
        if any(channel["name"] == name for channel in self._channels.values()):
            raise errors.name_duplicated(name)
        channel_id = channel_id or str(uuid.uuid4())
        if not isinstance(channel_id, str) or not _CHANNEL_NAME.match(channel_id) or channel_id in self._channels:
            raise errors.invalid_parameters(f"channel id {channel_id!r} is invalid or taken")
        if sources is not None and (
            not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources)
        ):
            raise errors.invalid_parameters("sources must be a list of custom event source names")
        if not isinstance(cross_account, bool) or (policy is not None and not isinstance(policy, dict)):
            raise errors.invalid_parameters("cross_account must be a boolean and policy an object")
        now = self._now()
        channel = {
            "id": channel_id,
            "name": name,
            "description": description or "",
            "provider_type": "CUSTOM",
            "sources": list(sources) if sources else [],
            "cross_account": cross_account,
            "policy": copy.deepcopy(policy) if policy else {},
            "created_time": now,
            "updated_time": now,
        }
        self._channels[channel_id] = channel
        return copy.deepcopy(channel)

    def channels(self, *, name: str | None = None) -> list[dict]:
        return [copy.deepcopy(c) for c in self._channels.values() if not name or c["name"] == name]

    def update_channel(self, channel_id: str, body: dict) -> dict:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise errors.channel_not_found(channel_id)
        cross_account, policy = (
            body.get("cross_account", channel["cross_account"]),
            body.get("policy", channel["policy"]),
        )
        if not isinstance(cross_account, bool) or not isinstance(policy, dict):
            raise errors.invalid_parameters("cross_account must be a boolean and policy an object")
        channel.update(cross_account=cross_account, policy=copy.deepcopy(policy), updated_time=self._now())
        if isinstance(body.get("description"), str):
            channel["description"] = body["description"]
        return copy.deepcopy(channel)

    def channel(self, channel_id: str) -> dict:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise errors.channel_not_found(channel_id)
        return copy.deepcopy(channel)

    # ---- events -----------------------------------------------------------------------------
    def put_events(self, channel_id: str, body: object, *, request_id: str, raw_size: int) -> dict:
        """Validate the whole request first (any bad event: 400, nothing recorded), then record
        each event, or report it in ``events[]`` when the channel has no such event source."""
        channel = self._channels.get(channel_id)
        if channel is None:
            raise errors.channel_not_found(channel_id)
        if raw_size > MAX_REQUEST_BYTES:
            raise errors.bad_request(f"the request is {raw_size} bytes; at most {MAX_REQUEST_BYTES} bytes")
        if not isinstance(body, dict) or not isinstance(body.get("events"), list) or not body["events"]:
            raise errors.bad_request("events must be a non-empty array of CloudEvents")
        events = body["events"]
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise errors.bad_request(f"{len(events)} events; at most {MAX_EVENTS_PER_REQUEST} per request")
        for position, event in enumerate(events):
            problem = _check_event(position, event)
            if problem:
                raise errors.bad_request(problem)
        answers, accepted = [], []
        for event in events:
            if channel["sources"] and event["source"] not in channel["sources"]:
                answers.append(
                    {
                        "event_id": event["id"],
                        "error_code": errors.INVALID_PARAMETERS,
                        "error_msg": f"event source {event['source']} does not exist in channel {channel['name']}",
                    }
                )
                continue
            accepted.append(copy.deepcopy(self._record(channel_id, event, request_id)))
            answers.append({"event_id": event["id"]})
        if accepted:
            self.project.backend.publish(
                "eg.events_published", project_id=self.project.project_id, channel_id=channel_id, events=accepted
            )
        return {"failed_count": sum(1 for answer in answers if "error_code" in answer), "events": answers}

    def _record(self, channel_id: str, event: dict, request_id: str) -> dict:
        """The channel's record of one accepted event (kept, in sequence)."""
        self._seq += 1
        record = {
            "seq": self._seq,
            "channel_id": channel_id,
            "request_id": request_id,
            "received_at": self._now(),
            "event": copy.deepcopy(event),
        }
        self._events.append(record)
        return record

    def accept_forwarded(self, channel_id: str, event: dict, *, request_id: str) -> dict:
        """One event a subscription forwarded here (authorised by the caller): recorded and
        announced like a put one."""
        record = self._record(channel_id, event, request_id)
        self.project.backend.publish(
            "eg.events_published", project_id=self.project.project_id, channel_id=channel_id, events=[record]
        )
        return copy.deepcopy(record)

    def events(self, channel_id: str | None = None) -> list[dict]:
        return [
            copy.deepcopy(record) for record in self._events if channel_id is None or record["channel_id"] == channel_id
        ]

    def to_dict(self) -> dict:
        return {
            "channels": [copy.deepcopy(channel) for channel in self._channels.values()],
            "events": self.events(),
            **self.subscriptions.to_dict(),
        }

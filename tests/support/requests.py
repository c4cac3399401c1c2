"""Builders of change requests and trigger envelopes for tests (signed like a ticketing system)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone

from shared.signing import sign_request
from shared.timestamps import format_timestamp

from .functions import SIGNING_KEYS

LEGACY = "c0000000-0000-4000-8000-000000000001"  # default seed: 2 NICs, default+app / default
DB = "c0000000-0000-4000-8000-000000000002"  # default seed: 2nd NIC has port security disabled
LEGACY_PORTS = ("d0000000-0000-4000-8000-000000000001", "d0000000-0000-4000-8000-000000000002")
SG = {
    name: f"a0000000-0000-4000-8000-00000000000{i}"
    for i, name in enumerate(
        ["baseline", "web", "app", "db", "mgmt-ssh", "ssh-open", "rdp-open", "monitoring"], start=1
    )
}


def change_request(
    action="add",
    groups=({"name": "web"},),
    *,
    server_id=LEGACY,
    nics="primary",
    position=None,
    dry_run=None,
    request_id=None,
    approved_by=None,
    sign=True,
    key_id="ticketing-1",
    now=None,
    **extra,
) -> dict:
    request = {
        "request_id": request_id or f"CHG-{uuid.uuid4().hex[:12]}",
        "ticket": {"system": "servicenow", "id": "CHG0031337", "requested_by": "alice@example.com"},
        "target": {"server_id": server_id, "nics": nics},
        "change": {"action": action, "security_groups": [dict(g) for g in groups]},
    }
    if approved_by:
        request["ticket"]["approved_by"] = approved_by
    if position is not None:
        request["change"]["position"] = position
    if dry_run is not None:
        request["dry_run"] = dry_run
    request.update(extra)
    if sign:
        timestamp = format_timestamp(now or datetime.now(timezone.utc))
        request = sign_request(request, key_id=key_id, secret=SIGNING_KEYS[key_id], timestamp=timestamp)
    return request


def kafka(*messages) -> dict:
    return {
        "event_version": "v1.0",
        "event_time": 1764363600,
        "trigger_type": "KAFKA",
        "region": "cn-north-4",
        "instance_id": "9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8",
        "records": [
            {
                "messages": [m if isinstance(m, str) else json.dumps(m) for m in messages],
                "topic_id": "sg-change-requests",
            }
        ],
    }


def rabbitmq(*messages) -> dict:
    event = kafka(*messages)
    event["trigger_type"] = "RABBITMQ"
    return event


def smn(*messages) -> dict:
    return {
        "record": [
            {
                "event_version": "1.0",
                "event_source": "smn",
                "event_subscription_urn": "urn:fss:cn-north-4:0a1b:function:default:change_request",
                "smn": {
                    "topic_urn": "urn:smn:cn-north-4:0a1b:sg-change",
                    "timestamp": "2026-11-28T21:00:00Z",
                    "message": m if isinstance(m, str) else json.dumps(m),
                    "message_id": uuid.uuid4().hex,
                    "subject": "change",
                    "type": "Notification",
                    "message_attributes": None,
                },
            }
            for m in messages
        ],
        "functionname": "change_request",
        "requestId": uuid.uuid4().hex,
        "timestamp": "2026-11-28T21:00:00Z",
    }


def apig(body, *, b64=False) -> dict:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "body": base64.b64encode(text.encode()).decode() if b64 else text,
        "isBase64Encoded": b64,
        "httpMethod": "POST",
        "path": "/sg/change-requests",
        "headers": {"content-type": "application/json"},
        "queryStringParameters": {},
        "pathParameters": {},
        "requestContext": {"requestId": uuid.uuid4().hex},
    }


def eventgrid(data) -> dict:
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "ticketing.servicenow",
        "type": "com.example.sg.change",
        "time": "2026-11-28T21:00:00Z",
        "datacontenttype": "application/json",
        "data": data,
    }

"""Reading ECS creation traces (CTS), whether delivered by the CTS trigger or by EventGrid.

A trace is relevant when it is an ECS server creation that did not fail; anything else is
skipped with the reason. ``request`` and ``response`` may be JSON objects or JSON strings.
Server ids come from the response (``entities.server_id``, ``serverIds``, sub-jobs) and, failing
that, from ``resource_id``; every id is checked before it is used anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .envelopes import ENVELOPE_MAX_BYTES
from .model import is_uuid
from .validation import decode_json_message

__all__ = ["CREATION_TRACES", "TraceReading", "read_creation_trace"]

CREATION_TRACES = frozenset(
    {
        "createServer",
        "createServerV2",
        "createServerV21",
        "createSingleServer",
        "createServers",
        "createPostPaidServers",
        "batchCreateServers",
    }
)
_FAILED_STATUSES = frozenset({"FAIL", "FAILED", "ERROR"})
_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}\Z")  # it goes into a URL: nothing else passes


@dataclass
class TraceReading:
    trace_id: str | None
    server_ids: list[str] = field(default_factory=list)
    job_id: str | None = None
    skip_reason: str | None = None
    trace_name: str | None = None


def _as_object(value: object) -> dict[str, Any]:
    if isinstance(value, str):  # CTS delivers request and response as JSON strings
        value, _ = decode_json_message(value, max_bytes=ENVELOPE_MAX_BYTES)  # bounded nesting, never raises
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _ids_in(response: dict[str, Any]) -> list[str]:
    found: list[str] = []
    entities = response["entities"] if isinstance(response.get("entities"), dict) else {}
    candidates = [entities.get("server_id"), response.get("server_id")]
    for key in ("serverIds", "server_ids"):
        for holder in (response, entities):
            candidates.extend(_items(holder.get(key)))
    for sub_job in _items(entities.get("sub_jobs")):
        if isinstance(sub_job, dict) and str(sub_job.get("status", "")).upper() not in _FAILED_STATUSES:
            sub_entities = sub_job["entities"] if isinstance(sub_job.get("entities"), dict) else {}
            candidates.append(sub_entities.get("server_id"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate not in found:
            found.append(candidate)
    return found


def read_creation_trace(trace: object) -> TraceReading:
    if not isinstance(trace, dict):
        return TraceReading(None, skip_reason="the event carries no CTS trace object")
    trace_id = trace.get("trace_id") if isinstance(trace.get("trace_id"), str) else None
    name = trace.get("trace_name") if isinstance(trace.get("trace_name"), str) else None
    reading = TraceReading(trace_id, trace_name=name)
    service = str(trace.get("service_type") or "").upper()
    if service != "ECS":
        reading.skip_reason = f"not an ECS trace (service_type {service or 'missing'})"
        return reading
    if name not in CREATION_TRACES:
        reading.skip_reason = f"trace {name!r} is not a server creation"
        return reading
    try:
        code = int(trace.get("code") or 200)
    except (TypeError, ValueError):
        code = 200
    response = _as_object(trace.get("response"))
    status = str(response.get("status") or "").upper()
    if code >= 400 or status in _FAILED_STATUSES:
        reason = response.get("fail_reason") or response.get("error") or f"code {code}"
        reading.skip_reason = f"the creation failed ({str(reason)[:120]})"
        return reading
    job_id = response.get("job_id")
    reading.job_id = job_id if isinstance(job_id, str) and _JOB_ID.match(job_id) else None
    ids = _ids_in(response)
    if not ids and isinstance(trace.get("resource_id"), str):
        ids = [part.strip() for part in trace["resource_id"].split(",") if part.strip()]
    reading.server_ids = [server_id for server_id in ids if is_uuid(server_id)]
    if not reading.server_ids:
        reading.skip_reason = (
            "no valid server id in the trace"
            if not ids
            else f"the trace names no valid server id ({len(ids)} malformed)"
        )
    return reading

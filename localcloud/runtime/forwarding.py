"""EventGrid subscriptions forwarding a project's cloud service events to another channel.

A cloud service event (a server creation's CTS trace as ``HC.ECS``, a port or rule change's as
``HC.VPC``: :func:`service_event`) reaches the project's official channel ``default``; each
ENABLED subscription of that channel whose source and filter take it
(:mod:`localcloud.services.eg.subscriptions`) forwards it to each ``HC.EG`` target: the channel
``target_channel_id`` of project ``target_project_id`` in region ``target_region`` (another
region's server through the shared directory). Into another account's channel only when that
channel's ``cross_account`` policy lets the subscription's account put events; otherwise the
forwarding is refused, 403 ``EG.00014030`` (``errors.FORBIDDEN``: localcloud's, no public page
lists the answer), and recorded in the subscription project's ``deliveries`` (``GET /_localcloud/state``),
as EventGrid's own event tracing would show it. Accepted events are announced on the target
backend (``eg.events_published``), where the EVENTGRID triggers of that channel get them.

Called with no backend lock held (each backend's lock is taken in turn: no lock order to keep).
"""

from __future__ import annotations

import uuid
from typing import Any

from localcloud.core.timefmt import iso_seconds
from localcloud.services.eg.errors import FORBIDDEN, NOT_FOUND

__all__ = ["service_event", "forward", "FORBIDDEN"]

_OFFICIAL_CHANNELS = ("default",)


def service_event(trace: dict) -> dict:
    """A trace as EventGrid's cloud service event: ``source`` ``HC.<service>``, ``type``
    ``<service>:CloudTrace:<trace_type>``, ``data`` the trace."""
    service = str(trace.get("service_type") or "").upper()
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"HC.{service}",
        "type": f"{service}:CloudTrace:{trace.get('trace_type') or 'ApiCall'}",
        "subject": trace.get("resource_id"),
        "time": iso_seconds(trace["record_time"] / 1000),
        "datacontenttype": "application/json",
        "data": trace,
    }


def _subscriptions(backend: Any, project_id: str, event: dict) -> list[dict]:
    with backend.lock:
        project = backend.project(project_id)
        if project is None:
            return []
        model = project.service("eg")
        return [s for channel in _OFFICIAL_CHANNELS for s in model.subscriptions.matching(channel, event)]


def _deliver(backend: Any, source_project: str, subscription: dict, target: dict, event: dict) -> dict:
    detail = target["eg_detail"]
    directory = backend.directory
    sender = directory.owner_of(source_project)
    region = detail["target_region"]
    outcome: dict[str, Any] = {
        "subscription_id": subscription["id"],
        "target_id": target["id"],
        "event_id": event["id"],
        "target_project_id": detail["target_project_id"],
        "target_channel_id": detail["target_channel_id"],
        "target_region": region,
    }
    target_backend = directory.backends.get(region)
    if target_backend is None:
        return {**outcome, "status": 404, "error_code": NOT_FOUND, "error_msg": f"no region {region}"}
    with target_backend.lock:
        project = target_backend.project(detail["target_project_id"])
        model = project.service("eg") if project is not None else None
        channel = model._channels.get(detail["target_channel_id"]) if model is not None else None
        if model is None or channel is None:
            message = f"Not request resource found: channel {detail['target_channel_id']}"
            return {**outcome, "status": 404, "error_code": NOT_FOUND, "error_msg": message}
        from localcloud.services.eg.subscriptions import may_put

        owner = directory.owner_of(detail["target_project_id"])
        if not may_put(channel, owner, sender):
            message = f"account {sender} may not put events into channel {channel['name']} of account {owner}"
            return {**outcome, "status": 403, "error_code": FORBIDDEN, "error_msg": message}
        forwarded = dict(event, id=str(uuid.uuid4()))
        model.accept_forwarded(channel["id"], forwarded, request_id=str(uuid.uuid4()))
    return {**outcome, "status": 200, "forwarded_id": forwarded["id"]}


def forward(backend: Any, project_id: str, event: dict) -> list[dict]:
    """Forward ``event`` of ``project_id`` (on ``backend``) through its subscriptions; the outcomes."""
    outcomes = []
    for subscription in _subscriptions(backend, project_id, event):
        for target in subscription["targets"]:
            outcome = _deliver(backend, project_id, subscription, target, event)
            outcome["at"] = iso_seconds(backend.clock())
            outcomes.append(outcome)
            with backend.lock:
                project = backend.project(project_id)
                if project is not None:
                    project.service("eg").subscriptions.record(outcome)
    return outcomes

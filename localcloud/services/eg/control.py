"""Control routes of the EG emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/eg/channels`` ``{"name": "sgguard-results", "id"?: "...", "sources"?: ["sgguard"],
"project_id"?: "...", "cross_account"?: true, "policy"?: {...}}`` creates a custom channel (201
``{"channel": {...}}``); with ``sources``, an event whose ``source`` is not one of them is refused
per event, as EG refuses events of an unknown custom event source.
``GET /_localcloud/eg/events?channel_id=&project_id=`` lists what the channels received
(``{"events": [{"seq", "channel_id", "request_id", "received_at", "event"}]}``).
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext
from localcloud.core.state import DEFAULT_PROJECT_ID

from . import errors

__all__ = ["create_channel", "list_events"]


@control.route("POST", "/_localcloud/eg/channels")
def create_channel(ctx: ApiContext):
    body = ctx.json() or {}
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise errors.control_usage('send {"name": "...", "id"?: "...", "sources"?: [...], "project_id"?: "..."}')
    project_id = body.get("project_id") or DEFAULT_PROJECT_ID
    with ctx.backend.lock:
        model = ctx.backend.project(project_id, create=True).service("eg")
        channel = model.create_channel(
            body["name"],
            channel_id=body.get("id"),
            description=body.get("description") or "",
            sources=body.get("sources"),
            cross_account=body.get("cross_account", False),
            policy=body.get("policy"),
        )
    return 201, {"channel": channel, "project_id": project_id}


@control.route("GET", "/_localcloud/eg/events")
def list_events(ctx: ApiContext):
    wanted_project, channel_id = ctx.arg("project_id"), ctx.arg("channel_id")
    events = []
    with ctx.backend.lock:
        for project_id, project in ctx.backend.projects_matching(wanted_project):
            events += [dict(record, project_id=project_id) for record in project.service("eg").events(channel_id)]
    return 200, {"events": events}

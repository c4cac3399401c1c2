"""Control routes of the SMN emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/smn/topics`` ``{"name": "sgguard-results", "project_id"?: "..."}`` -> 201
``{"topic": {"topic_urn": "urn:smn:<region>:<project_id>:<name>", ...}}`` (idempotent).
``POST /_localcloud/smn/subscriptions`` ``{"topic_urn", "protocol", "endpoint", "filter_polices"?:
[{"name": "outcome", "string_equals": ["failed"]}]}`` -> 201 ``{"subscription": {...}}`` (confirmed).
``GET /_localcloud/smn/messages?topic_urn=&project_id=`` -> ``{"messages": [...]}``.
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext
from localcloud.core.state import DEFAULT_PROJECT_ID

from . import errors
from .models import _TOPIC_URN

__all__ = ["create_topic", "create_subscription", "list_messages"]


def _body(ctx: ApiContext, usage: str) -> dict:
    body = ctx.json() or {}
    if not isinstance(body, dict):
        raise errors.control_usage(usage)
    return body


@control.route("POST", "/_localcloud/smn/topics")
def create_topic(ctx: ApiContext):
    body = _body(ctx, 'send {"name": "...", "project_id"?: "..."}')
    project_id = body.get("project_id") or DEFAULT_PROJECT_ID
    with ctx.backend.lock:
        topic = (
            ctx.backend.project(project_id, create=True)
            .service("smn")
            .create_topic(body.get("name"), body.get("display_name") or "")
        )
    return 201, {"topic": topic}


@control.route("POST", "/_localcloud/smn/subscriptions")
def create_subscription(ctx: ApiContext):
    body = _body(
        ctx, 'send {"topic_urn": "...", "protocol": "functionstage", "endpoint": "...", "filter_polices"?: [...]}'
    )
    match = _TOPIC_URN.match(str(body.get("topic_urn") or ""))
    if not match:
        raise errors.topic_urn_invalid()
    with ctx.backend.lock:
        model = ctx.backend.project(match["project"], create=True).service("smn")
        subscription = model.subscribe(
            body["topic_urn"],
            body.get("protocol"),
            body.get("endpoint"),
            filter_polices=body.get("filter_polices"),
            remark=body.get("remark") or "",
        )
    return 201, {"subscription": subscription}


@control.route("GET", "/_localcloud/smn/messages")
def list_messages(ctx: ApiContext):
    wanted_project, urn = ctx.arg("project_id"), ctx.arg("topic_urn")
    messages = []
    with ctx.backend.lock:
        for project_id, project in ctx.backend.projects_matching(wanted_project):
            messages += [dict(m, project_id=project_id) for m in project.service("smn").messages(urn)]
    return 200, {"messages": messages}

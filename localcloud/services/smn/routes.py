"""SMN API routes (path and body from ``huaweicloudsdksmn/v2/smn_client.py``'s
``_publish_message_http_info`` and ``PublishMessageRequestBody`` / ``MessageAttribute``).

``POST /v2/{project_id}/notifications/topics/{topic_urn}/publish`` (the SDK percent-encodes the
URN's colons) ``{"subject", "message" | "message_structure" | "message_template_name",
"message_attributes", "time_to_live", ...}`` -> 200 ``{"request_id", "message_id"}``.
``POST /v2/{project_id}/notifications/topics`` ``{"name", "display_name"}`` -> 200 ``{"request_id",
"topic_urn"}`` (CreateTopic: an existing name answers its topic, as SMN does);
``GET /v2/{project_id}/notifications/topics?name=&offset=&limit=`` -> 200 ``{"request_id",
"topic_count", "topics": [...]}`` (ListTopics, ``ListTopicsItem``).

Errors of the model render as SMN's own body ``{"request_id", "code", "message"}``; faults the core
injects (429/500/503) render in the router's style.
"""

from __future__ import annotations

import functools
from urllib.parse import unquote

from localcloud.core.errors import CloudError
from localcloud.core.routing import ApiContext, Router

from .errors import MESSAGE_INVALID

__all__ = ["router"]

router = Router("smn", "smn")


def _smn_errors(handler):
    """SMN answers ``{"request_id", "code", "message"}``, which is not a style the core renders."""

    @functools.wraps(handler)
    def wrapped(ctx: ApiContext):
        try:
            return handler(ctx)
        except CloudError as error:
            return error.status, {"request_id": ctx.request_id, "code": error.code, "message": error.message}

    return wrapped


@router.route("POST", "/v2/{project_id}/notifications/topics/{topic_urn}/publish")
@_smn_errors
def publish_message(ctx: ApiContext):
    urn = unquote(ctx.params["topic_urn"])
    model = ctx.project.service("smn")
    model.topic(urn)  # unknown topic: 404 before the body is looked at
    return 200, model.publish(urn, ctx.json(MESSAGE_INVALID), request_id=ctx.request_id)


@router.route("POST", "/v2/{project_id}/notifications/topics")
@_smn_errors
def create_topic(ctx: ApiContext):
    body = ctx.json(MESSAGE_INVALID) or {}
    if not isinstance(body, dict):
        body = {}
    topic = ctx.project.service("smn").create_topic(body.get("name"), str(body.get("display_name") or ""))
    return 200, {"request_id": ctx.request_id, "topic_urn": topic["topic_urn"]}


@router.route("GET", "/v2/{project_id}/notifications/topics")
@_smn_errors
def list_topics(ctx: ApiContext):
    offset = max(ctx.int_arg("offset", 0, MESSAGE_INVALID), 0)
    limit = min(max(ctx.int_arg("limit", 100, MESSAGE_INVALID), 1), 100)
    listed = ctx.project.service("smn").list_topics(ctx.arg("name"), offset, limit)
    return 200, {"request_id": ctx.request_id, **listed}

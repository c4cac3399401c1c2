"""SMN API routes (path and body from ``huaweicloudsdksmn/v2/smn_client.py``'s
``_publish_message_http_info`` and ``PublishMessageRequestBody`` / ``MessageAttribute``).

``POST /v2/{project_id}/notifications/topics/{topic_urn}/publish`` (the SDK percent-encodes the
URN's colons) ``{"subject", "message" | "message_structure" | "message_template_name",
"message_attributes", "time_to_live", ...}`` -> 200 ``{"request_id", "message_id"}``.

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

"""EG API routes (path and body from ``huaweicloudsdkeg/v1/eg_client.py``'s ``_put_events_http_info``
and the ``PutEventsReq`` / ``CloudEvents`` / ``PutEventsResponse`` models).

``POST /v1/{project_id}/channels/{channel_id}/events`` ``{"events": [CloudEvent, ...]}`` ->
200 ``{"failed_count", "events": [{"event_id"[, "error_code", "error_msg"]}]}``.
Errors render as ``{"request_id", "error_code", "error_msg"}``.
"""

from __future__ import annotations

from urllib.parse import unquote

from localcloud.core.routing import ApiContext, Router

from . import errors

__all__ = ["router"]

router = Router("eg", "eg")


@router.route("POST", "/v1/{project_id}/channels/{channel_id}/events")
def put_events(ctx: ApiContext):
    channel_id = unquote(ctx.params["channel_id"])
    body = ctx.json(errors.BAD_REQUEST)
    answer = ctx.project.service("eg").put_events(
        channel_id, body, request_id=ctx.request_id, raw_size=len(ctx.raw_body)
    )
    return 200, answer

"""EG API routes (path and body from ``huaweicloudsdkeg/v1/eg_client.py``'s ``_put_events_http_info``
and the ``PutEventsReq`` / ``CloudEvents`` / ``PutEventsResponse`` models).

``POST /v1/{project_id}/channels/{channel_id}/events`` ``{"events": [CloudEvent, ...]}`` ->
200 ``{"failed_count", "events": [{"event_id"[, "error_code", "error_msg"]}]}``.
``POST /v1/{project_id}/channels`` (CreateChannel: ``name``, ``description``, ``cross_account``,
``policy``) -> 200 the channel; ``POST /v1/{project_id}/subscriptions`` (CreateSubscription:
``name``, ``channel_id``, ``sources``, ``targets``; :mod:`.subscriptions`) -> 200 the subscription;
``GET /v1/{project_id}/subscriptions?name=&channel_id=`` (ListSubscriptions) and ``GET
/v1/{project_id}/channels?name=`` (ListChannels) -> ``{"total", "size", "items"}``; ``PUT
/v1/{project_id}/channels/{channel_id}`` (UpdateChannel: ``description``, ``cross_account``, ``policy``).
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


@router.route("POST", "/v1/{project_id}/channels")
def create_channel(ctx: ApiContext):
    body = ctx.json(errors.BAD_REQUEST)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise errors.bad_request("name is required")
    return 200, ctx.project.service("eg").create_channel(
        body["name"],
        description=body.get("description") or "",
        cross_account=bool(body.get("cross_account", False)),
        policy=body.get("policy"),
    )


@router.route("POST", "/v1/{project_id}/subscriptions")
def create_subscription(ctx: ApiContext):
    model = ctx.project.service("eg")
    return 200, model.subscriptions.create(ctx.json(errors.BAD_REQUEST), now=model._now())


@router.route("GET", "/v1/{project_id}/subscriptions")
def list_subscriptions(ctx: ApiContext):
    """ListSubscriptions: ``name`` (exact), ``channel_id``; ``{"total", "size", "items"}``."""
    items = ctx.project.service("eg").subscriptions.listed(name=ctx.arg("name"), channel_id=ctx.arg("channel_id"))
    return 200, {"total": len(items), "size": len(items), "items": items}


@router.route("GET", "/v1/{project_id}/channels")
def list_channels(ctx: ApiContext):
    """ListChannels: ``name`` (exact), ``provider_type``; ``{"total", "size", "items"}`` (custom channels)."""
    items = ctx.project.service("eg").channels(name=ctx.arg("name"))
    return 200, {"total": len(items), "size": len(items), "items": items}


@router.route("PUT", "/v1/{project_id}/channels/{channel_id}")
def update_channel(ctx: ApiContext):
    """UpdateChannel: ``description``, ``cross_account``, ``policy``."""
    body = ctx.json(errors.BAD_REQUEST)
    if not isinstance(body, dict):
        raise errors.bad_request("the body must be an object")
    return 200, ctx.project.service("eg").update_channel(unquote(ctx.params["channel_id"]), body)

"""ECS API routes (paths, query names and body fields from ``huaweicloudsdkecs/v2/ecs_client.py``'s
``*_http_info`` and the request / response models' ``attribute_map``s).

Handlers parse and shape only; :mod:`.models` owns state and rules; :mod:`.views` shapes records.
Errors render as ``{"error": {"code": "Ecs.xxxx", "message": ...}}``.
"""

from __future__ import annotations

from typing import Any

from localcloud.core.routing import ApiContext, Router

from . import errors
from .models import EcsModel, NicRequest, ServerRequest
from .views import interface_view, job_view, missing_server_view, server_view, tags_view

__all__ = ["router"]

router = Router("ecs", "ecs")
_INVALID = errors.INVALID_PARAMETER  # a malformed body or query parameter


def _model(ctx: ApiContext) -> EcsModel:
    return ctx.project.service("ecs")


def _body(ctx: ApiContext) -> dict:
    body = ctx.json(_INVALID)
    if not isinstance(body, dict):
        raise errors.invalid_body()
    return body


def _opt_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.invalid_parameter(f"{name} must be a string.")
    return value


def _list_of_dicts(value: Any, name: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise errors.invalid_parameter(f"{name} must be a list of objects.")
    return value


def _parse_tags(server: dict) -> list[tuple[Any, Any]]:
    """``(key, value)`` pairs as sent (the model checks them: a key may be missing or not a string)."""
    tags = [
        (tag.get("key"), tag.get("value", ""))
        for tag in _list_of_dicts(server.get("server_tags"), "server.server_tags")
    ]
    legacy = server.get("tags") or []
    if not isinstance(legacy, list) or not all(isinstance(item, str) for item in legacy):
        raise errors.invalid_parameter("server.tags must be a list of strings.")
    for item in legacy:  # the older format: "key=value" (the doc's "key.value" also accepted)
        separator = "=" if "=" in item else "."
        key, _, value = item.partition(separator)
        tags.append((key, value))
    return tags


def _parse_server_request(server: Any) -> ServerRequest:
    if not isinstance(server, dict):
        raise errors.invalid_body("server is required")
    count = server.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise errors.invalid_parameter("server.count must be an integer.")
    nics = []
    for nic in _list_of_dicts(server.get("nics"), "server.nics"):
        nics.append(
            NicRequest(
                subnet_id=_opt_str(nic.get("subnet_id"), "nics[].subnet_id") or "",
                ip_address=_opt_str(nic.get("ip_address"), "nics[].ip_address") or None,
                port_id=_opt_str(nic.get("port_id"), "nics[].port_id"),
            )
        )
    groups = []
    for group in _list_of_dicts(server.get("security_groups"), "server.security_groups"):
        if not isinstance(group.get("id"), str) or not group["id"]:
            raise errors.invalid_parameter("security_groups[].id is required.")
        groups.append(group["id"])
    metadata = server.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise errors.invalid_parameter("server.metadata must be an object of strings.")
    extendparam = server.get("extendparam") or {}
    if not isinstance(extendparam, dict):
        raise errors.invalid_parameter("server.extendparam must be an object.")
    root_volume = server.get("root_volume")
    if root_volume is not None and not isinstance(root_volume, dict):
        raise errors.invalid_parameter("server.root_volume must be an object.")
    return ServerRequest(
        name=_opt_str(server.get("name"), "server.name"),
        flavor_ref=_opt_str(server.get("flavorRef"), "server.flavorRef"),
        image_ref=_opt_str(server.get("imageRef"), "server.imageRef"),
        vpc_id=_opt_str(server.get("vpcid"), "server.vpcid"),
        nics=nics,
        security_groups=groups,
        count=count,
        tags=_parse_tags(server),
        metadata=dict(metadata),
        availability_zone=_opt_str(server.get("availability_zone"), "server.availability_zone"),
        enterprise_project_id=_opt_str(extendparam.get("enterpriseProjectId"), "extendparam.enterpriseProjectId"),
        key_name=_opt_str(server.get("key_name"), "server.key_name"),
        description=_opt_str(server.get("description"), "server.description") or "",
        user_data=_opt_str(server.get("user_data"), "server.user_data"),
        root_volume=root_volume,
        data_volumes=_list_of_dicts(server.get("data_volumes"), "server.data_volumes"),
    )


def _create(ctx: ApiContext):
    body = _body(ctx)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise errors.invalid_parameter("dry_run must be a boolean.")
    request = _parse_server_request(body.get("server"))
    token = ctx.headers.get("X-Client-Token") or ctx.headers.get("x-client-token")
    result = _model(ctx).create_servers(request, dry_run=dry_run, client_token=token)
    if result is None:
        return 202, None
    return 200, {"job_id": result["job_id"], "serverIds": list(result["server_ids"])}


# create_post_paid_servers and create_servers (the SDK's current create call) share one handler.
router.route("POST", "/v1/{project_id}/cloudservers")(_create)
router.route("POST", "/v1.1/{project_id}/cloudservers")(_create)


@router.route("GET", "/v1/{project_id}/cloudservers/detail")
def list_servers_details(ctx: ApiContext):
    model = _model(ctx)
    server_ids = [sid for value in ctx.args("server_id") for sid in value.split(",") if sid]
    count, items = model.list_servers(
        name=ctx.arg("name"),
        status=ctx.arg("status"),
        flavor=ctx.arg("flavor"),
        ip=ctx.arg("ip"),
        ip_eq=ctx.arg("ip_eq"),
        tags=ctx.arg("tags"),
        not_tags=ctx.arg("not-tags"),
        enterprise_project_id=ctx.arg("enterprise_project_id"),
        reservation_id=ctx.arg("reservation_id"),
        server_ids=server_ids,
        limit=ctx.int_arg("limit", 25, _INVALID),
        offset=ctx.int_arg("offset", 1, _INVALID),
        marker=ctx.arg("marker"),
    )
    servers = [missing_server_view(item["id"]) if item.get("missing") else server_view(model, item) for item in items]
    return 200, {"count": count, "servers": servers}


@router.route("POST", "/v1/{project_id}/cloudservers/delete")
def delete_servers(ctx: ApiContext):
    body = _body(ctx)
    servers = _list_of_dicts(body.get("servers"), "servers")
    ids = []
    for item in servers:
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise errors.invalid_parameter("servers[].id is required.")
        ids.append(item["id"])
    for flag in ("delete_publicip", "delete_volume"):
        if flag in body and not isinstance(body[flag], bool):
            raise errors.invalid_parameter(f"{flag} must be a boolean.")
    job = _model(ctx).delete_servers(ids)
    return 200, {"job_id": job["job_id"]}


@router.route("GET", "/v1/{project_id}/cloudservers/{server_id}")
def show_server(ctx: ApiContext):
    model = _model(ctx)
    server = model.poll_server(ctx.params["server_id"])
    return 200, {"server": server_view(model, server)}


@router.route("GET", "/v1/{project_id}/cloudservers/{server_id}/os-interface")
def list_server_interfaces(ctx: ApiContext):
    model = _model(ctx)
    server = model.get_server(ctx.params["server_id"])
    ports = model.server_ports(server)
    return 200, {
        "interfaceAttachments": [interface_view(port) for port in ports],
        "attachableQuantity": {"free_nic": max(0, 12 - len(ports))},
    }


@router.route("GET", "/v1/{project_id}/cloudservers/{server_id}/tags")
def show_server_tags(ctx: ApiContext):
    return 200, tags_view(_model(ctx).get_server(ctx.params["server_id"]))


@router.route("POST", "/v1/{project_id}/cloudservers/{server_id}/tags/action")
def server_tags_action(ctx: ApiContext):
    """batch_create_server_tags (``action: create``) and batch_delete_server_tags (``action: delete``)."""
    body = _body(ctx)
    action = body.get("action")
    tags = [(tag.get("key"), tag.get("value", "")) for tag in _list_of_dicts(body.get("tags"), "tags")]
    if not tags:
        raise errors.invalid_parameter("tags must not be empty.")
    model = _model(ctx)
    if action == "create":
        model.add_tags(ctx.params["server_id"], tags)
    elif action == "delete":
        model.remove_tags(ctx.params["server_id"], tags)
    else:
        raise errors.invalid_parameter("action must be 'create' or 'delete' (lower case).")
    return 204, None


@router.route("GET", "/v1/{project_id}/jobs/{job_id}")
def show_job(ctx: ApiContext):
    return 200, job_view(_model(ctx).get_job(ctx.params["job_id"]))

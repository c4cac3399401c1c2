"""Control route of the VPC emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/vpc/routes`` ``{"vpc_id", "destination", "type", "nexthop"?, "description"?,
"project_id"?}`` adds a route to the VPC's default route table (200 ``{"routetable": {...}}``): a
test gives a VPC the default route a NAT gateway adds.
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext
from localcloud.core.state import DEFAULT_PROJECT_ID

from . import errors

__all__ = ["add_route"]


@control.route("POST", "/_localcloud/vpc/routes")
def add_route(ctx: ApiContext):
    body = ctx.json() or {}
    if not isinstance(body, dict) or not isinstance(body.get("vpc_id"), str):
        raise errors.route_invalid('send {"vpc_id", "destination", "type", "nexthop"?, "project_id"?}')
    project_id = body.get("project_id") or DEFAULT_PROJECT_ID
    with ctx.backend.lock:
        table = ctx.backend.project(project_id, create=True).service("vpc_route_tables").add_route(body["vpc_id"], body)
    return 200, {"routetable": table}

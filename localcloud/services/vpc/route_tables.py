"""Route tables of one project's VPCs (VPC API v1 "Route Table": ``GET /v1/{project_id}/routetables``
and ``GET /v1/{project_id}/routetables/{routetable_id}``; SDK ``ListRouteTablesRequest``
(``vpc_id``, ``subnet_id``, ``id``, ``limit``, ``marker``), ``RouteTableListResp``, ``RouteTableResp``,
``RouteTableRoute`` ``{type, destination, nexthop, description}``).

Every VPC has its default route table (``default: true``), created on first read, holding every
subnet of the VPC and no custom route: the local routes a real table also shows are left out
(assumed: the SDK model lists only ``type`` ``ecs | eni | vip | nat | peering | vpn | dc | cc``
routes). ``POST /_localcloud/vpc/routes`` ``{"vpc_id", "destination", "type", "nexthop"}`` adds a
route (a test gives a VPC its NAT gateway's default route). A listing filtered by a subnet that no
VPC has answers an empty list (assumed).
"""

from __future__ import annotations

import copy
import time
import uuid
from typing import TYPE_CHECKING, Any

from localcloud.core.timefmt import iso_seconds

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["RouteTableModel", "ROUTE_TYPES"]

ROUTE_TYPES = ("ecs", "eni", "vip", "nat", "peering", "vpn", "dc", "cc")


class RouteTableModel:
    def __init__(self, project: ProjectState) -> None:
        self.project = project
        self._tables: dict[str, dict[str, Any]] = {}  # vpc_id -> its default table

    def to_dict(self) -> dict[str, Any]:
        return {"route_tables": copy.deepcopy(list(self._tables.values()))}

    def _vpc(self):
        return self.project.service("vpc")

    def _table(self, vpc: dict) -> dict[str, Any]:
        table = self._tables.get(vpc["id"])
        if table is None:
            now = iso_seconds(time.time())
            table = {
                "id": str(uuid.uuid4()),
                "name": f"rtb-{vpc.get('name') or vpc['id'][:8]}",
                "default": True,
                "routes": [],
                "tenant_id": self.project.project_id,
                "vpc_id": vpc["id"],
                "description": "",
                "created_at": now,
                "updated_at": now,
            }
            self._tables[vpc["id"]] = table
        subnets = [s["id"] for s in self._vpc().list_subnets() if s.get("vpc_id") == vpc["id"]]
        return dict(copy.deepcopy(table), subnets=[{"id": s} for s in subnets])

    def list(self, *, vpc_id: str | None = None, subnet_id: str | None = None, table_id: str | None = None) -> list:
        tables = [self._table(vpc) for vpc in self._vpc().list_vpcs() if not vpc_id or vpc["id"] == vpc_id]
        if subnet_id:
            tables = [t for t in tables if any(s["id"] == subnet_id for s in t["subnets"])]
        if table_id:
            tables = [t for t in tables if t["id"] == table_id]
        return tables

    def show(self, table_id: str) -> dict[str, Any]:
        for table in self.list():
            if table["id"] == table_id:
                return table
        raise errors.route_table_not_found(table_id)

    def add_route(self, vpc_id: str, route: dict[str, Any]) -> dict[str, Any]:
        vpc = self._vpc().vpc(vpc_id)  # 404 for an unknown VPC
        if route.get("type") not in ROUTE_TYPES or not isinstance(route.get("destination"), str):
            raise errors.route_invalid(f"a route needs a destination and a type among {', '.join(ROUTE_TYPES)}")
        self._table(vpc)
        stored = {key: str(route.get(key) or "") for key in ("type", "destination", "nexthop", "description")}
        self._tables[vpc["id"]]["routes"].append(stored)
        self._tables[vpc["id"]]["updated_at"] = iso_seconds(time.time())
        return self._table(vpc)

"""Emulated VPC service: VPCs, subnets, route tables, ports (NICs), security groups and rules (API v1 and
v3), IP address groups (v3). Importing registers the control route ``POST /_localcloud/vpc/routes``."""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control routes)
from .address_groups import AddressGroupModel
from .models import VpcModel
from .route_tables import RouteTableModel
from .routes_v1 import v1_router
from .routes_v3 import v3_router

register_model("vpc", VpcModel)
register_model("vpc_address_groups", AddressGroupModel)
register_model("vpc_route_tables", RouteTableModel)

ROUTERS = [v1_router, v3_router]

__all__ = ["ROUTERS", "AddressGroupModel", "RouteTableModel", "VpcModel"]

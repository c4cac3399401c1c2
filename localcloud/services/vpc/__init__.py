"""Emulated VPC service: VPCs, subnets, ports (NICs), security groups and rules (API v1 and v3), IP address
groups (v3)."""

from __future__ import annotations

from localcloud.core.state import register_model

from .address_groups import AddressGroupModel
from .models import VpcModel
from .routes_v1 import v1_router
from .routes_v3 import v3_router

register_model("vpc", VpcModel)
register_model("vpc_address_groups", AddressGroupModel)

ROUTERS = [v1_router, v3_router]

__all__ = ["ROUTERS", "AddressGroupModel", "VpcModel"]

"""Plain data the pipeline reasons about: ports, security groups and their rules, servers.

Built from SDK responses by the gateway; everything downstream (planning, guard rails, results)
works on these and never on SDK objects, so that logic is testable without any cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.ids import SAFE_ID_RE, UUID_RE, is_safe_id, is_uuid  # the ids' shapes, here too

__all__ = [
    "Port",
    "Rule",
    "SecurityGroup",
    "Server",
    "UUID_RE",
    "SAFE_ID_RE",
    "FUNCTION_URN_RE",
    "is_uuid",
    "is_safe_id",
]

# urn:fss:<region>:<project_id>:function:<package>:<name>[:<version or !alias>]
FUNCTION_URN_RE = re.compile(
    r"^urn:fss:[a-z0-9-]{1,64}:[0-9a-f]{32}:function:[A-Za-z0-9_.-]{1,128}:[A-Za-z0-9_.-]{1,128}"
    r"(:!?[A-Za-z0-9_.-]{1,128})?\Z"
)


@dataclass
class Port:
    """A VPC port (an interface): its addresses and its ordered security-group list."""

    id: str
    device_id: str
    device_owner: str
    network_id: str
    fixed_ips: list[tuple[str, str]]  # (neutron subnet id, ip address)
    security_groups: list[str]
    port_security_enabled: bool = True
    status: str = ""

    @property
    def ip(self) -> str | None:
        return self.fixed_ips[0][1] if self.fixed_ips else None

    def is_interface_of(self, server_id: str) -> bool:
        """Only a server's own NICs are ever touched (not VIP, ELB, NAT or DHCP ports)."""
        return self.device_id == server_id and (self.device_owner or "").startswith("compute:")


@dataclass(frozen=True)
class Rule:
    """One security-group rule, as the VPC API gives it."""

    id: str
    direction: str  # ingress | egress
    ethertype: str = "IPv4"
    protocol: str | None = None  # None = any
    multiport: str | None = None  # "22", "80,443", "9090-9100"; None = all ports
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None
    remote_address_group_id: str | None = None
    action: str = "allow"
    priority: int = 1
    description: str = ""
    enabled: bool = True  # v3 rules can be switched off; a disabled deny protects nothing

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "ethertype": self.ethertype,
            "protocol": self.protocol or "any",
            "ports": self.multiport or "all",
            "remote": self.remote_ip_prefix or self.remote_group_id or self.remote_address_group_id or "any",
            "action": self.action,
            "priority": self.priority,
        }


@dataclass
class SecurityGroup:
    """A security group; ``rules`` once read."""

    id: str
    name: str
    description: str = ""
    enterprise_project_id: str | None = None
    rules: list[Rule] | None = None  # None until read


@dataclass
class Server:
    """An ECS server: its state, tags, interfaces and creation time."""

    id: str
    name: str
    status: str
    task_state: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    vpc_id: str | None = None
    availability_zone: str | None = None
    flavor: str | None = None
    enterprise_project_id: str | None = None
    primary_port_id: str | None = None
    port_ids: list[str] = field(default_factory=list)
    created: datetime | None = None  # ECS ``created`` (UTC); None when absent or unreadable

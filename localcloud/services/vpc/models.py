"""The VPC model of one project: VPCs, subnets, ports (NICs), security groups and rules.

State is plain dicts (JSON-serialisable). Every method runs under the backend lock (the HTTP
handlers and the seed loader take it), so the model itself does no locking. Methods return
copies: callers (routes, the ECS model) never mutate state behind the model's back.

Subnet ids follow the real cloud: ``id`` is the v1 subnet id, which is also the neutron network
id (what ECS ``nics[].subnet_id`` takes and what a port's ``network_id`` / v3 ``virsubnet_id``
is); ``neutron_subnet_id`` is a separate id, carried in a port's ``fixed_ips[].subnet_id``
(v3 ``private_ips[].subnet_cidr_id``).

Over 400 lines: the VPC service's state and invariants in one place, as moto's models.py.
"""

from __future__ import annotations

import copy
import ipaddress
import random
import uuid
from typing import TYPE_CHECKING, Any

from localcloud.core.errors import BadRequest
from localcloud.core.timefmt import iso_seconds

from . import errors
from .security_groups import SecurityGroupsMixin
from .seeding import load_vpc_seed

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["VpcModel"]


class VpcModel(SecurityGroupsMixin):
    def __init__(self, project: ProjectState) -> None:
        self.project = project
        self._vpcs: dict[str, dict] = {}
        self._subnets: dict[str, dict] = {}
        self._groups: dict[str, dict] = {}
        self._rules: dict[str, dict] = {}
        self._ports: dict[str, dict] = {}  # insertion order = creation order
        self._used_ips: dict[str, set[str]] = {}  # subnet id -> allocated addresses
        self._macs: set[str] = set()
        self._random = random.Random(project.project_id)
        # Derived from the project id: the same after every reset, so tests and demos can name it.
        default_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sg-default:{project.project_id}"))
        self._default_sg_id = default_id
        self.create_security_group(
            name="default", description="Default security group", rules=[], sg_id=default_id, _default=True
        )
        for ethertype, prefix in (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0")):
            self.add_rule(default_id, direction="ingress", ethertype=ethertype, remote_group_id=default_id)
            self.add_rule(default_id, direction="egress", ethertype=ethertype, remote_ip_prefix=prefix)

    # ---- helpers --------------------------------------------------------------------------
    def _now(self) -> str:
        return iso_seconds(self.project.backend.clock())

    @property
    def max_sgs_per_port(self) -> int:
        return self.project.backend.settings.max_sgs_per_port

    @staticmethod
    def _by_ref(items: dict[str, dict], ref: str, not_found, kind: str) -> dict:
        if ref in items:
            return items[ref]
        matches = [item for item in items.values() if item["name"] == ref]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise BadRequest(not_found(ref).code, f"{kind} name {ref!r} is ambiguous ({len(matches)} matches).")
        raise not_found(ref)

    # ---- VPCs and subnets -------------------------------------------------------------------
    def vpc(self, ref: str) -> dict:
        return copy.deepcopy(self._by_ref(self._vpcs, ref, errors.vpc_not_found, "VPC"))

    def list_vpcs(self) -> list[dict]:
        return copy.deepcopy(list(self._vpcs.values()))

    def subnet(self, ref: str) -> dict:
        for subnet in self._subnets.values():  # a port's fixed_ips[].subnet_id also names it
            if subnet["neutron_subnet_id"] == ref:
                return copy.deepcopy(subnet)
        return copy.deepcopy(self._by_ref(self._subnets, ref, errors.subnet_not_found, "Subnet"))

    def list_subnets(self) -> list[dict]:
        return copy.deepcopy(list(self._subnets.values()))

    def create_vpc(
        self,
        *,
        name: str,
        cidr: str,
        vpc_id: str | None = None,
        description: str = "",
        enterprise_project_id: str = "0",
    ) -> dict:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise errors.vpc_invalid(f"Param is invalid. cidr {cidr!r} is not a valid network.") from None
        if vpc_id is not None and vpc_id in self._vpcs:
            raise errors.vpc_invalid(f"VPC {vpc_id} already exists.")
        now = self._now()
        vpc: dict[str, Any] = {
            "id": vpc_id or str(uuid.uuid4()),
            "name": name,
            "cidr": str(network),
            "description": description,
            "status": "OK",
            "routes": [],
            "enterprise_project_id": enterprise_project_id,
            "tenant_id": self.project.project_id,
            "created_at": now,
            "updated_at": now,
        }
        self._vpcs[vpc["id"]] = vpc
        return copy.deepcopy(vpc)

    def create_subnet(
        self,
        *,
        vpc_id: str,
        name: str,
        cidr: str,
        subnet_id: str | None = None,
        gateway_ip: str | None = None,
        availability_zone: str | None = None,
    ) -> dict:
        vpc = self._vpcs.get(vpc_id)
        if vpc is None:
            raise errors.vpc_not_found(vpc_id)
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise errors.subnet_invalid(f"The subnet cidr is not valid. ({cidr})") from None
        if not isinstance(network, ipaddress.IPv4Network) or network.num_addresses < 8:
            raise errors.subnet_invalid(f"The subnet cidr is not valid. ({cidr}: IPv4, /29 or larger)")
        vpc_network = ipaddress.ip_network(vpc["cidr"])
        if not isinstance(vpc_network, ipaddress.IPv4Network) or not network.subnet_of(vpc_network):
            raise errors.subnet_out_of_vpc(cidr, vpc["cidr"])
        for other in self._subnets.values():
            if other["vpc_id"] == vpc_id and network.overlaps(ipaddress.ip_network(other["cidr"])):
                raise errors.subnet_overlaps(cidr, other["cidr"])
        if subnet_id is not None and subnet_id in self._subnets:
            raise errors.subnet_invalid(f"Subnet {subnet_id} already exists.")
        gateway = gateway_ip or str(network.network_address + 1)
        try:
            if ipaddress.ip_address(gateway) not in network:
                raise ValueError
        except ValueError:
            raise errors.subnet_invalid(f"gateway_ip {gateway!r} is not an address of {cidr}.") from None
        now = self._now()
        sid = subnet_id or str(uuid.uuid4())
        subnet = {
            "id": sid,
            "name": name,
            "description": "",
            "cidr": str(network),
            "gateway_ip": gateway,
            "vpc_id": vpc_id,
            "availability_zone": availability_zone or f"{self.project.backend.region}a",
            "status": "ACTIVE",
            "dhcp_enable": True,
            "ipv6_enable": False,
            "primary_dns": "100.125.1.250",
            "secondary_dns": "100.125.21.250",
            "dnsList": ["100.125.1.250", "100.125.21.250"],
            "neutron_network_id": sid,
            "neutron_subnet_id": str(uuid.uuid4()),
            "scope": "center",
            "tenant_id": self.project.project_id,
            "created_at": now,
            "updated_at": now,
        }
        self._subnets[sid] = subnet
        self._used_ips[sid] = set()
        return copy.deepcopy(subnet)

    def available_ip_count(self, subnet_id: str) -> int:
        subnet = self._subnets[subnet_id]
        return ipaddress.ip_network(subnet["cidr"]).num_addresses - 3 - len(self._used_ips[subnet_id])

    # ---- ports ------------------------------------------------------------------------------
    def port(self, port_id: str) -> dict:
        port = self._ports.get(port_id)
        if port is None:
            raise errors.port_not_found(port_id)
        return copy.deepcopy(port)

    def list_ports(self, device_id: str | None = None) -> list[dict]:
        """Copies of the ports, of one device when given (filtered before copying: a listing by
        device must not cost a copy of every port of the project under the state lock)."""
        if device_id is not None:
            return [copy.deepcopy(port) for port in self._ports.values() if port["device_id"] == device_id]
        return copy.deepcopy(list(self._ports.values()))

    def ports_of_device(self, device_id: str) -> list[dict]:
        return [copy.deepcopy(port) for port in self._ports.values() if device_id and port["device_id"] == device_id]

    def delete_ports_of_device(self, device_id: str) -> None:
        for port in [p for p in self._ports.values() if device_id and p["device_id"] == device_id]:
            self.delete_port(port["id"])

    def delete_port(self, port_id: str) -> None:
        port = self._ports.pop(port_id, None)
        if port is None:
            raise errors.port_not_found(port_id)
        self._used_ips[port["network_id"]].discard(port["fixed_ips"][0]["ip_address"])
        self._macs.discard(port["mac_address"])

    def create_port(
        self,
        *,
        subnet_id: str,
        device_id: str,
        device_owner: str,
        security_group_ids: list[str],
        ip_address: str | None = None,
        port_id: str | None = None,
        port_security_enabled: bool = True,
        name: str = "",
        enterprise_project_id: str = "0",
    ) -> dict:
        """A port in a subnet (by id or name); the next free address when ``ip_address`` is None.

        An empty ``security_group_ids`` means the default group. With port security disabled the
        groups are kept as given but not enforced (the docs: "false: security groups and DHCP
        anti-spoofing do not take effect"), and changing them is refused.
        """
        subnet = self._subnets.get(subnet_id) or self._subnets[self.subnet(subnet_id)["id"]]
        if port_id is not None and port_id in self._ports:
            raise errors.port_exists(port_id)
        groups = list(security_group_ids) or [self._default_sg_id]
        self._check_group_list(groups)
        network = ipaddress.ip_network(subnet["cidr"])
        used = self._used_ips[subnet["id"]]
        if ip_address is None:
            ip_address = self._next_free_ip(subnet, network, used)
        else:
            try:
                address = ipaddress.ip_address(ip_address)
            except ValueError:
                raise errors.ip_not_in_subnet(str(ip_address), subnet["cidr"]) from None
            if address not in network or address in (network.network_address, network.broadcast_address):
                raise errors.ip_not_in_subnet(ip_address, subnet["cidr"])
            if ip_address in used or ip_address == subnet["gateway_ip"]:
                raise errors.ip_in_use(ip_address)
        now = self._now()
        zone = device_owner.split(":", 1)[1] if device_owner.startswith("compute:") else ""
        port = {
            "id": port_id or str(uuid.uuid4()),
            "name": name or "",
            "description": "",
            "network_id": subnet["id"],
            "vpc_id": subnet["vpc_id"],
            "fixed_ips": [{"subnet_id": subnet["neutron_subnet_id"], "ip_address": ip_address}],
            "mac_address": self._new_mac(),
            "device_id": device_id or "",
            "device_owner": device_owner or "",
            "status": "ACTIVE",
            "admin_state_up": True,
            "security_groups": groups,
            "port_security_enabled": bool(port_security_enabled),
            "allowed_address_pairs": [],
            "extra_dhcp_opts": [],
            "binding:vnic_type": "normal",
            "zone_id": zone,
            "instance_id": "",
            "instance_type": "",
            "tenant_id": self.project.project_id,
            "project_id": self.project.project_id,
            "enterprise_project_id": enterprise_project_id or "0",
            "created_at": now,
            "updated_at": now,
        }
        used.add(ip_address)
        self._ports[port["id"]] = port
        return copy.deepcopy(port)

    def _next_free_ip(self, subnet: dict, network, used: set[str]) -> str:
        skip = {subnet["gateway_ip"]}
        for host in network.hosts():  # hosts() already skips network and broadcast
            text = str(host)
            if text not in used and text not in skip:
                return text
        raise errors.no_more_ips(subnet["id"])

    def _new_mac(self) -> str:
        while True:
            mac = "fa:16:3e:%02x:%02x:%02x" % tuple(self._random.randrange(256) for _ in range(3))
            if mac not in self._macs:
                self._macs.add(mac)
                return mac

    # ---- a port's security groups (order = priority, first = highest) ---------------------
    def _check_group_list(self, groups: list[str]) -> None:
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise errors.port_invalid("security_groups must be a list of security group ids.")
        if not groups:
            raise errors.port_needs_a_group()
        duplicates = sorted({g for g in groups if groups.count(g) > 1})
        if duplicates:
            raise errors.port_invalid(f"Duplicate security groups: {', '.join(duplicates)}.")
        for group_id in groups:
            if group_id not in self._groups:
                raise errors.sg_not_found(group_id)
        if len(groups) > self.max_sgs_per_port:
            raise errors.port_sg_limit(self.max_sgs_per_port, len(groups))

    def _writable_port(self, port_id: str) -> dict:
        port = self._ports.get(port_id)
        if port is None:
            raise errors.port_not_found(port_id)
        return port

    def update_port(
        self,
        port_id: str,
        *,
        name: str | None = None,
        security_groups: list[str] | None = None,
        allowed_address_pairs: list | None = None,
        extra_dhcp_opts: list | None = None,
    ) -> dict:
        """v1 update: ``security_groups`` replaces the whole ordered list."""
        port = self._writable_port(port_id)
        if name is not None and (not isinstance(name, str) or len(name) > 255):
            raise errors.port_invalid("name must be a string of at most 255 characters.")
        if security_groups is not None:
            if not port["port_security_enabled"]:
                raise errors.port_security_disabled(port_id)
            self._check_group_list(security_groups)
        for field, value in (("allowed_address_pairs", allowed_address_pairs), ("extra_dhcp_opts", extra_dhcp_opts)):
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
                raise errors.port_invalid(f"{field} must be a list of objects.")
        if name is not None:
            port["name"] = name
        if security_groups is not None:
            port["security_groups"] = list(security_groups)
        if allowed_address_pairs is not None:
            port["allowed_address_pairs"] = copy.deepcopy(allowed_address_pairs)
        if extra_dhcp_opts is not None:
            port["extra_dhcp_opts"] = copy.deepcopy(extra_dhcp_opts)
        port["updated_at"] = self._now()
        return copy.deepcopy(port)

    def insert_security_groups(
        self, port_id: str, security_groups: list[str], index: int | None = None, dry_run: bool = False
    ) -> dict | None:
        """v3 insert: ``index`` 0 = first; None or past the end = append. Atomic."""
        port = self._writable_port(port_id)
        if not isinstance(security_groups, list) or not security_groups:
            raise errors.port_invalid("security_groups must be a non-empty list of security group ids.")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise errors.port_invalid("index must be an integer >= 0.")
        if not port["port_security_enabled"]:
            raise errors.port_security_disabled(port_id)
        self._check_group_list(list(security_groups))
        already = [g for g in security_groups if g in port["security_groups"]]
        if already:
            raise errors.port_invalid(f"Security group {already[0]} is already associated with port {port_id}.")
        current = port["security_groups"]
        position = len(current) if index is None else min(index, len(current))
        updated = current[:position] + list(security_groups) + current[position:]
        if len(updated) > self.max_sgs_per_port:
            raise errors.port_sg_limit(self.max_sgs_per_port, len(updated))
        if dry_run:
            return None
        port["security_groups"] = updated
        port["updated_at"] = self._now()
        return copy.deepcopy(port)

    def remove_security_groups(self, port_id: str, security_groups: list[str], dry_run: bool = False) -> dict | None:
        """v3 remove: every group must be on the port and at least one group must remain."""
        port = self._writable_port(port_id)
        if (
            not isinstance(security_groups, list)
            or not security_groups
            or not all(isinstance(g, str) for g in security_groups)
        ):
            raise errors.port_invalid("security_groups must be a non-empty list of security group ids.")
        if not port["port_security_enabled"]:
            raise errors.port_security_disabled(port_id)
        duplicates = sorted({g for g in security_groups if security_groups.count(g) > 1})
        if duplicates:
            raise errors.port_invalid(f"Duplicate security groups: {', '.join(duplicates)}.")
        for group_id in security_groups:
            if group_id not in port["security_groups"]:
                if group_id not in self._groups:
                    raise errors.sg_not_found(group_id)
                raise errors.port_invalid(f"Security group {group_id} is not associated with port {port_id}.")
        remaining = [g for g in port["security_groups"] if g not in security_groups]
        if not remaining:
            raise errors.port_needs_a_group()
        if dry_run:
            return None
        port["security_groups"] = remaining
        port["updated_at"] = self._now()
        return copy.deepcopy(port)

    # ---- seed and snapshot ------------------------------------------------------------------
    def load_seed(self, project_doc: dict) -> dict:
        return load_vpc_seed(self, project_doc)

    def to_dict(self) -> dict:
        return {
            "vpcs": self.list_vpcs(),
            "subnets": self.list_subnets(),
            "security_groups": self.list_security_groups(),
            "ports": self.list_ports(),
        }

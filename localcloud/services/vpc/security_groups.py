"""Security groups and their rules: state and invariants (mixed into ``VpcModel``).

A group is stored once, in a neutral form that both API versions are rendered from:
``{id, name, description, vpc_id, enterprise_project_id, project_id, created_at, updated_at}``
plus its rules ``{id, security_group_id, direction, ethertype, protocol, multiport,
port_range_min, port_range_max, remote_ip_prefix, remote_group_id, remote_address_group_id,
action, priority, description, enabled, project_id, created_at, updated_at}``.

Port ranges: for tcp/udp the canonical form is ``multiport`` ("22", "80,443", "9090-9100");
``port_range_min/max`` are derived when it is one port or one range (what v1 can show). For
icmp, ``port_range_min/max`` are the ICMP type and code and ``multiport`` is None.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import uuid
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

SG_QUOTA = 100  # security groups per project (Huawei's default quota)
RULES_PER_GROUP = 1000
_NAME_RE = re.compile(r"^[\w.\-]{1,64}$")
_PROTOCOLS = {"tcp", "udp", "icmp", "icmpv6", "gre", "sctp"}
_PORT_PROTOCOLS = {"tcp", "udp", "sctp"}
_ICMP_PROTOCOLS = {"icmp", "icmpv6"}
_RULE_KEY = (
    "direction",
    "ethertype",
    "protocol",
    "multiport",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
    "action",
    "priority",
)


def _multiport_segments(value: str) -> list[tuple[int, int]]:
    segments = []
    for part in value.split(","):
        part = part.strip()
        bounds = part.split("-")
        if not part or len(bounds) > 2 or not all(b.strip().isdigit() for b in bounds):
            raise errors.rule_invalid(f"multiport {value!r} is invalid: use ports and ranges like '22,80-90'.")
        low, high = int(bounds[0]), int(bounds[-1])
        if not (1 <= low <= high <= 65535):
            raise errors.rule_invalid(f"multiport {value!r} is invalid: ports are 1-65535 and ranges ascend.")
        segments.append((low, high))
    if len(segments) > 20:
        raise errors.rule_invalid("multiport accepts at most 20 ports or ranges.")
    return segments


def _int_or_none(value, field: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.rule_invalid(f"{field} must be an integer.")
    return value


class SecurityGroupsMixin:
    """Needs the state ``VpcModel`` sets up and the methods it provides, declared below."""

    project: ProjectState
    _groups: dict[str, dict[str, Any]]
    _rules: dict[str, dict[str, Any]]
    _ports: dict[str, dict[str, Any]]
    _default_sg_id: str

    if TYPE_CHECKING:  # provided by VpcModel (models.py)

        def _now(self) -> str: ...

        def vpc(self, ref: str) -> dict[str, Any]: ...

    # ---- look-ups -------------------------------------------------------------------------
    def security_group(self, sg_id: str) -> dict:
        group = self._groups.get(sg_id)
        if group is None:
            raise errors.sg_not_found(sg_id)
        return self._group_view(group)

    def default_security_group(self) -> dict:
        return self.security_group(self._default_sg_id)

    def resolve_security_group(self, ref: str) -> dict:
        """By id, else by name; several groups with that name is an error (names are not unique)."""
        if ref in self._groups:
            return self.security_group(ref)
        matches = [group for group in self._groups.values() if group["name"] == ref]
        if not matches:
            raise errors.sg_not_found(ref)
        if len(matches) > 1:
            raise errors.sg_ambiguous(ref, len(matches))
        return self._group_view(matches[0])

    def list_security_groups(self) -> list[dict]:
        return [self._group_view(group) for group in self._groups.values()]

    def security_group_rule(self, rule_id: str) -> dict:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise errors.rule_not_found(rule_id)
        return dict(rule)

    def list_security_group_rules(self, security_group_id: str | None = None) -> list[dict]:
        return [
            dict(rule)
            for rule in self._rules.values()
            if security_group_id is None or rule["security_group_id"] == security_group_id
        ]

    def _group_view(self, group: dict) -> dict:
        view = copy.deepcopy(group)
        view["rules"] = [dict(self._rules[rule_id]) for rule_id in group["rule_ids"]]
        del view["rule_ids"]
        view["is_default"] = group["id"] == self._default_sg_id
        return view

    # ---- groups ---------------------------------------------------------------------------
    def create_security_group(
        self,
        *,
        name: str,
        description: str = "",
        enterprise_project_id: str | None = None,
        vpc_id: str | None = None,
        sg_id: str | None = None,
        rules: list[dict] | None = None,
        dry_run: bool = False,
        _default: bool = False,
    ) -> dict | None:
        """Create a group; ``rules=None`` gives it Huawei's automatic egress rules.

        Rules in ``rules`` may name their ``remote_group_id`` later (see ``add_rule``).
        """
        self._check_group_name(name)
        if name == "default" and not _default:
            raise errors.sg_name_reserved()
        if description is not None and (not isinstance(description, str) or len(description) > 255):
            raise errors.sg_invalid("description must be a string of at most 255 characters.")
        if enterprise_project_id is not None and not isinstance(enterprise_project_id, str):
            raise errors.sg_invalid("enterprise_project_id must be a string.")
        if vpc_id:
            self.vpc(vpc_id)
        if sg_id is not None and sg_id in self._groups:
            raise errors.sg_invalid(f"Security group {sg_id} already exists.")
        if len(self._groups) >= SG_QUOTA:
            raise errors.sg_quota(SG_QUOTA)
        if dry_run:
            return None
        now = self._now()
        group: dict[str, Any] = {
            "id": sg_id or str(uuid.uuid4()),
            "name": name,
            "description": description or "",
            "vpc_id": vpc_id or "",
            "enterprise_project_id": enterprise_project_id or "0",
            "project_id": self.project.project_id,
            "created_at": now,
            "updated_at": now,
            "rule_ids": [],
        }
        self._groups[group["id"]] = group
        if rules is None:
            for ethertype, prefix in (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0")):
                self.add_rule(
                    group["id"], direction="egress", ethertype=ethertype, remote_ip_prefix=prefix, description=""
                )
        return self._group_view(group)

    def update_security_group(self, sg_id: str, *, name: str | None = None, description: str | None = None) -> dict:
        group = self._groups.get(sg_id)
        if group is None:
            raise errors.sg_not_found(sg_id)
        if name is not None and name != group["name"]:
            if sg_id == self._default_sg_id:
                raise errors.sg_default_protected("renaming")
            self._check_group_name(name)
            if name == "default":
                raise errors.sg_name_reserved()
        if description is not None and (not isinstance(description, str) or len(description) > 255):
            raise errors.sg_invalid("description must be a string of at most 255 characters.")
        if name is not None:
            group["name"] = name
        if description is not None:
            group["description"] = description
        group["updated_at"] = self._now()
        return self._group_view(group)

    def delete_security_group(self, sg_id: str) -> None:
        group = self._groups.get(sg_id)
        if group is None:
            raise errors.sg_not_found(sg_id)
        if sg_id == self._default_sg_id:
            raise errors.sg_default_protected("removing")
        users = [port["id"] for port in self._ports.values() if sg_id in port["security_groups"]]
        if users:
            raise errors.sg_in_use(sg_id, f"It is associated with port(s) {', '.join(users[:5])}.")
        referrers = sorted(
            {
                rule["security_group_id"]
                for rule in self._rules.values()
                if rule["remote_group_id"] == sg_id and rule["security_group_id"] != sg_id
            }
        )
        if referrers:
            raise errors.sg_in_use(sg_id, f"It is the remote group of rules in {', '.join(referrers[:5])}.")
        for rule_id in group["rule_ids"]:
            del self._rules[rule_id]
        del self._groups[sg_id]

    @staticmethod
    def _check_group_name(name) -> None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise errors.sg_invalid("Creating securitygroup name is invalid: 1-64 letters, digits, '_', '-' or '.'.")

    # ---- rules ----------------------------------------------------------------------------
    def add_rule(
        self,
        security_group_id: str,
        *,
        direction,
        ethertype="IPv4",
        protocol=None,
        multiport=None,
        port_range_min=None,
        port_range_max=None,
        remote_ip_prefix=None,
        remote_group_id=None,
        remote_address_group_id=None,
        action="allow",
        priority=1,
        description="",
        enabled=True,
        rule_id: str | None = None,
        dry_run: bool = False,
    ) -> dict | None:
        """Validate and add one rule; an identical rule already in the group is a 409."""
        group = self._groups.get(security_group_id)
        if group is None:
            raise errors.sg_not_found(security_group_id)
        if direction not in ("ingress", "egress"):
            raise errors.rule_invalid("direction must be 'ingress' or 'egress'.")
        ethertype = "IPv4" if ethertype is None else ethertype
        if ethertype not in ("IPv4", "IPv6"):
            raise errors.rule_invalid("ethertype must be 'IPv4' or 'IPv6'.")
        protocol = self._normalise_protocol(protocol)
        multiport, port_range_min, port_range_max = self._normalise_ports(
            protocol, multiport, port_range_min, port_range_max
        )
        remotes = [r for r in (remote_ip_prefix, remote_group_id, remote_address_group_id) if r not in (None, "")]
        if len(remotes) > 1:
            raise errors.rule_invalid(
                "remote_ip_prefix, remote_group_id and remote_address_group_id are mutually exclusive."
            )
        if remote_ip_prefix not in (None, ""):
            remote_ip_prefix = self._normalise_prefix(remote_ip_prefix, ethertype)
        else:
            remote_ip_prefix = None
        if remote_group_id not in (None, ""):
            if remote_group_id not in self._groups:
                raise errors.sg_not_found(remote_group_id)
        else:
            remote_group_id = None
        if remote_address_group_id in ("",):
            remote_address_group_id = None
        if action is None:
            action = "allow"
        if action not in ("allow", "deny"):
            raise errors.rule_invalid("action must be 'allow' or 'deny'.")
        priority = 1 if priority is None else priority
        if isinstance(priority, str) and priority.isdigit():
            priority = int(priority)
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100:
            raise errors.rule_invalid("priority must be an integer within 1-100.")
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > 255:
            raise errors.rule_invalid("description must be a string of at most 255 characters.")
        if rule_id is not None and rule_id in self._rules:
            raise errors.rule_invalid(f"Security group rule {rule_id} already exists.")
        if len(group["rule_ids"]) >= RULES_PER_GROUP:
            raise errors.rule_invalid(f"A security group can have at most {RULES_PER_GROUP} rules.")
        candidate = {
            "direction": direction,
            "ethertype": ethertype,
            "protocol": protocol,
            "multiport": multiport,
            "port_range_min": port_range_min,
            "port_range_max": port_range_max,
            "remote_ip_prefix": remote_ip_prefix,
            "remote_group_id": remote_group_id,
            "remote_address_group_id": remote_address_group_id,
            "action": action,
            "priority": priority,
        }
        for existing_id in group["rule_ids"]:
            existing = self._rules[existing_id]
            if all(existing[key] == candidate[key] for key in _RULE_KEY):
                raise errors.rule_exists(existing_id)
        if dry_run:
            return None
        now = self._now()
        rule = {
            "id": rule_id or str(uuid.uuid4()),
            "security_group_id": security_group_id,
            **candidate,
            "description": description,
            "enabled": bool(enabled),
            "project_id": self.project.project_id,
            "created_at": now,
            "updated_at": now,
        }
        self._rules[rule["id"]] = rule
        group["rule_ids"].append(rule["id"])
        group["updated_at"] = now
        return dict(rule)

    def delete_rule(self, rule_id: str) -> None:
        rule = self._rules.pop(rule_id, None)
        if rule is None:
            raise errors.rule_not_found(rule_id)
        group = self._groups[rule["security_group_id"]]
        group["rule_ids"].remove(rule_id)
        group["updated_at"] = self._now()

    @staticmethod
    def _normalise_protocol(protocol):
        if protocol in (None, "", "any"):
            return None
        if not isinstance(protocol, str):
            raise errors.rule_invalid("protocol must be a string.")
        protocol = protocol.lower()
        if protocol in _PROTOCOLS:
            return protocol
        if protocol.isdigit() and 0 <= int(protocol) <= 255:
            return protocol
        raise errors.rule_invalid(f"protocol {protocol!r} is invalid: use tcp, udp, icmp, icmpv6, gre or 0-255.")

    @staticmethod
    def _normalise_ports(protocol, multiport, port_min, port_max):
        port_min = _int_or_none(port_min, "port_range_min")
        port_max = _int_or_none(port_max, "port_range_max")
        has_range = port_min is not None or port_max is not None
        if multiport in ("",):
            multiport = None
        if multiport is not None and not isinstance(multiport, str):
            raise errors.rule_invalid("multiport must be a string.")
        if multiport is not None and has_range:
            raise errors.rule_invalid("Give either multiport or port_range_min/port_range_max, not both.")
        if protocol in _ICMP_PROTOCOLS:
            if multiport is not None:
                raise errors.rule_invalid(
                    "multiport is not supported for ICMP: use port_range_min/max for the ICMP type and code."
                )
            for value in (port_min, port_max):
                if value is not None and not 0 <= value <= 255:
                    raise errors.rule_invalid("ICMP type and code must be within 0-255.")
            return None, port_min, port_max
        if protocol not in _PORT_PROTOCOLS:
            if multiport is not None or has_range:
                raise errors.rule_invalid("Ports can only be set when protocol is tcp, udp or sctp.")
            return None, None, None
        if has_range:
            if port_min is None or port_max is None:
                raise errors.rule_invalid("port_range_min and port_range_max must be given together for tcp/udp.")
            if not 1 <= port_min <= port_max <= 65535:
                raise errors.rule_invalid("port_range_min must be <= port_range_max, both within 1-65535.")
            multiport = str(port_min) if port_min == port_max else f"{port_min}-{port_max}"
        if multiport is None:
            return None, None, None
        segments = _multiport_segments(multiport)
        multiport = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in segments)
        if len(segments) == 1:
            return multiport, segments[0][0], segments[0][1]
        return multiport, None, None

    @staticmethod
    def _normalise_prefix(prefix, ethertype: str) -> str:
        if not isinstance(prefix, str):
            raise errors.rule_invalid("remote_ip_prefix must be a string.")
        try:
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise errors.rule_invalid(f"remote_ip_prefix {prefix!r} is not a valid CIDR.") from None
        if (network.version == 4) != (ethertype == "IPv4"):
            raise errors.rule_invalid(f"remote_ip_prefix {prefix} does not match ethertype {ethertype}.")
        return str(network)

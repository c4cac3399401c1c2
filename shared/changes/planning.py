"""Planning, pure: which interfaces, what each one's ordered group list becomes, which calls.

Order is priority (first = highest). The planner compares before with after, so a change that is
already in place costs no write, and picks the fewest calls: one v3 insert for an ``add``, one v3
remove for a ``remove`` (both atomic on the server), one v1 update for a ``replace`` or ``reorder``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ErrorCode, ErrorDetail
from shared.model import Port

__all__ = ["Operation", "NicPlan", "select_interfaces", "plan_nic", "ACTIONS"]

ACTIONS = ("replace", "add", "remove", "reorder")


@dataclass(frozen=True)
class Operation:
    kind: str  # "update" (whole list, v1) | "insert" (v3, at index) | "remove" (v3)
    groups: tuple[str, ...]
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "call": {
                "update": "vpc.update_port",
                "insert": "vpc.insert_security_groups",
                "remove": "vpc.remove_security_groups",
            }[self.kind],
            "security_groups": list(self.groups),
        }
        if self.kind == "insert":
            data["index"] = self.index
        return data


@dataclass
class NicPlan:
    port: Port
    before: list[str]
    after: list[str]
    operations: list[Operation] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return self.before != self.after


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))  # first occurrences, in order


def _same_ip(a: str, b: str) -> bool:
    import ipaddress  # only IP selectors need it

    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def select_interfaces(
    ports: list[Port], selection: Any, *, server_id: str, primary_port_id: str | None, path: str = "$.target.nics"
) -> tuple[list[Port], list[ErrorDetail]]:
    """The server's own interfaces that ``selection`` names ("primary", "all" or selectors)."""
    interfaces = [port for port in ports if port.is_interface_of(server_id)]
    if not interfaces:
        return [], [
            ErrorDetail(
                ErrorCode.SERVER_NOT_FOUND,
                f"server {server_id} has no network interfaces (it does not exist, is being created, or was deleted)",
                "$.target.server_id",
            )
        ]
    if selection in (None, "primary"):
        chosen = [port for port in interfaces if port.id == primary_port_id] if primary_port_id else interfaces[:1]
        if not chosen:
            return [], [ErrorDetail(ErrorCode.NIC_NOT_FOUND, "the server's primary interface was not found", path)]
        return chosen, []
    if selection == "all":
        return interfaces, []
    chosen = []
    errors: list[ErrorDetail] = []
    for index, selector in enumerate(selection):
        if "port_id" in selector:
            matched = [p for p in interfaces if p.id == selector["port_id"]]
            what = f"port {selector['port_id']}"
        elif "ip" in selector:
            matched = [p for p in interfaces if any(_same_ip(ip, selector["ip"]) for _, ip in p.fixed_ips)]
            what = f"IP address {selector['ip']}"
        else:
            subnet = selector["subnet_id"]
            matched = [p for p in interfaces if p.network_id == subnet or any(s == subnet for s, _ in p.fixed_ips)]
            what = f"subnet {subnet}"
        if not matched:
            errors.append(
                ErrorDetail(
                    ErrorCode.NIC_NOT_FOUND, f"no interface of server {server_id} has {what}", f"{path}[{index}]"
                )
            )
        chosen.extend(matched)
    unique: dict[str, Port] = {port.id: port for port in chosen}
    return list(unique.values()), errors


def plan_nic(
    port: Port, action: str, groups: list[str], position: int | None = None, path: str = "$.change.security_groups"
) -> tuple[NicPlan | None, list[ErrorDetail], list[ErrorDetail]]:
    """Plan one interface. Returns (plan or None, errors, warnings)."""
    before = list(port.security_groups)
    groups = _unique(groups)
    warnings: list[ErrorDetail] = []
    if action == "replace":
        after = groups
        operations = [Operation("update", tuple(after))] if after != before else []
    elif action == "add":
        missing = [g for g in groups if g not in before]
        if position is None or position >= len(before):
            index, at = None, len(before)
        else:
            index, at = position, position
        after = before[:at] + missing + before[at:]
        operations = [Operation("insert", tuple(missing), index)] if missing else []
    elif action == "remove":
        present = [g for g in groups if g in before]
        for g in groups:
            if g not in before:
                warnings.append(
                    ErrorDetail(
                        ErrorCode.NOT_ATTACHED, f"group {g} is not on interface {port.id}; nothing to remove", path
                    )
                )
        after = [g for g in before if g not in present]
        if not after:
            return (
                None,
                [
                    ErrorDetail(
                        ErrorCode.EMPTY_GROUP_LIST,
                        f"removing these groups would leave interface {port.id} with no security "
                        f"group; the API requires at least one",
                        path,
                    )
                ],
                warnings,
            )
        operations = [Operation("remove", tuple(present))] if present else []
    elif action == "reorder":
        if sorted(groups) != sorted(before):
            return (
                None,
                [
                    ErrorDetail(
                        ErrorCode.REORDER_MISMATCH,
                        f"reorder must list exactly the groups on interface {port.id} "
                        f"({len(before)} now), in their new order",
                        path,
                    )
                ],
                warnings,
            )
        after = groups
        operations = [Operation("update", tuple(after))] if after != before else []
    else:  # the schema allows only the four actions
        raise ValueError(f"unknown action {action!r}")
    return NicPlan(port, before, after, operations), [], warnings


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    items = iter(long)
    return all(any(x == y for y in items) for x in short)


def derive_operations(before: list[str], after: list[str]) -> list[Operation]:
    """The fewest calls that turn ``before`` into ``after``: one insert, one remove, or one update."""
    if after == before:
        return []
    if not after:
        raise ValueError("an interface cannot be left with no security group")
    added = [g for g in after if g not in before]
    removed = [g for g in before if g not in after]
    kept_in_order = [g for g in after if g in before] == [g for g in before if g in after]
    if added and not removed and kept_in_order:
        start = after.index(added[0])
        if after[start : start + len(added)] == added:  # one contiguous block: a single insert
            return [Operation("insert", tuple(added), None if start == len(before) else start)]
    if removed and not added and kept_in_order:
        return [Operation("remove", tuple(removed))]
    return [Operation("update", tuple(after))]


__all__ += ["derive_operations"]

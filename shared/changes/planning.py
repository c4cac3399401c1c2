"""Planning, pure: which interfaces, what each one's ordered group list becomes, which calls.

Order is priority (first = highest). The planner compares before with after, so a change that is
already in place costs no write, and writes through the v3 deltas (atomic on the server, naming
only the plan's groups, :mod:`shared.changes.deltas`): one insert for an ``add``, one remove for a
``remove``, an insert per new block then one remove for a ``replace`` that keeps the order of the
groups it keeps; only a change of that order (a ``reorder``) needs a whole-list v1 update, which
the applier guards (fresh read and guard rails just before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.changes.deltas import Operation, steps
from shared.errors import ErrorCode, ErrorDetail
from shared.model import Port

__all__ = ["Operation", "NicPlan", "select_interfaces", "plan_nic", "ACTIONS"]

ACTIONS = ("replace", "add", "remove", "reorder")


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
        operations = steps(before, after)  # the schema asks for at least one group
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
        operations = steps(before, after)
    else:  # the schema allows only the four actions
        raise ValueError(f"unknown action {action!r}")
    return NicPlan(port, before, after, operations), [], warnings


def derive_operations(before: list[str], after: list[str]) -> list[Operation]:
    """The calls that turn ``before`` into ``after``: v3 inserts and one remove while the groups kept
    keep their order, else one whole-list update (:func:`shared.changes.deltas.steps`)."""
    if after == before:
        return []
    if not after:
        raise ValueError("an interface cannot be left with no security group")
    return steps(before, after)


__all__ += ["derive_operations"]

"""Drift, pure: what one server's interfaces should carry, what they carry, and the repair plan.

Per interface (a server's own NIC with port security on):

* **policy** - the rules that match the server, as at creation: ``ensure`` groups present and in
  position (``first`` / an index; ``last`` only asks for presence); ``replace`` /
  ``replace_default`` rules are enforced as such only with ``continuous: true`` (otherwise they
  count as ``ensure`` of their groups, so a group a ticket added is never taken away);
* **guard rails** - protected groups at the highest priority (``PIN_PROTECTED_FIRST``), risky
  ports reachable from more public addresses than the family's threshold on the effective access
  of the interface's ordered groups, under either reading (:mod:`shared.rails.access`), more
  groups than ``MAX_GROUPS_PER_NIC_HARD``.

:func:`judge_server` returns the findings and, per interface, the list a repair would write: the
policy's list, protected groups moved first when pinned, and - only with ``remove_risky`` - the
groups that cause an exposure removed (never a protected one, never one the policy requires).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.changes.planning import NicPlan, derive_operations
from shared.flows.policy import PolicyRule, interface_in_scope, next_list
from shared.model import Port, SecurityGroup, Server
from shared.rails.access import UPPER, AccessModel, count_text, reach
from shared.rails.guardrails import GuardRails
from shared.rails.wording import reach_words

__all__ = ["Finding", "Judgement", "judge_server", "resolve_refs", "ensure_at", "keep_recently_added"]


@dataclass
class Finding:
    kind: str  # missing_group | order | unexpected_group | protected_not_first | exposure | too_many_groups
    source: str  # "rule:<name>" or "rail:<name>"
    port_id: str
    expected: Any
    actual: Any
    message: str
    groups: list[str] = field(default_factory=list)
    repairable: bool = False
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "port_id": self.port_id,
            "expected": self.expected,
            "actual": self.actual,
            "groups": list(self.groups),
            "message": self.message,
            "repaired": self.repaired,
        }


@dataclass
class Judgement:
    findings: list[Finding]
    plans: list[NicPlan]  # every interface judged, with the list a repair would write
    approved: bool  # every group the repair adds comes from a rule with approved_by
    warnings: list[str] = field(default_factory=list)


def resolve_refs(refs: Sequence[Mapping[str, str]], groups: Mapping[str, SecurityGroup]) -> tuple[list[str], list[str]]:
    """Group ids for ``[{"id"} | {"name"}]``; unknown or ambiguous names are returned as problems."""
    ids: list[str] = []
    problems: list[str] = []
    for ref in refs:
        if "id" in ref:
            ids.append(ref["id"])
            continue
        matches = [g.id for g in groups.values() if g.name == ref["name"]]
        if len(matches) == 1:
            ids.append(matches[0])
        else:
            problems.append(f"{len(matches) or 'no'} security group(s) named {ref['name']!r}")
    return ids, problems


def ensure_at(current: list[str], wanted_ids: Sequence[str], position: object) -> list[str]:
    """``current`` with ``wanted_ids`` present and, unless ``last``, in position (the others keep their order)."""
    wanted = list(dict.fromkeys(wanted_ids))
    if position == "last":
        return current + [g for g in wanted if g not in current]
    rest = [g for g in current if g not in wanted]
    at = 0 if position == "first" else min(int(str(position)), len(rest))
    return rest[:at] + wanted + rest[at:]


def _name(groups: Mapping[str, SecurityGroup], group_id: str) -> str:
    group = groups.get(group_id)
    return f"{group.name} ({group_id})" if group and group.name else group_id


def _policy_list(
    port: Port,
    server: Server,
    rules: Sequence[PolicyRule],
    resolved: Sequence[list[str]],
    default_group: str | None,
) -> tuple[list[str], dict[str, PolicyRule], bool]:
    """The interface's list as the policy wants it; which rule asked for each group; whether it applies."""
    after = list(port.security_groups)
    origin: dict[str, PolicyRule] = {}
    touched = False
    for rule, ids in zip(rules, resolved):
        if rule.nics == "primary" and port.id != server.primary_port_id:
            continue
        if not interface_in_scope(rule, port):
            continue
        touched = True
        for group_id in ids:
            origin.setdefault(group_id, rule)
        if rule.mode in ("replace", "replace_default") and rule.continuous:
            after = next_list(after, ids, rule.mode, rule.position, default_group)
        else:
            after = ensure_at(after, ids, rule.position)
    return after, origin, touched


def judge_server(
    server: Server,
    ports: Sequence[Port],
    *,
    rules: Sequence[PolicyRule],
    resolved: Sequence[list[str]],
    groups: Mapping[str, SecurityGroup],
    address_groups: Mapping[str, list[str] | None],
    rails: GuardRails,
    remove_risky: bool = False,
    default_group: str | None = None,
) -> Judgement:
    findings: list[Finding] = []
    plans: list[NicPlan] = []
    warnings: list[str] = []
    approved = True
    for port in ports:
        before = list(port.security_groups)
        if not port.port_security_enabled:
            warnings.append(f"interface {port.id} has port security disabled: no group applies")
            plans.append(NicPlan(port, before, before, []))
            continue
        wanted, origin, _ = _policy_list(port, server, rules, resolved, default_group)
        for group_id in wanted:
            if group_id not in before:
                rule = origin.get(group_id)
                approved = approved and bool(rule and rule.approved_by)
                findings.append(
                    Finding(
                        "missing_group",
                        f"rule:{rule.name if rule else '?'}",
                        port.id,
                        wanted,
                        before,
                        f"group {_name(groups, group_id)} is required on interface {port.id} and missing",
                        [group_id],
                        repairable=True,
                    )
                )
        for group_id in before:
            if group_id not in wanted:
                rule = next((r for r in rules if r.continuous and r.mode != "ensure"), None)
                findings.append(
                    Finding(
                        "unexpected_group",
                        f"rule:{rule.name if rule else '?'}",
                        port.id,
                        wanted,
                        before,
                        f"group {_name(groups, group_id)} is not in the continuous rule's list",
                        [group_id],
                        repairable=True,
                    )
                )
        if set(wanted) == set(before) and wanted != before:
            moved = [g for g, h in zip(wanted, before) if g != h]
            rule = origin.get(moved[0]) if moved else None
            findings.append(
                Finding(
                    "order",
                    f"rule:{rule.name if rule else '?'}",
                    port.id,
                    wanted,
                    before,
                    f"interface {port.id} carries the required groups in another priority order",
                    moved,
                    repairable=True,
                )
            )
        after = list(wanted)
        if rails.pin_protected_first:
            flags = [rails.is_protected(groups.get(g) or SecurityGroup(g, "")) for g in after]
            pinned = [g for g, f in zip(after, flags) if f] + [g for g, f in zip(after, flags) if not f]
            if pinned != after:
                findings.append(
                    Finding(
                        "protected_not_first",
                        "rail:protected_groups",
                        port.id,
                        pinned,
                        before,
                        f"a protected group stands behind another group on interface {port.id}",
                        [g for g, f in zip(after, flags) if f],
                        repairable=True,
                    )
                )
                after = pinned
        findings.extend(_exposures(port, before, after, groups, address_groups, rails, origin, remove_risky))
        culprits = {
            g for f in findings if f.port_id == port.id and f.kind == "exposure" and f.repairable for g in f.groups
        }
        after = [g for g in after if g not in culprits] or after
        if len(before) > rails.hard_max_groups:
            findings.append(
                Finding(
                    "too_many_groups",
                    "rail:group_count",
                    port.id,
                    rails.hard_max_groups,
                    len(before),
                    f"interface {port.id} carries {len(before)} groups; the limit is {rails.hard_max_groups}",
                )
            )
        plans.append(NicPlan(port, before, after, derive_operations(before, after)))
    return Judgement(findings, plans, approved, warnings)


def _exposures(
    port: Port,
    before: list[str],
    after: list[str],
    groups: Mapping[str, SecurityGroup],
    address_groups: Mapping[str, list[str] | None],
    rails: GuardRails,
    origin: Mapping[str, PolicyRule],
    remove_risky: bool,
) -> list[Finding]:
    if not rails.risky_ports:
        return []
    thresholds = rails.public_thresholds
    found: list[Finding] = []
    ports = rails.risky_ports
    model = AccessModel(before, groups, address_groups, bound=UPPER, ports=ports)
    for exposure in reach(model, ports, thresholds):
        contributors = [g for g in before if g in exposure.group_ids]
        key = (exposure.port, exposure.protocol, exposure.family)
        alone = [  # a group that exposes on its own is the culprit; otherwise the groups together are
            g
            for g in contributors
            if any(
                (e.port, e.protocol, e.family) == key
                for e in reach(
                    AccessModel([g], groups, address_groups, bound=UPPER, ports=[exposure.port]),
                    [exposure.port],
                    thresholds,
                )
            )
        ]
        culprits = alone or contributors
        if culprits and all(origin.get(g) is not None and origin[g].approved_by for g in culprits):
            continue  # the policy attaches it with a named approver: an approved exception
        repairable = (
            remove_risky
            and bool(culprits)
            and not any(rails.is_protected(groups[g]) or g in origin for g in culprits if g in groups)
            and len([g for g in after if g not in culprits]) > 0
        )
        found.append(
            Finding(
                "exposure",
                "rail:exposure",
                port.id,
                f"port {exposure.port}/{exposure.protocol} reachable from at most "
                f"{count_text(thresholds[exposure.family])} public {exposure.family} addresses",
                exposure.describe(),
                f"Interface {port.id} has "
                + reach_words(
                    exposure.protocol,
                    exposure.port,
                    exposure.family,
                    exposure.public_addresses,
                    exposure.everyone,
                    sorted(exposure.rule_ids),
                )
                + f" through group{'s' if len(culprits) > 1 else ''} "
                + ", ".join(_name(groups, g) for g in culprits)
                + ".",
                culprits,
                repairable=repairable,
            )
        )
    return found


def keep_recently_added(
    plans: Sequence[NicPlan], recent: Mapping[str, set[str]]
) -> tuple[list[NicPlan], list[tuple[str, str]]]:
    """The repair ``plans`` with every group a recent sgguard change added (``recent``: port id ->
    group ids, :mod:`shared.idempotency.ledger`) kept where a plan would remove it — at the end of
    the list, the lowest priority — and the ``(port id, group id)`` pairs kept. A repair never
    undoes a ticket, even when the trace of sgguard's own change was not recognised as its own."""
    kept: list[tuple[str, str]] = []
    adjusted: list[NicPlan] = []
    for plan in plans:
        keep = [g for g in plan.before if g not in plan.after and g in recent.get(plan.port.id, set())]
        if not keep:
            adjusted.append(plan)
            continue
        after = [*plan.after, *keep]
        kept.extend((plan.port.id, g) for g in keep)
        adjusted.append(NicPlan(plan.port, plan.before, after, derive_operations(plan.before, after)))
    return adjusted, kept

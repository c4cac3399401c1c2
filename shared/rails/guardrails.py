"""Guard rails, pure: what a plan may never do, whoever asks for it.

The rails decide on fresh facts (:class:`GroupFacts`: every group a plan mentions, read from the
API for this decision, rules included), never on a cache. One function per rail, each with its
own error code:

- :func:`protected_rail` - a protected group (by id, or by its current name) is never removed and,
  with ``pin_protected_first``, stays ahead of every other group;
- :func:`allowed_rail` - only allowed groups are attached: by id, or by a name glob when the name
  belongs to that one group only (a look-alike group of the same name must be named by id);
- :func:`exposure_rail` - a change (any action) that makes a risky port reachable from public
  sources it was not reachable from, when after it more public addresses than the family's
  threshold reach that port, is refused unless a second person approved it and approved
  exceptions are allowed; judged on the effective access of the interface's ordered group list
  before and after (:mod:`shared.rails.access`: group order, rule priority, deny rules), so split
  ranges, removed deny guards, reordering and laundering through the groups that stay all count;
- :func:`limit_rail` - at most ``hard_max_groups`` (a change that grows past it), a warning above
  ``soft_max_groups``.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.changes.planning import NicPlan
from shared.errors import ErrorCode, ErrorDetail
from shared.model import SecurityGroup
from shared.rails.access import UPPER, AccessModel, Widening, widenings
from shared.rails.wording import exposure_sentence, group_label, id_words

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.model import Rule

__all__ = [
    "GuardRails",
    "GroupFacts",
    "check_plans",
    "ambiguous_references",
    "protected_rail",
    "allowed_rail",
    "exposure_rail",
    "limit_rail",
]

PathOf = Callable[[str], str]


@dataclass(frozen=True)
class GuardRails:
    protected_groups: tuple[str, ...] = ()  # ids or exact names
    allowed_groups: tuple[str, ...] = ("*",)  # ids or name globs
    soft_max_groups: int = 5
    hard_max_groups: int = 10
    risky_ports: tuple[int, ...] = (22, 3389)
    allow_approved_risky: bool = True
    pin_protected_first: bool = False
    risky_max_public_ipv4: int = 2**24  # public addresses a risky port may be reachable from, unapproved
    risky_max_public_ipv6: int = 2**96

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardRails:
        return cls(
            tuple(settings.protected_groups),
            tuple(settings.allowed_groups),
            settings.soft_max_groups,
            settings.hard_max_groups,
            tuple(settings.risky_ports),
            settings.allow_approved_risky,
            settings.pin_protected_first,
            settings.risky_max_public_ipv4,
            settings.risky_max_public_ipv6,
        )

    @property
    def public_thresholds(self) -> dict[str, int]:
        return {"IPv4": self.risky_max_public_ipv4, "IPv6": self.risky_max_public_ipv6}

    def is_protected(self, group: SecurityGroup) -> bool:
        return group.id in self.protected_groups or (bool(group.name) and group.name in self.protected_groups)

    def is_allowed(self, group: SecurityGroup, name_counts: Counter[str]) -> bool:
        if "*" in self.allowed_groups or group.id in self.allowed_groups:
            return True
        if not group.name or name_counts.get(group.name, 0) != 1:
            return False  # a name shared by several groups says nothing about which one is meant
        return any(fnmatch.fnmatchcase(group.name, ref) for ref in self.allowed_groups)


@dataclass
class GroupFacts:
    """What the rails decide on, read fresh for this decision."""

    groups: dict[str, SecurityGroup]  # every group in the plans that exists, with its rules
    known_names: Counter[str] = field(default_factory=Counter)  # name -> how many groups carry it (catalog + fresh)
    address_groups: dict[str, list[str] | None] = field(default_factory=dict)  # None: could not be read

    def group(self, group_id: str) -> SecurityGroup:
        return self.groups.get(group_id) or SecurityGroup(group_id, "")

    def rules_of(self, group_ids: Iterable[str]) -> list[Rule]:
        return [rule for gid in group_ids if gid in self.groups for rule in (self.groups[gid].rules or [])]


def ambiguous_references(rails: GuardRails, groups: Iterable[SecurityGroup]) -> list[str]:
    """Protected or allowed names (not globs, not ids) that several groups carry: a configuration error."""
    ids = {group.id for group in groups}
    counts = Counter(group.name for group in groups)
    problems = []
    for setting, refs in (("PROTECTED_GROUPS", rails.protected_groups), ("ALLOWED_GROUPS", rails.allowed_groups)):
        for ref in refs:
            if ref in ids or any(ch in ref for ch in "*?["):
                continue
            if counts.get(ref, 0) > 1:
                problems.append(f"{setting}: {counts[ref]} security groups are named {ref!r}; list it by id")
    return problems


class _Report:
    """Errors and warnings, each (code, group) reported once per request."""

    def __init__(self) -> None:
        self.errors: list[ErrorDetail] = []
        self.warnings: list[ErrorDetail] = []
        self._seen: set[tuple[str, str]] = set()

    def once(self, kind: str, subject: str) -> bool:
        if (kind, subject) in self._seen:
            return False
        self._seen.add((kind, subject))
        return True


def protected_rail(plan: NicPlan, rails: GuardRails, facts: GroupFacts, path_of: PathOf, report: _Report) -> None:
    for group_id in plan.before:
        group = facts.group(group_id)
        if group_id not in plan.after and rails.is_protected(group) and report.once("protected", group_id):
            report.errors.append(
                ErrorDetail(
                    ErrorCode.PROTECTED_GROUP,
                    f"Group {group_label(group)} is protected and may not be removed from interface "
                    f"{id_words(plan.port.id)}.",
                    path_of(group_id),
                )
            )
    if not rails.pin_protected_first:
        return
    protected = [rails.is_protected(facts.group(g)) for g in plan.after]
    first_other = next((index for index, flag in enumerate(protected) if not flag), len(protected))
    behind = [g for g, flag in zip(plan.after[first_other:], protected[first_other:]) if flag]
    for group_id in behind:
        if report.once("pinned", group_id):
            report.errors.append(
                ErrorDetail(
                    ErrorCode.PROTECTED_GROUP,
                    f"Group {group_label(facts.group(group_id))} is protected and pinned first on "
                    f"interface {id_words(plan.port.id)} (PIN_PROTECTED_FIRST), but group "
                    f"{group_label(facts.group(plan.after[first_other]))} would be ahead of it.",
                    path_of(group_id),
                )
            )


def allowed_rail(plan: NicPlan, rails: GuardRails, facts: GroupFacts, path_of: PathOf, report: _Report) -> None:
    for group_id in plan.after:
        if group_id in plan.before:
            continue
        if group_id not in facts.groups:
            if report.once("missing", group_id):
                report.errors.append(
                    ErrorDetail(
                        ErrorCode.SECURITY_GROUP_NOT_FOUND,
                        f"No security group with id {id_words(group_id)} exists, so it cannot be attached to "
                        f"interface {id_words(plan.port.id)}.",
                        path_of(group_id),
                    )
                )
            continue
        group = facts.groups[group_id]
        if not rails.is_allowed(group, facts.known_names) and report.once("allowed", group_id):
            shared = facts.known_names.get(group.name, 0) > 1
            why = (
                f"its name is shared by {facts.known_names[group.name]} groups, so ALLOWED_GROUPS must list it by id"
                if shared
                else "it is not in ALLOWED_GROUPS"
            )
            report.errors.append(
                ErrorDetail(
                    ErrorCode.GROUP_NOT_ALLOWED,
                    f"Group {group_label(group)} may not be attached to interface {id_words(plan.port.id)}: {why}.",
                    path_of(group_id),
                )
            )


def _culprit(plan: NicPlan, facts: GroupFacts, widening: Widening) -> tuple[str, str]:
    """The group a widening is blamed on, and how: attached, removed (a deny guard) or moved."""

    def model(group_ids: list[str]) -> AccessModel:
        return AccessModel(group_ids, facts.groups, facts.address_groups, bound=UPPER)

    port, protocol = widening.port, widening.protocol_number
    for group_id in plan.after:
        if group_id not in plan.before and model([group_id]).allowing(protocol, port, widening.new):
            return group_id, "attached"
    for group_id in plan.before:
        if group_id not in plan.after and model([group_id]).denying(protocol, port):
            return group_id, "removed"
    kept = [g for g in plan.before if g in plan.after]
    kept_after = [g for g in plan.after if g in kept]
    moved = [g for g in kept_after if kept.index(g) != kept_after.index(g)]
    for group_id in moved:
        if model([group_id]).allowing(protocol, port, widening.new):
            return group_id, "moved"
    added = [g for g in plan.after if g not in plan.before]
    removed = [g for g in plan.before if g not in plan.after]
    if added:
        return added[0], "attached"
    if removed:
        return removed[0], "removed"
    return (moved or plan.after)[0], "moved"


def exposure_rail(
    plan: NicPlan, rails: GuardRails, facts: GroupFacts, path_of: PathOf, report: _Report, approved: bool
) -> None:
    if not rails.risky_ports or plan.after == plan.before:
        return
    if any(g not in facts.groups for g in plan.after if g not in plan.before):
        return  # attaching a group that does not exist is refused by allowed_rail already
    found: dict[tuple[str, str], list[Widening]] = {}  # (culprit group, how) -> what it opens
    for widening in widenings(
        plan.before, plan.after, facts.groups, facts.address_groups, rails.risky_ports, rails.public_thresholds
    ):
        found.setdefault(_culprit(plan, facts, widening), []).append(widening)
    for (culprit, how), items in found.items():
        if not report.once("exposure", f"{plan.port.id}:{culprit}"):
            continue
        # One per port and family; the group-order reading's when it widens too (it is the usual one).
        ordered_last = sorted(items, key=lambda w: w.reading == "ordered")
        unique = list({(w.port, w.protocol, w.family): w for w in ordered_last}.values())
        group, thresholds = facts.group(culprit), rails.public_thresholds
        if approved and rails.allow_approved_risky:
            verdict = "allowed as an approved exception"
            text = exposure_sentence(how, group, plan.port.id, unique, thresholds, verdict)
            report.warnings.append(ErrorDetail(ErrorCode.RISKY_RULE, text, path_of(culprit)))
        else:
            verdict = (
                "refused, because approved exceptions are switched off (ALLOW_APPROVED_RISKY=false)"
                if approved
                else "refused, because the change is not approved by a second person"
            )
            text = exposure_sentence(how, group, plan.port.id, unique, thresholds, verdict)
            report.errors.append(ErrorDetail(ErrorCode.RISKY_RULE, text, path_of(culprit)))


def limit_rail(plan: NicPlan, rails: GuardRails, report: _Report) -> None:
    count = len(plan.after)
    # Only a change that grows an interface past the limit is refused: cleaning up must stay possible.
    if count > rails.hard_max_groups and count > len(plan.before):
        report.errors.append(
            ErrorDetail(
                ErrorCode.TOO_MANY_GROUPS,
                f"Interface {id_words(plan.port.id)} would have {count} security groups; at most "
                f"{rails.hard_max_groups} are allowed (MAX_GROUPS_PER_NIC_HARD).",
                "$.change.security_groups",
            )
        )
    elif count > rails.soft_max_groups:
        report.warnings.append(
            ErrorDetail(
                ErrorCode.SOFT_LIMIT_EXCEEDED,
                f"Interface {id_words(plan.port.id)} will have {count} security groups; more than "
                f"{rails.soft_max_groups} (MAX_GROUPS_PER_NIC) can slow its network traffic.",
                "$.change.security_groups",
            )
        )


def check_plans(
    plans: list[NicPlan], *, rails: GuardRails, facts: GroupFacts, path_of: PathOf, approved: bool
) -> tuple[list[ErrorDetail], list[ErrorDetail]]:
    """Errors (any one rejects the whole request) and warnings for every interface that changes.

    ``path_of(group_id)`` names the request field that asked for the group.
    """
    report = _Report()
    for plan in plans:
        if not plan.changes:
            continue
        protected_rail(plan, rails, facts, path_of, report)
        allowed_rail(plan, rails, facts, path_of, report)
        exposure_rail(plan, rails, facts, path_of, report, approved)
        limit_rail(plan, rails, report)
    return report.errors, report.warnings

"""Guard rails, pure: what a plan may never do, whoever asks for it.

Each rail has its own error code: protected groups are never removed, only allowed groups are
attached, an interface keeps at most the configured number of groups (over the soft limit is a
warning, over the hard limit a rejection), and a group that opens a risky port (SSH, RDP by
default) to the whole internet is refused unless the change is approved and policy allows
approved exceptions.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import ErrorCode, ErrorDetail
from .model import SecurityGroup
from .planning import NicPlan

__all__ = ["GuardRails", "check_plans", "risky_rules"]


@dataclass(frozen=True)
class GuardRails:
    protected_groups: tuple[str, ...] = ()  # ids or exact names
    allowed_groups: tuple[str, ...] = ("*",)  # ids or name globs
    soft_max_groups: int = 5
    hard_max_groups: int = 10
    risky_ports: tuple[int, ...] = (22, 3389)
    allow_approved_risky: bool = True

    @classmethod
    def from_settings(cls, settings) -> "GuardRails":
        return cls(tuple(settings.protected_groups), tuple(settings.allowed_groups), settings.soft_max_groups,
                   settings.hard_max_groups, tuple(settings.risky_ports), settings.allow_approved_risky)

    def is_protected(self, group: SecurityGroup) -> bool:
        return group.id in self.protected_groups or group.name in self.protected_groups

    def is_allowed(self, group: SecurityGroup) -> bool:
        return any(ref == group.id or fnmatch.fnmatchcase(group.name, ref) for ref in self.allowed_groups)


def risky_rules(group: SecurityGroup, ports: Iterable[int]) -> list[tuple[int, str]]:
    """(port, rule id) for each inbound allow rule that opens a risky port to 0.0.0.0/0 or ::/0."""
    found = []
    for rule in group.rules or []:
        if rule.direction != "ingress" or rule.action != "allow" or not rule.open_to_world():
            continue
        found.extend((port, rule.id) for port in ports if rule.covers_port(port))
    return found


def check_plans(plans: list[NicPlan], *, rails: GuardRails, groups: dict[str, SecurityGroup],
                path_of: Callable[[str], str], approved: bool) -> tuple[list[ErrorDetail], list[ErrorDetail]]:
    """Errors (any one rejects the whole request) and warnings for every interface's plan.

    ``groups`` maps every group id in the plans to its catalog entry (with rules for the groups
    being added); ``path_of(group_id)`` names the request field that asked for the group.
    """
    errors: list[ErrorDetail] = []
    warnings: list[ErrorDetail] = []
    reported: set[tuple[str, str]] = set()

    def once(kind: str, group_id: str) -> bool:
        if (kind, group_id) in reported:
            return False
        reported.add((kind, group_id))
        return True

    for plan in plans:
        added = [g for g in plan.after if g not in plan.before]
        removed = [g for g in plan.before if g not in plan.after]
        for group_id in removed:
            group = groups.get(group_id) or SecurityGroup(group_id, "")
            if rails.is_protected(group) and once("protected", group_id):
                errors.append(ErrorDetail(ErrorCode.PROTECTED_GROUP,
                                          f"group {group.name or group_id} ({group_id}) is protected and may not be "
                                          f"removed from an interface", path_of(group_id)))
        for group_id in added:
            group = groups.get(group_id) or SecurityGroup(group_id, "")
            if not rails.is_allowed(group) and once("allowed", group_id):
                errors.append(ErrorDetail(ErrorCode.GROUP_NOT_ALLOWED,
                                          f"group {group.name or group_id} ({group_id}) is not in the allowed list",
                                          path_of(group_id)))
            for port, rule_id in risky_rules(group, rails.risky_ports):
                if not once(f"risky{port}", group_id):
                    continue
                text = (f"group {group.name} ({group_id}) allows inbound port {port} from the whole internet "
                        f"(rule {rule_id})")
                if approved and rails.allow_approved_risky:
                    warnings.append(ErrorDetail(ErrorCode.RISKY_RULE, text + "; attached as an approved exception",
                                                path_of(group_id)))
                else:
                    reason = "policy allows no exception" if approved else "the change is not approved"
                    errors.append(ErrorDetail(ErrorCode.RISKY_RULE, f"{text}; refused: {reason}", path_of(group_id)))
        count = len(plan.after)
        # Only a change that grows an interface past the limit is refused: cleaning up must stay possible.
        if count > rails.hard_max_groups and count > len(plan.before):
            errors.append(ErrorDetail(ErrorCode.TOO_MANY_GROUPS,
                                      f"interface {plan.port.id} would have {count} security groups; the limit is "
                                      f"{rails.hard_max_groups}", "$.change.security_groups"))
        elif count > rails.soft_max_groups and plan.changes:
            warnings.append(ErrorDetail(ErrorCode.SOFT_LIMIT_EXCEEDED,
                                        f"interface {plan.port.id} will have {count} security groups; more than "
                                        f"{rails.soft_max_groups} can deteriorate network performance",
                                        "$.change.security_groups"))
    return errors, warnings

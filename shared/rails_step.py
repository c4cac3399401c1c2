"""The guard-rail step both functions share: fresh facts, rail configuration, every rail.

Nothing is written unless this step returns no errors. A rail configuration that names a group
ambiguously (two groups carry a protected or allowed name) fails the message with
``CONFIG_INVALID`` instead of guessing which group is meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ErrorCode, ErrorDetail
from .groups import GroupCatalog, gather_facts
from .guardrails import GroupFacts, GuardRails, PathOf, ambiguous_references, check_plans

if TYPE_CHECKING:
    from .cloud.protocols import Network
    from .config import Settings
    from .planning import NicPlan

__all__ = ["RailsVerdict", "check_rails"]


@dataclass
class RailsVerdict:
    facts: GroupFacts | None
    errors: list[ErrorDetail]
    warnings: list[ErrorDetail]
    config_error: ErrorDetail | None = None


def check_rails(
    plans: list[NicPlan],
    *,
    settings: Settings,
    network: Network,
    catalog: GroupCatalog,
    now: float,
    path_of: PathOf,
    approved: bool,
) -> RailsVerdict:
    rails = GuardRails.from_settings(settings)
    problems = ambiguous_references(rails, catalog.current(network, now).values())
    if problems:
        return RailsVerdict(None, [], [], ErrorDetail(ErrorCode.CONFIG_INVALID, "; ".join(problems), "$"))
    if not any(plan.changes for plan in plans):
        return RailsVerdict(GroupFacts({}), [], [])  # nothing will be written: no facts needed
    facts = gather_facts(plans, network, catalog)
    errors, warnings = check_plans(plans, rails=rails, facts=facts, path_of=path_of, approved=approved)
    return RailsVerdict(facts, errors, warnings)

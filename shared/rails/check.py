"""The guard-rail step every flow shares: fresh facts (:mod:`shared.rails.facts`), rail configuration, every rail.

Nothing is written unless this step returns no errors. A rail configuration that names a group
ambiguously (two groups carry a protected or allowed name) fails the message with
``CONFIG_INVALID`` instead of guessing which group is meant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.errors import ErrorCode, ErrorDetail
from shared.rails.groups import GroupCatalog
from shared.rails.guardrails import GroupFacts, GuardRails, PathOf, ambiguous_references, check_plans

if TYPE_CHECKING:
    from shared.changes.planning import NicPlan
    from shared.cloud.protocols import Network
    from shared.config import Settings
    from shared.rails.facts import FactsCache

__all__ = ["RailsVerdict", "check_rails", "rechecker"]


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
    facts: FactsCache,
    known: GroupFacts | None = None,
) -> RailsVerdict:
    """Every rail on every plan that changes something, on facts no older than ``facts`` allows
    (the batch's cache); ``known``: facts already read for this decision (see
    :meth:`shared.rails.facts.FactsCache.gather`)."""
    rails = GuardRails.from_settings(settings)
    problems = ambiguous_references(rails, catalog.current(network, now).values())
    if problems:
        return RailsVerdict(None, [], [], ErrorDetail(ErrorCode.CONFIG_INVALID, "; ".join(problems), "$"))
    if not any(plan.changes for plan in plans):
        return RailsVerdict(GroupFacts({}), [], [])  # nothing will be written: no facts needed
    gathered = facts.gather(plans, network, catalog, known)
    errors, warnings = check_plans(plans, rails=rails, facts=gathered, path_of=path_of, approved=approved)
    return RailsVerdict(gathered, errors, warnings)


def rechecker(
    *,
    settings: Settings,
    network: Network,
    catalog: GroupCatalog,
    now: Callable[[], float],
    path_of: PathOf,
    approved: bool,
    facts: FactsCache,
    known: GroupFacts | None,
) -> Callable[[NicPlan], list[ErrorDetail]]:
    """This same step, for the applier: run on a plan re-made from the port as it is just before a
    whole-list write (a group someone attached meanwhile - a protected one - is judged too). Facts
    already read for the decision are reused, the rest come from the batch's cache."""

    def recheck(plan: NicPlan) -> list[ErrorDetail]:
        verdict = check_rails(
            [plan],
            settings=settings,
            network=network,
            catalog=catalog,
            now=now(),
            path_of=path_of,
            approved=approved,
            facts=facts,
            known=known,
        )
        return [verdict.config_error] if verdict.config_error else verdict.errors

    return recheck

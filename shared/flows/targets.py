"""A change request's target (TARGETS, docs/organisation.md): which one, and a Run of its own.

:func:`resolve` decides, before any call, which :class:`shared.targets.Target` a request names
(``rejected`` ``TARGET_NOT_ALLOWED`` otherwise). :func:`run_for` gives a member target a
:class:`Run` of its own: the member's credentials (assumed through STS, cached per account and
agency), the region's endpoints, the target's settings (project, overrides) and its own
resources, so the rails' facts cache and the group catalog are per target; the deadline, clock
and retry policy stay the invocation's. The home project uses the invocation's Run unchanged.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared import records
from shared.errors import ErrorCode, ErrorDetail
from shared.results import Identity, ResultData, failure_data, new_result_data, rejected
from shared.targets import Target, Targets, resolve_target

if TYPE_CHECKING:
    from collections.abc import Callable

    from shared.cloud.agencies import AssumeFailed
    from shared.cloud.counter import CallCounter
    from shared.flows.event_targets import EventRoute
    from shared.flows.policy import Policy
    from shared.runtime.envelopes import InboundMessage
    from shared.runtime.run import Run

__all__ = [
    "home_target",
    "targets_for",
    "resolve",
    "run_for",
    "assume_failure",
    "scope_of",
    "locate",
    "target_policy",
    "route_message",
    "event_assume_failure",
    "PROJECT_LISTING_TTL_S",
]

PROJECT_LISTING_TTL_S = 300.0  # projects: all - an account's project listing is reused this long
_RUNS = threading.Lock()


def home_target(run: Run) -> Target:
    targets = run.settings.targets
    project_id = run.settings.project_id or ""
    if targets is None:
        return Target(None, run.settings.region, project_id, home=True)
    return targets.home_target(run.settings.region, project_id)


def targets_for(run: Run, account: str | None) -> Targets | None:
    """TARGETS as planned for a request naming ``account``: with ``discover``, an account TARGETS
    does not list explicitly is looked up among the organisation's (ListAccounts, cached). Raises
    :class:`shared.cloud.discovery.DiscoveryFailed`."""
    targets = run.settings.targets
    if targets is None or targets.discovery is None or account is None:
        return targets
    if account in targets.accounts or account == targets.home_account:
        return targets
    from shared.cloud.discovery import member_accounts

    return member_accounts(targets, run)


def resolve(request: Any, run: Run, identity: Identity) -> tuple[Target | None, ResultData | None]:
    """The target a valid request names, or its rejection (no call made but, with ``discover``,
    the organisation's listing)."""
    from shared.cloud.discovery import DiscoveryFailed

    try:
        targets = targets_for(run, request["target"].get("account"))
    except DiscoveryFailed as error:
        detail = ErrorDetail(error.code, error.message, "$.target.account")
        return None, failure_data(detail, retryable=error.retryable, identity=identity)
    target, refusal = resolve_target(targets, request["target"], home_target(run))
    if refusal is not None:
        return None, rejected([refusal], identity=identity)
    return target, None


def scope_of(target: Target | None, run: Run) -> str | None:
    """What idempotency keys and server locks are scoped by: the home project id as before, a
    member target's account/region/project."""
    if target is None or target.home:
        return run.settings.project_id
    return target.key


def run_for(run: Run, target: Target, counter: CallCounter) -> Run:
    """The Run of ``target`` (the invocation's own for the home project). Raises
    :class:`shared.cloud.agencies.AssumeFailed` when the member cannot be reached or, with
    ``projects: all``, the project is not the account's in that region."""
    if target.home:
        return run
    from shared.cloud.agencies import AssumeFailed, StsGateway
    from shared.cloud.targets import TARGET_CLIENTS, target_settings

    targets = targets_for(run, target.account)  # cached: the listing resolve() used
    member = targets.member(target.account) if targets else None
    assert member is not None  # resolved against TARGETS
    settings = target_settings(records.replace(run.settings, targets=targets), target)
    options: dict[str, Any] = {"clock": run.clock, "deadline": run.deadline, "policy": run.retry_policy}
    sts = StsGateway(run.factory(), counter=counter, **options)
    factory = TARGET_CLIENTS.factory(target, member, settings, sts, (run.function, run.request_id()))
    if member.project_listed(target.project_id) is None:
        from shared.cloud.gateway import Gateway

        listed = TARGET_CLIENTS.check_listed(
            target, factory, Gateway(factory, counter=counter, **options), PROJECT_LISTING_TTL_S
        )
        if not listed:
            message = f"project {target.project_id} is not one of account {target.account}'s in {target.region}"
            raise AssumeFailed(ErrorCode.TARGET_NOT_ALLOWED, message, retryable=False)
    with _RUNS:  # one Run per target and invocation: its facts cache serves every message of the batch
        runs = run.resources.setdefault("target_runs", {})
        cached: Run | None = runs.get((target.key, factory.credentials.ak))
        if cached is None:
            resources = {k: v for k, v in run.resources.items() if k not in ("facts", "target_runs")}
            cached = records.replace(
                run, settings=settings, resources=resources, account=target.account, _factory=factory, _limiters={}
            )
            runs[(target.key, factory.credentials.ak)] = cached
        return cached


def assume_failure(error: AssumeFailed, identity: Identity) -> ResultData:
    """``rejected`` for a project outside the account, ``failed`` with the code for the rest."""
    path = "$.target.project_id" if error.code == ErrorCode.TARGET_NOT_ALLOWED else "$.target.account"
    detail = ErrorDetail(error.code, error.message, path)
    if error.code == ErrorCode.TARGET_NOT_ALLOWED:
        return rejected([detail], identity=identity)
    return failure_data(detail, retryable=error.retryable, identity=identity)


def locate(run: Run, route: EventRoute, counter: CallCounter) -> Target:
    """The member :class:`Target` of an event's ``route`` (account and project): its region is the
    one the account's own project listing gives the project (IAM ``KeystoneListProjects``, read once
    per account and :data:`PROJECT_LISTING_TTL_S`, with the member's credentials). Raises
    :class:`shared.cloud.agencies.AssumeFailed`: the member cannot be reached, or ``TARGET_NOT_ALLOWED``
    when the project is not the account's or its region not one of the account's in TARGETS."""
    from shared.cloud.agencies import AssumeFailed, StsGateway
    from shared.cloud.gateway import Gateway
    from shared.cloud.targets import TARGET_CLIENTS, target_settings

    targets = run.settings.targets
    member = targets.member(route.account) if targets else None
    assert member is not None and route.project_id is not None  # routed against TARGETS
    probe = Target(member.domain_id, member.regions[0], route.project_id, account_name=member.name)
    settings = target_settings(run.settings, probe)
    options: dict[str, Any] = {"clock": run.clock, "deadline": run.deadline, "policy": run.retry_policy}
    sts = StsGateway(run.factory(), counter=counter, **options)
    factory = TARGET_CLIENTS.factory(probe, member, settings, sts, (run.function, run.request_id()))
    gateway = Gateway(factory, counter=counter, **options)
    region = TARGET_CLIENTS.region_of(probe, factory, gateway, PROJECT_LISTING_TTL_S)
    if region is None or region not in member.regions:
        where = "no project of the account" if region is None else f"in {region}, not one of its regions in TARGETS"
        message = f"project {route.project_id} of account {member.domain_id}: {where}"
        raise AssumeFailed(ErrorCode.TARGET_NOT_ALLOWED, message, retryable=False)
    return Target(member.domain_id, region, route.project_id, account_name=member.name)


def target_policy(target_run: Run, run: Run, target: Target, load: Callable[[Run, str | None], Policy]) -> Policy:
    """The policy of ``target_run``: the invocation's, unless TARGETS overrides ``policy_file`` for
    that target; then that file of the package (``load(run, inline)``, the inline ``POLICY`` set
    aside), loaded once per target Run. Raises :class:`shared.flows.policy.PolicyError`."""
    home: Policy = run.resources["policy"]
    if target_run is run:
        return home
    with _RUNS:
        cached: Policy | None = target_run.resources.get("target_policy")
    if cached is not None:
        return cached
    targets = run.settings.targets
    overrides = targets.overrides(target) if targets else {}
    policy = home if "policy_file" not in overrides else load(target_run, None)
    with _RUNS:
        target_run.resources["target_policy"] = policy
    return policy


def route_message(
    message: InboundMessage, trace: object, run: Run, identity: Identity, counter: CallCounter
) -> tuple[Target | None, ResultData | None]:
    """An event's target (:mod:`shared.flows.event_targets`): None without TARGETS, the home
    target, or a member's located one; else the message's answer: ``skipped`` with the code
    (``EVENT_TARGET_UNKNOWN``, ``TARGET_NOT_ALLOWED``: no call for an event outside TARGETS) or the
    member's own ``failed`` (``AGENCY_MISSING``, ``ACCESS_DENIED``, ``ASSUME_FAILED``)."""
    from shared.flows.event_targets import route_event

    targets = run.settings.targets
    if targets is None:
        return None, None
    route = route_event(trace, targets, run.settings.project_id, via_cts="specversion" not in message.meta)
    if route.skip is not None:
        return None, new_result_data("skipped", identity, reason=route.skip.message, warnings=[route.skip])
    if route.home:
        return home_target(run), None
    from shared.cloud.agencies import AssumeFailed

    try:
        return locate(run, route, counter), None
    except AssumeFailed as error:
        member = targets.member(route.account)
        named: dict[str, Any] = {"account": route.account, "account_name": member.name if member else None}
        named["region"] = None
        named.update(project_id=route.project_id, home=False)  # its region: from the listing not read
        return None, event_assume_failure(error, identity).replace(target=named)


def event_assume_failure(error: AssumeFailed, identity: Identity) -> ResultData:
    """An event's member that cannot be reached: ``failed`` with the code; a project that is not
    the account's (or in a region outside TARGETS): ``skipped`` ``TARGET_NOT_ALLOWED``."""
    if error.code == ErrorCode.TARGET_NOT_ALLOWED:
        detail = ErrorDetail(error.code, error.message, "$.project_id")
        return new_result_data("skipped", identity, reason=error.message, warnings=[detail])
    detail = ErrorDetail(error.code, error.message, "$.user.domain.id")
    return failure_data(detail, retryable=error.retryable, identity=identity)

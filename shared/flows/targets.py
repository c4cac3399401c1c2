"""A change request's target (TARGETS, docs/organisation.md): which one, and a Run of its own.

:func:`resolve` decides, before any call, which :class:`shared.targets.Target` a request names
(``rejected`` ``TARGET_NOT_ALLOWED`` otherwise). :func:`run_for` gives a member target a
:class:`Run` of its own: the member's credentials (assumed through STS, cached per account and
agency), the region's endpoints, the target's settings (project, overrides) and its own
resources, so the rails' facts cache and the group catalog are per target; the deadline, clock
and retry policy stay the invocation's. The home project uses the invocation's Run unchanged.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from shared.errors import ErrorCode, ErrorDetail
from shared.results import Identity, ResultData, failure_data, rejected
from shared.targets import Target, Targets, resolve_target

if TYPE_CHECKING:
    from shared.cloud.agencies import AssumeFailed
    from shared.cloud.counter import CallCounter
    from shared.runtime.run import Run

__all__ = ["home_target", "targets_for", "resolve", "run_for", "assume_failure", "scope_of", "PROJECT_LISTING_TTL_S"]

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
    settings = target_settings(dataclasses.replace(run.settings, targets=targets), target)
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
            cached = dataclasses.replace(
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

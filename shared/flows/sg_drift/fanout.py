"""The sweep across TARGETS: one asynchronous invocation of sg_drift per target, on FunctionGraph itself.

Without TARGETS nothing here runs: the sweep of the home project is :func:`shared.flows.sg_drift.sweep.run_sweep`,
in process, as before. With TARGETS, a sweep has three parts, none of them a scheduler:

1. **The plan** (the hourly timer, or ``{"sweep": {}}``). The planner lists the targets: the home
   project, then each member account x region x project (``projects: all``: the member's own IAM
   project listing, ``KeystoneListProjects``, through an assumed session). It claims the plan in
   the sweep book (:mod:`shared.idempotency.sweeps`; ``sweep_id`` comes from the timer event's
   ``time``, so a redelivered timer event is the same sweep and invokes nothing), records how many
   targets the sweep has, and invokes sg_drift asynchronously once per target with
   ``{"sweep": {"target": {"account", "region", "project_id"}, "sweep_id"}}`` (the same
   self-invocation the continuations use, :func:`shared.runtime.continuation.invoke_self`). How
   many run at once is FunctionGraph's to bound: the function's maximum instances
   (``strategy_config.concurrency`` in template.yaml, 10); the platform queues the rest. One
   ``summary`` result (``summary.kind: "plan"``) lists the targets and the invocations. An account
   whose listing fails (``AGENCY_MISSING``, ``ACCESS_DENIED``, ...) gets its ``failed`` result here,
   per region, and counts as finished: a broken account never stops the others.
2. **Each target** (one invocation, then its own continuations): the invocation claims
   ``<target>#<hop>`` in the book (a redelivery finds it claimed and does nothing: no call), gets
   the target's Run (:func:`shared.flows.targets.run_for`: one assume per account and instance,
   cached) and sweeps that project with its own pages and continuations (the continuation event
   carries the target). One ``summary`` per target, naming it; a failed assume is that target's
   ``failed`` result with its code.
3. **The organisation summary**: each target, once its sweep ends (complete, or out of hops), writes
   its record to the book; the write that completes the plan (an atomic count in Redis) is the
   last target's, and that invocation emits the ``summary`` with ``summary.kind: "organisation"``:
   the targets that completed and those that failed, with their codes.

The book is Redis when ``IDEMPOTENCY_STORE`` is; with the memory store it is per instance, so the
organisation summary and the redelivery guard only hold when one instance runs the whole sweep
(docs/organisation.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.cloud.discovery import DiscoveryFailed, member_accounts
from shared.cloud.gateway import CallCounter
from shared.errors import ErrorCode, ErrorDetail
from shared.flows.sg_drift.continuation import SweepStart, read_sweep_start
from shared.flows.sg_drift.sweep import run_sweep, sweep_project
from shared.flows.targets import home_target, run_for, targets_for
from shared.idempotency.exceptions import StoreUnavailable
from shared.idempotency.sweeps import SweepBook, sweep_book_for
from shared.results import EventMeta, Identity, ResultData, failure_data, new_result_data, rejected
from shared.runtime.continuation import invoke_self
from shared.targets import MemberAccount, Target, Targets, resolve_target

if TYPE_CHECKING:
    from shared.runtime.envelopes import Envelope
    from shared.runtime.run import Run

__all__ = ["run_sweeps", "plan_targets", "target_ref", "sweep_id_of"]


def run_sweeps(envelope: Envelope, run: Run) -> list[dict[str, Any]]:
    """The sweep an envelope asks for: the home project's (no TARGETS), the plan, or one target's."""
    if run.settings.targets is None:
        return run_sweep(envelope, run)
    start = read_sweep_start(envelope)
    if start.target is None and not start.malformed_target:
        return _plan(envelope, run, start)
    return _sweep_target(envelope, run, start)


def sweep_id_of(envelope: Envelope, run: Run, start: SweepStart) -> str:
    """The given sweep id; a timer's from its event ``time`` (a redelivery is the same sweep); else now."""
    if start.sweep_id:
        return start.sweep_id
    when = run.clock.now()
    raw = envelope.meta.get("time") if envelope.kind == "timer" else None
    if isinstance(raw, str):
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    if when.utcoffset() is not None:
        when = when - when.utcoffset()  # type: ignore[operator]
    return f"sweep:{when.strftime('%Y%m%dT%H%M%SZ')}"


def target_ref(target: Target) -> dict[str, str | None]:
    """What a target's invocation event names (checked again, against TARGETS, when it runs)."""
    account = None if target.home else target.account
    return {"account": account, "region": target.region, "project_id": target.project_id}


def _key(target: dict[str, Any]) -> str:
    return f"{target.get('account') or 'home'}/{target['region']}/{target.get('project_id') or '*'}"


# ---- 1. the plan ---------------------------------------------------------------------------------


def plan_targets(run: Run, counter: CallCounter) -> tuple[list[Target], list[tuple[dict[str, Any], ErrorDetail]]]:
    """The home project and every member target (with ``discover``, the organisation's members too);
    the (account, region) whose projects could not be listed, with why (``projects: all``). Raises
    :class:`shared.cloud.discovery.DiscoveryFailed` (the caller plans the listed accounts alone)."""
    targets = run.settings.targets
    assert targets is not None
    if targets.discovery is not None:
        targets = member_accounts(targets, run)
    return _plan_accounts(run, targets, counter)


def _plan_accounts(
    run: Run, targets: Targets, counter: CallCounter
) -> tuple[list[Target], list[tuple[dict[str, Any], ErrorDetail]]]:
    planned, failed = [home_target(run)], []
    for member in targets.accounts.values():
        for region in member.regions:
            if member.projects is not None:
                ids = [p for p in member.projects if p not in member.exclude_projects]
            else:
                try:
                    ids = _listed_projects(run, member, region, counter)
                except Exception as error:  # noqa: BLE001 - AssumeFailed, a cloud error: this account only
                    where = {"account": member.domain_id, "account_name": member.name, "region": region}
                    failed.append(({**where, "project_id": None, "home": False}, _why(error)))
                    continue
            planned.extend(Target(member.domain_id, region, p, account_name=member.name) for p in ids)
    return planned, failed


def _listed_projects(run: Run, member: MemberAccount, region: str, counter: CallCounter) -> list[str]:
    from shared.cloud.agencies import StsGateway
    from shared.cloud.gateway import Gateway
    from shared.cloud.targets import TARGET_CLIENTS, project_in_listing, target_settings
    from shared.flows.targets import PROJECT_LISTING_TTL_S

    stub = Target(member.domain_id, region, "", account_name=member.name)
    settings = target_settings(run.settings, stub)
    options: dict[str, Any] = {"clock": run.clock, "deadline": run.deadline, "policy": run.retry_policy}
    sts = StsGateway(run.factory(), counter=counter, **options)
    factory = TARGET_CLIENTS.factory(stub, member, settings, sts, (run.function, run.request_id()))
    gateway = Gateway(factory, counter=counter, **options)
    listed = TARGET_CLIENTS.listed_projects(stub, factory, gateway, PROJECT_LISTING_TTL_S)
    ids = {p.id for p in listed if project_in_listing([p], region, p.id)}
    return sorted(ids - set(member.exclude_projects))


def _why(error: Exception) -> ErrorDetail:
    from shared.cloud.agencies import AssumeFailed

    if isinstance(error, AssumeFailed):
        return ErrorDetail(error.code, error.message, "$.target.account")
    describe = getattr(error, "describe", None)
    return ErrorDetail(ErrorCode.CLOUD_ERROR, describe() if callable(describe) else type(error).__name__, "$")


def _plan(envelope: Envelope, run: Run, start: SweepStart) -> list[dict[str, Any]]:
    sweep_id = sweep_id_of(envelope, run, start)
    identity = Identity(request_id=sweep_id)
    meta = EventMeta(0, envelope.kind, run.function)
    book = sweep_book_for(run.settings)
    try:
        if not book.claim(sweep_id, "plan"):  # a redelivered timer event: planned already, nothing to do
            reason = "this sweep was planned already (a redelivery): nothing invoked"
            summary = {"kind": "plan", "sweep_id": sweep_id, "duplicate": True}
            return [run.event(new_result_data("summary", identity, reason=reason, summary=summary), meta)]
        counter = CallCounter()
        discovery: ErrorDetail | None = None
        try:
            planned, failed = plan_targets(run, counter)
        except DiscoveryFailed as error:  # the accounts TARGETS lists are swept all the same
            discovery = ErrorDetail(error.code, error.message, "$.discover")
            assert run.settings.targets is not None
            planned, failed = _plan_accounts(run, run.settings.targets, counter)
        book.plan(sweep_id, len(planned) + len(failed))
    except StoreUnavailable as error:
        detail = ErrorDetail(ErrorCode.STORE_UNAVAILABLE, str(error), "$")
        return [run.event(failure_data(detail, retryable=True, identity=identity), meta)]
    events: list[dict[str, Any]] = []
    invoked: list[dict[str, Any]] = []
    for target in planned:
        ref = target_ref(target)
        try:
            request_id = invoke_self(run, {"sweep": {"target": ref, "sweep_id": sweep_id}})
        except Exception as error:  # noqa: BLE001 - this target fails; the others go on
            text = getattr(error, "message", None) or str(error) or type(error).__name__
            failed.append((target.to_dict(), ErrorDetail(ErrorCode.CLOUD_ERROR, f"not invoked: {text}"[:300], "$")))
            continue
        invoked.append({"target": _key(ref), "request_id": request_id})
    for target_dict, detail in failed:
        data = failure_data(detail, identity=identity, target=target_dict, summary=_failed_summary(target_dict))
        events.append(run.event(data, meta))
        events.extend(_finish(run, book, sweep_id, target_dict, _record(target_dict, "failed", detail), meta))
    summary = {
        "kind": "plan",
        "sweep_id": sweep_id,
        "targets": len(planned) + len(failed),
        "invoked": invoked,
        "failed": [{"target": _key(t), "code": d.code} for t, d in failed],
        "api_calls": counter.to_dict(),
    }
    if discovery is not None:  # the organisation's members could not be listed: only TARGETS' own swept
        summary["discovery"] = {"code": discovery.code, "message": discovery.message[:300]}
    warnings = [discovery] if discovery is not None else []
    plan = new_result_data("summary", identity, summary=summary, api_calls=counter.to_dict(), warnings=warnings)
    return [run.event(plan, meta), *events]


# ---- 2. one target -------------------------------------------------------------------------------


def _sweep_target(envelope: Envelope, run: Run, start: SweepStart) -> list[dict[str, Any]]:
    meta = EventMeta(0, envelope.kind, run.function)
    sweep_id = start.sweep_id
    if start.target is None or sweep_id is None:
        path = "$.sweep.target" if start.target is None else "$.sweep.sweep_id"
        message = "a target's sweep names {account?, region, project_id} (ids: 32 lowercase hex) and its sweep_id"
        return [run.event(rejected([ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, path)]), meta)]
    identity = Identity(request_id=sweep_id)
    named = {k: v for k, v in start.target.items() if v is not None}
    try:
        targets = targets_for(run, start.target.get("account"))  # discover: the organisation's (cached)
    except DiscoveryFailed as error:  # this account cannot be resolved now: nothing else is tried
        detail = ErrorDetail(error.code, error.message, "$.sweep.target.account")
        return [run.event(failure_data(detail, retryable=error.retryable, identity=identity), meta)]
    target, refusal = resolve_target(targets, named, home_target(run))
    if target is None:
        assert refusal is not None
        return [run.event(rejected([refusal], identity=identity), meta)]  # not one of TARGETS: no call
    where = target.to_dict()
    book = sweep_book_for(run.settings)
    try:
        if not book.claim(sweep_id, f"{target.key}#{start.hop}"):
            reason = "this target's invocation ran already (a redelivery): nothing done"
            seen = {"kind": "target", "target": where, "hop": start.hop, "duplicate": True}
            return [run.event(new_result_data("summary", identity, reason=reason, summary=seen, target=where), meta)]
    except StoreUnavailable as error:
        detail = ErrorDetail(ErrorCode.STORE_UNAVAILABLE, str(error), "$")
        return [run.event(failure_data(detail, retryable=True, identity=identity, target=where), meta)]
    counter = CallCounter()
    try:
        target_run = run_for(run, target, counter)
    except Exception as error:  # noqa: BLE001 - AssumeFailed (or a cloud error): this target's failure
        why = _why(error)
        data = failure_data(why, identity=identity, target=where, summary=_failed_summary(where))
        return [run.event(data, meta), *_finish(run, book, sweep_id, where, _record(where, "failed", why), meta)]
    events = sweep_project(envelope, target_run, start, sweep_id, counter=counter, target=where, home=run)
    last: dict[str, Any] = events[-1]["data"]
    summary: dict[str, Any] = last.get("summary") or {}
    continuation: dict[str, Any] = summary.get("continuation") or {}
    if summary.get("complete") or not continuation.get("invoked"):  # this target's sweep ends here
        errors = last.get("errors") or []
        ended = ErrorDetail(errors[0]["code"], errors[0]["message"], errors[0]["path"]) if errors else None
        outcome = "complete" if summary.get("complete") else "failed" if ended else "incomplete"
        record = _record(where, outcome, ended, servers=int(summary.get("servers") or 0), hop=start.hop)
        events.extend(_finish(run, book, sweep_id, where, record, meta))
    return events


def _failed_summary(target: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "target", "target": target, "complete": False, "servers": 0}


def _record(
    target: dict[str, Any], outcome: str, detail: ErrorDetail | None, *, servers: int = 0, hop: int = 0
) -> dict[str, Any]:
    record: dict[str, Any] = {"target": target, "outcome": outcome, "servers": servers, "hop": hop}
    if detail is not None:
        record.update(code=detail.code, message=detail.message[:300])
    return record


# ---- 3. the organisation summary -----------------------------------------------------------------


def _finish(
    run: Run, book: SweepBook, sweep_id: str, target: dict[str, Any], record: dict[str, Any], meta: EventMeta
) -> list[dict[str, Any]]:
    """Write this target's record; the last one to finish also emits the organisation summary."""
    try:
        finish = book.finish(sweep_id, _key(target), record)
        if not finish.last:
            return []
        records = book.results(sweep_id)
    except StoreUnavailable as error:  # the target's own summary stands; the organisation summary is lost
        detail = ErrorDetail(ErrorCode.STORE_UNAVAILABLE, f"{error}: no organisation summary", "$")
        return [run.event(failure_data(detail, retryable=False, identity=Identity(request_id=sweep_id)), meta)]
    return [run.event(organisation_summary(sweep_id, records), meta)]


def organisation_summary(sweep_id: str, records: dict[str, dict[str, Any]]) -> ResultData:
    """Every target's end, the failed ones with their codes."""
    by_outcome: dict[str, list[str]] = {"complete": [], "incomplete": []}
    failed = []
    for key in sorted(records):
        record = records[key]
        if record.get("outcome") == "failed":
            failed.append({"target": key, "code": record.get("code"), "message": record.get("message")})
        else:
            by_outcome.setdefault(str(record.get("outcome")), []).append(key)
    summary = {
        "kind": "organisation",
        "sweep_id": sweep_id,
        "targets": len(records),
        "complete": by_outcome["complete"],
        "incomplete": by_outcome["incomplete"],
        "failed": failed,
        "servers": sum(int(r.get("servers") or 0) for r in records.values()),
    }
    return new_result_data("summary", Identity(request_id=sweep_id), summary=summary)

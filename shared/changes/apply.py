"""Applying plans: write, verify, retry safely, and roll back what a later failure leaves half done.

Every call is computed from the port as last seen (:func:`shared.changes.deltas.next_step`), so a
write never carries a list read before someone else changed the port: the v3 insert and remove
name only the plan's groups, and a group nobody planned for is never in a call that takes groups
off. A whole-list ``update_port`` (only when kept groups change order) is written only from a list
read just before it (a fresh read, or the previous write's answer), re-planned on that list
(:func:`shared.changes.deltas.rebase`: every group the plan does not name kept) and judged again by
the guard rails (``recheck``: the flow's rail step, passed in as a callback). A port that keeps
changing under us is re-planned at most ``MAX_REPLANS`` times, then the change ends ``failed``,
retryable, ``CONCURRENT_CHANGE``.

With ``WRITE_STRATEGY=fewest_calls`` (the default), a change whose deltas would take several calls
(a replace: an insert and a remove) is one whole-list ``update_port`` instead, when the port's list
was read just before (``fresh``: the flow made no call between its port listing and this write,
so the list is one round trip old, as a fresh read would be). The rails judged exactly that list,
so nothing is judged again. The price: a group someone else attaches in that one round trip is
taken off with the write (the deltas would have kept it); ``WRITE_STRATEGY=deltas`` pays one or two
calls per such change to never do that.

A write that fails transiently (throttled, 5xx, timeout, reset) may or may not have landed, so it
is never simply re-sent: after the back-off the port is read again and the next call is computed
from what it shows. The write's own response is the verification (the port it returns must show
the call's effect), so a successful change costs no extra read. If an interface fails after others
were changed, those are restored by the same steps run backwards (remove what was inserted, insert
back what was removed), so that a group someone else attached meanwhile is not taken off with ours.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.changes.deltas import Operation, PlanConflict, after_step, next_step, rebase, steps
from shared.changes.planning import NicPlan
from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
from shared.cloud.protocols import Network
from shared.cloud.retry import RetryPolicy, backoff_delay
from shared.errors import ErrorCode, ErrorDetail
from shared.model import Port
from shared.results import Identity, Outcome, ResultData, new_result_data

__all__ = ["ApplyReport", "NicResult", "Recheck", "apply_plans", "report_data", "MAX_REPLANS"]

# The guard rails again, on a plan re-made from the port as it is just before a whole-list write:
# their errors (empty: the write may go ahead).
Recheck = Callable[[NicPlan], list[ErrorDetail]]

MAX_REPLANS = 2  # times a port that changed under us is planned again before the change gives up
_MAX_STEPS = 32  # calls on one interface, whatever happens (each step settles a block of groups)


class _Diverged(Exception):
    """The port answered a write with a list that does not show the write's effect."""

    def __init__(self, port: Port):
        super().__init__(port.id)
        self.port = port


class _Concurrent(Exception):
    """The port kept changing under us (or the plan no longer fits it): re-plans used up."""

    def __init__(self, port_id: str, groups: list[str], why: str, rail_errors: Iterable[ErrorDetail] = ()):
        super().__init__(port_id)
        self.port_id = port_id
        self.groups = groups
        self.why = why
        self.rail_errors = list(rail_errors)


@dataclass
class NicResult:
    port_id: str
    ip: str | None
    before: list[str]
    after: list[str]
    status: str  # unchanged | changed | failed | rolled_back | rollback_failed
    port_security_enabled: bool = True
    # the groups this change attached (``after`` may also show one someone else attached meanwhile)
    added: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "port_id": self.port_id,
            "ip": self.ip,
            "before": self.before,
            "after": self.after,
            "status": self.status,
            "port_security_enabled": self.port_security_enabled,
        }


@dataclass
class ApplyReport:
    outcome: Outcome  # succeeded | no_change | failed | rolled_back
    nics: list[NicResult] = field(default_factory=list)
    errors: list[ErrorDetail] = field(default_factory=list)
    retryable: bool = False  # the failure was a fault, lack of time or a concurrent change, not a refusal
    warnings: list[ErrorDetail] = field(default_factory=list)


def _write(gateway: Network, port_id: str, operation: Operation) -> Port:
    if operation.kind == "update":
        return gateway.replace_groups(port_id, list(operation.groups))
    if operation.kind == "insert":
        return gateway.insert_groups(port_id, list(operation.groups), operation.index)
    return gateway.remove_groups(port_id, list(operation.groups))


def _shows_effect(operation: Operation, groups: list[str]) -> bool:
    if operation.kind == "update":
        return groups == list(operation.groups)
    if operation.kind == "insert":
        return all(g in groups for g in operation.groups)
    return not any(g in groups for g in operation.groups)


@dataclass
class _Progress:
    """One interface being brought to its plan: what it shows now, and whether we wrote to it."""

    port: Port
    groups: list[str]
    fresh: bool = False  # ``groups`` was read (or answered by a write) just now
    wrote: bool = False  # a write of ours was sent (it may have landed)
    replans: int = 0


def _converge(
    gateway: Network,
    progress: _Progress,
    *,
    before: list[str],
    after: list[str],
    recheck: Recheck | None,
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
    whole_list: bool = False,
) -> None:
    """Bring the port from its current list to the plan (``before`` -> ``after``), one call at a time
    (``whole_list``: in one whole-list write, when the deltas would take more than one call)."""
    port_id = progress.port.id
    failures = 0
    last: CloudCallError | None = None

    def seen(groups: list[str], expected: list[str] | None) -> None:
        """What the port shows now; a list other than ``expected`` means someone else wrote to it."""
        if expected is not None and groups != expected:
            progress.replans += 1
            if progress.replans > MAX_REPLANS:
                raise _Concurrent(port_id, groups, f"it changed {progress.replans} times while being written")
        progress.groups, progress.fresh = list(groups), True

    for _ in range(_MAX_STEPS):
        try:
            operation = next_step(before, after, progress.groups)
        except PlanConflict as conflict:
            raise _Concurrent(port_id, progress.groups, str(conflict)) from None
        if operation is None:
            return
        if whole_list and progress.fresh and not progress.wrote and operation.kind != "update":
            if len(steps(before, after, progress.groups)) > 1:
                operation = Operation("update", tuple(rebase(before, after, progress.groups)))
        if operation.kind == "update":
            if not progress.fresh:  # a whole list is written only from a list read just now
                seen(list(gateway.show_port(port_id).security_groups), list(progress.groups))
                continue
            if recheck is not None and progress.groups != before:  # the rails judged ``before`` itself
                current = dataclasses.replace(progress.port, security_groups=list(progress.groups))
                errors = recheck(NicPlan(current, list(progress.groups), list(operation.groups), [operation]))
                if errors:
                    raise _Concurrent(port_id, progress.groups, "the guard rails refuse the re-planned list", errors)
        expected = after_step(progress.groups, operation)
        try:
            port = _write(gateway, port_id, operation)
        except CloudCallError as error:
            if not error.transient:
                raise  # refused: it did not land
            progress.wrote = True  # it may have landed
            last = error
        else:
            progress.wrote = True
            if not _shows_effect(operation, list(port.security_groups)):
                raise _Diverged(port)
            seen(list(port.security_groups), expected)
            continue
        failures += 1
        if failures >= policy.max_attempts:
            raise last
        delay = backoff_delay(failures - 1, policy, clock)
        if not deadline.allows(delay):
            raise DeadlineExceeded(f"write to port {port_id}", last)
        clock.sleep(delay)
        # did the failed write land after all? The next step is computed from what the port shows.
        groups = list(gateway.show_port(port_id).security_groups)
        seen(groups, None if groups in (expected, progress.groups) else progress.groups)
    raise _Concurrent(port_id, progress.groups, f"it did not settle in {_MAX_STEPS} calls")


def _error_for(port_id: str, error: Exception) -> list[ErrorDetail]:
    if isinstance(error, CloudCallError):
        return [ErrorDetail(ErrorCode.CLOUD_ERROR, f"interface {port_id}: {error.describe()}", "$")]
    if isinstance(error, DeadlineExceeded):
        return [ErrorDetail(ErrorCode.TIMEOUT, f"interface {port_id}: {error}", "$")]
    if isinstance(error, _Diverged):
        return [
            ErrorDetail(
                ErrorCode.VERIFY_FAILED,
                f"interface {port_id} shows {error.port.security_groups} after the change, not the "
                f"planned list (changed concurrently?)",
                "$",
            )
        ]
    if isinstance(error, _Concurrent):
        detail = ErrorDetail(
            ErrorCode.CONCURRENT_CHANGE,
            f"interface {port_id} was changed by someone else while this change was decided or written "
            f"(it shows {error.groups}): {error.why}; nothing of theirs was removed, retry to decide again",
            "$",
        )
        return [detail, *error.rail_errors]
    return [ErrorDetail(ErrorCode.INTERNAL_ERROR, f"interface {port_id}: {type(error).__name__}", "$")]


_FAILURES = (CloudCallError, DeadlineExceeded, _Diverged, _Concurrent)


def _kept_warning(plan: NicPlan, final: list[str]) -> ErrorDetail | None:
    """Groups someone else attached while we worked: kept (never ours to remove), and said so."""
    theirs = [g for g in final if g not in plan.before and g not in plan.after]
    if not theirs:
        return None
    return ErrorDetail(
        ErrorCode.CONCURRENT_CHANGE,
        f"interface {plan.port.id}: group(s) {theirs} were attached by someone else meanwhile and kept",
        "$",
    )


def apply_plans(
    plans: list[NicPlan],
    gateway: Network,
    *,
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
    rollback_deadline: Callable[[], Deadline],
    recheck: Recheck | None = None,
    fresh: bool = False,
    whole_list: bool = False,
) -> ApplyReport:
    """Write the plans; ``recheck`` (the guard rails) judges every whole-list write on a fresh list.

    ``fresh``: the plans' ``before`` lists were read just now (no call since), so the first
    interface written may take a whole-list write without reading it again; ``whole_list``: a
    change that would take several delta calls takes one whole-list write (``fewest_calls``)."""
    results = [
        NicResult(p.port.id, p.port.ip, list(p.before), list(p.before), "unchanged", p.port.port_security_enabled)
        for p in plans
    ]
    if not any(plan.operations for plan in plans):
        return ApplyReport("no_change", results)
    touched: list[int] = []  # interfaces that were (or may have been) written
    warnings: list[ErrorDetail] = []
    for index, plan in enumerate(plans):
        if not plan.operations:
            continue
        # only the first interface written: the others' lists are older by the writes before theirs
        progress = _Progress(plan.port, list(plan.before), fresh=fresh and not touched)
        try:
            _converge(
                gateway,
                progress,
                before=plan.before,
                after=plan.after,
                recheck=recheck,
                clock=clock,
                deadline=deadline,
                policy=policy,
                whole_list=whole_list,
            )
        except _FAILURES as error:
            if progress.wrote:
                touched.append(index)
            results[index].status = "failed"
            results[index].after = list(progress.groups)
            errors = _error_for(plan.port.id, error)
            # a refusal will be refused again; a fault, lack of time or a concurrent change may pass next time
            retryable = isinstance(error, (DeadlineExceeded, _Concurrent)) or (
                isinstance(error, CloudCallError) and error.transient
            )
            if not touched:
                return ApplyReport("failed", results, errors, retryable, warnings)  # nothing was written
            report = _roll_back(plans, results, touched, errors, gateway, clock, rollback_deadline(), policy)
            report.retryable = retryable
            report.warnings = warnings
            return report
        touched.append(index)
        results[index].after = list(progress.groups)
        results[index].status = "changed" if progress.groups != plan.before else "unchanged"
        results[index].added = [g for g in progress.groups if g in plan.after and g not in plan.before]
        kept = _kept_warning(plan, progress.groups)
        if kept is not None:
            warnings.append(kept)
    changed = any(result.status == "changed" for result in results)
    return ApplyReport("succeeded" if changed else "no_change", results, warnings=warnings)


def _roll_back(
    plans: list[NicPlan],
    results: list[NicResult],
    touched: list[int],
    errors: list[ErrorDetail],
    gateway: Network,
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
) -> ApplyReport:
    """Restore every touched interface to its previous list, newest first, by the plan run backwards
    from what the port shows now (a group someone else attached meanwhile stays)."""
    failed = False
    for index in reversed(touched):
        plan = plans[index]
        try:
            progress = _Progress(plan.port, list(gateway.show_port(plan.port.id).security_groups), fresh=True)
            _converge(
                gateway,
                progress,
                before=plan.after,
                after=plan.before,
                recheck=None,  # back to what the port had: nothing new for the rails to judge
                clock=clock,
                deadline=deadline,
                policy=policy,
            )
            if progress.wrote or results[index].status == "changed":
                results[index].status = "rolled_back"
            results[index].after = list(progress.groups)
        except _FAILURES as error:
            failed = True
            results[index].status = "rollback_failed"
            detail = _error_for(plan.port.id, error)[0]
            errors.append(ErrorDetail(ErrorCode.ROLLBACK_FAILED, f"rollback failed: {detail.message}", "$"))
    if failed:
        return ApplyReport("failed", results, errors)
    changed_any = any(results[i].status == "rolled_back" for i in touched)
    return ApplyReport("rolled_back" if changed_any else "failed", results, errors)


def report_data(
    report: ApplyReport,
    warnings: list[ErrorDetail],
    identity: Identity | None = None,
    *,
    extra_nics: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> ResultData:
    """Result ``data`` for an applied change: every interface's before and after (``extra_nics``:
    those left alone), and whether a retry may succeed (it may when a cloud call failed or time ran
    out, not when it was refused)."""
    return new_result_data(
        report.outcome,
        identity,
        nics=[nic.to_dict() for nic in report.nics] + list(extra_nics),
        errors=list(report.errors),
        warnings=list(warnings) + list(report.warnings),
        retryable=report.retryable if report.outcome in ("failed", "rolled_back") else None,
        **fields,
    )

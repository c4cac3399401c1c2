"""Applying plans: write, verify, retry safely, and roll back what a later failure leaves half done.

A write that fails transiently (throttled, 5xx, timeout, reset) may or may not have landed, so it
is never simply re-sent: after the back-off the port is read again, and the write is repeated
only if the port still shows the old list. The write's own response is the verification (the
port it returns must carry exactly the planned list), so a successful change costs no extra read.
If an interface fails after others were changed, those are restored to their previous lists, by
the inverse of what was done (remove what was inserted, insert back what was removed), so that a
group someone else attached meanwhile is not taken off with ours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.changes.planning import NicPlan, Operation
from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
from shared.cloud.protocols import Network
from shared.cloud.retry import RetryPolicy, backoff_delay
from shared.errors import ErrorCode, ErrorDetail
from shared.model import Port
from shared.results import Identity, Outcome, ResultData, new_result_data

__all__ = ["ApplyReport", "NicResult", "apply_plans", "report_data"]


class _Diverged(Exception):
    """The port changed under us to a list that is neither the old one nor the planned one."""

    def __init__(self, port: Port):
        super().__init__(port.id)
        self.port = port


@dataclass
class NicResult:
    port_id: str
    ip: str | None
    before: list[str]
    after: list[str]
    status: str  # unchanged | changed | failed | rolled_back | rollback_failed
    port_security_enabled: bool = True

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
    retryable: bool = False  # the failure was a fault or lack of time, not a refusal


def _write(gateway: Network, port_id: str, operation: Operation) -> Port:
    if operation.kind == "update":
        return gateway.replace_groups(port_id, list(operation.groups))
    if operation.kind == "insert":
        return gateway.insert_groups(port_id, list(operation.groups), operation.index)
    return gateway.remove_groups(port_id, list(operation.groups))


def _converge(
    gateway: Network,
    port_id: str,
    write: Callable[[], Port],
    *,
    old: list[str],
    new: list[str],
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
) -> Port:
    """Bring the port from ``old`` to ``new`` with ``write``, surviving ambiguous failures."""
    attempt = 0
    while True:
        try:
            port = write()
        except CloudCallError as error:
            if not error.transient:
                raise
            last = error
        else:
            if port.security_groups != new:
                raise _Diverged(port)
            return port
        attempt += 1
        if attempt >= policy.max_attempts:
            raise last
        delay = backoff_delay(attempt - 1, policy, clock)
        if not deadline.allows(delay):
            raise DeadlineExceeded(f"write to port {port_id}", last)
        clock.sleep(delay)
        current = gateway.show_port(port_id)  # did the failed write land after all?
        if current.security_groups == new:
            return current
        if current.security_groups != old:
            raise _Diverged(current)


def _error_for(port_id: str, error: Exception) -> ErrorDetail:
    if isinstance(error, CloudCallError):
        return ErrorDetail(ErrorCode.CLOUD_ERROR, f"interface {port_id}: {error.describe()}", "$")
    if isinstance(error, DeadlineExceeded):
        return ErrorDetail(ErrorCode.TIMEOUT, f"interface {port_id}: {error}", "$")
    if isinstance(error, _Diverged):
        return ErrorDetail(
            ErrorCode.VERIFY_FAILED,
            f"interface {port_id} shows {error.port.security_groups} after the change, not the "
            f"planned list (changed concurrently?)",
            "$",
        )
    return ErrorDetail(ErrorCode.INTERNAL_ERROR, f"interface {port_id}: {type(error).__name__}", "$")


def apply_plans(
    plans: list[NicPlan],
    gateway: Network,
    *,
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
    rollback_deadline: Callable[[], Deadline],
) -> ApplyReport:
    results = [
        NicResult(p.port.id, p.port.ip, list(p.before), list(p.before), "unchanged", p.port.port_security_enabled)
        for p in plans
    ]
    if not any(plan.operations for plan in plans):
        return ApplyReport("no_change", results)
    touched: list[int] = []  # interfaces that were (or may have been) written
    for index, plan in enumerate(plans):
        if not plan.operations:
            continue
        touched.append(index)
        try:
            port = None
            for operation in plan.operations:
                port = _converge(
                    gateway,
                    plan.port.id,
                    functools.partial(_write, gateway, plan.port.id, operation),
                    old=plan.before,
                    new=plan.after,
                    clock=clock,
                    deadline=deadline,
                    policy=policy,
                )
            assert port is not None  # plan.operations is not empty
            results[index].after = list(port.security_groups)
            results[index].status = "changed"
        except (CloudCallError, DeadlineExceeded, _Diverged) as error:
            results[index].status = "failed"
            errors = [_error_for(plan.port.id, error)]
            # a refusal will be refused again; a fault or lack of time may pass on a redelivery
            retryable = isinstance(error, DeadlineExceeded) or (isinstance(error, CloudCallError) and error.transient)
            if len(touched) == 1 and isinstance(error, CloudCallError) and not error.transient:
                return ApplyReport("failed", results, errors, retryable)  # refused outright: nothing changed
            report = _roll_back(plans, results, touched, errors, gateway, clock, rollback_deadline(), policy)
            report.retryable = retryable
            return report
    return ApplyReport("succeeded", results)


def _undo(gateway: Network, plan: NicPlan, current: list[str]) -> tuple[Callable[[], Port], list[str]]:
    """The write that takes back exactly this plan's change from ``current``, and the list it leaves.

    An insert is undone by removing the groups it added and a remove by inserting back what it took
    (both atomic on the server), so a group someone else attached meanwhile stays; only a whole-list
    update (already read-modify-write by nature) is undone by writing the old list back.
    """
    kinds = {operation.kind for operation in plan.operations}
    added = [g for g in plan.after if g not in plan.before and g in current]
    removed = [g for g in plan.before if g not in plan.after and g not in current]
    if kinds == {"insert"} and added and len(current) > len(added):
        return (lambda: gateway.remove_groups(plan.port.id, added)), [g for g in current if g not in added]
    if kinds == {"remove"} and removed:
        index = min(plan.before.index(removed[0]), len(current))
        if plan.before[index : index + len(removed)] == removed:  # they were one block: one insert puts them back
            expected = current[:index] + removed + current[index:]
            return (lambda: gateway.insert_groups(plan.port.id, removed, index)), expected
    return (lambda: gateway.replace_groups(plan.port.id, list(plan.before))), list(plan.before)


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
    """Restore every touched interface to its previous list, newest first."""
    failed = False
    for index in reversed(touched):
        plan = plans[index]
        try:
            current = gateway.show_port(plan.port.id)
            if current.security_groups != plan.before:
                write, expected = _undo(gateway, plan, list(current.security_groups))
                if expected != current.security_groups:
                    current = _converge(
                        gateway,
                        plan.port.id,
                        write,
                        old=current.security_groups,
                        new=expected,
                        clock=clock,
                        deadline=deadline,
                        policy=policy,
                    )
                    results[index].status = "rolled_back"
            results[index].after = list(current.security_groups)
            if results[index].status == "changed":
                results[index].status = "rolled_back"
        except (CloudCallError, DeadlineExceeded, _Diverged) as error:
            failed = True
            results[index].status = "rollback_failed"
            detail = _error_for(plan.port.id, error)
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
        warnings=list(warnings),
        retryable=report.retryable if report.outcome in ("failed", "rolled_back") else None,
        **fields,
    )

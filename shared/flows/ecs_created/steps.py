"""The ECS-creation steps: trace -> servers -> wait until ready -> policy -> plan -> apply -> result.

Each server a creation trace names gets its own result (a batch creation names several), with
the trace id as ``request_id``. A server that matches no rule, is excluded, failed to build or
was deleted is ``skipped`` with the reason; one that is not ready in time is ``failed`` with
``retryable: true``, and the handler then raises so FunctionGraph's async retry delivers the
trace again (the compare-before-write plan makes that second pass cheap and safe).

Creation events are for creations: a server whose ECS ``created`` time is older than
``CREATION_MAX_AGE_S`` (or unknown) is ``skipped`` with ``NOT_A_NEW_SERVER`` before anything is
planned, so a stale or replayed trace cannot re-apply the creation policy to a long-running server.
A direct ``{"server_id": ..., "backfill": true}`` (the CLI's back-fill of servers that predate
sgguard) skips only that check: every guard rail still applies.

Observe-only (``ECS_CREATED_MODE=report``): every step runs, reads and rails included, but instead
of applying, the result is ``planned`` with each interface's list before and after (priority
order), the calls enforce would make and the groups' names; every result says ``mode: report``.
Nothing is written (no port change, no ledger entry), and its replay-guard key is its own, so a
trace seen in report mode is still attached once the mode is switched to enforce.

Only an envelope that may hold a creation loads the policy (:func:`needs_policy`): most events of an
organisation's central channel are not creations, and a broken policy fails loudly only the
invocations that need it (``sgguard deploy`` and ``validate-policy`` check it before).

Over 400 lines: one flow's steps kept together; what only a creation needs is imported in the step
that uses it (cold start), which costs a few lines.
"""

from __future__ import annotations

from pathlib import Path

from shared.errors import ErrorCode, ErrorDetail, format_json_path
from shared.flows.cts import TraceReading, read_creation_trace
from shared.ids import SAFE_ID_PATTERN, is_safe_id, is_uuid
from shared.records import record
from shared.results import Identity, ResultData, failure_data, new_result_data, rejected
from shared.runtime.batch import Prepared, Skip, decode_object
from shared.runtime.run import replay_guard as instance_replay_guard

# Cold start: the central channel of an organisation forwards every ECS event of its members, and
# most are not creations. What only a creation needs (the policy, readiness, planning, guard rails,
# the cloud's doors, targets, the idempotency store) is imported in the step that uses it, so that a
# skipped trace never pays for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from shared.changes.planning import NicPlan
    from shared.cloud.gateway import CallCounter
    from shared.cloud.protocols import Network
    from shared.flows.ecs_created.readiness import Readiness
    from shared.flows.policy import Policy, PolicyRule
    from shared.idempotency import MemoryStore
    from shared.model import SecurityGroup
    from shared.rails.groups import GroupCatalog
    from shared.runtime.envelopes import Envelope, InboundMessage
    from shared.runtime.run import Run
    from shared.targets import Target

__all__ = [
    "CreationJob",
    "prepare",
    "process",
    "load_run_policy",
    "needs_policy",
    "replay_guard",
    "ACCEPTS",
]

ACCEPTS = ("cts", "eventgrid", "direct")

_TRACE_MEMORY_S = 3600.0  # at least: a trace redelivered by the platform's async retries is still known
_DIRECT_FIELDS = {"server_id", "request_id", "backfill"}
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


@record(frozen=True)
class CreationJob:
    """One new server to give its groups: from a creation trace (``origin`` = the trace name) or
    a direct call (``origin`` = "direct")."""

    server_id: str
    request_id: str | None
    job_id: str | None
    origin: str
    backfill: bool = False  # an explicit back-fill: the server need not be new
    target: Target | None = None  # TARGETS: the account, region and project the event came from

    @property
    def identity(self) -> Identity:
        return Identity(request_id=self.request_id, server_id=self.server_id)


def replay_guard() -> MemoryStore:
    """The instance's memory of the creations it handled (the store's ``memory`` fallback), made by
    the first creation: a skipped trace never loads the idempotency package."""
    return instance_replay_guard("ecs_created")  # CTS delivers at least once


def __getattr__(name: str) -> Any:
    if name == "REPLAY_GUARD":  # tests and the soak clear it, as a fresh instance would start
        return replay_guard()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_run_policy(run: Run, code_dir: Path, inline: str | None | bool = True) -> Policy:
    """The policy for this invocation (parsed and validated once per content, then cached);
    ``inline`` None: the ``POLICY_FILE`` alone (a target's override of the file)."""
    from shared.flows.policy import load_policy

    return load_policy(
        run.settings.policy if inline is True else None, run.settings.policy_file, [code_dir, _PACKAGE_ROOT]
    )


def _direct_job(body: dict[str, Any]) -> CreationJob | ErrorDetail:
    unknown = sorted(set(body) - _DIRECT_FIELDS)
    if unknown:  # the key is user input: quoted, escaped, cut
        return ErrorDetail(
            ErrorCode.SCHEMA_VIOLATION, "this property is not allowed here", format_json_path([unknown[0]])
        )
    if not is_uuid(body.get("server_id")):
        return ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "server_id must be a server id (lowercase UUID)", "$.server_id")
    request_id = body.get("request_id")
    if request_id is not None and not is_safe_id(request_id):
        return ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "request_id must match " + SAFE_ID_PATTERN, "$.request_id")
    backfill = body.get("backfill", False)
    if type(backfill) is not bool:  # 1, "true", null: not an explicit yes
        return ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "backfill must be true or false", "$.backfill")
    return CreationJob(body["server_id"], request_id, None, "direct", backfill)


def _read(
    message: InboundMessage, run: Run
) -> Prepared[CreationJob] | tuple[dict[str, Any], TraceReading] | CreationJob:
    """What a message is, before any call: its answer already (unreadable, invalid, not a
    creation), a creation trace (body and reading), or a direct call's job."""
    body = decode_object(message, run, 'a CTS trace or {"server_id": ...}')
    if isinstance(body, ErrorDetail):
        return Prepared.rejected(message, body)
    if "trace_name" in body or "service_type" in body or "trace_id" in body:
        reading = read_creation_trace(body)
        if reading.skip_reason:
            return Prepared.skipped(message, Skip(reading.skip_reason, Identity(request_id=reading.trace_id)))
        return body, reading
    job = _direct_job(body)
    return Prepared.rejected(message, job) if isinstance(job, ErrorDetail) else job


def needs_policy(envelope: Envelope, run: Run) -> bool:
    """Whether the invocation needs the policy: a message may be a creation (a trace
    :func:`read_creation_trace` does not skip, or a valid direct call). Envelopes the batch never
    prepares need none (a dead letter is published, not applied; a refused envelope is refused)."""
    if envelope.kind == "dead_letter" or envelope.error is not None or envelope.kind not in ACCEPTS:
        return False
    return any(_may_create(message, run) for message in envelope.messages)


def _may_create(message: InboundMessage, run: Run) -> bool:
    try:
        return not isinstance(_read(message, run), Prepared)
    except Exception:  # noqa: BLE001 - outside the per-message guard: prepare's guard rejects it, never a job
        return False


def prepare(message: InboundMessage, run: Run) -> Prepared[CreationJob] | list[Prepared[CreationJob]]:
    read = _read(message, run)
    if isinstance(read, Prepared):
        return read
    if isinstance(read, CreationJob):
        return Prepared(message, job=read, key=read.server_id)
    from shared.cloud.gateway import CallCounter
    from shared.flows.targets import route_message

    body, reading = read  # a creation: its target (TARGETS) is found only now, after the creation check
    counter = CallCounter()  # a member's first event: its assume and project listing
    target, answer = route_message(message, body, run, Identity(request_id=reading.trace_id), counter)
    if answer is not None:
        return Prepared.answered(message, answer.replace(api_calls=counter.to_dict()))
    member = target is not None and not target.home
    return [
        Prepared(
            message,
            job=CreationJob(server_id, reading.trace_id, reading.job_id, reading.trace_name or "trace", target=target),
            key=f"{target.key}/{server_id}" if member and target else server_id,
        )
        for server_id in reading.server_ids
    ]


def process(job: CreationJob, run: Run) -> ResultData:
    data = _process(job, run)
    if job.target is not None:  # TARGETS: every result names its account, region and project
        data = data.replace(target=job.target.to_dict())
    return data


def _process(job: CreationJob, run: Run) -> ResultData:
    if not job.request_id:
        return _counted(job, run)
    from shared.idempotency import in_progress_s, process_once, store_for

    store = store_for(run.settings, function=run.function, project_id=run.settings.project_id, memory=replay_guard())
    # one creation, however many traces describe it (createServer, createSingleServer, CTS and
    # EventGrid, redeliveries): a server id is created once; a direct call is its own request
    key = f"{job.request_id}:{job.server_id}" if job.origin == "direct" else f"creation:{job.server_id}"
    if job.target is not None and not job.target.home:  # the same server id in another project is another server
        key = f"{key}@{job.target.key}"
    if _mode_of(job, run) == "report":  # a report-mode run must not mark the creation done for enforce
        key = "report:" + key
    return process_once(
        store,
        key,
        job.server_id,
        now=run.clock.monotonic(),
        ttl_s=max(_TRACE_MEMORY_S, run.settings.replay_window_s),
        in_progress_s=in_progress_s(run.context, run.settings.function_timeout_s),
        identity=job.identity,
        steps=lambda: _counted(job, run),
    )


def _counted(job: CreationJob, run: Run) -> ResultData:
    from shared.cloud.agencies import AssumeFailed
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.cloud.gateway import CallCounter
    from shared.flows.policy import PolicyError
    from shared.flows.targets import event_assume_failure, run_for, target_policy
    from shared.runtime.run import cloud_failure

    counter = CallCounter()
    try:
        target_run = run if job.target is None else run_for(run, job.target, counter)  # a member's: its credentials
        policy = target_policy(target_run, run, job.target, _policy_loader) if job.target else run.resources["policy"]
        data = _attach(job, target_run, policy, counter)
    except AssumeFailed as error:  # this target only: the batch's other events carry on
        data = event_assume_failure(error, job.identity)
    except PolicyError as error:  # the target's policy_file: this event's failure, not the invocation's
        data = failure_data(ErrorDetail(ErrorCode.POLICY_INVALID, str(error), "$"), identity=job.identity)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, job.identity)
    if _mode_of(job, run) == "report":
        data = data.replace(mode="report")
    return data.replace(api_calls=counter.to_dict())


def _policy_loader(run: Run, inline: str | None) -> Policy:
    return load_run_policy(run, run.resources.get("code_dir") or _PACKAGE_ROOT, inline)


def _mode_of(job: CreationJob, run: Run) -> str:
    """``ECS_CREATED_MODE``, or the target's ``ecs_created_mode`` override."""
    targets = run.settings.targets
    if job.target is None or job.target.home or targets is None:
        return run.settings.ecs_created_mode
    return str(targets.overrides(job.target).get("ecs_created_mode", run.settings.ecs_created_mode))


def _observing(run: Run) -> bool:
    return run.settings.ecs_created_mode == "report"


def _skipped(identity: Identity, reason: str, *, warnings: Iterable[ErrorDetail] = ()) -> ResultData:
    return new_result_data("skipped", identity, reason=reason, warnings=list(warnings))


def _attach(job: CreationJob, run: Run, policy: Policy, counter: CallCounter) -> ResultData:
    """wait until ready -> policy -> resolve -> plan -> check -> apply."""
    from shared.changes.apply import report_data
    from shared.flows.policy import evaluate
    from shared.rails.check import check_rails, rechecker
    from shared.rails.facts import facts_of
    from shared.rails.groups import catalog_for

    identity = job.identity
    network = run.network(counter)
    ready = _wait_until_ready(job, run, network, counter)
    if ready.state in ("gone", "error"):
        return _skipped(identity, ready.reason)
    if ready.state == "old":
        return _skipped(identity, ready.reason, warnings=[ErrorDetail(ErrorCode.NOT_A_NEW_SERVER, ready.reason, "$")])
    if ready.state == "timeout":
        return failure_data(ErrorDetail(ErrorCode.NOT_READY, ready.reason, "$"), retryable=True, identity=identity)
    assert ready.server is not None  # "ready": the server was read
    evaluation = evaluate(policy, ready.server, ready.interfaces, run.clock.now().date())
    warnings = list(evaluation.warnings)
    if evaluation.excluded:
        return _skipped(identity, evaluation.excluded)
    if not evaluation.rules:
        return _skipped(identity, "no policy rule matches this server", warnings=warnings)
    rule_names = [rule.name for rule in evaluation.rules]
    catalog = catalog_for(
        run.factory().credentials.project_id, run.settings.vpc_endpoint, run.settings.group_cache_ttl_s
    )
    now = run.clock.monotonic()
    resolved, origin, errors = _resolve(evaluation.rules, catalog, network, now)
    if errors:
        return rejected(errors, identity=identity, rules_matched=rule_names)
    default_group = next((g.id for g in catalog.groups(network, now).values() if g.name == "default"), None)
    plans = _plan(ready, evaluation.rules, resolved, default_group, warnings)
    verdict = check_rails(
        plans,
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=now,
        path_of=lambda g: origin.get(g, "$.rules"),
        approved=all(rule.approved_by for rule in evaluation.rules),
        facts=facts_of(run),
    )
    if verdict.config_error:
        return failure_data(verdict.config_error, identity=identity, rules_matched=rule_names)
    warnings.extend(verdict.warnings)
    if verdict.errors:
        return rejected(verdict.errors, warnings=warnings, identity=identity, rules_matched=rule_names)
    if _observing(run):
        return _planned(plans, catalog.groups(network, now), warnings, identity, rule_names)
    recheck = rechecker(
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=run.clock.monotonic,
        path_of=lambda g: origin.get(g, "$.rules"),
        approved=all(rule.approved_by for rule in evaluation.rules),
        facts=facts_of(run),
        known=verdict.facts,
    )
    return report_data(run.apply(plans, network, recheck=recheck), warnings, identity, rules_matched=rule_names)


def _planned(
    plans: list[NicPlan],
    groups: dict[str, SecurityGroup],
    warnings: list[ErrorDetail],
    identity: Identity,
    rule_names: list[str],
) -> ResultData:
    """Report mode's answer: what enforce would attach, in priority order, and the calls it would make."""
    changing = [plan for plan in plans if plan.operations]

    def named(group_ids: list[str]) -> list[dict[str, Any]]:
        return [
            {"priority": rank, "id": g, "name": groups[g].name if g in groups else None}
            for rank, g in enumerate(group_ids, start=1)
        ]

    return new_result_data(
        "planned" if changing else "no_change",
        identity,
        warnings=warnings,
        rules_matched=rule_names,
        nics=[
            {
                "port_id": p.port.id,
                "ip": p.port.ip,
                "before": p.before,
                "after": p.after,
                "status": "planned" if p.operations else "unchanged",
                "port_security_enabled": p.port.port_security_enabled,
            }
            for p in plans
        ],
        plan=[
            {"port_id": p.port.id, "calls": [op.to_dict() for op in p.operations], "groups": named(p.after)}
            for p in changing
        ],
    )


def _wait_until_ready(job: CreationJob, run: Run, network: Network, counter: CallCounter) -> Readiness:
    """Poll until the server and all its interfaces exist (or it failed, vanished, or time ran out)."""
    from shared.flows.ecs_created.readiness import wait_until_ready

    settings = run.settings
    return wait_until_ready(
        job.server_id,
        servers=run.servers(counter),
        network=network,
        clock=run.clock,
        deadline=run.deadline,
        max_wait_s=settings.readiness_max_wait_s,
        poll_s=settings.readiness_poll_s,
        poll_max_s=max(settings.readiness_poll_s, settings.readiness_poll_max_s),
        job_id=job.job_id,
        # a trace may outrun the API: a 404 gets a grace before it means "deleted"
        not_found_grace_s=0.0 if job.origin == "direct" else min(30.0, settings.readiness_max_wait_s / 2),
        max_age_s=None if job.backfill else settings.creation_max_age_s,
    )


def _resolve(
    rules: list[PolicyRule], catalog: GroupCatalog, network: Network, now: float
) -> tuple[list[list[str]], dict[str, str], list[ErrorDetail]]:
    """Every matched rule's groups as ids; ``origin`` names the policy field that asked for each."""
    resolved: list[list[str]] = []
    origin: dict[str, str] = {}
    errors: list[ErrorDetail] = []
    for rule in rules:
        ids, rule_errors = catalog.resolve(
            list(rule.security_groups), network, now, path=f"{rule.path}.security_groups"
        )
        errors.extend(rule_errors)
        resolved.append(ids)
        for position, group_id in enumerate(ids):
            origin.setdefault(group_id, f"{rule.path}.security_groups[{position}]")
    return resolved, origin, errors


def _plan(
    ready: Readiness,
    rules: list[PolicyRule],
    resolved: list[list[str]],
    default_group: str | None,
    warnings: list[ErrorDetail],
) -> list[NicPlan]:
    """Fold the matched rules over each interface's list; every interface gets a plan (maybe empty)."""
    from shared.changes.planning import NicPlan, derive_operations
    from shared.flows.policy import interface_in_scope, next_list

    plans: list[NicPlan] = []
    assert ready.server is not None  # only a "ready" server is planned for
    for port in ready.interfaces:
        before = list(port.security_groups)
        after = list(before)
        touched = False
        for rule, ids in zip(rules, resolved):
            if rule.nics == "primary" and port.id != ready.server.primary_port_id:
                continue
            if not interface_in_scope(rule, port):  # a subnet condition also narrows the interfaces
                continue
            touched = True
            after = next_list(after, ids, rule.mode, rule.position, default_group)
        if touched and not port.port_security_enabled:
            warnings.append(
                ErrorDetail(
                    ErrorCode.PORT_SECURITY_DISABLED,
                    f"interface {port.id} has port security disabled: left unchanged",
                    "$",
                )
            )
        if not touched or not port.port_security_enabled:
            after = list(before)  # reported, unchanged: the result shows every interface
        plans.append(NicPlan(port, before, after, derive_operations(before, after)))
    return plans

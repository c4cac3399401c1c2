"""The sg_drift steps: a change made outside sgguard -> the servers it touches -> judge -> report or repair.

Event-driven: a CTS trace of a port change re-checks that port's server; one of a rule change,
every server with a port carrying that group (one result per server). Traces caused by sgguard's
own agency are skipped (:mod:`shared.flows.cts`). A direct ``{"server_id": ...}`` re-checks one
server. The scheduled sweep is :mod:`shared.flows.sg_drift.sweep`; both judge with
:func:`shared.flows.sg_drift.findings.judge_server` and end in :func:`conclude`.

``DRIFT_MODE=report`` (default) only emits; ``enforce`` writes the policy's lists through the same
rail step (:func:`shared.rails.check.check_rails`) and :meth:`Run.apply <shared.runtime.run.Run.apply>`
as the other flows. One result per server: ``compliant``, ``drift_detected`` (findings; in enforce
mode also what it may not repair), ``repaired``, ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.changes.apply import report_data
from shared.changes.planning import NicPlan
from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
from shared.cloud.gateway import CallCounter
from shared.cloud.protocols import Network
from shared.errors import ErrorCode, ErrorDetail
from shared.flows.cts import read_drift_trace
from shared.flows.event_targets import route_event
from shared.flows.policy import Policy, PolicyError, PolicyRule, evaluate, load_policy
from shared.flows.sg_drift.findings import Judgement, judge_server, keep_recently_added, resolve_refs
from shared.flows.targets import event_assume_failure, route_message, run_for, target_policy
from shared.model import SAFE_ID_RE, Port, SecurityGroup, Server, is_safe_id, is_uuid
from shared.rails.check import check_rails, rechecker
from shared.rails.facts import facts_of
from shared.rails.groups import catalog_for, read_address_groups
from shared.rails.guardrails import GroupFacts, GuardRails
from shared.results import Identity, ResultData, failure_data, new_result_data
from shared.runtime.batch import Prepared, Skip, decode_object
from shared.runtime.envelopes import InboundMessage
from shared.runtime.run import Run, cloud_failure
from shared.targets import Target

__all__ = ["ACCEPTS", "DriftJob", "Facts", "load_run_policy", "prepare", "process", "conclude"]

ACCEPTS = ("cts", "eventgrid", "direct")
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class DriftJob:
    """One server to re-check: named directly, or by a trace (``origin`` = the trace name)."""

    server_id: str
    request_id: str | None
    origin: str | None = None
    lookup_reads: int = 0  # calls made at prepare time to find the server (counted on its first result)
    target: Target | None = None  # TARGETS: the account, region and project the trace came from

    @property
    def identity(self) -> Identity:
        return Identity(request_id=self.request_id, server_id=self.server_id)


def load_run_policy(run: Run, code_dir: Path, inline: str | None | bool = True) -> Policy:
    """The invocation's policy; ``inline`` None: the ``POLICY_FILE`` alone (a target's override)."""
    return load_policy(
        run.settings.policy if inline is True else None, run.settings.policy_file, [code_dir, _PACKAGE_ROOT]
    )


def _policy_loader(run: Run, inline: str | None) -> Policy:
    return load_run_policy(run, run.resources.get("code_dir") or _PACKAGE_ROOT, inline)


def _own_access_key(run: Run) -> str | None:
    method = getattr(run.context, "getSecurityAccessKey", None)
    return (method() or None) if callable(method) else None


# ---- prepare: which servers a message is about --------------------------------------------------
def prepare(message: InboundMessage, run: Run) -> Prepared[DriftJob] | list[Prepared[DriftJob]]:
    body = decode_object(message, run, "a CTS trace or {server_id}")
    if isinstance(body, ErrorDetail):
        return Prepared.rejected(message, body)
    if "trace_name" not in body and "trace_id" not in body:
        return _direct(message, body)
    agency, own_key = _own_identity(body, message, run)
    reading = read_drift_trace(body, agency=agency, own_access_key=own_key)
    trace = Identity(request_id=reading.trace_id)
    if reading.own_change:  # to the log only, unless a sink asks for own changes (shared/sinks/core.py)
        note = ErrorDetail(ErrorCode.OWN_CHANGE, "a trace of sgguard's own change: not drift", "$")
        quiet = new_result_data("skipped", trace, reason=reading.skip_reason, warnings=[note])
        return Prepared(message, answer=quiet)
    if reading.skip_reason:
        return Prepared.skipped(message, Skip(reading.skip_reason, trace))
    from shared.cloud.agencies import AssumeFailed

    counter = CallCounter()  # a member's first event: its assume and project listing; the lookups
    target, answer = route_message(message, body, run, trace, counter)
    if answer is not None:
        return Prepared.answered(message, answer.replace(api_calls=counter.to_dict()))
    member = target is not None and not target.home
    if reading.server_id:
        job = DriftJob(reading.server_id, reading.trace_id, reading.trace_name, counter.reads, target)
        return Prepared(message, job=job, key=f"{target.key}/{job.server_id}" if member and target else job.server_id)
    try:
        lookup_run = run_for(run, target, counter) if target is not None else run
        if reading.kind == "port" and reading.port_id:
            ports = [lookup_run.network(counter).show_port(reading.port_id)]
        else:
            ports = lookup_run.inventory(counter).list_ports(security_group=reading.group_id)
    except AssumeFailed as error:
        return Prepared.answered(message, event_assume_failure(error, trace).replace(api_calls=counter.to_dict()))
    except (CloudCallError, DeadlineExceeded) as failure:
        return Prepared.answered(message, cloud_failure(failure, trace))
    servers = list(dict.fromkeys(p.device_id for p in ports if p.device_owner.startswith("compute:") and p.device_id))
    if not servers:
        why = "its port belongs to no server" if reading.kind == "port" else "no server carries that group"
        return Prepared.skipped(message, Skip(why, trace))
    return [
        Prepared(
            message,
            job=DriftJob(server_id, reading.trace_id, reading.trace_name, counter.reads if i == 0 else 0, target),
            key=f"{target.key}/{server_id}" if member and target else server_id,
        )
        for i, server_id in enumerate(servers)
    ]


def _own_identity(body: dict[str, object], message: InboundMessage, run: Run) -> tuple[str | None, str | None]:
    """Who is sgguard itself in this trace's account: for a member's trace (TARGETS) the member
    agency and this instance's session of it (sgguard's changes there are made by them), else
    ``SGGUARD_AGENCY`` and the invocation's own access key."""
    targets = run.settings.targets
    route = route_event(body, targets, run.settings.project_id, via_cts="specversion" not in message.meta)
    member = targets.member(route.account) if targets and route.account and not route.home else None
    if member is None:
        return run.settings.agency_name, _own_access_key(run)
    from shared.cloud.agencies import SESSIONS

    return member.agency, SESSIONS.access_key(member.domain_id, member.agency)


def _direct(message: InboundMessage, body: dict[str, object]) -> Prepared[DriftJob]:
    if set(body) - {"server_id", "request_id"} or not is_uuid(body.get("server_id")):
        return Prepared.rejected(
            message, ErrorDetail(ErrorCode.SCHEMA_VIOLATION, 'expected {"server_id": <uuid>}', "$")
        )
    request_id = body.get("request_id")
    if request_id is not None and not is_safe_id(request_id):
        detail = ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "request_id must match " + SAFE_ID_RE.pattern, "$.request_id")
        return Prepared.rejected(message, detail)
    server_id = str(body["server_id"])
    return Prepared(
        message, job=DriftJob(server_id, request_id if isinstance(request_id, str) else None), key=server_id
    )


# ---- process: judge one server, then report or repair -------------------------------------------
def process(job: DriftJob, run: Run) -> ResultData:
    from shared.cloud.agencies import AssumeFailed

    counter = CallCounter(reads=job.lookup_reads)
    target_run = run
    try:
        if job.target is not None:  # a member's: its credentials, endpoints, overrides and policy
            target_run = run_for(run, job.target, counter)
            target_run.resources["policy"] = target_policy(target_run, run, job.target, _policy_loader)
        data = _check_server(job.server_id, job.identity, target_run, counter)
    except AssumeFailed as error:  # this target only: the batch's other events carry on
        data = event_assume_failure(error, job.identity)
    except PolicyError as error:  # the target's policy_file: this event's failure, not the invocation's
        data = failure_data(ErrorDetail(ErrorCode.POLICY_INVALID, str(error), "$"), identity=job.identity)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, job.identity)
    if job.target is not None:  # TARGETS: every result names its account, region and project
        data = data.replace(target=job.target.to_dict())
    return data.replace(api_calls=counter.to_dict(), mode=target_run.settings.drift_mode)


@dataclass
class Facts:
    """What a judgement needs about one server, read fresh (or from a sweep's listings)."""

    server: Server
    ports: list[Port]
    groups: dict[str, SecurityGroup]  # at least every group on the ports and every group the rules name
    address_groups: Mapping[str, list[str] | None]


def _check_server(server_id: str, identity: Identity, run: Run, counter: CallCounter) -> ResultData:
    network = run.network(counter)
    server = run.servers(counter).show_server(server_id)
    if server is None:
        return new_result_data("skipped", identity, reason="the server no longer exists")
    ports = [p for p in network.list_server_ports(server_id) if p.is_interface_of(server_id)]
    policy: Policy = run.resources["policy"]
    evaluation = evaluate(policy, server, ports, run.clock.now().date())
    refs = [ref for rule in evaluation.rules for ref in rule.security_groups]
    catalog: dict[str, SecurityGroup] = {}
    if any("name" in ref for ref in refs) and not evaluation.excluded:
        catalog = {g.id: g for g in network.list_security_groups()}
    names = {ref.get("name") for ref in refs}
    wanted = {ref["id"] for ref in refs if "id" in ref} | {g.id for g in catalog.values() if g.name in names}
    on_ports = {g for p in ports for g in p.security_groups}
    groups = {} if evaluation.excluded else network.read_groups(on_ports | wanted)
    facts = Facts(server, ports, {**catalog, **groups}, read_address_groups(groups.values(), network))
    return conclude(facts, identity, run, policy, network)


def conclude(facts: Facts, identity: Identity, run: Run, policy: Policy, network: Network | None) -> ResultData:
    """The result for one server from its facts: compliant, drift_detected, or (enforce) the repair.
    ``network`` None: judge only (``sgguard report``), whatever ``DRIFT_MODE`` says."""
    settings = run.settings
    server, ports = facts.server, facts.ports
    evaluation = evaluate(policy, server, ports, run.clock.now().date())
    warnings = list(evaluation.warnings)
    nics = [
        {
            "port_id": p.id,
            "ip": p.ip,
            "before": list(p.security_groups),
            "after": list(p.security_groups),
            "status": "unchanged",
        }
        for p in ports
    ]
    if evaluation.excluded:
        return new_result_data(
            "compliant", identity, reason=evaluation.excluded, nics=nics, findings=[], warnings=warnings
        )
    rules: list[PolicyRule] = list(evaluation.rules)
    resolved: list[list[str]] = []
    for rule in rules:
        ids, problems = resolve_refs(rule.security_groups, facts.groups)
        if problems:
            detail = ErrorDetail(
                ErrorCode.SECURITY_GROUP_NOT_FOUND, "; ".join(problems), f"{rule.path}.security_groups"
            )
            return failure_data(detail, identity=identity)
        resolved.append(ids)
    rails = GuardRails.from_settings(settings)
    default_group = next((g.id for g in facts.groups.values() if g.name == "default"), None)
    judgement = judge_server(
        server,
        ports,
        rules=rules,
        resolved=resolved,
        groups=facts.groups,
        address_groups=facts.address_groups,
        rails=rails,
        remove_risky=settings.drift_remove_risky,
        default_group=default_group,
    )
    warnings.extend(ErrorDetail(ErrorCode.PORT_SECURITY_DISABLED, text, "$") for text in judgement.warnings)
    rules_matched = [rule.name for rule in rules]
    if not judgement.findings:
        return new_result_data(
            "compliant", identity, nics=nics, findings=[], warnings=warnings, rules_matched=rules_matched
        )
    repairable = any(f.repairable for f in judgement.findings)
    if settings.drift_mode == "enforce" and network is not None and repairable:
        return _repair(judgement, facts, identity, run, network, warnings, nics, rules_matched)
    findings = [f.to_dict() for f in judgement.findings]
    return new_result_data(
        "drift_detected", identity, nics=nics, findings=findings, warnings=warnings, rules_matched=rules_matched
    )


def _repair(
    judgement: Judgement,
    facts: Facts,
    identity: Identity,
    run: Run,
    network: Network,
    warnings: list[ErrorDetail],
    nics: list[dict[str, Any]],
    rules_matched: list[str],
) -> ResultData:
    """Write the repair through the rail step and :meth:`Run.apply`, as every other change; never
    removing a group a recent sgguard change added (the ledger: a ticket is not undone)."""
    plans, kept = _without_recent_removals(judgement.plans, run)
    warnings = warnings + [
        ErrorDetail(
            ErrorCode.RECENTLY_ADDED,
            f"kept {group} on {port}: a recent sgguard change added it (LEDGER_TTL_S); not removed",
            "$",
        )
        for port, group in kept
    ]
    kept_ports = {port for port, _ in kept}
    catalog = catalog_for(
        run.factory().credentials.project_id, run.settings.vpc_endpoint, run.settings.group_cache_ttl_s
    )
    verdict = check_rails(
        plans,
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=run.clock.monotonic(),
        path_of=lambda g: "$.policy",
        approved=judgement.approved,
        facts=facts_of(run),
        known=GroupFacts(dict(facts.groups), address_groups=dict(facts.address_groups)),
    )
    findings = [f.to_dict() for f in judgement.findings]
    if verdict.config_error:
        return failure_data(
            verdict.config_error,
            identity=identity,
            nics=nics,
            findings=findings,
            warnings=warnings,
            rules_matched=rules_matched,
        )
    if verdict.errors:
        return new_result_data(
            "drift_detected",
            identity,
            nics=nics,
            findings=findings,
            errors=verdict.errors,
            warnings=warnings + verdict.warnings,
            reason="the repair was refused by the guard rails",
            rules_matched=rules_matched,
        )
    recheck = rechecker(
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=run.clock.monotonic,
        path_of=lambda g: "$.policy",
        approved=judgement.approved,
        facts=facts_of(run),
        known=verdict.facts,
    )
    report = run.apply(plans, network, recheck=recheck)
    if report.outcome not in ("succeeded", "no_change"):
        return report_data(
            report, warnings + verdict.warnings, identity, findings=findings, rules_matched=rules_matched
        )
    repaired_ports = {nic.port_id for nic in report.nics if nic.status == "changed"} - kept_ports
    for finding in judgement.findings:
        finding.repaired = finding.repairable and finding.port_id in repaired_ports
    complete = all(f.repaired for f in judgement.findings)
    return new_result_data(
        "repaired" if complete else "drift_detected",
        identity,
        nics=[nic.to_dict() for nic in report.nics],
        findings=[f.to_dict() for f in judgement.findings],
        warnings=warnings + verdict.warnings,
        reason=None
        if complete
        else "repaired what the policy requires; the rest is reported only (DRIFT_REMOVE_RISKY=false)",
        rules_matched=rules_matched,
    )


def _without_recent_removals(plans: list[NicPlan], run: Run) -> tuple[list[NicPlan], list[tuple[str, str]]]:
    """The plans with what the ledger lists kept; an unreadable ledger keeps every removal out."""
    if not run.settings.ledger_ttl_s or not any(set(p.before) - set(p.after) for p in plans):
        return plans, []
    from shared.idempotency.ledger import LedgerUnavailable, ledger_for

    ports = [p.port.id for p in plans]
    try:
        recent = ledger_for(run.settings).recent(
            run.settings.project_id or "-", ports, now_s=run.clock.now().timestamp()
        )
    except LedgerUnavailable:
        recent = {p.port.id: set(p.before) for p in plans}  # fail closed: remove nothing
    return keep_recently_added(plans, recent)

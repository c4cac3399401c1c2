"""The sg_drift steps: a change made outside sgguard -> the servers it touches -> judge -> report or repair.

Event-driven: a CTS trace of a port change re-checks that port's server; one of a rule change,
every server with a port carrying that group (one result per server). Traces caused by sgguard's
own agency are skipped (:mod:`shared.drift_trace`). A direct ``{"server_id": ...}`` re-checks one
server. The scheduled sweep is :mod:`shared.drift_sweep`; both judge with
:func:`shared.drift_findings.judge_server` and end in :func:`conclude`.

``DRIFT_MODE=report`` (default) only emits; ``enforce`` writes the policy's lists through the same
plan / guard rails / apply / rollback as the other functions. One result per server: ``compliant``,
``drift_detected`` (findings; in enforce mode also what it may not repair), ``repaired``, ``failed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .apply import apply_plans, report_data
from .cloud.exceptions import CloudCallError, DeadlineExceeded
from .cloud.gateway import CallCounter, NetworkGateway
from .cloud.inventory import InventoryGateway
from .config import ConfigError, read_setting
from .drift_findings import Judgement, judge_server, resolve_refs
from .drift_trace import read_drift_trace
from .errors import ErrorCode, ErrorDetail
from .guardrails import GroupFacts, GuardRails, ambiguous_references, check_plans
from .model import SAFE_ID_RE, Port, SecurityGroup, Server, is_safe_id, is_uuid
from .pipeline import Prepared, Run, cloud_failure, decode_object, failure_data
from .policy import Policy, PolicyRule, evaluate, load_policy
from .results import ResultData, new_result_data, rejected

__all__ = ["ACCEPTS", "DriftSettings", "load_drift_settings", "load_run_policy", "prepare", "process", "conclude"]

ACCEPTS = ("cts", "eventgrid", "direct")
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DriftSettings:
    mode: str = "report"  # DRIFT_MODE: report | enforce
    remove_risky: bool = False  # DRIFT_REMOVE_RISKY: enforce also removes a group that exposes a risky port
    agency: str | None = "sgguard-functions"  # SGGUARD_AGENCY (template: AGENCY_NAME): its traces are not drift
    sweep_page: int = 1000  # DRIFT_SWEEP_PAGE: servers listed per ECS page


def load_drift_settings(run: Run) -> DriftSettings:
    def get(name: str) -> str | None:
        return read_setting(run.context, name)

    mode = (get("DRIFT_MODE") or "report").strip().lower()
    if mode not in ("report", "enforce"):
        raise ConfigError("DRIFT_MODE", "must be report or enforce")
    remove = (get("DRIFT_REMOVE_RISKY") or "false").strip().lower()
    if remove not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError("DRIFT_REMOVE_RISKY", "must be true or false")
    try:
        page = int(get("DRIFT_SWEEP_PAGE") or 1000)
    except ValueError:
        raise ConfigError("DRIFT_SWEEP_PAGE", "must be an integer") from None
    if not 1 <= page <= 1000:
        raise ConfigError("DRIFT_SWEEP_PAGE", "must be within 1..1000")
    return DriftSettings(mode, remove in ("true", "1", "yes"), get("SGGUARD_AGENCY") or "sgguard-functions", page)


def load_run_policy(run: Run, code_dir: Path) -> Policy:
    return load_policy(run.settings.policy, run.settings.policy_file, [code_dir, _PACKAGE_ROOT])


def _own_access_key(run: Run) -> str | None:
    method = getattr(run.context, "getSecurityAccessKey", None)
    return (method() or None) if callable(method) else None


# ---- prepare: which servers a message is about --------------------------------------------------
def prepare(message: Any, run: Run) -> Prepared | list[Prepared]:
    body = decode_object(message, run, "a CTS trace or {server_id}")
    if isinstance(body, Prepared):
        return body
    if "trace_name" not in body and "trace_id" not in body:
        if set(body) - {"server_id", "request_id"} or not is_uuid(body.get("server_id")):
            return Prepared(
                message, error=ErrorDetail(ErrorCode.SCHEMA_VIOLATION, 'expected {"server_id": <uuid>}', "$")
            )
        request_id = body.get("request_id")
        if request_id is not None and not is_safe_id(request_id):
            return Prepared(
                message,
                error=ErrorDetail(
                    ErrorCode.SCHEMA_VIOLATION, "request_id must match " + SAFE_ID_RE.pattern, "$.request_id"
                ),
            )
        return Prepared(
            message, key=body["server_id"], payload={"server_id": body["server_id"], "request_id": request_id}
        )
    drift: DriftSettings = run.resources["drift"]
    reading = read_drift_trace(body, agency=drift.agency, own_access_key=_own_access_key(run))
    if reading.skip_reason:
        return Prepared(message, payload={"skip": reading.skip_reason, "request_id": reading.trace_id})
    identity = {"request_id": reading.trace_id, "origin": reading.trace_name}
    if reading.server_id:
        return Prepared(message, key=reading.server_id, payload={**identity, "server_id": reading.server_id})
    counter = CallCounter()
    try:
        if reading.kind == "port" and reading.port_id:
            ports = [run.network(counter).show_port(reading.port_id)]
        else:
            inventory = InventoryGateway(
                run.factory(), clock=run.clock, deadline=run.deadline, policy=run.retry_policy, counter=counter
            )
            ports = inventory.list_ports(security_group=reading.group_id)
    except (CloudCallError, DeadlineExceeded) as failure:
        return Prepared(message, payload={**identity, "failed": cloud_failure(failure, request_id=reading.trace_id)})
    servers = list(dict.fromkeys(p.device_id for p in ports if p.device_owner.startswith("compute:") and p.device_id))
    if not servers:
        why = "its port belongs to no server" if reading.kind == "port" else "no server carries that group"
        return Prepared(message, payload={"skip": why, "request_id": reading.trace_id})
    return [
        Prepared(
            message, key=server_id, payload={**identity, "server_id": server_id, "lookup": counter if i == 0 else None}
        )
        for i, server_id in enumerate(servers)
    ]


# ---- process: judge one server, then report or repair -------------------------------------------
def process(prepared: Prepared, run: Run) -> ResultData:
    if prepared.error:
        return rejected([prepared.error])
    job = prepared.payload
    if "skip" in job:
        data = new_result_data("skipped", request_id=job["request_id"])
        data.reason = job["skip"]
        return data
    if "failed" in job:
        failed: ResultData = job["failed"]
        return failed
    counter = CallCounter()
    lookup = job.get("lookup")
    if lookup is not None:
        counter.reads += lookup.reads
    identity = {"request_id": job.get("request_id"), "server_id": job["server_id"]}
    try:
        data = _check_server(job["server_id"], identity, run, counter)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, **identity)
    data.api_calls = counter.to_dict()
    data.mode = run.resources["drift"].mode
    return data


@dataclass
class Facts:
    """What a judgement needs about one server, read fresh (or from a sweep's listings)."""

    server: Server
    ports: list[Port]
    groups: dict[str, SecurityGroup]  # at least every group on the ports and every group the rules name
    address_groups: Mapping[str, list[str] | None]


def _check_server(server_id: str, identity: dict[str, Any], run: Run, counter: CallCounter) -> ResultData:
    network = run.network(counter)
    server = run.servers(counter).show_server(server_id)
    if server is None:
        data = new_result_data("skipped", **identity)
        data.reason = "the server no longer exists"
        return data
    ports = [p for p in network.list_server_ports(server_id) if p.is_interface_of(server_id)]
    policy: Policy = run.resources["policy"]
    evaluation = evaluate(policy, server, ports, run.clock.now().date())
    refs = [ref for rule in evaluation.rules for ref in rule.security_groups]
    catalog: dict[str, SecurityGroup] = {}
    if any("name" in ref for ref in refs) and not evaluation.excluded:
        catalog = {g.id: g for g in network.list_security_groups()}
    wanted = {ref["id"] for ref in refs if "id" in ref} | {
        g.id for g in catalog.values() if g.name in {r.get("name") for r in refs}
    }
    on_ports = {g for p in ports for g in p.security_groups}
    groups = {} if evaluation.excluded else network.read_groups(on_ports | wanted)
    address_groups: dict[str, list[str] | None] = {}
    for group in groups.values():
        for rule in group.rules or []:
            ref = rule.remote_address_group_id
            if ref and ref not in address_groups and rule.direction == "ingress" and rule.action == "allow":
                address_groups[ref] = network.show_address_group(ref)
    facts = Facts(server, ports, {**catalog, **groups}, address_groups)
    return conclude(facts, identity, run, policy, network)


def conclude(
    facts: Facts, identity: dict[str, Any], run: Run, policy: Policy, network: NetworkGateway | None
) -> ResultData:
    """The result for one server from its facts: compliant, drift_detected, or (enforce) the repair."""
    drift: DriftSettings = run.resources["drift"]
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
        data = new_result_data("compliant", **identity)
        data.reason, data.nics, data.findings, data.warnings = evaluation.excluded, nics, [], warnings
        return data
    rules: list[PolicyRule] = list(evaluation.rules)
    resolved: list[list[str]] = []
    for rule in rules:
        ids, problems = resolve_refs(rule.security_groups, facts.groups)
        if problems:
            detail = ErrorDetail(
                ErrorCode.SECURITY_GROUP_NOT_FOUND, "; ".join(problems), f"{rule.path}.security_groups"
            )
            return failure_data(detail, **identity)
        resolved.append(ids)
    rails = GuardRails.from_settings(run.settings)
    default_group = next((g.id for g in facts.groups.values() if g.name == "default"), None)
    judgement = judge_server(
        server,
        ports,
        rules=rules,
        resolved=resolved,
        groups=facts.groups,
        address_groups=facts.address_groups,
        rails=rails,
        remove_risky=drift.remove_risky,
        default_group=default_group,
    )
    warnings.extend(ErrorDetail(ErrorCode.PORT_SECURITY_DISABLED, text, "$") for text in judgement.warnings)
    rule_names = [rule.name for rule in rules]
    if not judgement.findings:
        data = new_result_data("compliant", **identity)
    elif drift.mode == "enforce" and network is not None and any(f.repairable for f in judgement.findings):
        data = _repair(judgement, identity, run, network, rails, facts, warnings)
        nics = data.nics or nics
    else:
        data = new_result_data("drift_detected", **identity)
    data.nics = nics
    data.findings = [f.to_dict() for f in judgement.findings]
    data.warnings = warnings + list(data.warnings)
    data.rules_matched = rule_names
    return data


def _repair(
    judgement: Judgement,
    identity: dict[str, Any],
    run: Run,
    network: NetworkGateway,
    rails: GuardRails,
    facts: Facts,
    warnings: list[ErrorDetail],
) -> ResultData:
    """Write the repair through the guard rails, apply and rollback of every other change."""
    plans = judgement.plans
    problems = ambiguous_references(rails, facts.groups.values())
    if problems:
        return failure_data(ErrorDetail(ErrorCode.CONFIG_INVALID, "; ".join(problems), "$"), **identity)
    group_facts = GroupFacts(facts.groups, Counter(g.name for g in facts.groups.values()), dict(facts.address_groups))
    errors, rail_warnings = check_plans(
        plans, rails=rails, facts=group_facts, path_of=lambda g: "$.policy", approved=judgement.approved
    )
    if errors:
        data = new_result_data("drift_detected", **identity)
        data.errors, data.warnings = errors, rail_warnings
        data.reason = "the repair was refused by the guard rails"
        return data
    report = apply_plans(
        plans,
        network,
        clock=run.clock,
        deadline=run.deadline,
        policy=run.retry_policy,
        rollback_deadline=run.rollback_deadline,
    )
    data = report_data(report, rail_warnings, **identity)
    if report.outcome in ("succeeded", "no_change"):
        repaired_ports = {nic.port_id for nic in report.nics if nic.status == "changed"}
        for finding in judgement.findings:
            finding.repaired = finding.repairable and finding.port_id in repaired_ports
        complete = all(f.repaired for f in judgement.findings)
        repaired = new_result_data("repaired" if complete else "drift_detected", **identity)
        repaired.nics, repaired.warnings = data.nics, data.warnings
        if not complete:
            repaired.reason = "repaired what the policy requires; the rest is reported only (DRIFT_REMOVE_RISKY=false)"
        return repaired
    return data

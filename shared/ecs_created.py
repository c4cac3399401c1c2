"""The ECS-creation steps: trace -> servers -> wait until ready -> policy -> plan -> apply -> result.

Each server a creation trace names gets its own result (a batch creation names several), with
the trace id as ``request_id``. A server that matches no rule, is excluded, failed to build or
was deleted is ``skipped`` with the reason; one that is not ready in time is ``failed`` with
``retryable: true``, and the handler then raises so FunctionGraph's async retry delivers the
trace again (the compare-before-write plan makes that second pass cheap and safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .apply import report_data
from .cloud.exceptions import CloudCallError, DeadlineExceeded
from .cloud.gateway import CallCounter
from .cts import read_creation_trace
from .errors import ErrorCode, ErrorDetail, format_json_path
from .groups import catalog_for
from .idempotency import MemoryStore, in_progress_s, process_once, store_for
from .model import SAFE_ID_RE, is_safe_id, is_uuid
from .pipeline import Prepared, Run, cloud_failure, decode_object, failure_data
from .planning import NicPlan, derive_operations
from .policy import Policy, evaluate, interface_in_scope, load_policy, next_list
from .rails_step import check_rails
from .readiness import wait_until_ready
from .results import ResultData, new_result_data, rejected

if TYPE_CHECKING:
    from .cloud.protocols import Network
    from .envelopes import InboundMessage
    from .groups import GroupCatalog
    from .policy import PolicyRule
    from .readiness import Readiness

__all__ = ["prepare", "process", "load_run_policy", "REPLAY_GUARD", "ACCEPTS"]

ACCEPTS = ("cts", "eventgrid", "direct")

REPLAY_GUARD = MemoryStore()  # CTS delivers at least once
_TRACE_MEMORY_S = 3600.0  # at least: a trace redelivered by the platform's async retries is still known
_DIRECT_FIELDS = {"server_id", "request_id"}
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def load_run_policy(run: Run, code_dir: Path) -> Policy:
    """The policy for this invocation (parsed and validated once per content, then cached)."""
    return load_policy(run.settings.policy, run.settings.policy_file, [code_dir, _PACKAGE_ROOT])


def _direct_request(body: dict[str, Any]) -> tuple[dict[str, Any] | None, ErrorDetail | None]:
    unknown = sorted(set(body) - _DIRECT_FIELDS)
    if unknown:
        return None, ErrorDetail(
            ErrorCode.SCHEMA_VIOLATION, "this property is not allowed here", format_json_path([unknown[0]])
        )  # the key is user input: quoted, escaped, cut
    if not is_uuid(body.get("server_id")):
        return None, ErrorDetail(
            ErrorCode.SCHEMA_VIOLATION, "server_id must be a server id (lowercase UUID)", "$.server_id"
        )
    request_id = body.get("request_id")
    if request_id is not None and not is_safe_id(request_id):
        return None, ErrorDetail(
            ErrorCode.SCHEMA_VIOLATION, "request_id must match " + SAFE_ID_RE.pattern, "$.request_id"
        )
    return {"server_id": body["server_id"], "request_id": request_id, "job_id": None, "origin": "direct"}, None


def prepare(message: InboundMessage, run: Run) -> Prepared | list[Prepared]:
    body = decode_object(message, run, 'a CTS trace or {"server_id": ...}')
    if isinstance(body, Prepared):
        return body
    if "trace_name" in body or "service_type" in body or "trace_id" in body:
        reading = read_creation_trace(body)
        if reading.skip_reason:
            return Prepared(message, payload={"skip": reading.skip_reason, "request_id": reading.trace_id})
        return [
            Prepared(
                message,
                key=server_id,
                payload={
                    "server_id": server_id,
                    "request_id": reading.trace_id,
                    "job_id": reading.job_id,
                    "origin": reading.trace_name,
                },
            )
            for server_id in reading.server_ids
        ]
    job, error = _direct_request(body)
    if error or job is None:
        return Prepared(message, error=error)
    return Prepared(message, payload=job, key=job["server_id"])


def process(prepared: Prepared, run: Run) -> ResultData:
    if prepared.error:
        return rejected([prepared.error])
    job = prepared.payload
    if "skip" in job:
        data = new_result_data("skipped", request_id=job["request_id"])
        data.reason = job["skip"]
        return data
    identity = {"request_id": job["request_id"], "server_id": job["server_id"]}
    if not job["request_id"]:
        return _counted(job, identity, run)
    store = store_for(run.settings, function=run.function, project_id=run.settings.project_id, memory=REPLAY_GUARD)
    return process_once(
        store,
        f"{job['request_id']}:{job['server_id']}",
        job["server_id"],
        now=run.clock.monotonic(),
        ttl_s=max(_TRACE_MEMORY_S, run.settings.replay_window_s),
        in_progress_s=in_progress_s(run.context),
        identity=identity,
        steps=lambda: _counted(job, identity, run),
    )


def _counted(job: dict[str, Any], identity: dict[str, Any], run: Run) -> ResultData:
    counter = CallCounter()
    try:
        data = _attach(job, identity, run, run.resources["policy"], counter)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, **identity)
    data.api_calls = counter.to_dict()
    return data


def _skipped(identity: dict[str, Any], reason: str, *, warnings: Iterable[ErrorDetail] = ()) -> ResultData:
    data = new_result_data("skipped", **identity)
    data.reason = reason
    data.warnings = list(warnings)
    return data


def _attach(
    job: dict[str, Any], identity: dict[str, Any], run: Run, policy: Policy, counter: CallCounter
) -> ResultData:
    """wait until ready -> policy -> resolve -> plan -> check -> apply."""
    network = run.network(counter)
    ready = _wait_until_ready(job, run, network, counter)
    if ready.state in ("gone", "error"):
        return _skipped(identity, ready.reason)
    if ready.state == "timeout":
        return failure_data(ErrorDetail(ErrorCode.NOT_READY, ready.reason, "$"), retryable=True, **identity)
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
        return _with_rules(rejected(errors, **identity), rule_names)
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
    )
    if verdict.config_error:
        return _with_rules(failure_data(verdict.config_error, **identity), rule_names)
    warnings.extend(verdict.warnings)
    if verdict.errors:
        return _with_rules(rejected(verdict.errors, warnings=warnings, **identity), rule_names)
    return _with_rules(report_data(run.apply(plans, network), warnings, **identity), rule_names)


def _with_rules(data: ResultData, rule_names: list[str]) -> ResultData:
    data.rules_matched = rule_names
    return data


def _wait_until_ready(job: dict[str, Any], run: Run, network: Network, counter: CallCounter) -> Readiness:
    """Poll until the server and all its interfaces exist (or it failed, vanished, or time ran out)."""
    settings = run.settings
    return wait_until_ready(
        job["server_id"],
        servers=run.servers(counter),
        network=network,
        clock=run.clock,
        deadline=run.deadline,
        max_wait_s=settings.readiness_max_wait_s,
        poll_s=settings.readiness_poll_s,
        poll_max_s=max(settings.readiness_poll_s, settings.readiness_poll_max_s),
        job_id=job["job_id"],
        # a trace may outrun the API: a 404 gets a grace before it means "deleted"
        not_found_grace_s=0.0 if job["origin"] == "direct" else min(30.0, settings.readiness_max_wait_s / 2),
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

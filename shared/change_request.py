"""The change-request steps: request -> validate -> authorize -> plan -> apply -> result.

A ticketing system asks for one change of the ordered security-group list of some interfaces of
one server. Nothing reaches the cloud before the request is valid and authentic; nothing is
written before every guard rail passed for every interface; a dry run stops after planning.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .apply import report_data
from .canonical_json import canonical_json
from .cloud.exceptions import CloudCallError, DeadlineExceeded
from .cloud.gateway import CallCounter
from .continuation import signature_time
from .envelopes import CHANGE_REQUEST_TRIGGERS
from .errors import ErrorCode, ErrorDetail
from .groups import catalog_for
from .idempotency import MemoryStore, StoreError, in_progress_s, lock_for, process_once, store_failure, store_for
from .identity import is_second_person
from .model import SecurityGroup, is_safe_id, is_uuid
from .pipeline import Prepared, Run, cloud_failure, failure_data
from .planning import NicPlan, plan_nic, select_interfaces
from .rails_step import check_rails
from .results import ResultData, new_result_data, rejected
from .signing import verify_request_signature
from .validation import decode_json_message, validate_change_request

if TYPE_CHECKING:
    from .cloud.protocols import Network
    from .envelopes import InboundMessage
    from .guardrails import GroupFacts
    from .idempotency import IdempotencyStore
    from .model import Port

__all__ = ["prepare", "process", "REPLAY_GUARD", "ACCEPTS"]

ACCEPTS = CHANGE_REQUEST_TRIGGERS

# Per instance: catches quick redeliveries of the same request id (see README, "Duplicates").
REPLAY_GUARD = MemoryStore()


def prepare(message: InboundMessage, run: Run) -> Prepared:
    """Decode the message; its key is the target server, so one server's requests keep queue order."""
    if message.decode_error:
        return Prepared(message, error=message.decode_error)
    payload, error = decode_json_message(message.body, max_bytes=run.settings.max_message_bytes)
    if error:
        return Prepared(message, error=error)
    target = payload.get("target") if isinstance(payload, dict) else None
    server_id = target.get("server_id") if isinstance(target, dict) else None
    return Prepared(message, payload=payload, key=server_id if isinstance(server_id, str) else None)


def _identity(request: object) -> dict[str, Any]:
    if not isinstance(request, dict):
        return {"request_id": None, "ticket": None, "server_id": None, "dry_run": False}
    ticket = request.get("ticket") if isinstance(request.get("ticket"), dict) else None
    target = request["target"] if isinstance(request.get("target"), dict) else {}
    request_id = request.get("request_id")
    server_id = target.get("server_id")
    return {
        "request_id": request_id if isinstance(request_id, str) else None,
        "ticket": ticket,
        "server_id": server_id if isinstance(server_id, str) else None,
        "dry_run": request.get("dry_run") is True,
    }


def _fingerprint(request: dict[str, Any]) -> str:
    """The request's content, signature aside: a re-signed copy of the same request is the same request."""
    return hashlib.sha256(canonical_json({k: v for k, v in request.items() if k != "signature"})).hexdigest()


def process(prepared: Prepared, run: Run) -> ResultData:
    # request
    if prepared.error:
        return rejected([prepared.error])
    request = prepared.payload
    identity = _identity(request)
    # validate
    errors = validate_change_request(request)
    if errors:
        # Echo only identity fields of a safe form, so the ticket can still be matched to its result.
        safe = {
            "dry_run": identity["dry_run"],
            "request_id": identity["request_id"] if is_safe_id(identity["request_id"]) else None,
            "server_id": identity["server_id"] if is_uuid(identity["server_id"]) else None,
        }
        return rejected(errors, **safe)
    # authorize
    errors = verify_request_signature(
        request,
        keys=run.settings.signing_keys,
        now=signature_time(run),  # a continuation's messages: when the first invocation received them
        max_skew_s=run.settings.signature_max_skew_s,
        required=run.settings.require_signed,
    )
    if errors:
        return rejected(errors, **identity)
    if identity["dry_run"]:
        return _counted(request, identity, run)  # changes nothing: never a duplicate
    store = store_for(run.settings, function=run.function, project_id=run.settings.project_id, memory=REPLAY_GUARD)
    return process_once(
        store,
        request["request_id"],
        _fingerprint(request),
        now=run.clock.monotonic(),
        ttl_s=run.settings.replay_window_s,
        identity=identity,
        in_progress_s=in_progress_s(run.context),
        steps=lambda: _counted(request, identity, run, store),
    )


# Read-modify-write actions (update_port with the whole list, no ETag): one instance at a time per server.
_LOCKED_ACTIONS = frozenset({"replace", "reorder"})


def _counted(
    request: dict[str, Any], identity: dict[str, Any], run: Run, store: IdempotencyStore | None = None
) -> ResultData:
    counter = CallCounter()
    try:
        if store is not None and request["change"]["action"] in _LOCKED_ACTIONS:
            with lock_for(
                store, run.settings.project_id, identity["server_id"], deadline=run.deadline, clock=run.clock
            ):
                data = _plan_and_apply(request, identity, run, counter)
        else:
            data = _plan_and_apply(request, identity, run, counter)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, **identity)
    except StoreError as error:  # the server's lock: not taken in time, or the store is down
        data = store_failure(error, **identity)
    data.api_calls = counter.to_dict()
    return data


def _plan_and_apply(request: dict[str, Any], identity: dict[str, Any], run: Run, counter: CallCounter) -> ResultData:
    """resolve -> select -> plan -> check -> apply."""
    network = run.network(counter)
    change = request["change"]
    catalog = catalog_for(
        run.factory().credentials.project_id, run.settings.vpc_endpoint, run.settings.group_cache_ttl_s
    )
    now = run.clock.monotonic()
    group_ids, errors = catalog.resolve(change["security_groups"], network, now)
    if errors:
        return rejected(errors, **identity)
    selected, left_alone, errors, warnings = _select(request["target"], network, run, counter)
    if errors:
        return rejected(errors, warnings=warnings, **identity)
    plans, errors = _plan(selected, change, group_ids, warnings)
    if errors:
        return rejected(errors, warnings=warnings, **identity)
    positions = {gid: index for index, gid in enumerate(group_ids)}

    def path_of(group_id: str) -> str:
        index = positions.get(group_id)
        return f"$.change.security_groups[{index}]" if index is not None else "$.change.security_groups"

    ticket = request["ticket"]
    verdict = check_rails(
        plans,
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=now,
        path_of=path_of,
        approved=is_second_person(ticket.get("requested_by"), ticket.get("approved_by")),
    )
    if verdict.config_error:
        return failure_data(verdict.config_error, **identity)
    warnings.extend(verdict.warnings)
    if verdict.errors:
        return rejected(verdict.errors, warnings=warnings, **identity)
    if identity["dry_run"]:
        return _planned(plans, warnings, identity, network, verdict.facts)
    data = report_data(run.apply(plans, network), warnings, **identity)
    data.nics += left_alone
    return data


def _select(
    target: dict[str, Any], network: Network, run: Run, counter: CallCounter
) -> tuple[list[Port], list[dict[str, Any]], list[ErrorDetail], list[ErrorDetail]]:
    """The interfaces to change (with their current lists: one listing), and those left alone."""
    server_id, selection = target["server_id"], target.get("nics", "primary")
    ports = network.list_server_ports(server_id)
    primary = None
    if selection in (None, "primary") and len([p for p in ports if p.is_interface_of(server_id)]) > 1:
        server = run.servers(counter).show_server(server_id)  # only the server knows which NIC is primary
        primary = server.primary_port_id if server else None
    selected, errors = select_interfaces(ports, selection, server_id=server_id, primary_port_id=primary)
    chosen, left_alone, warnings = [], [], []
    for port in selected:
        if port.port_security_enabled:
            chosen.append(port)
            continue
        detail = ErrorDetail(
            ErrorCode.PORT_SECURITY_DISABLED,
            f"interface {port.id} has port security disabled: security groups have no effect on it",
            "$.target.nics",
        )
        if selection != "all":
            errors.append(detail)
            continue
        warnings.append(detail)  # "all": shown in the result, left alone
        left_alone.append(
            {
                "port_id": port.id,
                "ip": port.ip,
                "before": list(port.security_groups),
                "after": list(port.security_groups),
                "status": "skipped",
                "port_security_enabled": False,
            }
        )
    if not errors and not chosen:
        errors.append(
            ErrorDetail(
                ErrorCode.PORT_SECURITY_DISABLED, "no selected interface has port security enabled", "$.target.nics"
            )
        )
    return chosen, left_alone, errors, warnings


def _plan(
    ports: list[Port], change: dict[str, Any], group_ids: list[str], warnings: list[ErrorDetail]
) -> tuple[list[NicPlan], list[ErrorDetail]]:
    plans: list[NicPlan] = []
    errors: list[ErrorDetail] = []
    for port in ports:
        plan, plan_errors, plan_warnings = plan_nic(port, change["action"], group_ids, change.get("position"))
        errors.extend(plan_errors)
        warnings.extend(plan_warnings)
        if plan:
            plans.append(plan)
    return plans, errors


def _planned(
    plans: list[NicPlan],
    warnings: list[ErrorDetail],
    identity: dict[str, Any],
    network: Network,
    facts: GroupFacts | None,
) -> ResultData:
    """The dry run's answer: the plan and the rules that would apply, in priority order."""
    data = new_result_data("planned", **identity)
    data.warnings = list(warnings)
    after = {g for plan in plans for g in plan.after}
    groups = dict(facts.groups) if facts else {}
    if after - set(groups):  # interfaces that stay as they are were not read for the rails
        groups.update(network.read_groups(after - set(groups)))
    data.nics = [
        {"port_id": p.port.id, "ip": p.port.ip, "before": p.before, "after": p.after, "status": "planned"}
        for p in plans
    ]
    data.plan = [{"port_id": p.port.id, "calls": [op.to_dict() for op in p.operations]} for p in plans]
    data.effective_rules = [effective_rules(p.port.id, p.after, groups) for p in plans]
    return data


def effective_rules(port_id: str, group_ids: list[str], groups: dict[str, SecurityGroup]) -> dict[str, Any]:
    """Like the console's rules view: groups in priority order, each with its rules by priority."""
    ordered = []
    for rank, group_id in enumerate(group_ids, start=1):
        group = groups.get(group_id) or SecurityGroup(group_id, "", rules=[])
        rules = sorted(group.rules or [], key=lambda r: (r.direction, r.priority, r.action != "deny"))
        ordered.append(
            {"priority": rank, "id": group.id, "name": group.name, "rules": [rule.to_dict() for rule in rules]}
        )
    return {"port_id": port_id, "groups": ordered}

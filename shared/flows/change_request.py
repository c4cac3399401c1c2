"""The change-request steps: request -> validate -> authorize -> plan -> apply -> result.

A ticketing system asks for one change of the ordered security-group list of some interfaces of
one server. Nothing reaches the cloud before the request is valid and authentic; nothing is
written before every guard rail passed for every interface; a dry run stops after planning.

Over 400 lines: one flow's steps kept together; what only a valid request needs is imported in
the step that uses it (cold start), which costs a few lines.
"""

from __future__ import annotations

from shared.errors import ErrorCode, ErrorDetail
from shared.ids import is_safe_id, is_uuid
from shared.records import record
from shared.results import Identity, ResultData, failure_data, new_result_data, rejected
from shared.runtime.batch import Prepared
from shared.runtime.envelopes import CHANGE_REQUEST_TRIGGERS
from shared.runtime.run import Run, cloud_failure, replay_guard
from shared.validation import decode_json_message, validate_change_request

# Cold start: what only a valid request needs (the signature check and its hashlib, the idempotency
# store, continuations, planning, guard rails, the cloud's doors, targets) is imported where it is
# used, so that a request refused at validation never pays for it (~20 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from shared.changes.planning import NicPlan
    from shared.cloud.gateway import CallCounter
    from shared.cloud.protocols import Network
    from shared.idempotency import IdempotencyStore, MemoryStore
    from shared.model import Port, SecurityGroup
    from shared.rails.guardrails import GroupFacts
    from shared.runtime.envelopes import InboundMessage
    from shared.targets import Target

__all__ = ["ChangeJob", "prepare", "expect", "process", "hold", "ACCEPTS"]  # and REPLAY_GUARD (__getattr__)

ACCEPTS = CHANGE_REQUEST_TRIGGERS

# A batch reads the rules of every group of a project with at most this many (two paged listings),
# so that the groups its interfaces carry now are read with the ones its requests name.
BATCH_READS_CATALOG_UP_TO = 500


def __getattr__(name: str) -> MemoryStore:
    # Per instance: catches quick redeliveries of the same request id (see README, "Duplicates").
    if name == "REPLAY_GUARD":
        return replay_guard("change_request")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@record(frozen=True)
class ChangeJob:
    """A valid, authentic change request and the identity its results echo."""

    request: Any
    identity: Identity
    target: Target | None = None  # None: the home project (no TARGETS)
    fingerprint: str | None = None  # the request's content, signature aside (None: worked out when needed)

    def content(self) -> str:
        """:func:`_fingerprint` of the request, made once (prepare keeps the one the signature check made)."""
        return self.fingerprint or _fingerprint(self.request)


def prepare(message: InboundMessage, run: Run) -> Prepared[ChangeJob]:
    """request -> validate -> authorize, for every message before any is processed (a refused one
    is answered here); the key is the target server, so one server's requests keep queue order."""
    if message.decode_error:
        return Prepared.rejected(message, message.decode_error)
    payload, error = decode_json_message(message.body, max_bytes=run.settings.max_message_bytes)
    if error:
        return Prepared.rejected(message, error)
    identity = Identity.of_request(payload)
    too_old = _expired(run)  # a continuation past its window: refused before anything is read
    if too_old:
        return Prepared.rejected(message, too_old, identity.safe(is_request_id=is_safe_id, is_server_id=is_uuid))
    refused, fingerprint = _authentic(payload, identity, run)
    if refused:
        return Prepared.answered(message, refused)
    from shared.flows.targets import resolve

    target, refused = resolve(payload, run, identity)  # before any call; without TARGETS: the home project only
    if target is None:
        assert refused is not None
        return Prepared.answered(message, refused)
    if run.settings.targets is None:
        return Prepared(message, job=ChangeJob(payload, identity, None, fingerprint), key=identity.server_id)
    # one server's requests keep queue order per target: the same server id in two projects is two servers
    job = ChangeJob(payload, identity, target, fingerprint)
    return Prepared(message, job=job, key=f"{target.key}/{identity.server_id}")


def expect(run: Run, items: list[Prepared[ChangeJob]]) -> None:
    """Before the first message starts: the groups the batch's requests name, so that the first
    rail-facts read reads them all (:mod:`shared.rails.facts`), and with them every group of a
    project of at most ``BATCH_READS_CATALOG_UP_TO`` (the groups the interfaces carry now). Worked
    out at that read, by the catalog as the first message left it (no call of its own); an unknown
    name is skipped here and is that message's error."""
    refs = [
        ref
        for item in items
        if item.job is not None and (item.job.target is None or item.job.target.home)  # the home project's facts
        for ref in item.job.request["change"]["security_groups"]
    ]
    if len(items) < 2 or not refs or not run.settings.facts_max_age_ms:
        return
    from shared.rails.facts import facts_of
    from shared.rails.groups import catalog_for

    def named() -> set[str]:
        catalog = catalog_for(
            run.factory().credentials.project_id, run.settings.vpc_endpoint, run.settings.group_cache_ttl_s
        )
        ids_by_name: dict[str, list[str]] = {}
        for group in catalog.known().values():
            ids_by_name.setdefault(group.name, []).append(group.id)
        ids = {ref["id"] for ref in refs if "id" in ref}
        ids |= {ids_by_name[r["name"]][0] for r in refs if len(ids_by_name.get(r.get("name"), [])) == 1}
        if len(catalog.known()) <= BATCH_READS_CATALOG_UP_TO:  # the groups now on the ports too, unknown yet
            ids |= set(catalog.known())
        return ids

    facts_of(run).expect(named)


def _expired(run: Run) -> ErrorDetail | None:
    if run.resources.get("continuation") is None:  # no continuation: nothing to import
        return None
    from shared.runtime.continuation import expired

    return expired(run)


def _fingerprint(request: dict[str, Any]) -> str:
    """The request's content, signature aside: a re-signed copy of the same request is the same request."""
    from shared.signing import unsigned_canonical

    return _digest(unsigned_canonical(request))


def _digest(canonical: bytes) -> str:
    import hashlib

    return hashlib.sha256(canonical).hexdigest()


def _authentic(request: Any, identity: Identity, run: Run) -> tuple[ResultData | None, str | None]:
    """validate -> authorize: the rejection, or None when the request may go on; and the request's
    fingerprint, from the same canonical bytes the signature covers (made once per message)."""
    errors = validate_change_request(request)
    if errors:
        # Echo only identity fields of a safe form, so the ticket can still be matched to its result.
        return rejected(errors, identity=identity.safe(is_request_id=is_safe_id, is_server_id=is_uuid)), None
    from shared.canonical_json import CanonicalJsonError
    from shared.runtime.continuation import signature_time
    from shared.signing import unsigned_canonical, verify_request_signature

    try:
        canonical: bytes | None = unsigned_canonical(request)
    except CanonicalJsonError:
        canonical = None  # the signature check says why (or, unsigned, the fingerprint will)
    errors = verify_request_signature(
        request,
        keys=run.settings.signing_keys,
        now=signature_time(run),  # a continuation's messages: when the first invocation received them
        max_skew_s=run.settings.signature_max_skew_s,
        required=run.settings.require_signed,
        canonical=canonical,
    )
    if errors:
        return rejected(errors, identity=identity), None
    return None, (_digest(canonical) if canonical is not None else None)


def _store(run: Run) -> IdempotencyStore:
    from shared.idempotency import store_for

    memory = replay_guard("change_request")
    return store_for(run.settings, function=run.function, project_id=run.settings.project_id, memory=memory)


def _key(request: dict[str, Any], target: Target | None) -> str:
    """The idempotency key: the request id, with a member target's account/region/project."""
    if target is None or target.home:
        return str(request["request_id"])
    return f"{request['request_id']}@{target.key}"


def process(job: ChangeJob, run: Run) -> ResultData:
    request = job.request  # valid and authentic (prepare)
    data = _process_authentic(job, run)
    if job.target is not None:  # TARGETS: every result names its account, region and project
        data = data.replace(target=job.target.to_dict())
    retiring = _retiring_key(request, run)
    # a reminder that travels with the result back to the sender, whatever the outcome
    return data.replace(warnings=[retiring, *data.warnings]) if retiring else data


def _retiring_key(request: dict[str, Any], run: Run) -> ErrorDetail | None:
    """A warning when the request was signed with a key id ``RETIRING_SIGNING_KEYS`` lists."""
    signature = request.get("signature")
    key_id = signature.get("key_id") if isinstance(signature, dict) else None
    if key_id not in run.settings.retiring_signing_keys:
        return None
    return ErrorDetail(
        ErrorCode.SIGNING_KEY_RETIRING,
        f"signed with key id {key_id!r}, which is being retired: sign with another key id",
        "$.signature.key_id",
    )


def _process_authentic(job: ChangeJob, run: Run) -> ResultData:
    request, identity, target = job.request, job.identity, job.target
    if identity.dry_run:
        return _counted(request, identity, run, target=target)  # changes nothing: never a duplicate
    from shared.idempotency import in_progress_s, process_once
    from shared.runtime.continuation import holder_token

    store = _store(run)
    return process_once(
        store,
        _key(request, target),
        job.content(),
        now=run.clock.monotonic(),
        ttl_s=run.settings.replay_window_s,
        identity=identity,
        in_progress_s=in_progress_s(run.context, run.settings.function_timeout_s),
        holder=holder_token(run),  # a continuation takes over the hold its first invocation took
        steps=lambda: _counted(request, identity, run, store, target),
    )


def hold(run: Run, item: Prepared[ChangeJob], token: str, hold_s: float) -> Callable[[], None] | None:
    """A valid, authentic, real request handed on to a continuation stays claimed until the
    continuation takes it over (:mod:`shared.runtime.continuation`); how to give the hold up.
    Nothing is held for a message refused at prepare time (a forged request must not block the
    genuine one) or a dry run."""
    job = item.job
    if job is None or job.identity.dry_run:
        return None
    from shared.runtime.continuation import holder_token

    store, key, fingerprint = _store(run), _key(job.request, job.target), job.content()
    claim = store.hold(
        key,
        fingerprint,
        now=run.clock.monotonic(),
        ttl_s=run.settings.replay_window_s,
        hold_s=hold_s,
        token=token,
        holder=holder_token(run),  # handed on again: the hold moves to the next continuation
    )
    return (lambda: store.unhold(key, fingerprint, token)) if claim.status == "new" else None


# Actions decided on the whole list (a reorder writes it: update_port, no ETag): one instance at a time per server.
_LOCKED_ACTIONS = frozenset({"replace", "reorder"})


def _counted(
    request: dict[str, Any],
    identity: Identity,
    run: Run,
    store: IdempotencyStore | None = None,
    target: Target | None = None,
) -> ResultData:
    from shared.cloud.agencies import AssumeFailed
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.cloud.gateway import CallCounter
    from shared.flows.targets import assume_failure, run_for, scope_of
    from shared.idempotency import StoreError, lock_for, store_failure

    counter = CallCounter()
    try:
        target_run = run if target is None else run_for(run, target, counter)  # a member's: its credentials
        if store is not None and request["change"]["action"] in _LOCKED_ACTIONS:
            assert identity.server_id is not None  # validated
            scope = scope_of(target, run)
            with lock_for(store, scope, identity.server_id, deadline=run.deadline, clock=run.clock):
                data = _plan_and_apply(request, identity, target_run, counter)
        else:
            data = _plan_and_apply(request, identity, target_run, counter)
    except AssumeFailed as error:  # this target only: the batch's other targets carry on
        data = assume_failure(error, identity)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, identity)
    except StoreError as error:  # the server's lock: not taken in time, or the store is down
        data = store_failure(error, identity)
    return data.replace(api_calls=counter.to_dict())


def _plan_and_apply(request: dict[str, Any], identity: Identity, run: Run, counter: CallCounter) -> ResultData:
    """resolve -> select -> plan -> check -> apply."""
    from shared.changes.apply import report_data
    from shared.rails.check import check_rails, rechecker
    from shared.rails.facts import facts_of
    from shared.rails.groups import catalog_for
    from shared.rails.identity import is_second_person

    network = run.network(counter)
    change = request["change"]
    catalog = catalog_for(
        run.factory().credentials.project_id, run.settings.vpc_endpoint, run.settings.group_cache_ttl_s
    )
    now = run.clock.monotonic()
    group_ids, errors = catalog.resolve(change["security_groups"], network, now)
    if errors:
        return rejected(errors, identity=identity)
    calls_before = counter.total
    selected, left_alone, errors, warnings = _select(request["target"], network, run, counter)
    listed_last = counter.total == calls_before + 1  # the port listing was this message's last call
    if errors:
        return rejected(errors, warnings=warnings, identity=identity)
    plans, errors = _plan(selected, change, group_ids, warnings)
    if errors:
        return rejected(errors, warnings=warnings, identity=identity)
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
        facts=facts_of(run),
    )
    if verdict.config_error:
        return failure_data(verdict.config_error, identity=identity)
    warnings.extend(verdict.warnings)
    if verdict.errors:
        return rejected(verdict.errors, warnings=warnings, identity=identity)
    if identity.dry_run:
        return _planned(plans, warnings, identity, network, verdict.facts, run)
    recheck = rechecker(
        settings=run.settings,
        network=network,
        catalog=catalog,
        now=run.clock.monotonic,
        path_of=path_of,
        approved=is_second_person(ticket.get("requested_by"), ticket.get("approved_by")),
        facts=facts_of(run),
        known=verdict.facts,
    )
    # fresh: no call of this message since it listed the ports (a wait for another message's read of
    # the rail facts may have passed: one round trip at most), so the list is as good as re-read
    report = run.apply(plans, network, recheck=recheck, fresh=listed_last and counter.total == calls_before + 1)
    return report_data(report, warnings, identity, extra_nics=left_alone)


def _select(
    target: dict[str, Any], network: Network, run: Run, counter: CallCounter
) -> tuple[list[Port], list[dict[str, Any]], list[ErrorDetail], list[ErrorDetail]]:
    """The interfaces to change (with their current lists: one listing), and those left alone."""
    from shared.changes.planning import select_interfaces

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
    from shared.changes.planning import plan_nic

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
    identity: Identity,
    network: Network,
    facts: GroupFacts | None,
    run: Run,
) -> ResultData:
    """The dry run's answer: the plan and the rules that would apply, in priority order."""
    from shared.rails.facts import facts_of

    after = {g for plan in plans for g in plan.after}
    groups = dict(facts.groups) if facts else {}
    if after - set(groups):  # interfaces that stay as they are were not read for the rails
        groups.update(facts_of(run).groups(after - set(groups), network))
    return new_result_data(
        "planned",
        identity,
        warnings=list(warnings),
        nics=[
            {"port_id": p.port.id, "ip": p.port.ip, "before": p.before, "after": p.after, "status": "planned"}
            for p in plans
        ],
        plan=[{"port_id": p.port.id, "calls": [op.to_dict() for op in p.operations]} for p in plans],
        effective_rules=[effective_rules(p.port.id, p.after, groups) for p in plans],
    )


def effective_rules(port_id: str, group_ids: list[str], groups: dict[str, SecurityGroup]) -> dict[str, Any]:
    """Like the console's rules view: groups in priority order, each with its rules by priority."""
    from shared.model import SecurityGroup

    ordered = []
    for rank, group_id in enumerate(group_ids, start=1):
        group = groups.get(group_id) or SecurityGroup(group_id, "", rules=[])
        rules = sorted(group.rules or [], key=lambda r: (r.direction, r.priority, r.action != "deny"))
        ordered.append(
            {"priority": rank, "id": group.id, "name": group.name, "rules": [rule.to_dict() for rule in rules]}
        )
    return {"port_id": port_id, "groups": ordered}

"""The scheduled sweep: every server of the project judged from a few paged listings.

Triggered by the TIMER trigger (``template.yaml``: hourly), or directly with ``{"sweep": {}}``
(``{"sweep": {"first_page": N, "hop": H, "sweep_id": ...}}`` continues a sweep that ran out of time).
The project is read with listings that follow their pages - security groups and rules, ports, then servers page by
page (:class:`shared.cloud.inventory.InventoryGateway`, ``all_granted_eps``) - so the number of
calls grows with pages, not servers. Each page's servers are judged in parallel
(``CONCURRENCY``); in ``enforce`` mode a server's repair is its only extra calls. Before each next
page the sweep checks the invocation's remaining time: when a page may not fit, it stops, the
summary says where to continue (``continue_from``), and the sweep hands the rest on by invoking
itself asynchronously (:mod:`shared.flows.sg_drift.continuation`: at most 5 hops, the summary names the
continuation's request id). One result per server, then one ``summary`` event (servers, interfaces, findings by kind,
duration, API calls). Run once with ``DRIFT_MODE=enforce``, it back-fills servers that predate sgguard.

With TARGETS the sweep fans out across the targets (:mod:`shared.flows.sg_drift.fanout`), and each
target's invocation runs :func:`sweep_project` with that target's Run.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
from shared.cloud.gateway import CallCounter
from shared.cloud.inventory import InventoryGateway
from shared.flows.sg_drift.continuation import SweepStart, continue_sweep, read_sweep_start
from shared.flows.sg_drift.steps import Facts, conclude
from shared.model import Port, SecurityGroup, Server
from shared.rails.groups import read_address_groups
from shared.results import EventMeta, Identity, ResultData, failure_data, new_result_data
from shared.runtime.envelopes import Envelope
from shared.runtime.run import Run, cloud_failure

__all__ = ["is_sweep", "run_sweep", "sweep_project", "Estate", "read_estate"]


def is_sweep(envelope: Envelope) -> bool:
    if envelope.kind == "timer":
        return True
    if envelope.kind != "direct" or len(envelope.messages) != 1:
        return False
    body = envelope.messages[0].body
    return isinstance(body, dict) and isinstance(body.get("sweep"), dict)


@dataclass
class Estate:
    """What every server's judgement shares: the groups with their rules, the ports by server, and
    the address groups that inbound rules refer to (read once, with paged listings)."""

    groups: dict[str, SecurityGroup]
    ports_by_server: dict[str, list[Port]]
    address_groups: dict[str, list[str] | None]

    def facts(self, server: Server) -> Facts:
        return Facts(server, self.ports_by_server.get(server.id, []), self.groups, self.address_groups)


def read_estate(inventory: InventoryGateway) -> Estate:
    """Groups and rules, ports, address groups: the sweep's listings before the server pages
    (also ``sgguard report``'s, so that both judge from the same facts)."""
    groups = inventory.list_groups_with_rules()
    ports_by_server: dict[str, list[Port]] = {}
    for port in inventory.list_ports():
        if port.device_id and port.is_interface_of(port.device_id):
            ports_by_server.setdefault(port.device_id, []).append(port)
    return Estate(groups, ports_by_server, read_address_groups(groups.values(), inventory))


def run_sweep(envelope: Envelope, run: Run) -> list[dict[str, Any]]:
    """The sweep of the home project (no TARGETS): every result, the summary last."""
    start = read_sweep_start(envelope)
    return sweep_project(envelope, run, start, start.sweep_id or f"sweep:{run.clock.now().strftime('%Y%m%dT%H%M%SZ')}")


def sweep_project(
    envelope: Envelope,
    run: Run,
    start: SweepStart,
    request_id: str,
    *,
    counter: CallCounter | None = None,
    target: dict[str, Any] | None = None,
    home: Run | None = None,
) -> list[dict[str, Any]]:
    """One project's sweep from ``start`` with ``run`` (a target's Run with TARGETS): every result,
    the summary last. ``counter``: counts the listings (and the assume, for a member target);
    ``target``: what the summary and every result name (TARGETS); ``home``: the invocation's own Run,
    which invokes the continuation (a member target's Run has the member's credentials and project)."""
    started = time.perf_counter()
    settings = run.settings
    counter = counter or CallCounter()
    inventory = run.inventory(counter)
    first_page = start.first_page
    events: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    interfaces = 0
    continue_from: int | None = None
    listing_error: ResultData | None = None
    budget = settings.drift_sweep_pages_per_invocation  # pages this invocation may judge (0: no bound)
    meta = EventMeta(0, envelope.kind, run.function)
    try:
        estate = read_estate(inventory)
        page_number = first_page - 1
        slowest_page_s = 0.0
        with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="sgguard-sweep") as pool:
            for page in inventory.server_pages(settings.drift_sweep_page, first_page):
                page_started = time.perf_counter()
                page_number += 1
                facts = [estate.facts(s) for s in page]
                for data, seconds in pool.map(lambda f: _judge(f, run, request_id), facts):
                    data = data.replace(target=target) if target is not None else data
                    events.append(run.event(data, EventMeta(0, envelope.kind, run.function, seconds)))
                    outcomes[data.outcome] += 1
                    interfaces += len(data.nics)
                    kinds.update(finding["kind"] for finding in data.findings or [])
                slowest_page_s = max(slowest_page_s, time.perf_counter() - page_started)
                if len(page) < settings.drift_sweep_page:
                    break  # the last page
                judged = page_number - first_page + 1
                if (budget and judged >= budget) or not run.deadline.allows(2 * slowest_page_s + 1.0):
                    continue_from = page_number + 1
                    break
    except (CloudCallError, DeadlineExceeded) as error:
        listing_error = cloud_failure(error, Identity(request_id=request_id))
    servers = sum(outcomes.values())
    writes = sum(e["data"]["api_calls"]["writes"] for e in events)
    reads = counter.reads + sum(e["data"]["api_calls"]["reads"] for e in events)
    summary = {
        "servers": servers,
        "interfaces": interfaces,
        "outcomes": dict(outcomes),
        "findings_by_kind": dict(kinds),
        "compliant_percent": round(100.0 * outcomes.get("compliant", 0) / servers, 1) if servers else 100.0,
        "duration_s": round(time.perf_counter() - started, 3),
        "api_calls": {"total": reads + writes, "reads": reads, "writes": writes, "listing": counter.reads},
        "first_page": first_page,
        "complete": continue_from is None and listing_error is None,
        "continue_from": {"sweep": {"first_page": continue_from}} if continue_from else None,
        "hop": start.hop,
        "continuation": continue_sweep(home or run, start, request_id, continue_from) if continue_from else None,
    }
    if target is not None:
        summary.update(kind="target", target=target)
    fields: dict[str, Any] = {
        "summary": summary,
        "api_calls": {"total": counter.total, "reads": counter.reads, "writes": counter.writes},
        "mode": settings.drift_mode,
    }
    if target is not None:
        fields["target"] = target
    identity = Identity(request_id=request_id)
    data = (
        failure_data(listing_error.errors[0], retryable=True, identity=identity, **fields)
        if listing_error
        else new_result_data("summary", identity, **fields)
    )
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    events.append(run.event(data, EventMeta(meta.message_index, meta.trigger, meta.function, duration_ms)))
    return events


def _judge(facts: Facts, run: Run, request_id: str) -> tuple[ResultData, float]:
    """One server's result, and how long it took (ms)."""
    started = time.perf_counter()
    counter = CallCounter()
    identity = Identity(request_id=request_id, server_id=facts.server.id)
    try:
        network = run.network(counter) if run.settings.drift_mode == "enforce" else None
        data = conclude(facts, identity, run, run.resources["policy"], network)
    except (CloudCallError, DeadlineExceeded) as error:
        data = cloud_failure(error, identity)
    except Exception:  # noqa: BLE001 - one server's bug must not cost the sweep
        import sys
        import traceback

        traceback.print_exc(file=sys.stderr)
        data = new_result_data("failed", identity, reason="unexpected error while judging this server")
    data = data.replace(api_calls=counter.to_dict(), mode=run.settings.drift_mode)
    return data, round((time.perf_counter() - started) * 1000, 3)

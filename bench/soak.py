"""Fault soak: many change requests and server creations with faults on every route, then checks.

The real handlers run in this process against localcloud (in-process for the test, its own
process for ``python -m bench soak``), with fault rules on every route: 429 with the API
gateway's body, 500, 503, read timeouts (held longer than ``READ_TIMEOUT_S``), connection
resets, and timeouts / resets *after* a write was applied. Every batch is delivered twice in a
row (a duplicate delivery), every creation trace too. Then:

1. every input of every delivery has exactly one terminal result, in message order;
2. per interface, in queue order, each result's ``before`` is what the previous results left
   (a stray write would show here), and the final cloud state is what the last
   ``succeeded`` / ``no_change`` result reported (``failed`` / ``rolled_back`` ones leave their
   interfaces as they were before them);
3. no write was applied twice (from localcloud's request log: two applied writes with the same
   body on one port in a row), no write was refused by the API for stale planning, no write at
   all reached the ports that only rejected requests name;
4. a duplicate delivery changes nothing: requests that ended ``succeeded`` / ``no_change`` come
   back ``no_change`` (duplicate) with zero cloud calls, rejected ones stay rejected, and the
   only writes during a redelivery are retries of requests that had failed;
5. creation traces delivered again to a *fresh* instance (replay memory cleared) write nothing.

:func:`run_soak` returns a :class:`SoakReport`; its ``violations`` must be empty.

Over 400 lines: the workload, the fault plan and the five checks read as one story; each check
needs the whole record of the run.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from .ecs import create_server, cts_event, cts_trace, ecs_client, invoke, load_handler, make_context
from .workload import AMBIGUOUS_NAME, RISKY_GROUP, SIGNING_KEYS, Fleet, build_seed, generate_changes, kafka, sign, smn

__all__ = ["SoakConfig", "SoakReport", "run_soak", "soak_seed", "cloud_handle", "TERMINAL"]

TERMINAL = {"succeeded", "no_change", "planned", "rejected", "failed", "rolled_back", "skipped"}
UNKNOWN = None  # an interface whose state no result vouches for (a rollback failed)
SUBNET_WEB = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01"
SUBNET_MGMT = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"


@dataclass
class SoakConfig:
    messages: int = 300  # valid change requests; invalid, unsigned and refused ones come on top
    servers: int = 60
    reject_servers: int = 8  # named only by requests that must be rejected
    creations: int = 20
    batch_size: int = 100
    probability: float = 0.15  # of a fault on any call
    seed: int = 11
    read_timeout_s: float = 0.3
    hold_ms: int = 450
    max_attempts: int = 2  # low, so that some requests run out of attempts: failures and rollbacks happen
    concurrency: int = 16
    invalid_share: float = 0.12
    extra_faults: list = field(default_factory=list)  # more rules, e.g. to make one fault certain
    store: str = "memory"  # IDEMPOTENCY_STORE of every invocation (a redis:// URL: the shared store)


@dataclass
class SoakReport:
    inputs: int = 0
    deliveries: int = 0
    results: int = 0
    outcomes: Counter = field(default_factory=Counter)
    ecs_outcomes: Counter = field(default_factory=Counter)
    redelivery_outcomes: Counter = field(default_factory=Counter)
    faults: dict = field(default_factory=dict)
    api_requests: int = 0
    writes_applied: int = 0
    redelivery_writes: int = 0
    ports_checked: int = 0
    ports_unknown: int = 0
    ecs_retries: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)

    def violation(self, text: str) -> None:
        if len(self.violations) < 200:
            self.violations.append(text)

    def to_dict(self) -> dict:
        data = {k: (dict(v) if isinstance(v, Counter) else v) for k, v in vars(self).items()}
        data["violations"] = self.violations[:50]
        data["violation_count"] = len(self.violations)
        return data


def soak_seed(config: SoakConfig) -> tuple[dict, Fleet]:
    return build_seed(config.servers + config.reject_servers, seed=config.seed)


# ---- inputs -------------------------------------------------------------------------------------
@dataclass
class Input:
    kind: str  # valid | unsigned | bad-signature | expired | malformed | schema | refused
    request: Any  # dict (a request) or str (raw text)
    request_id: str | None = None
    ports: list[str] = field(default_factory=list)  # the interfaces it may touch (reject servers: none)

    @property
    def server_id(self) -> str | None:
        target = self.request.get("target") if isinstance(self.request, dict) else None
        return target.get("server_id") if isinstance(target, dict) else None

    def wire(self) -> Any:
        if self.kind == "valid" or self.kind == "refused":
            return sign(self.request)
        if self.kind == "bad-signature":
            signed = sign(self.request)
            signed["signature"]["value"] = "0" * 64
            return signed
        if self.kind == "expired":
            from datetime import datetime, timedelta, timezone

            return sign(self.request, now=datetime.now(timezone.utc) - timedelta(hours=2))
        return self.request  # unsigned dict, or raw text


def _invalid_inputs(rng: random.Random, fleet: Fleet, reject: list, count: int, prefix: str) -> list[Input]:
    inputs = []
    for n in range(count):
        server = rng.choice(reject)
        base: dict[str, Any] = {
            "request_id": f"{prefix}-X{n:05d}",
            "ticket": {"system": "soak", "id": f"CHG{n}", "requested_by": "soak@example.com"},
            "target": {"server_id": server.id, "nics": "all"},
            "change": {"action": "add", "security_groups": [{"name": "web"}]},
        }
        kind = rng.choice(
            ["unsigned", "bad-signature", "expired", "malformed", "schema", "schema", "refused", "refused"]
        )
        request: Any = base
        if kind == "malformed":
            request = rng.choice(
                [
                    "{not json",
                    "",
                    "[1, 2",
                    '{"request_id": "a", "request_id": "b"}',
                    "null",
                    json.dumps(base)[:-3],
                    "\u0000\u0001",
                ]
            )
        elif kind == "schema":
            request = json.loads(json.dumps(base))
            mutation = rng.randrange(5)
            if mutation == 0:
                request["target"]["server_id"] = "../../etc/passwd"
            elif mutation == 1:
                request["surprise"] = True
            elif mutation == 2:
                request["change"]["action"] = "delete"
            elif mutation == 3:
                request["change"]["security_groups"] = [{"id": "a0000000-0000-4000-8000-000000000001/../x"}]
            else:
                request["target"]["nics"] = [{"port_id": "%2F" + server.ports[0].id}]
        elif kind == "refused":  # valid and signed, but a guard rail or the catalog refuses it
            request = json.loads(json.dumps(base))
            request["change"]["security_groups"] = rng.choice(
                [[{"id": RISKY_GROUP}], [{"name": "no-such-group"}], [{"name": AMBIGUOUS_NAME}]]
            )
        inputs.append(Input(kind, request, base["request_id"] if kind != "malformed" else None))
    return inputs


def build_inputs(config: SoakConfig, fleet: Fleet, prefix: str) -> list[Input]:
    rng = random.Random(config.seed)
    live = fleet.servers[: config.servers]
    reject = fleet.servers[config.servers :]
    messages = generate_changes(fleet, config.messages, seed=config.seed, prefix=prefix, servers=live)
    inputs = [Input("valid", m.request, m.request_id, m.ports) for m in messages]
    for extra in _invalid_inputs(rng, fleet, reject, int(config.messages * config.invalid_share), prefix):
        inputs.insert(rng.randrange(len(inputs) + 1), extra)
    return inputs


# ---- running the handlers -----------------------------------------------------------------------
def _context(cloud, function: str, config: SoakConfig, **extra):
    data = {
        "REGION": cloud.region,
        "ECS_ENDPOINT": cloud.url,
        "VPC_ENDPOINT": cloud.url,
        "REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS),
        "REQUIRE_SIGNED_REQUESTS": "true",
        "CONCURRENCY": str(config.concurrency),
        "READ_TIMEOUT_S": str(config.read_timeout_s),
        "CONNECT_TIMEOUT_S": "1",
        "MAX_ATTEMPTS": str(config.max_attempts),
        "BACKOFF_BASE_S": "0.01",
        "BACKOFF_MAX_S": "0.05",
        "SAFETY_MARGIN_MS": "500",
        "GROUP_CACHE_TTL_S": "60",
        "READINESS_POLL_S": "0.05",
        "READINESS_MAX_WAIT_S": "10",
        "IDEMPOTENCY_STORE": config.store,
        **extra,
    }
    return make_context(cloud, function, data, timeout_s=300)


def fault_rules(config: SoakConfig) -> list[dict]:
    p, hold = config.probability, config.hold_ms
    shares: list[tuple[str, dict[str, Any], float]] = [
        ("throttle", {}, 0.25),
        ("error500", {}, 0.15),
        ("error503", {}, 0.15),
        ("timeout", {"hold_ms": hold}, 0.15),
        ("reset", {}, 0.10),
        ("timeout", {"hold_ms": hold, "phase": "after", "method": "PUT"}, 0.10),
        ("reset", {"phase": "after", "method": "PUT"}, 0.10),
    ]
    return [
        {"kind": kind, "path": "*", "probability": round(p * share, 4), "seed": config.seed * 100 + i, **extra}
        for i, (kind, extra, share) in enumerate(shares)
    ] + list(config.extra_faults)


def _seq(cloud) -> int:
    entries = cloud.control.requests()
    return entries[-1]["seq"] if entries else 0


def _check_delivery(report: SoakReport, results: list[dict], expected: int, what: str) -> None:
    report.results += len(results)
    if len(results) != expected:
        report.violation(f"{what}: {len(results)} results for {expected} inputs")
    for position, event in enumerate(results):
        data = event["data"]
        if data.get("message_index") != position and what.startswith("batch"):
            report.violation(f"{what}: result {position} has message_index {data.get('message_index')}")
        if data["outcome"] not in TERMINAL:
            report.violation(f"{what}: outcome {data['outcome']!r} is not terminal")
        codes = {e["code"] for e in data.get("errors", [])}
        if codes & {"INTERNAL_ERROR", "VERIFY_FAILED"}:
            report.violation(f"{what}: {data.get('request_id')} {data['outcome']} {data['errors']}")


def _deliver_changes(cloud, report: SoakReport, config: SoakConfig, inputs: list[Input]) -> list[tuple]:
    """Every batch twice in a row; returns the timeline [(phase, input, data)] in queue order."""
    handler = load_handler("change_request")
    timeline = []
    # Servers where a request failed: their interfaces no longer match what the workload generator
    # assumed, so a later request may be refused for the state it finds - and accepted when it is
    # delivered again after the rest of its batch ran. Refusals are not remembered (by design: a
    # redelivery may try again), so on those servers a redelivery may legitimately write.
    diverged: set[str | None] = set()
    for number, start in enumerate(range(0, len(inputs), config.batch_size)):
        batch = inputs[start : start + config.batch_size]
        wire = [item.wire() for item in batch]
        event = smn(wire) if number % 3 == 2 else kafka(wire)
        first: list[dict] | None = None
        for phase in ("first", "again"):
            seq = _seq(cloud)
            results, raised = invoke(handler, event, _context(cloud, "change_request", config))
            report.deliveries += 1
            if raised:
                report.violation(f"change_request raised on batch {number}: {raised}")
            _check_delivery(report, results, len(batch), f"batch {number} ({phase})")
            data = [r["data"] for r in results]
            if len(data) != len(batch):
                continue
            for item, d in zip(batch, data):
                if item.request_id and d.get("request_id") not in (item.request_id, None):
                    report.violation(f"result for {item.request_id} names {d.get('request_id')}")
                timeline.append((phase, item, d))
            if phase == "first":
                first = data
                report.outcomes.update(d["outcome"] for d in data)
                continue
            if first is None:  # the first delivery answered for the wrong number of messages (a violation)
                continue
            report.redelivery_outcomes.update(d["outcome"] for d in data)
            writes = [e for e in cloud.control.requests(seq) if e["method"] == "PUT"]
            # A request that failed is retried by the redelivery, and may change what later requests for
            # the same server find: those servers' interfaces may see writes, their requests new outcomes.
            diverged |= {item.server_id for item, d in zip(batch, first) if d["outcome"] in ("failed", "rolled_back")}
            retried = diverged
            retried_ports = {p for item in batch if item.server_id in retried for p in item.ports}
            report.redelivery_writes += len(writes)
            for entry in writes:
                if _port_of(entry["path"]) not in retried_ports:
                    report.violation(
                        f"redelivery of batch {number} wrote to {entry['path']} "
                        f"({entry.get('body')}) though no request on that server ever failed"
                    )
            for item, before, after in zip(batch, first, data):
                if before["outcome"] in ("succeeded", "no_change") and before.get("request_id"):
                    duplicate = any(w["code"] == "DUPLICATE_REQUEST" for w in after.get("warnings", []))
                    # queue order: behind a message of its server that failed retryably in this delivery it
                    # is not started (handed to the retry lane, or BEHIND_RETRY when that cannot be done)
                    held_back = after["outcome"] == "deferred" or {e["code"] for e in after.get("errors", [])} == {
                        "BEHIND_RETRY"
                    }
                    answered = after["outcome"] == "no_change" and duplicate
                    if not (answered or held_back) or after["api_calls"]["total"]:
                        report.violation(
                            f"redelivered {item.request_id} ({before['outcome']}) came back "
                            f"{after['outcome']} with {after['api_calls']}"
                        )
                # a refusal that needs reads may now end "failed" (a read ran out of attempts), never applied
                if (
                    before["outcome"] == "rejected"
                    and after["outcome"] not in ("rejected", "failed")
                    and item.server_id not in retried
                ):
                    report.violation(f"redelivered {item.request_id or item.kind} was rejected, now {after['outcome']}")
                if (
                    before["outcome"] in ("planned", "rejected")
                    and after["api_calls"]["writes"]
                    and item.server_id not in retried
                ):
                    report.violation(
                        f"redelivered {item.request_id} ({before['outcome']}) made writes: {after['api_calls']}"
                    )
                if after["outcome"] in ("planned", "rejected") and after["api_calls"]["writes"]:
                    report.violation(f"{item.request_id} {after['outcome']} made writes: {after['api_calls']}")
            diverged |= {item.server_id for item, d in zip(batch, data) if d["outcome"] in ("failed", "rolled_back")}
    return timeline


def _create_servers(cloud, config: SoakConfig) -> list[tuple[dict, list[str]]]:
    """Servers created through the ECS SDK (no faults yet); their creation traces."""
    ecs = ecs_client(cloud.url, cloud.ak, cloud.sk, cloud.project_id)
    rng = random.Random(config.seed)
    traces, made = [], 0
    while made < config.creations:
        count = 3 if config.creations - made >= 3 and rng.random() < 0.2 else 1
        tags = rng.choice([None, {"env": "prod", "role": "web-frontend"}, {"env": "dev"}])
        subnets = (SUBNET_WEB, SUBNET_MGMT) if rng.random() < 0.3 else (SUBNET_WEB,)
        job, servers = create_server(ecs, f"soak-{config.seed}-{made}", subnets=subnets, count=count, tags=tags)
        traces.append((cts_trace(servers, job), servers))
        made += len(servers)
    return traces


def _eventgrid(traces: list[dict]) -> list[dict]:
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "HC.ECS",
            "type": "ECS:CloudTrace:ApiCall",
            "subject": trace["resource_id"],
            "time": "2026-11-28T21:00:00Z",
            "datacontenttype": "application/json",
            "data": trace,
        }
        for trace in traces
    ]


def _deliver_creations(cloud, report: SoakReport, config: SoakConfig, traces) -> list[tuple]:
    """Half as single CTS events, half as one EventGrid batch; a raise means "retry": deliver again."""
    from shared.flows.ecs_created.steps import REPLAY_GUARD

    handler = load_handler("ecs_created")
    half = len(traces) // 2
    events: list[tuple[Any, list]] = [(cts_event(t), servers) for t, servers in traces[:half]]
    if traces[half:]:
        events.append((_eventgrid([t for t, _ in traces[half:]]), [s for _, ss in traces[half:] for s in ss]))
    timeline = []
    for event, servers in events:
        for _attempt in range(6):
            results, raised = invoke(handler, event, _context(cloud, "ecs_created", config))
            report.deliveries += 1
            _check_delivery(report, results, len(servers), f"creation trace of {servers[0]}")
            for r in results:
                timeline.append(("ecs", r["data"]["server_id"], r["data"]))
                if r["data"]["outcome"] == "skipped":
                    report.violation(f"new server {r['data']['server_id']} was skipped: {r['data'].get('reason')}")
            if not raised:
                break
            report.ecs_retries += 1
        else:
            report.violation(f"creation of {servers} still failing after 6 deliveries")
        report.ecs_outcomes.update(r["data"]["outcome"] for r in results)
        unfinished = [
            (r["data"]["server_id"], r["data"]["outcome"])
            for r in results
            if r["data"]["outcome"] not in ("succeeded", "no_change")
        ]
        if unfinished and not raised:  # the function stopped asking for a retry, but the policy isn't applied
            report.violation(f"creation trace ended with {unfinished} and no retry asked for")
        # a duplicate delivery to this instance, then to a fresh one (replay memory cleared)
        for fresh in (False, True):
            if fresh:
                REPLAY_GUARD.clear()
            seq = _seq(cloud)
            results, raised = invoke(handler, event, _context(cloud, "ecs_created", config))
            report.deliveries += 1
            _check_delivery(report, results, len(servers), f"duplicate creation trace of {servers[0]}")
            for r in results:
                timeline.append(("ecs", r["data"]["server_id"], r["data"]))
            writes = [e for e in cloud.control.requests(seq) if e["method"] == "PUT"]
            bad = [r["data"] for r in results if r["data"]["outcome"] not in ("no_change",)]
            if writes:
                report.violation(
                    f"duplicate creation trace ({'fresh instance' if fresh else 'same instance'}) "
                    f"wrote {len(writes)} times: {[w['path'] for w in writes][:3]}"
                )
            if bad and not raised:
                report.violation(f"duplicate creation trace gave {[(d['server_id'], d['outcome']) for d in bad]}")
    return timeline


# ---- checks against the cloud -------------------------------------------------------------------
def _port_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[4] if len(parts) > 4 and parts[3] == "ports" else None


def _check_writes(report: SoakReport, log: list[dict], reject_ports: set[str]) -> None:
    last_applied: dict[str, str] = {}
    for entry in log:
        if entry["method"] != "PUT" or entry.get("status") is None:
            continue
        port = _port_of(entry["path"])
        if port is None:
            continue
        if port in reject_ports:
            report.violation(f"a write reached {port}, which only rejected requests name: {entry['path']}")
        fault = entry.get("fault")
        reached = fault is None or str(fault).endswith("_after")
        if not reached:
            continue  # refused before the service saw it: repeating it is the right thing
        applied = entry["status"] in (200, 202) or str(fault).endswith("_after")
        key = f"{entry['path']} {entry.get('body')}"
        if applied:
            report.writes_applied += 1
            if last_applied.get(port) == key:
                report.violation(f"write applied twice in a row on {port}: {key[:200]}")
            last_applied[port] = key
        elif fault is None and entry["status"] >= 400:
            report.violation(
                f"write refused by the API ({entry['status']} {entry.get('error_code')}): "
                f"{key[:200]} - planned from a stale or repeated view?"
            )


def _check_chain(report: SoakReport, timeline: list[tuple], initial: dict, final: dict) -> None:
    expected: dict[str, Any] = dict(initial)
    touched: set[str] = set()
    for _, _, data in timeline:
        for nic in data.get("nics") or []:
            port, before, after, status = nic["port_id"], nic["before"], nic["after"], nic.get("status")
            touched.add(port)
            current = expected.get(port, UNKNOWN)
            if current is not UNKNOWN and before != current:
                report.violation(
                    f"{data.get('request_id')} saw {port} as {before}, but the results before it left {current}"
                )
            outcome = data["outcome"]
            if outcome in ("succeeded", "no_change"):
                expected[port] = after
            elif outcome in ("failed", "rolled_back"):
                if status == "rollback_failed":
                    expected[port] = UNKNOWN
                    report.ports_unknown += 1
                elif after != before:
                    report.violation(f"{data.get('request_id')} {outcome}: {port} ended {after}, was {before}")
                else:
                    expected[port] = before
            # planned / rejected: nothing changes
    for port in touched | set(initial):
        if expected.get(port, UNKNOWN) is UNKNOWN:
            continue
        report.ports_checked += 1
        if final.get(port) != expected[port]:
            report.violation(f"{port} is {final.get(port)} in the cloud; the results say {expected[port]}")


def _ports(cloud) -> dict[str, list[str]]:
    state = cloud.control.state()["projects"][cloud.project_id]["vpc"]["ports"]
    return {p["id"]: p["security_groups"] for p in state}


def run_soak(cloud, fleet: Fleet, config: SoakConfig | None = None, *, log=None) -> SoakReport:
    """``cloud``: anything with ``control`` (localcloud's control client), ``url``, ``region``,
    ``project_id``, ``ak``, ``sk``, started with :func:`soak_seed`'s document."""
    config = config or SoakConfig()
    report = SoakReport()
    started = time.perf_counter()
    say = log or (lambda text: None)
    cloud.control.reset()
    cloud.control.settings(build_delay_ms=300)
    prefix = f"SOAK{config.seed}-{uuid.uuid4().hex[:6]}"
    inputs = build_inputs(config, fleet, prefix)
    report.inputs = len(inputs) + config.creations
    traces = _create_servers(cloud, config)
    initial = _ports(cloud)
    seq0 = _seq(cloud)
    for rule in fault_rules(config):
        cloud.control.add_fault(**rule)
    say(f"{len(inputs)} change requests, {config.creations} creations, faults at {config.probability:.0%}")
    timeline = _deliver_creations(cloud, report, config, traces)
    say(f"creations done ({time.perf_counter() - started:.1f} s)")
    timeline += _deliver_changes(cloud, report, config, inputs)
    say(f"change requests done ({time.perf_counter() - started:.1f} s)")
    report.faults = {
        f"{r['kind']}{'/after' if r['phase'] == 'after' else ''}": r["injected"] for r in cloud.control.faults()
    }
    cloud.control.clear_faults()
    log_entries = [e for e in cloud.control.requests(seq0) if "route" in e]
    report.api_requests = len(log_entries)
    reject_ports = {p.id for s in fleet.servers[config.servers :] for p in s.ports}
    _check_writes(report, log_entries, reject_ports)
    _check_chain(report, timeline, initial, _ports(cloud))
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def cloud_handle(cloud) -> SimpleNamespace:
    """A handle for :func:`run_soak` on an in-process ``localcloud.start()`` object."""
    return SimpleNamespace(
        control=cloud, url=cloud.url, region=cloud.region, project_id=cloud.project_id, ak=cloud.ak, sk=cloud.sk
    )

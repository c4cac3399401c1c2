"""Throughput of a 1000-message Kafka batch, calls per message vs the lower bound, overhead.

The handler runs in a child process (its peak RSS is its own), localcloud in another (with a
fixed latency per API call). The child first runs a warm-up batch of dry runs that fills the
group catalog (and the rules of every group the workload uses) and opens the connection pool, as
an instance that served a batch before would have; then the measured batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any
from urllib.parse import parse_qs

from .support import LocalCloudProcess, Workdir, context_spec, median, run_child
from .workload import Fleet, Message, floor_calls, kafka, sign, warmup_requests

__all__ = ["run_batch", "run_overhead", "check_calls", "lane_bound"]


def _events(work: Workdir, fleet: Fleet, messages: list[Message]) -> tuple[str, str]:
    event = work.file("batch", kafka([sign(m.request) for m in messages]))
    warm = work.file("warmup", kafka([sign(r) for r in warmup_requests(fleet)]))
    return event, warm


def lane_bound(messages: list[Message], concurrency: int) -> float:
    """Calls on the critical path: a batch can't finish before its busiest server's lane does."""
    per_server: dict[str, int] = defaultdict(int)
    for m in messages:
        per_server[m.server_id] += m.reads + m.writes
    total = sum(per_server.values())
    return max(total / concurrency, max(per_server.values(), default=0))


def check_calls(messages: list[Message], rows: list) -> dict:
    """Per scenario: messages, lower bound and measured reads/writes per message, mismatches."""
    by_id = {row[0]: row for row in rows}
    table: dict[str, dict] = {}
    problems: list[str] = []
    for m in messages:
        row = by_id.get(m.request_id)
        entry = table.setdefault(
            m.scenario,
            {
                "messages": 0,
                "lb_reads": 0,
                "lb_writes": 0,
                "reads": 0,
                "writes": 0,
                "above_bound": 0,
                "wrong_outcome": 0,
                "facts": 0,
            },
        )
        entry["messages"] += 1
        entry["lb_reads"] += m.reads
        entry["lb_writes"] += m.writes
        if row is None:
            entry["wrong_outcome"] += 1
            problems.append(f"{m.request_id}: no result")
            continue
        _, outcome, reads, writes, nics, errors, facts = row
        entry["reads"] += reads - facts
        entry["writes"] += writes
        entry["facts"] += facts
        if outcome != m.outcome:
            entry["wrong_outcome"] += 1
            problems.append(f"{m.request_id} ({m.scenario}): {outcome} {errors}, expected {m.outcome}")
        elif outcome == "succeeded" and {p: a for p, a in nics} != {p: m.after[p] for p in m.ports}:
            entry["wrong_outcome"] += 1
            problems.append(f"{m.request_id}: interfaces ended as {nics}, expected {m.after}")
        bound = (m.stale_reads, m.stale_writes) if facts else (m.reads, m.writes)  # it read the facts
        if (reads - facts, writes) != bound:
            entry["above_bound"] += 1
            if len(problems) < 50:
                problems.append(
                    f"{m.request_id} ({m.scenario}): {reads - facts} reads + {writes} writes (+{facts} facts), "
                    f"lower bound {bound[0]} + {bound[1]}"
                )
    for entry in table.values():
        n = entry["messages"]
        for key in ("lb_reads", "lb_writes", "reads", "writes"):
            entry[key] = round(entry[key] / n, 3)
    return {"scenarios": table, "problems": problems[:50]}


def _log_counts(cloud: LocalCloudProcess, since_time: float, until_time: float = float("inf")) -> dict:
    """Calls as localcloud logged them, and how long it took to answer them (beyond the injected latency)."""
    entries = [e for e in cloud.control.requests() if since_time <= e.get("time", 0) < until_time and "route" in e]
    routes = Counter(e["route"] for e in entries)
    durations: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        durations[e["route"]].append(e.get("duration_ms", 0.0) - cloud.latency_ms)
    everything = sorted(d for values in durations.values() for d in values)
    return {
        "reads": sum(1 for e in entries if e["method"] == "GET"),
        "writes": sum(1 for e in entries if e["method"] != "GET"),
        "by_route": dict(routes.most_common()),
        "server_ms_beyond_latency": {
            "median": round(median(everything), 2) if everything else None,
            "p90": round(everything[int(len(everything) * 0.9)], 2) if everything else None,
            "by_route_median": {r: round(median(v), 2) for r, v in durations.items()},
        },
    }


def _final_state_mismatches(cloud: LocalCloudProcess, messages: list[Message], fleet: Fleet) -> int:
    expected = fleet.state()
    for m in messages:
        if m.outcome == "succeeded":
            expected.update(m.after)
    state = cloud.control.state()["projects"][cloud.project_id]["vpc"]["ports"]
    actual = {p["id"]: p["security_groups"] for p in state if p["id"] in expected}
    return sum(1 for pid, groups in expected.items() if actual.get(pid) != groups)


def run_batch(
    work: Workdir,
    cloud: LocalCloudProcess,
    fleet: Fleet,
    messages: list[Message],
    *,
    concurrency: int = 16,
    profile: bool = False,
    floor: bool = False,
    faults: list[dict] | None = None,
    extra: dict[str, str] | None = None,
    cpu_share: float | None = None,
) -> dict:
    """One batch through the real handler in a fresh child, after a warm-up batch (then, with
    ``floor``, the bare SDK making the same calls in the same process)."""
    cloud.control.reset()  # the start-up seed again (and new credentials below)
    for fault in faults or []:
        cloud.control.add_fault(**fault)
    event, warm = _events(work, fleet, messages)
    settings: dict[str, Any] = {"CONCURRENCY": str(concurrency), **(extra or {})}  # user data: strings
    context = work.file("context", context_spec(cloud.control, cloud.project_id, cloud.url, cloud.region, **settings))
    args = ["--function", "change_request", "--event", event, "--warmup", warm, "--context", context]
    if floor:
        final = fleet.state()
        for m in messages:
            if m.outcome == "succeeded":
                final.update(m.after)
        args += ["--floor", work.file("floor", floor_calls(messages, final))]
    run = run_child(work, "batch", *args, *(["--profile"] if profile else []), cpu_share=cpu_share)
    out = run.output
    batch_started = out["started_at"]  # log entries after the warm-up (same machine clock)
    n = len(messages)
    rows = out["results"]
    reads = sum(r[2] for r in rows)
    writes = sum(r[3] for r in rows)
    facts_reads = sum(r[6] for r in rows)  # of ``reads``: the rails' facts, read for the batch
    calls = (reads + writes) / n
    latency_s = cloud.latency_ms / 1000
    result = {
        "messages": n,
        "concurrency": concurrency,
        "latency_ms": cloud.latency_ms,
        "wall_s": round(out["wall_s"], 3),
        "cpu_s": round(out["cpu_s"], 3),
        "handler_cpu_share": round(out["cpu_s"] / out["wall_s"], 2),  # ~1.0: one core busy (the GIL)
        "cpu_ms_per_message": round(out["cpu_s"] * 1000 / n, 3),
        "messages_per_s": round(n / out["wall_s"], 1),
        "calls_per_message": round(calls, 3),
        "facts_reads": facts_reads,
        "outcomes": dict(Counter(r[1] for r in rows)),
        "warmup_outcomes": dict(Counter(out["warmup_outcomes"])),
        "results_calls": {"reads": reads, "writes": writes},
        "peak_rss_mb": round(run.maxrss_kb / 1024, 1),
        "sdk_modules": out["modules"]["sdk"],
        "calls": check_calls(messages, rows),
        "final_state_mismatches": _final_state_mismatches(cloud, messages, fleet),
    }
    if latency_s:
        latency_bound = concurrency / (calls * latency_s)
        result["latency_bound_messages_per_s"] = round(latency_bound, 1)
        ideal, bound = latency_bound, "latency"
        floor_cpu = out.get("floor", {}).get("cpu_s")
        if floor_cpu:  # one core divided by the bare SDK's CPU per message
            cpu_bound = out["floor"]["messages"] / floor_cpu
            result["cpu_bound_messages_per_s"] = round(cpu_bound, 1)
            if cpu_bound < latency_bound:
                ideal, bound = cpu_bound, "CPU (one core / SDK floor)"
        result["ideal_messages_per_s"] = round(ideal, 1)
        result["ideal_bound"] = bound
        result["ratio_to_ideal"] = round(result["messages_per_s"] / ideal, 3)
        floor_wall = out.get("floor", {}).get("wall_s")
        if floor_wall:  # beside the target: the bare SDK's own throughput, same calls, same server
            # (the latency bound counts the injected latency only, not the emulator's own time per call)
            floor_rate = out["floor"]["messages"] / floor_wall
            result["floor_messages_per_s"] = round(floor_rate, 1)
            result["ratio_to_floor_throughput"] = round(result["messages_per_s"] / floor_rate, 3)
        critical = lane_bound(messages, concurrency) * latency_s
        result["lane_bound_messages_per_s"] = round(n / critical, 1)
    floor_started = out.get("floor", {}).get("started_at", float("inf"))  # the floor's own calls come after
    log = _log_counts(cloud, batch_started, floor_started)
    if faults:
        result["throttle"] = _throttle_summary(cloud, batch_started, faults, n, out["wall_s"])
    result["request_log"] = log
    # single flight: the cold warm-up batch (16 messages at once) should list the groups once
    result["warmup_group_listings"] = sum(
        1
        for e in cloud.control.requests()
        if e.get("time", 0) < batch_started
        and e.get("route") == "GET /v3/{project_id}/vpc/security-groups"
        and "id" not in parse_qs(e.get("query") or "")  # the catalog's listing, not the rails' reads by id
    )
    if "profile" in out:
        result["profile"] = out["profile"]
    if "floor" in out:
        f = out["floor"]
        result["sdk_floor"] = {
            "cpu_ms_per_message": round(f["cpu_s"] * 1000 / f["messages"], 3),
            "wall_s": round(f["wall_s"], 3),
            "calls_per_message": round(f["calls"] / f["messages"], 3),
        }
        result["cpu_vs_floor"] = round(result["cpu_ms_per_message"] / result["sdk_floor"]["cpu_ms_per_message"], 2)
    return result


def _throttle_summary(cloud: LocalCloudProcess, since: float, faults: list[dict], n: int, wall_s: float) -> dict:
    """Under a rate limit per route: the time the busiest route needs at that rate (the bound),
    and the calls the gateway refused (429) per message."""
    limit = min((f for f in faults if f.get("kind") == "rate_limit"), key=lambda f: float(f["per_s"]))
    per_s, burst = float(limit["per_s"]), float(limit.get("burst") or limit["per_s"])
    entries = [e for e in cloud.control.requests() if e.get("time", 0) >= since and "route" in e]
    accepted = Counter(e["route"] for e in entries if e.get("status") != 429)
    refused = sum(1 for e in entries if e.get("status") == 429)
    busiest, calls = accepted.most_common(1)[0] if accepted else ("-", 0)
    bound_s = max(0.0, calls - burst) / per_s  # a full bucket at the start, then per_s
    return {
        "per_s": per_s,
        "burst": burst,
        "busiest_route": busiest,
        "busiest_route_calls": calls,
        "rate_bound_s": round(bound_s, 2),
        "wall_s": round(wall_s, 2),
        "ratio_to_bound": round(wall_s / bound_s, 3) if bound_s else None,
        "throttled_calls": refused,
        "throttled_per_message": round(refused / n, 4),
    }


def run_overhead(work: Workdir, seed: dict, fleet: Fleet, messages: list[Message]) -> dict:
    """The handler against an in-memory cloud, one message at a time; then validation alone."""
    event, warm = _events(work, fleet, messages)
    context = work.file(
        "context",
        context_spec(None, "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "http://127.0.0.1:9", "cn-north-4", CONCURRENCY="1"),
    )
    run = run_child(
        work,
        "overhead",
        "--function",
        "change_request",
        "--event",
        event,
        "--warmup",
        warm,
        "--context",
        context,
        "--seed",
        work.file("seed", seed),
    )
    out = run.output
    n = out["messages"]
    return {
        "messages": n,
        "handler_ms_per_message": round(out["wall_s"] * 1000 / n, 3),
        "validation_ms_per_message": round(out["validation_s"] * 1000 / n, 3),
        "schema_only_ms_per_message": round(out["schema_only_s"] * 1000 / n, 3),
        "outcomes": dict(Counter(r[1] for r in out["results"])),
        "calls": check_calls(messages, out["results"]),
        "invalid_in_validation_loop": out["invalid"],
    }

"""The tables ``python -m bench`` prints, from its report (``bench/results/latest.json``)."""

from __future__ import annotations

__all__ = ["render"]


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def render(report: dict) -> str:
    out = []
    s = report["settings"]
    out.append(
        f"sgguard benchmarks - Python {report['machine']['python']}, {report['machine']['cpus']} CPUs, "
        f"{report['seconds']} s\n"
    )
    out.append(
        f"1. Cold start (median of {s['cold_start_runs']} fresh interpreters; floor = importing only what "
        "the path needs)"
    )
    out.append(
        _table(
            ["path", "handler ms", "floor ms", "ratio", "+ms", "import ms", "1st call ms", "RSS MB", "floor RSS MB"],
            [
                [
                    c["path"],
                    round(c["handler_s"] * 1000),
                    round(c["floor_s"] * 1000),
                    c["ratio"],
                    c["extra_ms"],
                    c["handler_import_ms"],
                    c["handler_first_invocation_ms"],
                    c["handler_rss_mb"],
                    c["floor_rss_mb"],
                ]
                for c in report["cold_start"]
            ],
        )
    )
    t = report["throughput"]
    out.append(
        f"\n2. Throughput: {t['messages']} signed messages in one Kafka batch, {s['servers']} servers "
        f"({s['ports']} interfaces), {t['latency_ms']} ms per API call, concurrency {t['concurrency']}"
    )
    _throughput(out, t)
    _repeats(out, t)
    if "replace" in report:
        t = report["replace"]
        out.append(
            f"\n2r. Replace: {t['messages']} signed `replace` requests in one Kafka batch, {t['latency_ms']} ms per "
            f"API call, concurrency {t['concurrency']} (calls per message target: 2 + 3 / batch)"
        )
        _throughput(out, t)
        _repeats(out, t)
    t = report["throughput"]  # the rate-limited run repeats the mixed batch
    r = report["rate_limited"]
    out.append(
        f"\n2b. Rate limit: {r['per_s']:g} calls/s per route (bucket {r['burst']:g}), {t['messages']} messages, "
        f"{t['latency_ms']} ms per call"
    )
    out.append(
        _table(
            ["busiest route", "its calls", "rate bound s", "wall s", "ratio", "429s", "429s per message"],
            [
                [
                    r["busiest_route"],
                    r["busiest_route_calls"],
                    r["rate_bound_s"],
                    r["wall_s"],
                    r["ratio_to_bound"],
                    r["throttled_calls"],
                    r["throttled_per_message"],
                ]
            ],
        )
    )
    b = report["backlog"]
    out.append(f"\n2c. Backlog: {b['messages']} messages in one batch, {b['timeout_s']} s function timeout")
    out.append(
        _table(
            [
                "invocations",
                "continuations",
                "max hop",
                "final outcomes",
                "no final outcome",
                "failed for time",
                "busy s",
            ],
            [
                [
                    b["invocations"],
                    b["continuations"],
                    b["max_hop"],
                    ", ".join(f"{k} {v}" for k, v in sorted(b["final_outcomes"].items())),
                    b["without_final_outcome"],
                    b["failed_for_time"],
                    b["busy_s"],
                ]
            ],
        )
    )
    z_ = report["sizing"]
    out.append(
        f"\n2d. Memory size and cost ({z_['rows'][0]['messages']} messages per size, CPU share = memory / "
        f"{z_['core_at_mb']} MB, capped at 1; duty-cycled on one CPU)"
    )
    out.append(
        _table(
            [
                "memory MB",
                "CPU share",
                "messages/s",
                "CPU ms/msg",
                "s per 1000",
                "GB-s per 1000",
                f"<= {z_['timeout_s']:g} s",
            ],
            [
                [
                    row["memory_mb"],
                    row["cpu_share"],
                    row["messages_per_s"],
                    row["cpu_ms_per_message"],
                    row["wall_s_per_1000"],
                    row["gb_s_per_1000"],
                    "yes" if row["fits_timeout"] and row["fits_memory"] else "no",
                ]
                for row in z_["rows"]
            ],
        )
    )
    out.append(f"   cheapest that fits: {z_['cheapest_mb']} MB")
    o, z = report["overhead"], report["zero_latency"]
    out.append("\n3. Handler overhead (per message)")
    out.append(
        _table(
            ["measure", "ms/message"],
            [
                [
                    "handler, in-memory cloud (validation, signature, planning, results, log), 1 at a time",
                    o["handler_ms_per_message"],
                ],
                ["validation alone: decode + JSON Schema + signature", o["validation_ms_per_message"]],
                ["  of which decode + JSON Schema", o["schema_only_ms_per_message"]],
                [
                    f"real SDK + localcloud, 0 ms injected: wall (concurrency {z['concurrency']})",
                    round(z["wall_s"] * 1000 / z["messages"], 3),
                ],
                ["real SDK + localcloud, 0 ms injected: handler process CPU", z["cpu_ms_per_message"]],
            ],
        )
    )
    if "profile" in report:
        p = report["profile"]
        out.append(
            f"\n   Where the handler's time goes with the real SDK (cProfile self time, 1 at a time, "
            f"{p['total_ms_per_message']} ms/message under the profiler)"
        )
        out.append(_table(["bucket", "ms/message"], [[k, v] for k, v in p["self_ms_per_message"].items()]))
    out.append(
        f"\n4. ECS creation: CTS trace -> groups attached, minus the emulated build time "
        f"({report['ecs_creation'][0]['latency_ms']} ms per API call)"
    )
    out.append(
        _table(
            ["build ms", "READINESS_POLL_S", "added ms (median)", "runs", "API calls", "outcomes"],
            [
                [
                    r["build_delay_ms"],
                    r["readiness_poll_s"],
                    r["added_ms"],
                    r["added_ms_all"],
                    r["api_calls"],
                    ",".join(r["outcomes"]),
                ]
                for r in report["ecs_creation"]
            ],
        )
    )
    out.append("\nTargets")
    out.append(
        _table(
            ["target", "wanted", "measured", "met"],
            [[name, v["target"], v["measured"], "yes" if v["met"] else "NO"] for name, v in report["targets"].items()],
        )
    )
    return "\n".join(out)


def _repeats(out: list[str], t: dict) -> None:
    """A batch run several times: every run's two ratios (the table shows the median run)."""
    repeats = t.get("repeats")
    if repeats and len(repeats["cpu_vs_floor"]) > 1:
        out.append(
            f"   {len(repeats['cpu_vs_floor'])} runs (the table: the median run's figures; the targets read the "
            f"medians): handler / floor CPU {repeats['cpu_vs_floor']}, "
            f"throughput / ideal {repeats['ratio_to_ideal']}"
        )


def _throughput(out: list[str], t: dict) -> None:
    """One batch's figures: rates, calls per message against the bound, CPU against the SDK floor."""
    out.append(
        _table(
            [
                "messages/s",
                "ideal",
                "ratio",
                "lane bound",
                "calls/msg",
                "wall s",
                "handler CPU s",
                "CPU ms/msg",
                "peak RSS MB",
                "localcloud ms beyond latency (median/p90)",
            ],
            [
                [
                    t["messages_per_s"],
                    t.get("ideal_messages_per_s"),
                    t.get("ratio_to_ideal"),
                    t.get("lane_bound_messages_per_s"),
                    t["calls_per_message"],
                    t["wall_s"],
                    t["cpu_s"],
                    t["cpu_ms_per_message"],
                    t["peak_rss_mb"],
                    f"{t['request_log']['server_ms_beyond_latency']['median']} / "
                    f"{t['request_log']['server_ms_beyond_latency']['p90']}",
                ]
            ],
        )
    )
    rows = [
        [
            name,
            v["messages"],
            f"{v['lb_reads']:g} + {v['lb_writes']:g}",
            f"{v['reads']:g} + {v['writes']:g}",
            v["above_bound"],
            v["wrong_outcome"],
        ]
        for name, v in sorted(t["calls"]["scenarios"].items())
    ]
    out.append(
        f"\n   API calls per message (reads + writes), warm group catalog; the rails' facts, read for the "
        f"batch: {t['facts_reads']} call(s) in all"
    )
    out.append(_table(["scenario", "messages", "lower bound", "measured", "above bound", "wrong outcome"], rows))
    log = t["request_log"]
    beyond = t["request_log"]["server_ms_beyond_latency"]["median"] or 0.0
    if beyond > 0.25 * t["latency_ms"]:
        out.append(
            f"   NOTE localcloud took {beyond} ms per call beyond the injected {t['latency_ms']} ms (median): the "
            "emulator, not the function, limits this figure (see docs/benchmarks.md)"
        )
    out.append(
        f"   handler process: {t['cpu_ms_per_message']} ms CPU per message, {t['handler_cpu_share']} of a core busy"
    )
    if "sdk_floor" in t:
        f = t["sdk_floor"]
        out.append(
            f"   bare SDK, same calls, same process: {f['cpu_ms_per_message']} ms CPU per message -> handler / floor = "
            f"{t['cpu_vs_floor']} x"
        )
        out.append(
            f"   ideal = min(latency bound {t['latency_bound_messages_per_s']}, CPU bound "
            f"{t.get('cpu_bound_messages_per_s')} = one core / floor) = {t['ideal_messages_per_s']}: the "
            f"{t['ideal_bound']} bound applies"
        )
        if "floor_messages_per_s" in t:
            out.append(
                f"   bare SDK's own throughput, same calls and server: {t['floor_messages_per_s']} messages/s -> "
                f"handler / floor = {t['ratio_to_floor_throughput']} (beside the target: the latency bound counts "
                "the injected latency only)"
            )
    out.append(
        f"   warm-up: {t['warmup_group_listings']} group listing(s) for {sum(t['warmup_outcomes'].values())} "
        "concurrent cold messages"
    )
    out.append(
        f"   results count {t['results_calls']['reads']} reads + {t['results_calls']['writes']} writes; "
        f"localcloud logged {log['reads']} + {log['writes']}; final state mismatches: "
        f"{t['final_state_mismatches']}"
    )

"""``python -m bench`` - the figures; ``python -m bench soak`` - the fault soak, larger than in CI.

python -m bench              # full run, ~1.5 min on 2 cores: table + bench/results/latest.json
python -m bench --quick      # fewer runs, no profile (~40 s)
python -m bench soak --messages 5000
python -m bench store        # the idempotency store's cost per message (Redis vs memory)
python -m bench drift        # the sg_drift sweep over 2000 servers: servers/s, listing calls (pages)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

from sgguard_cli.progress import Progress

from .support import ROOT, LocalCloudProcess, Workdir

TARGETS = {"cold_start_ratio": 1.2, "throughput_ratio": 0.8, "peak_rss_mb": 128, "overhead_ms": 2.0}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_bench(args) -> dict:
    from .coldstart import run_coldstart
    from .ecs import run_ecs_creation
    from .throughput import run_batch, run_overhead
    from .workload import build_seed, generate_changes

    runs = args.runs or (3 if args.quick else 7)
    seed, fleet = build_seed(args.servers)
    messages = generate_changes(fleet, args.messages)
    work = Workdir()
    report: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": {
            "servers": args.servers,
            "ports": sum(len(s.ports) for s in fleet.servers),
            "messages": args.messages,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "cold_start_runs": runs,
        },
    }
    started = time.perf_counter()
    progress = Progress(5 if args.quick else 6, "bench")  # counted on stderr: a bar on a terminal
    _say = progress.step  # noqa: N806 - the phases below
    try:
        with (
            LocalCloudProcess(work, latency_ms=0, seed=seed) as fast,
            LocalCloudProcess(work, latency_ms=args.latency_ms, seed=seed) as slow,
        ):
            _say(f"cold start, {runs} runs per path ...")
            report["cold_start"] = run_coldstart(work, fast, fleet, runs)
            _say(
                f"throughput: {args.messages} messages, {args.latency_ms} ms per call, "
                f"concurrency {args.concurrency} ..."
            )
            report["throughput"] = run_batch(work, slow, fleet, messages, concurrency=args.concurrency)
            _say("overhead: in-memory cloud ...")
            report["overhead"] = run_overhead(work, seed, fleet, messages)
            _say("zero injected latency ...")
            report["zero_latency"] = run_batch(work, fast, fleet, messages, concurrency=args.concurrency)
            if not args.quick:
                _say("profile: zero latency, one message at a time, cProfile ...")
                report["profile"] = run_batch(work, fast, fleet, messages, concurrency=1, profile=True)["profile"]
            _say("ECS creation ...")
            report["ecs_creation"] = run_ecs_creation(slow, runs=1 if args.quick else 3)
    finally:
        work.close()
    progress.finish("measured")
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["targets"] = assess(report)
    return report


def assess(report: dict) -> dict:
    cold = report["cold_start"]
    through = report["throughput"]
    calls_ok = (
        all(s["above_bound"] == 0 for s in through["calls"]["scenarios"].values())
        and through["request_log"]["reads"] == through["results_calls"]["reads"]
        and through["request_log"]["writes"] == through["results_calls"]["writes"]
    )

    def span(ratios: list[float]) -> str:
        return f"{min(ratios)}" if len(ratios) == 1 else f"{min(ratios)} - {max(ratios)}"

    cloud = [c["ratio"] for c in cold if c["cloud"]]
    noop = [c["ratio"] for c in cold if not c["cloud"]]
    return {
        "cold_start_ratio (first real call)": {
            "target": f"<= {TARGETS['cold_start_ratio']}",
            "measured": span(cloud),
            "met": max(cloud) <= TARGETS["cold_start_ratio"],
        },
        "cold_start_ratio (no-op paths)": {
            "target": f"<= {TARGETS['cold_start_ratio']}",
            "measured": span(noop),
            "met": max(noop) <= TARGETS["cold_start_ratio"],
        },
        "throughput_ratio": {
            "target": f">= {TARGETS['throughput_ratio']} x ideal",
            "measured": through.get("ratio_to_ideal"),
            "met": (through.get("ratio_to_ideal") or 0) >= TARGETS["throughput_ratio"],
        },
        "calls_per_message": {
            "target": "= lower bound in every scenario",
            "measured": "every scenario at its bound" if calls_ok else "above bound somewhere",
            "met": calls_ok,
        },
        "peak_rss_mb": {
            "target": f"<= {TARGETS['peak_rss_mb']}",
            "measured": through["peak_rss_mb"],
            "met": through["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        },
        "overhead_ms": {
            "target": f"<= {TARGETS['overhead_ms']} per message",
            "measured": report["overhead"]["handler_ms_per_message"],
            "met": report["overhead"]["handler_ms_per_message"] <= TARGETS["overhead_ms"],
        },
    }


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
    out.append("\n   API calls per message (reads + writes), warm group catalog")
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
    out.append(
        f"   warm-up: {t['warmup_group_listings']} group listing(s) for {sum(t['warmup_outcomes'].values())} "
        "concurrent cold messages"
    )
    out.append(
        f"   results count {t['results_calls']['reads']} reads + {t['results_calls']['writes']} writes; "
        f"localcloud logged {log['reads']} + {log['writes']}; final state mismatches: "
        f"{t['final_state_mismatches']}"
    )
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


def run_soak_command(args) -> int:
    from .soak import SoakConfig, run_soak, soak_seed

    for name in ("HuaweiCloud-SDK-VpcClient", "HuaweiCloud-SDK-EcsClient"):  # one line per injected fault otherwise
        logging.getLogger(name).setLevel(logging.CRITICAL)
    servers = args.servers or min(200, max(40, args.messages // 25))
    config = SoakConfig(
        messages=args.messages,
        servers=servers,
        reject_servers=max(4, servers // 10),
        creations=args.creations,
        batch_size=args.batch_size,
        probability=args.probability,
        seed=args.seed,
    )
    document, fleet = soak_seed(config)
    work = Workdir()
    try:
        with LocalCloudProcess(work, seed=document) as cloud:
            cloud.ak, cloud.sk = cloud.info["ak"], cloud.info["sk"]
            progress = Progress(3, "soak")  # run_soak logs three phases
            report = run_soak(cloud, fleet, config, log=progress.step)
            progress.finish(f"{len(report.violations)} violation(s)")
    finally:
        work.close()
    data = report.to_dict()
    print(json.dumps(data, indent=2))
    _write(args.out or str(ROOT / "bench" / "results" / "soak.json"), data)
    return 0 if not report.violations else 1


def _write(path: str, data: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    _say(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--quick", action="store_true", help="3 cold-start runs, 1 ECS run, no profile")
    parser.add_argument("--runs", type=int, help="cold-start runs per path (default 7, quick 3)")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", help="JSON report (default bench/results/latest.json)")
    soak = sub.add_parser("soak", help="the fault soak, larger than the CI test")
    soak.add_argument("--messages", type=int, default=5000)
    soak.add_argument("--servers", type=int)
    soak.add_argument("--creations", type=int, default=50)
    soak.add_argument("--batch-size", type=int, default=250)
    soak.add_argument("--probability", type=float, default=0.15)
    soak.add_argument("--seed", type=int, default=11)
    soak.add_argument("--out", help="JSON report (default bench/results/soak.json)")
    store = sub.add_parser("store", help="the idempotency store's cost per message on the warm path")
    store.add_argument("--messages", type=int, default=3000)
    drift = sub.add_parser("drift", help="the sg_drift sweep over a large project: servers/s, listing calls")
    drift.add_argument("--servers", type=int, default=2000)
    drift.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "drift":
        from .drift import render_drift, run_drift

        drift_report = run_drift(args.servers, latency_ms=args.latency_ms)
        print(render_drift(drift_report))
        _write(str(ROOT / "bench" / "results" / "drift.json"), drift_report)
        return 0
    if args.command == "soak":
        return run_soak_command(args)
    if args.command == "store":
        from .store import render_store, run_store

        store_report = run_store(args.messages)
        print(render_store(store_report))
        _write(str(ROOT / "bench" / "results" / "store.json"), store_report)
        return 0
    report = run_bench(args)
    print(render(report))
    _write(args.out or str(ROOT / "bench" / "results" / "latest.json"), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

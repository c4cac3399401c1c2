"""Cold start: a fresh interpreter runs a handler's first invocation vs one importing only the
modules that code path needs (the floor). Runs are interleaved, floor and handler alternately,
so that a noisy machine slows both alike; the figure is the median of the process wall times
(interpreter start to exit, seen by the parent) and the peak RSS of each child (``wait4``).

jsonschema is imported, in the floor as in the function, with ``rfc3987_syntax`` hidden (it
compiles an IRI grammar at import, ~1 s, for formats no schema here uses): the floor is the
cheapest way to import what the path needs, not the naive one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .support import LocalCloudProcess, Workdir, context_spec, median, run_child
from .workload import POOL, SEEDED_GROUPS, Fleet

__all__ = ["ColdPath", "cold_paths", "run_coldstart"]

SDK_FLOOR = "huaweicloudsdkvpc.v2,huaweicloudsdkvpc.v3,huaweicloudsdkecs.v2,jsonschema"
TIMER = {
    "version": "v1.0",
    "time": "2026-11-28T21:00:00+08:00",
    "trigger_type": "TIMER",
    "trigger_name": "tick",
    "user_event": "",
}


@dataclass
class ColdPath:
    name: str
    function: str
    what: str  # the no-op (or real) path, in words
    floor_modules: str
    events: list  # one per run (a real change needs a fresh interface each time)
    expect: str  # the outcome the first invocation must report
    needs_cloud: bool = False


def _apig(body: str) -> dict:
    return {
        "body": body,
        "isBase64Encoded": False,
        "httpMethod": "POST",
        "path": "/sg/change-requests",
        "headers": {"content-type": "application/json"},
        "queryStringParameters": {},
        "pathParameters": {},
        "requestContext": {"requestId": "cold"},
    }


def _not_a_creation() -> dict:
    return {
        "cts": {
            "trace_id": "6f1d6a0e-0000-4000-8000-000000000001",
            "trace_name": "deleteServer",
            "trace_type": "ApiCall",
            "service_type": "ECS",
            "resource_type": "ecs",
            "resource_id": "c0000000-0000-4000-8000-000000000001",
            "code": "200",
            "time": 1764363600000,
            "request": {},
            "response": {},
        }
    }


def cold_paths(fleet: Fleet, runs: int) -> list[ColdPath]:
    from .workload import kafka, sign

    rng = random.Random(3)
    singles = [s for s in fleet.servers if len(s.ports) == 1]
    # a real change per run: add a group the interface lacks, on a server no other run touches
    changes = []
    for server in singles[:runs]:
        group = next(g for g in POOL.values() if g not in server.ports[0].groups)
        changes.append(
            kafka(
                [
                    sign(
                        {
                            "request_id": f"COLD-{server.name}",
                            "ticket": {"system": "bench", "id": "CHG1", "requested_by": "bench@example.com"},
                            "target": {"server_id": server.id, "nics": "primary"},
                            "change": {"action": "add", "security_groups": [{"id": group}]},
                        }
                    )
                ]
            )
        )
    baseline = SEEDED_GROUPS["baseline"]
    backfills = [
        {"server_id": s.id, "request_id": f"COLD-{s.name}", "backfill": True}  # seeded servers are not new
        for s in singles[runs:]
        if baseline not in s.ports[0].groups
    ][:runs]
    rng.shuffle(backfills)
    return [
        ColdPath(
            "change_request: timer tick",
            "change_request",
            "TIMER event: one rejected result (unsupported trigger); no SDK, no jsonschema",
            "",
            [TIMER] * runs,
            "rejected",
        ),
        ColdPath(
            "change_request: invalid request",
            "change_request",
            "APIG body that fails the schema: one rejected result; needs jsonschema",
            "jsonschema",
            [_apig('{"request_id": "cold-1", "target": {}}')] * runs,
            "rejected",
        ),
        ColdPath(
            "ecs_created: not a creation",
            "ecs_created",
            "CTS deleteServer trace: skipped before the policy is loaded (no YAML, no jsonschema), no SDK",
            "",
            [_not_a_creation()] * runs,
            "skipped",
        ),
        ColdPath(
            "change_request: first real change",
            "change_request",
            "Kafka, one signed add on a 1-NIC server, cold catalog: list groups, rules, list ports, insert",
            SDK_FLOOR,
            changes,
            "succeeded",
            needs_cloud=True,
        ),
        ColdPath(
            "ecs_created: first real attach",
            "ecs_created",
            "direct {server_id} back-fill: show server, list ports, list groups, rules, one write",
            SDK_FLOOR + ",yaml",
            backfills,
            "succeeded",
            needs_cloud=True,
        ),
    ]


def run_coldstart(work: Workdir, cloud: LocalCloudProcess, fleet: Fleet, runs: int = 7) -> list[dict]:
    cloud.control.reset()
    paths = cold_paths(fleet, runs)
    contexts = {}
    for function in ("change_request", "ecs_created"):
        contexts[function] = work.file(
            "context",
            context_spec(
                cloud.control,
                cloud.project_id,
                cloud.url,
                cloud.region,
                function_name=function,
                GROUP_CACHE_TTL_S="60",
                READINESS_POLL_S="0.2",
            ),
        )
    samples: dict[str, dict[str, Any]] = {
        p.name: {
            "floor": [],
            "handler": [],
            "floor_rss": [],
            "handler_rss": [],
            "import": [],
            "invoke": [],
            "outcomes": set(),
            "modules": None,
        }
        for p in paths
    }
    for i in range(runs):
        for path in paths:
            s = samples[path.name]
            event = work.file("event", path.events[i])
            floor_args = ["--modules", path.floor_modules, "--hide-rfc3987"]
            handler_args = ["--function", path.function, "--event", event, "--context", contexts[path.function]]
            order = [("floor", floor_args), ("handler", handler_args)]
            for kind, args in order if i % 2 == 0 else order[::-1]:
                run = run_child(work, kind, *args)
                s[kind].append(run.wall_s)
                s[f"{kind}_rss"].append(run.maxrss_kb / 1024)
                if kind == "handler":
                    s["import"].append(run.output["import_s"])
                    s["invoke"].append(run.output["invoke_s"])
                    s["outcomes"].update(run.output["outcomes"])
                    s["modules"] = run.output["modules"]
    report = []
    for path in paths:
        s = samples[path.name]
        floor, handler = median(s["floor"]), median(s["handler"])
        modules = s["modules"] or {}
        report.append(
            {
                "path": path.name,
                "what": path.what,
                "runs": runs,
                "cloud": path.needs_cloud,
                "floor_modules": path.floor_modules or "(none: bare interpreter)",
                "handler_s": round(handler, 4),
                "floor_s": round(floor, 4),
                "ratio": round(handler / floor, 2),
                "extra_ms": round((handler - floor) * 1000, 1),
                "handler_import_ms": round(median(s["import"]) * 1000, 1),
                "handler_first_invocation_ms": round(median(s["invoke"]) * 1000, 1),
                "handler_rss_mb": round(median(s["handler_rss"]), 1),
                "floor_rss_mb": round(median(s["floor_rss"]), 1),
                "outcomes": sorted(s["outcomes"]),
                "expected_outcome": path.expect,
                "sdk_imported": [m for m in modules.get("sdk", []) if m.count(".") == 1],
                "jsonschema_imported": modules.get("jsonschema"),
                "yaml_imported": modules.get("yaml"),
            }
        )
    return report

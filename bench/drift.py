"""The sg_drift sweep over a large project: ``python -m bench drift [--servers 2000]``.

localcloud runs in its own process, seeded with :func:`bench.workload.build_seed` (the default
seed plus ``--servers`` bench servers with 1-2 interfaces each); the real handler
(``functions/sg_drift/index.py``) runs in this process with a FunctionGraph context of the
template's timeout (900 s) and agency credentials localcloud issued, and sweeps the whole project
(``{"sweep": {}}``, report mode). Reported: servers per second, the listing calls per kind
(pages, not servers: :func:`expected_listing_calls` is the page arithmetic), calls per server,
and the duration against the function's timeout.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from collections import Counter

from .support import LocalCloudProcess, Workdir

__all__ = ["run_drift", "render_drift", "listing_kind", "expected_listing_calls", "FUNCTION_TIMEOUT_S"]

FUNCTION_TIMEOUT_S = 900  # template.yaml: sg_drift's timeout
SERVER_PAGE, PORT_PAGE, GROUP_PAGE = 1000, 2000, 2000  # shared.cloud.inventory


def listing_kind(entry: dict) -> str | None:
    """Which listing a localcloud request-log entry is (None: not a listing)."""
    if entry["method"] != "GET":
        return None
    path = entry["path"].split("?", 1)[0]
    for suffix, kind in (
        ("/cloudservers/detail", "servers"),
        ("/ports", "ports"),
        ("/vpc/security-groups", "security_groups"),
        ("/vpc/security-group-rules", "security_group_rules"),
    ):
        if path.endswith(suffix):
            return kind
    return "other"


def _pages(items: int, size: int, *, short_last: bool) -> int:
    """Calls to list ``items`` in pages of ``size``. ``short_last``: the listing stops at a short
    page, so an exact multiple costs one more (empty) call; otherwise it knows the total."""
    if short_last:
        return items // size + 1
    return max(1, math.ceil(items / size))


def expected_listing_calls(servers: int, ports: int, groups: int, rules: int, server_page: int = SERVER_PAGE) -> dict:
    """The page arithmetic of one whole sweep (shared.cloud.inventory): ECS stops at a short page or
    when ``count`` is reached; ports stop at a short page; v3 listings follow ``next_marker``."""
    return {
        "servers": _pages(servers, server_page, short_last=False),
        "ports": _pages(ports, PORT_PAGE, short_last=True),
        "security_groups": _pages(groups, GROUP_PAGE, short_last=False),
        "security_group_rules": _pages(rules, GROUP_PAGE, short_last=False),
    }


def load_handler():
    from .support import load_handler as load

    return load("sg_drift")


def sweep_once(cloud, *, timeout_s: float = FUNCTION_TIMEOUT_S, **user_data: str) -> tuple[dict, float, list[dict]]:
    """One sweep by the real handler against ``cloud``: (response, seconds, request-log entries)."""
    from localcloud.runtime import FunctionContext

    control = getattr(cloud, "control", cloud)  # a LocalCloudProcess's control client, or a LocalCloud
    credentials = control.temporary_credentials(cloud.project_id)
    data = {
        "REGION": cloud.region,
        "PROJECT_ID": cloud.project_id,
        "ECS_ENDPOINT": cloud.url,
        "VPC_ENDPOINT": cloud.url,
        "POLICY_FILE": "policy.yaml",
        "PROTECTED_GROUPS": "baseline",
        **user_data,
    }
    context = FunctionContext(
        user_data=data,
        ak=credentials["ak"],
        sk=credentials["sk"],
        security_token=credentials["security_token"],
        timeout_s=timeout_s,
        function_name="sg_drift",
    )
    requests = control.requests()
    since = requests[-1]["seq"] if requests else 0
    handler = load_handler()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # one log line per server: not what is measured
        response = handler({"sweep": {}}, context)
    seconds = time.perf_counter() - started
    return response, seconds, control.requests(since)


def run_drift(servers: int = 2000, *, latency_ms: int = 0) -> dict:
    from .workload import build_seed

    base = len(build_seed(0)[0]["projects"][0].get("servers", []))  # the default seed's own servers
    document, _ = build_seed(max(0, servers - base))  # ``servers`` in the whole project
    work = Workdir()
    try:
        with LocalCloudProcess(work, latency_ms=latency_ms, seed=document) as cloud:
            state = cloud.control.state()["projects"][cloud.project_id]
            counts = {
                "servers": len(state["ecs"]["servers"]),
                "ports": len(state["vpc"]["ports"]),
                "groups": len(state["vpc"]["security_groups"]),
                "rules": sum(len(g.get("rules") or []) for g in state["vpc"]["security_groups"]),
            }
            sweep_once(cloud)  # warm: imports, connections (a warm instance, as the hourly timer meets)
            response, seconds, log = sweep_once(cloud)
    finally:
        work.close()
    summary = response["results"][-1]["data"]["summary"]
    calls = Counter(kind for kind in map(listing_kind, log) if kind)
    expected = expected_listing_calls(counts["servers"], counts["ports"], counts["groups"], counts["rules"])
    return {
        "servers": summary["servers"],
        "interfaces": summary["interfaces"],
        "project": counts,
        "seconds": round(seconds, 3),
        "servers_per_s": round(summary["servers"] / seconds, 1) if seconds else None,
        "listing_calls": dict(calls),
        "expected_listing_calls": expected,
        "calls_per_server": round(sum(calls.values()) / max(1, summary["servers"]), 4),
        "timeout_s": FUNCTION_TIMEOUT_S,
        "timeout_share": round(seconds / FUNCTION_TIMEOUT_S, 4),
        "outcomes": summary["outcomes"],
        "findings_by_kind": summary["findings_by_kind"],
        "complete": summary["complete"],
        "latency_ms": latency_ms,
    }


def render_drift(report: dict) -> str:
    calls, expected = report["listing_calls"], report["expected_listing_calls"]
    rows = [
        f"  {kind:<22} {calls.get(kind, 0):>4}  (page arithmetic: {expected.get(kind, '-')})"
        for kind in ("servers", "ports", "security_groups", "security_group_rules", "other")
        if calls.get(kind) or kind in expected
    ]
    return "\n".join(
        [
            f"sg_drift sweep: {report['servers']} servers, {report['interfaces']} interfaces "
            f"({report['latency_ms']} ms injected per call), report mode, warm instance",
            f"  duration               {report['seconds']:>8} s  = {100 * report['timeout_share']:.2f}% of the "
            f"{report['timeout_s']} s function timeout",
            f"  servers per second     {report['servers_per_s']:>8}",
            f"  API calls per server   {report['calls_per_server']:>8}  (listings only: pages, not servers)",
            "  listing calls:",
            *rows,
            f"  outcomes               {report['outcomes']}",
            f"  findings by kind       {report['findings_by_kind']}",
            f"  complete               {report['complete']}",
        ]
    )

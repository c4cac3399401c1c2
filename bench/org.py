"""The organisation sweep on localcloud's runtime: ``python -m bench org [--members 19 --servers 500]``.

One localcloud (cn-north-4) with the FunctionGraph runtime (every invocation a ``python`` process,
warm instances, the function's maximum instances = template.yaml's ``strategy_config.concurrency``),
the template deployed with ``sgguard deploy`` and a Redis store; the home account plus ``members``
member accounts (agency ``sgguard-member`` trusting the home account), one project each with
``servers`` servers, so ``members + 1`` targets. Seeding goes through one seed document straight
into localcloud's state (no API call per server).

The timer fires once; the bench waits for the organisation summary and reports: total time (timer
to organisation summary), API calls per server (every request localcloud logged), assume calls per
target, peak concurrent sg_drift instances (overlap of the executions), every target's summary.
The runtime test (tests/runtime/test_org_sweep.py) runs the same with a few small targets.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from typing import Any

__all__ = ["org_seed", "OrgCloud", "run_org", "render_org", "member_id", "MEMBER_AGENCY", "template_max_instances"]

REGION = "cn-north-4"
MEMBER_AGENCY = "sgguard-member"
HOME_DOMAIN = "d0d0d0d0d0d0400080000000000000a1"  # localcloud's default seed's account (core/accounts.py)
_SUBNET = {"name": "subnet-org", "cidr": "10.8.0.0/16"}


def member_id(index: int) -> str:
    return f"{index + 0x60:02x}" + "e" * 30


def member_project(index: int) -> str:
    return f"{index + 0x60:02x}" + "c" * 30


def template_max_instances(function: str = "sg_drift") -> int:
    """The function's maximum instances: ``strategy_config.concurrency`` in template.yaml."""
    import yaml

    from .support import ROOT

    document = yaml.safe_load((ROOT / "template.yaml").read_text(encoding="utf-8"))
    spec = next(f for f in document["functions"] if f["func_name"] == function)
    return int(spec["strategy_config"]["concurrency"])


def _servers(prefix: int, count: int) -> list[dict]:
    return [
        {
            "id": f"{prefix:02x}{n:06x}-0000-4000-8000-000000000001",
            "name": f"org-{prefix:02x}-{n:05d}",
            "status": "ACTIVE",
            # an explicit address: localcloud's next-free-address scan is linear per port
            "nics": [
                {
                    "subnet": "subnet-org",
                    "ip_address": f"10.8.{10 + n // 250}.{1 + n % 250}",
                    "security_groups": ["default"],
                }
            ],
        }
        for n in range(count)
    ]


def _project(project_id: str, domain_id: str, prefix: int, servers: int) -> dict:
    return {
        "id": project_id,
        "name": REGION,
        "domain_id": domain_id,
        "vpcs": [
            {
                "id": f"{prefix:02x}000000-0000-4000-8000-00000000000a",
                "name": "vpc-org",
                "cidr": "10.0.0.0/8",
                "subnets": [{"id": f"{prefix:02x}000000-0000-4000-8000-00000000000b", **_SUBNET}],
            }
        ],
        "security_groups": [{"id": f"{prefix:02x}000000-0000-4000-8000-00000000000c", "name": "baseline"}],
        "servers": _servers(prefix, servers),
    }


def org_seed(
    members: int, servers: int, *, no_agency: tuple[int, ...] = (), wrong_external_id: tuple[int, ...] = ()
) -> dict:
    """localcloud's default seed (its first project the home project, ``servers`` more servers in
    it) plus ``members`` member accounts with a project of ``servers`` servers each. Members in
    ``no_agency`` have no agency; those in ``wrong_external_id`` expect another external id."""
    from localcloud.seed import default_seed

    document = default_seed()
    home = document["projects"][0]
    home["domain_id"] = HOME_DOMAIN
    home.setdefault("vpcs", []).append(_project("", "", 0xFE, 0)["vpcs"][0])
    home["servers"] = [*home.get("servers", []), *_servers(0xFE, servers)]
    accounts: list[dict[str, Any]] = [{"domain_id": HOME_DOMAIN, "name": "home"}]
    for index in range(members):
        account: dict[str, Any] = {"domain_id": member_id(index), "name": f"member-{index:02d}"}
        if index not in no_agency:
            external = "ext-other-000" if index in wrong_external_id else f"ext-{index:02d}-0000"
            agency = {"name": MEMBER_AGENCY, "trusted_domain_id": HOME_DOMAIN, "external_id": external}
            account["agencies"] = [agency]
        accounts.append(account)
        document["projects"].append(_project(member_project(index), member_id(index), index, servers))
    document["accounts"] = accounts
    document["settings"] = {**document.get("settings", {}), "build_delay_ms": 0}
    return document


def targets_setting(members: int) -> str:
    accounts = [
        {"domain_id": member_id(i), "name": f"member-{i:02d}", "external_id": f"ext-{i:02d}-0000"}
        for i in range(members)
    ]
    defaults = {"agency": MEMBER_AGENCY, "regions": [REGION], "projects": "all"}
    return json.dumps({"defaults": defaults, "accounts": accounts})


class OrgCloud:
    """localcloud + runtime + Redis + the deployed template, sg_drift set up for TARGETS."""

    def __init__(
        self,
        seed: dict,
        members: int,
        *,
        max_instances: int | None = None,
        build_dir: Any = None,
        redis_url: str | None = None,
        function_max_instances: int | None = None,
    ):
        from localcloud.redis_server import RedisServer
        from localcloud.runtime import start
        from sgguard_cli.localenv import LocalEnv

        self.members = members
        self.max_instances = function_max_instances or template_max_instances()
        self.redis = None if redis_url else RedisServer()  # a test passes its fixture's
        if self.redis is not None and self.redis.can_stop and self.redis.process is None:
            self.redis.start()
        store = redis_url or (self.redis.url if self.redis else "")
        started = time.perf_counter()
        cap = max_instances or template_max_instances() + 2  # room beside sg_drift's own cap
        self.cloud = start(seed=seed, runtime_options={"warm": True, "max_instances": cap})
        self.seed_s = round(time.perf_counter() - started, 2)
        self.env = LocalEnv(self.cloud, "", "")
        self.env.prepare(build_delay_ms=0)
        self.env.deploy(build_dir=build_dir, IDEMPOTENCY_STORE_URL=store, RESULT_SINKS='[{"type": "log"}]')
        self._configure(targets_setting(members), function_max_instances)

    def _configure(self, targets: str, max_instances: int | None) -> None:
        """sg_drift's user data with TARGETS and the SDK endpoints of STS and IAM (through the SDK's
        own variables); three unused keys dropped (user data holds at most 20). ``max_instances``:
        the function's maximum instances instead of the template's (``strategy_config``)."""
        from huaweicloudsdkfunctiongraph.v2 import (
            FunctionGraphClient,
            ShowFunctionConfigRequest,
            StrategyConfig,
            UpdateFunctionConfigRequest,
            UpdateFunctionConfigRequestBody,
        )

        fgs = self.env.client(FunctionGraphClient)
        cloud = self.cloud
        urn = f"urn:fss:{cloud.region}:{cloud.project_id}:function:default:sg_drift:latest"
        config = fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
        data = json.loads(config.user_data or "{}")
        for unused in ("WEBHOOK_URLS", "EG_ENDPOINT", "SMN_ENDPOINT"):
            data.pop(unused, None)
        data.update(
            TARGETS=targets,
            STS_ENDPOINT=cloud.url,
            HUAWEICLOUD_SDK_REGION_IAM_CN_NORTH_4=cloud.url,
        )
        body = UpdateFunctionConfigRequestBody(
            func_name="sg_drift",
            runtime=config.runtime,
            handler=config.handler,
            memory_size=config.memory_size,
            timeout=config.timeout,
            user_data=json.dumps(data),
            encrypted_user_data=config.encrypted_user_data,
            strategy_config=StrategyConfig(concurrency=max_instances, concurrent_num=1) if max_instances else None,
        )
        fgs.update_function_config(UpdateFunctionConfigRequest(function_urn=urn, body=body))

    def sweep(self, timeout_s: float = 900.0) -> dict:
        """Fire the timer; wait for the organisation summary; the figures."""
        backend = self.cloud.backend
        since = max((e["seq"] for e in backend.requests()), default=0)
        started = time.perf_counter()
        fired = self.cloud._call("POST", "functiongraph/timers/fire", {"name": "sgguard_sg_drift_sweep"})
        assert fired, "the sweep's timer did not fire"

        def organisation() -> dict | None:
            for result in self.env.results("sg_drift"):
                if (result["data"].get("summary") or {}).get("kind") == "organisation":
                    return result["data"]
            return None

        summary = self.env.wait_for(organisation, timeout_s, interval_s=0.25)
        seconds = round(time.perf_counter() - started, 2)
        self.cloud.runtime.wait_idle(60)
        if summary is None:
            raise RuntimeError(f"no organisation summary within {timeout_s} s")
        return self._figures(summary, seconds, backend.requests(since))

    def _figures(self, organisation: dict, seconds: float, requests: list[dict]) -> dict:
        results = [r["data"] for r in self.env.results("sg_drift")]
        targets = [
            r
            for r in results
            if (r.get("summary") or {}).get("kind") == "target" and r["outcome"] == "summary" and r.get("target")
        ]
        servers = sum(int(r["summary"].get("servers") or 0) for r in targets)
        assumes = [e for e in requests if e.get("route") == "POST /v5/agencies/assume"]
        listings = [e for e in requests if e.get("route") == "GET /v3/projects"]
        executions = list(self.env.executions(function="sg_drift"))
        plans = {e["request_id"] for e in executions if str(e.get("source", "")).startswith("trigger:TIMER")}
        with self.cloud.backend.lock:
            sessions = [c.session_name or "" for c in self.cloud.backend.credentials.values() if c.session_name]
        planning = sum(1 for name in sessions if any(rid in name for rid in plans))
        members = [r for r in targets if not r["target"]["home"]]
        return {
            "targets": organisation["summary"]["targets"],
            "servers": servers,
            "seconds": seconds,
            "api_calls": len(requests),
            "calls_per_server": round(len(requests) / servers, 4) if servers else None,
            "assume_calls": len(assumes),
            "assume_calls_planning": planning,
            "assume_calls_per_member_target": round((len(sessions) - planning) / max(1, len(members)), 2),
            "project_listings": len(listings),
            "invocations": len(executions),
            "peak_instances": peak_overlap(executions),
            "max_instances": self.max_instances,
            "cold_starts": sum(1 for e in executions if e.get("cold_start")),
            "outcomes": dict(Counter(r["outcome"] for r in results)),
            "failed_targets": organisation["summary"]["failed"],
            "complete_targets": len(organisation["summary"]["complete"]),
            "per_target": [
                {
                    "target": r["target"]["account"] or "home",
                    "servers": r["summary"]["servers"],
                    "calls": r["summary"]["api_calls"]["total"],
                    "duration_s": r["summary"]["duration_s"],
                }
                for r in targets
            ],
        }

    def stop(self) -> None:
        self.cloud.stop()
        if self.redis is not None and self.redis.can_stop:
            self.redis.close()


def peak_overlap(executions: list[dict]) -> int:
    """The most handlers running at one moment: each execution's handler time is the end of its
    record (``started_at`` + ``duration_ms`` includes waiting for a free instance; ``handler_ms``
    is the handler's own)."""
    points: list[tuple[float, int]] = []
    for execution in executions:
        start = datetime.fromisoformat(execution["started_at"].replace("Z", "+00:00")).timestamp()
        end = start + execution["duration_ms"] / 1000
        handler_s = (execution.get("handler_ms") or execution["duration_ms"]) / 1000
        points += [(end - handler_s, 1), (end, -1)]
    peak = running = 0
    for _, step in sorted(points, key=lambda p: (p[0], p[1])):
        running += step
        peak = max(peak, running)
    return peak


def run_org(members: int = 19, servers: int = 500) -> dict:
    started = time.perf_counter()
    seed = org_seed(members, servers)
    seed_built_s = round(time.perf_counter() - started, 2)
    org = OrgCloud(seed, members)
    try:
        figures = org.sweep()
    finally:
        org.stop()
    seeding = {"seed_build_s": seed_built_s, "seed_load_s": org.seed_s}
    return {"members": members, "servers_per_target": servers, **seeding, **figures}


def render_org(report: dict) -> str:
    lines = [
        f"sg_drift organisation sweep: {report['targets']} targets x {report['servers_per_target']} servers "
        f"({report['servers']} servers), localcloud runtime, Redis store, report mode",
        f"  seeding                {round(report['seed_build_s'] + report['seed_load_s'], 2):>8} s  "
        "(document + load into state)",
        f"  total time             {report['seconds']:>8} s  (timer -> organisation summary)",
        f"  API calls              {report['api_calls']:>8}",
        f"  calls per server       {report['calls_per_server']:>8}",
        f"  assume calls           {report['assume_calls']:>8}  ({report['assume_calls_planning']} by the plan, one "
        f"per account for its project listing; {report['assume_calls_per_member_target']} per member target's sweep)",
        f"  project listings       {report['project_listings']:>8}",
        f"  invocations            {report['invocations']:>8}  (plan + one per target + continuations)",
        f"  peak instances         {report['peak_instances']:>8}  (maximum instances: {report['max_instances']})",
        f"  cold starts            {report['cold_starts']:>8}",
        f"  outcomes               {report['outcomes']}",
        f"  complete targets       {report['complete_targets']}, failed: {report['failed_targets']}",
    ]
    return "\n".join(lines)

"""The demo's drift step: a console-style change is detected, repaired in enforce mode, and reported.

Someone with console access detaches the baseline group from web-01 (a VPC v3 remove-security-
groups call made with a user's keys, not sgguard's agency). localcloud records the CTS trace, its
trigger runs sg_drift, which reports ``drift_detected`` (``DRIFT_MODE=report``, the default). Then
sg_drift is switched to ``enforce`` and asked about web-01 again: it puts the baseline back at its
position (one insert) and answers ``repaired``. Last, ``sgguard report`` writes the HTML, JSON and
CSV report of the project and, with the demo's TARGETS, of the second account (demo_member.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["drift_detected_and_repaired"]


def _groups_of(env: Any, server_id: str) -> list[list[str]]:
    state = env.cloud.state()["projects"][env.cloud.project_id]["vpc"]
    names = {sg["id"]: sg["name"] for sg in state["security_groups"]}
    return [[names.get(g, g) for g in p["security_groups"]] for p in state["ports"] if p["device_id"] == server_id]


def _drift_result(env: Any, server_id: str, outcome: str, timeout: float) -> dict:
    def found() -> list[dict] | None:
        hits = [
            r["data"]
            for r in env.results("sg_drift")
            if r["data"].get("server_id") == server_id and r["data"].get("outcome") == outcome
        ]
        return hits or None

    return (env.wait_for(found, timeout) or [{}])[-1]


def drift_detected_and_repaired(
    env: Any,
    web_01: str,
    checks: Any,
    out: Callable[[str], None],
    stamp: Callable[[], str],
    timeout: float,
    deploy_overrides: dict[str, str],
    targets: str | None = None,
) -> None:
    from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient, InvokeFunctionRequest
    from huaweicloudsdkvpc.v3 import (
        RemoveSecurityGroupOption,
        RemoveSecurityGroupsRequest,
        RemoveSecurityGroupsRequestBody,
        VpcClient,
    )

    from ..main import main as sgguard

    state = env.cloud.state()["projects"][env.cloud.project_id]["vpc"]
    baseline = next(g["id"] for g in state["security_groups"] if g["name"] == "baseline")
    port = next(p for p in state["ports"] if p["device_id"] == web_01 and baseline in p["security_groups"])
    out(f"{stamp()} drift: someone detaches baseline from web-01 in the console (VPC API, a user's keys)")
    env.client(VpcClient).remove_security_groups(
        RemoveSecurityGroupsRequest(
            port_id=port["id"],
            body=RemoveSecurityGroupsRequestBody(port=RemoveSecurityGroupOption(security_groups=[baseline])),
        )
    )
    out(f"    web-01 now: {' > '.join(_groups_of(env, web_01)[0])}")
    detected = _drift_result(env, web_01, "drift_detected", timeout)
    kinds = sorted({f.get("kind", "?") for f in detected.get("findings") or []})
    out(f"    sg_drift (CTS trigger, DRIFT_MODE=report) -> {detected.get('outcome', 'no result')} {', '.join(kinds)}")
    checks.check(detected.get("outcome") == "drift_detected", "drift: the console detach is detected (drift_detected)")

    out(f"{stamp()} drift: sg_drift switched to DRIFT_MODE=enforce (sgguard deploy), asked about web-01 again")
    env.deploy(out=lambda line: None, **{**deploy_overrides, "DRIFT_MODE": "enforce"})
    urn = env.cloud.state()["projects"][env.cloud.project_id]["functiongraph"]["functions"]["sg_drift"]["func_urn"]
    env.client(FunctionGraphClient).invoke_function(InvokeFunctionRequest(function_urn=urn, body={"server_id": web_01}))
    repaired = _drift_result(env, web_01, "repaired", timeout)
    after = _groups_of(env, web_01)[0]
    out(f"    sg_drift (enforce) -> {repaired.get('outcome', 'no result')}; web-01 now: {' > '.join(after)}")
    checks.check(
        repaired.get("outcome") == "repaired" and after and after[0] == "baseline",
        f"drift: enforce mode puts baseline back first on web-01 (got {repaired.get('outcome')}, {after})",
    )

    out(f"{stamp()} report: sgguard report --out build/demo-report{' --targets env' if targets else ''}")
    lines: list[str] = []
    environ = {
        "HUAWEICLOUD_SDK_AK": env.cloud.ak,
        "HUAWEICLOUD_SDK_SK": env.cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": env.cloud.project_id,
        "REGION": env.cloud.region,
        "PROTECTED_GROUPS": "baseline",
        **({"TARGETS": targets} if targets else {}),  # the second account too (demo_member.py)
    }
    argv = ["report", "--endpoint", env.cloud.url, "--out", "build/demo-report"]
    argv += ["--targets", "env"] if targets else []
    code = sgguard(argv, environ, out=lines.append)
    for line in lines:
        out("    " + line)
    checks.check(
        code == 0 and Path("build/demo-report/report.html").is_file(),
        "report: build/demo-report/report.html, report.json, report.csv written",
    )
    if targets:
        import json

        sections = json.loads(Path("build/demo-report/report.json").read_text(encoding="utf-8")).get("targets") or []
        evaluated = {s["account_name"] for s in sections if s["status"] != "not_evaluated"}
        checks.check(
            {"security", "shop"} <= evaluated,
            f"report: both accounts evaluated, security (home) and shop (member) (got {sorted(evaluated)})",
        )

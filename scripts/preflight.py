#!/usr/bin/env python3
"""Preflight: read-only checks before the first deploy (and after a change of agency or policy).

    .venv/bin/python scripts/preflight.py --server SERVER_ID [--endpoint URL] [--policy policy.yaml]
                                          [--template template.yaml] [--json]

Credentials and project: HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID (and
HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary ones). REGION (default cn-north-4), PROTECTED_GROUPS,
ALLOWED_GROUPS and RISKY_PORTS come from the environment, else template.yaml's defaults.
``--endpoint`` points ECS, VPC and FunctionGraph at one URL (localcloud); otherwise ECS_ENDPOINT,
VPC_ENDPOINT, FUNCTIONGRAPH_ENDPOINT or the region's public endpoints. Prints a ✓/✗ table with the
fix for each ✗ (``--json``: the same as JSON). Never writes: the only non-GET call is a v3
insert-security-groups ``dry_run``. Exit status: 0 every check passed, 1 one failed, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["main", "preflight_input"]


def _template_facts(path: Path, environ: Mapping[str, str]) -> tuple[dict, dict]:
    """(parameter defaults, functions to check) read from the raw template: preflight needs no
    deploy parameter to be set."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    defaults = {name: str(spec.get("default")) for name, spec in (document.get("parameters") or {}).items()
                if isinstance(spec, dict) and spec.get("default") is not None}
    functions = {}
    for function in document.get("functions") or []:
        triggers = [{"trigger_type_code": t["trigger_type_code"]} for t in function.get("triggers") or []
                    if not t.get("when") or (environ.get(t["when"][2:-1]) if str(t["when"]).startswith("${")
                                             else t["when"])]
        functions[function["func_name"]] = {"package": function.get("package", "default"), "triggers": triggers}
    return defaults, functions


def preflight_input(args, environ: Mapping[str, str]):
    from scripts.deployer.api import build_client
    from scripts.deployer.preflight import PreflightInput
    from shared.cloud.clients import AgencyCredentials
    from shared.config import _list
    from shared.policy import PolicyError, parse_policy

    missing = [n for n in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID")
               if not environ.get(n)]
    if missing:
        raise SystemExit(f"preflight: set {', '.join(missing)}")
    defaults, functions = _template_facts(Path(args.template), environ)

    def setting(name: str, fallback: str) -> str:
        return environ.get(name) or defaults.get(name) or fallback

    region = environ.get("REGION") or defaults.get("REGION") or "cn-north-4"
    credentials = AgencyCredentials(environ["HUAWEICLOUD_SDK_AK"], environ["HUAWEICLOUD_SDK_SK"],
                                    environ.get("HUAWEICLOUD_SDK_SECURITY_TOKEN") or None,
                                    environ["HUAWEICLOUD_SDK_PROJECT_ID"])

    def endpoint(service: str, variable: str) -> str:
        return args.endpoint or environ.get(variable) or f"https://{service}.{region}.myhuaweicloud.com"

    fgs_endpoint = endpoint("functiongraph", "FUNCTIONGRAPH_ENDPOINT")
    policy, policy_error = None, ""
    try:
        policy = parse_policy(Path(args.policy).read_text(encoding="utf-8"), args.policy)
    except OSError as error:
        policy_error = f"{args.policy}: {error.strerror}"
    except PolicyError as error:
        policy_error = "; ".join(f"{d.path}: {d.message}" for d in error.errors)
    return PreflightInput(
        region=region, credentials=credentials, ecs_endpoint=endpoint("ecs", "ECS_ENDPOINT"),
        vpc_endpoint=endpoint("vpc", "VPC_ENDPOINT"), functiongraph_endpoint=fgs_endpoint,
        policy=policy, policy_error=policy_error, server_id=args.server,
        protected_groups=tuple(_list("PROTECTED_GROUPS", setting("PROTECTED_GROUPS", ""), ())),
        allowed_groups=tuple(_list("ALLOWED_GROUPS", setting("ALLOWED_GROUPS", "*"), ("*",))),
        risky_ports=tuple(int(p) for p in _list("RISKY_PORTS", setting("RISKY_PORTS", "22,3389"), (22, 3389))),
        functions=functions,
        functiongraph_client=build_client(credentials.ak, credentials.sk, credentials.project_id, fgs_endpoint,
                                          credentials.security_token))


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None, out=print) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", help="id of one server the functions will manage (read, and a dry-run write)")
    parser.add_argument("--endpoint", help="one URL for ECS, VPC and FunctionGraph (e.g. localcloud's)")
    parser.add_argument("--policy", default=str(ROOT / "policy.yaml"))
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ

    from scripts.deployer.preflight import render, run_preflight, to_json

    checks = run_preflight(preflight_input(args, environ))
    out(to_json(checks) if args.json else render(checks))
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``sgguard preflight``: read-only checks before the first deploy (and after a change of agency
or policy)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "preflight_input"]

SUMMARY = "read-only checks with your credentials before deploying: groups, policy, a server, permissions"
DETAILS = f"""
{CREDENTIALS_HELP}. PROTECTED_GROUPS, ALLOWED_GROUPS, RISKY_PORTS and REGION come from the
environment, else template.yaml's defaults. --endpoint points ECS, VPC and FunctionGraph at one URL
(localcloud); otherwise $ECS_ENDPOINT, $VPC_ENDPOINT, $FUNCTIONGRAPH_ENDPOINT or the region's public
endpoints (CTS: $CTS_ENDPOINT). Prints a ✓/✗ table with the fix for each ✗ and each warning (!).
Never writes: the only non-GET call is a v3 insert-security-groups dry_run (which proves the
request well-formed, not that IAM grants the write). Also checks the template's CTS triggers
(region, trace names against CTS ListOperations, a CTS tracker), warns about function VPC access
without NAT, and that the resources the settings name exist: KAFKA_INSTANCE_ID (RUNNING, with
KAFKA_TOPIC), ALERT_TOPIC_URN, SMN_TOPIC_URN and the smn sinks of RESULT_SINKS (DMS ShowInstance /
ListInstanceTopics, SMN ListTopics, CTS ListTrackers; $KAFKA_ENDPOINT, $SMN_ENDPOINT).
Exit status: 0 every check passed (warnings included), 1 one failed, 2 usage, 3 credentials.
"""
EPILOG = """
examples:
  sgguard preflight --server SERVER_ID
  sgguard preflight --server c0000000-0000-4000-8000-000000000001 --endpoint $LOCALCLOUD_URL --json
"""


def add_arguments(parser) -> None:
    parser.add_argument("--server", help="id of one server the functions will manage (read, and a dry-run write)")
    parser.add_argument("--policy", help="the ecs_created policy (default: policy.yaml of the project)")
    parser.add_argument("--template", help="the deployment descriptor (default: template.yaml of the project)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_cloud_arguments(parser, endpoint_help="one URL for ECS, VPC, FunctionGraph and CTS (e.g. localcloud's)")


def _template_facts(path: Path, environ: Mapping[str, str]) -> tuple[dict, dict]:
    """(parameter defaults, functions to check) read from the raw template: preflight needs no
    deploy parameter to be set."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    defaults = {
        name: str(spec.get("default"))
        for name, spec in (document.get("parameters") or {}).items()
        if isinstance(spec, dict) and spec.get("default") is not None
    }

    def resolve(value: object) -> str:
        """``${NAME}`` from the environment, else the parameter's default, else empty."""
        return re.sub(r"\$\{([^}]*)\}", lambda m: environ.get(m.group(1)) or defaults.get(m.group(1), ""), str(value))

    functions = {}
    for function in document.get("functions") or []:
        triggers = [
            {"trigger_type_code": t["trigger_type_code"], "operations": (t.get("event_data") or {}).get("operations")}
            for t in function.get("triggers") or []
            if not t.get("when") or (environ.get(t["when"][2:-1]) if str(t["when"]).startswith("${") else t["when"])
        ]
        vpc = {key: resolve(value) for key, value in (function.get("func_vpc") or {}).items()}
        functions[function["func_name"]] = {
            "package": function.get("package", "default"),
            "triggers": triggers,
            "func_vpc": vpc if vpc.get("vpc_id") else None,
        }
    return defaults, functions


def preflight_input(args, environ: Mapping[str, str]):
    from shared.cloud.clients import AgencyCredentials
    from shared.config import _list
    from shared.flows.policy import PolicyError, parse_policy

    from ..deployer.api import build_client
    from ..deployer.cts import CtsApi, build_cts_client
    from ..deployer.preflight import PreflightInput
    from ..project import project_root

    if args.template and args.policy:
        template_path, policy_path = Path(args.template), args.policy
    else:
        root = project_root(environ=environ)
        template_path = Path(args.template) if args.template else root / "template.yaml"
        policy_path = args.policy or str(root / "policy.yaml")
    defaults, functions = _template_facts(template_path, environ)

    def setting(name: str, fallback: str) -> str:
        return environ.get(name) or defaults.get(name) or fallback

    target = cloud_target(args, environ, region_fallback=defaults.get("REGION"))
    required = target.required_credentials()
    ak, sk, project_id, token = required.ak, required.sk, required.project_id, required.security_token
    credentials = AgencyCredentials(ak, sk, token, project_id)
    fgs_endpoint = target.endpoint("functiongraph")
    policy, policy_error = None, ""
    try:
        policy = parse_policy(Path(policy_path).read_text(encoding="utf-8"), policy_path)
    except OSError as error:
        policy_error = f"{policy_path}: {error.strerror}"
    except PolicyError as error:
        policy_error = "; ".join(f"{d.path}: {d.message}" for d in error.errors)
    return PreflightInput(
        region=target.region,
        credentials=credentials,
        ecs_endpoint=target.endpoint("ecs"),
        vpc_endpoint=target.endpoint("vpc"),
        functiongraph_endpoint=fgs_endpoint,
        policy=policy,
        policy_error=policy_error,
        server_id=args.server,
        protected_groups=tuple(_list("PROTECTED_GROUPS", setting("PROTECTED_GROUPS", ""), ())),
        allowed_groups=tuple(_list("ALLOWED_GROUPS", setting("ALLOWED_GROUPS", "*"), ("*",))),
        risky_ports=tuple(int(p) for p in _list("RISKY_PORTS", setting("RISKY_PORTS", "22,3389"), (22, 3389))),
        risky_max_public=_public_thresholds(setting),
        functions=functions,
        functiongraph_client=build_client(ak, sk, project_id, fgs_endpoint, token),
        cts_api=CtsApi(build_cts_client(ak, sk, project_id, target.endpoint("cts"), token)),
    )


def _public_thresholds(setting) -> tuple[int, int]:
    """RISKY_MAX_PUBLIC_IPV4 / _IPV6 (and the old RISKY_MAX_ADDRESSES), parsed by shared.config."""
    from shared.config import load_settings

    names = ("RISKY_MAX_PUBLIC_IPV4", "RISKY_MAX_PUBLIC_IPV6", "RISKY_MAX_ADDRESSES")
    settings = load_settings(None, {name: setting(name, "") for name in names if setting(name, "")})
    return settings.risky_max_public_ipv4, settings.risky_max_public_ipv6


def resource_checks(args, environ: Mapping[str, str]) -> list:
    """The configured resources exist (:mod:`sgguard_cli.deployer.preflight_resources`)."""
    from ..deployer.preflight import Check
    from ..deployer.preflight_resources import check_resources
    from ..deployer.prereq_api import PrerequisiteApi
    from ..project import project_root

    template_path = Path(args.template) if args.template else project_root(environ=environ) / "template.yaml"
    defaults, functions = _template_facts(template_path, environ)
    target = cloud_target(args, environ, region_fallback=defaults.get("REGION"))
    names = ("KAFKA_INSTANCE_ID", "KAFKA_TOPIC", "ALERT_TOPIC_URN", "SMN_TOPIC_URN", "RESULT_SINKS")
    values = {name: environ.get(name) or defaults.get(name, "") for name in names}
    cts = any(t["trigger_type_code"] == "CTS" for f in functions.values() for t in f["triggers"])
    project_id = target.required_credentials().project_id
    return check_resources(
        PrerequisiteApi(target), values, region=target.region, project_id=project_id, cts_triggers=cts, check=Check
    )


_TARGET_FIXES = {
    "AGENCY_MISSING": "create the member agency in that account (docs/organisation.md, member-side setup)",
    "ACCESS_DENIED": "check the agency's trust (the home account), its external id and sts:agencies:assume",
    "DISCOVERY_FAILED": "call from the management account or a delegated administrator (organizations:accounts:list)",
    "TARGET_NOT_ALLOWED": "the account has no project there: fix its regions / projects in TARGETS",
}


def target_checks(args, environ: Mapping[str, str]) -> list:
    """With TARGETS (or TARGETS_FILE): one check per target, as ``sgguard targets --check``."""
    import argparse

    from shared.targets import TargetsError

    from ..deployer.preflight import Check
    from ..errors import UsageError
    from ..targets_check import check_targets, endpoint_environment
    from .targets import _document, _home_run

    if not (environ.get("TARGETS") or environ.get("TARGETS_FILE")):
        return []
    target = cloud_target(args, environ)
    try:
        document, _source = _document(argparse.Namespace(file=None), environ)
        home = _home_run(document, target.region, target.endpoint_override, environ)
    except (UsageError, TargetsError) as error:
        return [Check("TARGETS", False, str(error), "sgguard targets shows every problem with its JSON path")]
    with endpoint_environment(target.endpoint_override, {target.region}):
        checked = check_targets(home.settings.targets, home, endpoint_override=target.endpoint_override)
    checks = []
    if checked["discovery"] is not None:
        found = checked["discovery"]
        checks.append(Check("targets discovery", found["ok"], found["message"], _TARGET_FIXES.get(found["code"], "")))
    for row in checked["targets"][1:]:  # the home project: every other check of this command
        where = " ".join(x for x in (row["region"] or "", row["project_id"] or "") if x) or "every region"
        label = " ".join(x for x in ("target", row["name"] or row["account"][:8], row["region"]) if x)
        detail = f"{row['account']} {where}: {row['message'] if row['ok'] else row['code'] + ': ' + row['message']}"
        checks.append(Check(label, row["ok"], detail, "" if row["ok"] else _TARGET_FIXES.get(row["code"], "")))
    return checks


def run(args, ctx) -> int:
    from ..deployer.preflight import CREDENTIALS_CHECK, render, run_preflight, to_json
    from ..errors import ConfigError

    try:
        checks = run_preflight(preflight_input(args, ctx.environ))
        if not any(check.name == CREDENTIALS_CHECK for check in checks):
            checks += resource_checks(args, ctx.environ)
            checks += target_checks(args, ctx.environ)
    except OSError as error:
        raise ConfigError(f"{error.filename}: {error.strerror}") from None
    ctx.out(to_json(checks) if args.json else render(checks))
    if any(check.name == CREDENTIALS_CHECK and not check.ok for check in checks):
        raise ConfigError("the credentials were refused (HTTP 401): check HUAWEICLOUD_SDK_AK / _SK / _SECURITY_TOKEN")
    return 0 if all(check.ok for check in checks) else 1

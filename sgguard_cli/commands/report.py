"""``sgguard report``: the project's compliance as one HTML page, JSON and CSV."""

from __future__ import annotations

import re
from pathlib import Path

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import ConfigError, Problems, UsageError

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "failures", "printable", "FUNCTION_NAME"]

SUMMARY = "report every server's compliance (verdicts and findings as sg_drift judges them): HTML, JSON, CSV"
DETAILS = f"""
Reads the project with the sg_drift sweep's paged listings (groups and rules, ports, servers) and
judges every server with the sweep's code, in report mode (nothing is written), against --policy
and the guard-rail settings (PROTECTED_GROUPS, RISKY_PORTS, PIN_PROTECTED_FIRST,
MAX_GROUPS_PER_NIC_HARD, DRIFT_REMOVE_RISKY...) of --config: "deployed" (default) reads the
deployed sg_drift's user data through FunctionGraph's ShowFunctionConfig (never its encrypted user
data) - when it is not deployed, the environment, as the output says -; "env" the environment; or
a FILE (a JSON object of user data keys, or KEY=VALUE lines). Region, endpoints and project are the
command's own (--endpoint / $LOCALCLOUD_URL, --region), never the settings'. Each finding comes with
the group names beside their ids and its fix; an interface with port security off is a finding
(port_security_disabled): its groups filter nothing. Writes
OUT/report.html (one self-contained page: summary, then per server and interface the groups in
priority order with their inbound and outbound rules, verdict and findings, exposures highlighted;
filter and sort in the page; printed, every detail is expanded), OUT/report.json (the same data)
and OUT/report.csv (one row per interface). --from-results takes the verdicts of a sweep's result
events (JSON lines) instead of computing them. {CREDENTIALS_HELP}. Exit status: 0 written, 1 written
and --fail-on found what it names (drift: a server not compliant; exposure: an interface exposed;
any: either, or a server that could not be judged), 2 usage, 3 credentials, policy or a failed API
call. With TARGETS (the judging settings', or --targets FILE|env), every target is judged: a
section per account, region and project (compliant, non-compliant, or not evaluated with the code
of the failure: AGENCY_MISSING, ACCESS_DENIED, DISCOVERY_FAILED...), an organisation summary, each
server naming its target; without it the report is the single project's, as always.
"""
EPILOG = """
examples:
  sgguard report --endpoint $LOCALCLOUD_URL --out build/report
  sgguard report --region cn-north-4 --policy policy.yaml --out report      # the deployed settings
  sgguard report --config settings.env --out report                        # PROTECTED_GROUPS=... lines
  sgguard report --from-results sweep-results.jsonl --out report
  sgguard report --endpoint $LOCALCLOUD_URL --fail-on exposure   # a CI gate: exit 1 on any exposure
"""

FAIL_ON = ("drift", "exposure", "any")
FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,59}\Z")


def add_arguments(parser) -> None:
    parser.add_argument("--policy", default="policy.yaml", metavar="FILE", help="the policy (default: policy.yaml)")
    parser.add_argument("--out", default="build/report", metavar="DIR", help="output folder (default: build/report)")
    parser.add_argument(
        "--from-results", metavar="FILE", help="a sweep's result events, one JSON line each: their verdicts"
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 (after writing the report) on drift (a server not compliant), exposure, or any of them",
    )
    parser.add_argument(
        "--config",
        default="deployed",
        metavar="SOURCE",
        help="the judging settings: deployed (the sg_drift function's user data, default), env, or a FILE",
    )
    parser.add_argument(
        "--function", default="sg_drift", metavar="NAME", help="the deployed function to read (default: sg_drift)"
    )
    parser.add_argument(
        "--targets",
        metavar="SOURCE",
        help="organisation scale: TARGETS from a FILE (YAML or JSON) or env (TARGETS / TARGETS_FILE of the "
        "environment) instead of the judging settings' (a section per account, region and project)",
    )
    add_cloud_arguments(parser, endpoint_help="one URL for ECS, VPC and FunctionGraph (e.g. localcloud's)")


def run(args, ctx) -> int:
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.config import ConfigError as SettingError
    from shared.flows.policy import load_policy

    from ..report.collect import collect, make_run, read_results_file
    from ..report.render import write_report
    from ..report.settings import judging_settings

    if not FUNCTION_NAME.match(args.function):  # it goes into the function's URN, in a URL
        raise UsageError(
            f"--function {args.function!r}: a FunctionGraph function name (a letter, then letters, "
            "digits, '_' or '-'; at most 60 characters)"
        )
    policy_path = Path(args.policy)
    if not policy_path.is_file():
        raise UsageError(f"--policy {args.policy}: no such file")
    results = None
    if args.from_results:
        try:
            results = read_results_file(Path(args.from_results))
        except OSError as error:
            raise UsageError(f"--from-results {args.from_results}: {error.strerror or error}") from None
        except ValueError as error:
            raise UsageError(str(error)) from None
    target = cloud_target(args, ctx.environ)
    endpoints = {"ECS_ENDPOINT": target.endpoint("ecs"), "VPC_ENDPOINT": target.endpoint("vpc")}
    sts = target.endpoint_override or ctx.environ.get("STS_ENDPOINT") or ctx.environ.get("HUAWEICLOUD_SDK_STS_ENDPOINT")
    if sts:  # TARGETS: the members' sessions (the CLI's own endpoint, never a function's)
        endpoints["STS_ENDPOINT"] = sts
    try:
        policy = load_policy(None, str(policy_path.resolve()), [])
        judging = judging_settings(args.config, target, ctx.environ, args.function)
        for note in judging.notes:
            ctx.warn(f"note: {note}")
        cloud_run = make_run(
            judging.values, region=target.region, endpoints=endpoints, credentials=target.required_credentials()
        )
        if args.targets:
            cloud_run = _with_targets(cloud_run, args.targets, ctx.environ)
        options: dict = {"results": results, "policy_source": str(args.policy), "settings_source": judging.source}
        if cloud_run.settings.targets is None:
            report = collect(cloud_run, policy, **options)
        else:  # every target: per account / region / project sections (sgguard_cli/report/organisation.py)
            from ..report.organisation import collect_organisation
            from ..targets_check import endpoint_environment

            with endpoint_environment(target.endpoint_override, {target.region}):
                report = collect_organisation(cloud_run, policy, endpoint_override=target.endpoint_override, **options)
    except SettingError as error:
        raise ConfigError(str(error)) from None
    except CloudCallError as error:
        raise ConfigError(error.describe()) from None
    except DeadlineExceeded as error:
        raise ConfigError(f"the project could not be read in time: {error}") from None
    paths = write_report(report, Path(args.out))
    summary = report["summary"]
    kinds = ", ".join(f"{k} {n}" for k, n in summary["findings_by_kind"].items()) or "none"
    ctx.out(
        f"{summary['servers']} servers, {summary['interfaces']} interfaces, {summary['compliant_percent']}% compliant; "
        f"findings: {kinds}; {summary['api_calls']} API calls"
    )
    organisation = report.get("organisation")
    if organisation:
        ctx.out(
            f"{organisation['targets']} targets in {organisation['accounts']} accounts: "
            f"{organisation['compliant']} compliant, {organisation['non_compliant']} non-compliant, "
            f"{organisation['not_evaluated']} not evaluated"
        )
        for missing in organisation["not_evaluated_targets"]:
            where = " ".join(x for x in (missing["region"], missing["project_id"]) if x)
            name = printable(missing["account_name"] or missing["account"] or "")  # Organizations' name: untrusted
            ctx.out(f"  not evaluated: {name} {where} {missing['code']}")
    ctx.out(f"settings: {judging.source}")
    for kind, path in paths.items():
        ctx.out(f"{kind:<5} {path}")
    failing = failures(summary, args.fail_on, organisation)
    if failing:
        raise Problems(f"--fail-on {args.fail_on}: {failing}")
    return 0


def _with_targets(cloud_run, source: str, environ):
    """``--targets``: the document of a file or of the environment, parsed by the functions' own code."""
    import argparse

    from shared import records
    from shared.targets import TargetsError, parse_targets

    from .targets import _MISSING, _document

    document, label = _document(argparse.Namespace(file=None if source == "env" else source), environ)
    if document is _MISSING:
        raise UsageError("--targets env: neither TARGETS nor TARGETS_FILE is set")
    try:
        targets = parse_targets(document, home_region=cloud_run.settings.region)
    except TargetsError as error:
        raise UsageError(f"--targets {label}: {error}") from None
    return records.replace(cloud_run, settings=records.replace(cloud_run.settings, targets=targets))


def printable(text: str) -> str:
    """``text`` with control characters (a terminal escape in an account name) shown as ``\\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def failures(summary: dict, fail_on: str | None, organisation: dict | None = None) -> str:
    """What ``--fail-on`` finds in the report's summary, as one phrase ("" when nothing); with
    TARGETS, ``any`` also fails on a target that could not be evaluated."""
    if not fail_on:
        return ""
    verdicts = summary.get("verdicts") or {}
    found = []
    if fail_on in ("drift", "any") and verdicts.get("drift_detected"):
        found.append(f"{verdicts['drift_detected']} server(s) drifted")
    if fail_on in ("exposure", "any") and summary.get("exposed_interfaces"):
        found.append(f"{summary['exposed_interfaces']} interface(s) exposed")
    if fail_on == "any" and verdicts.get("failed"):
        found.append(f"{verdicts['failed']} server(s) could not be judged")
    if fail_on == "any" and organisation and organisation.get("not_evaluated"):
        found.append(f"{organisation['not_evaluated']} target(s) not evaluated")
    return "; ".join(found)

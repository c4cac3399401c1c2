"""``sgguard targets``: check a TARGETS document and list the targets it resolves to."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "resolve"]

SUMMARY = "check a TARGETS document (organisation scale) and list the accounts, regions and projects it governs"
DETAILS = """
Reads the document the functions would read: FILE (YAML or JSON), else the TARGETS setting (inline
JSON) or TARGETS_FILE from the environment, parsed by the functions' own code (shared/targets.py),
so an error here is the error a deployed function would fail with, each with its JSON path.
Prints the home project (always a target) and every member account: its agency URN, regions,
projects ("all": the account's own project listing decides at run time), exclusions and which
settings it overrides. With discover, the organisation is listed only by --check.

--check also tries each target from the home account (credentials from the environment, as for
every command): Organizations ListAccounts when discover is on, STS AssumeAgency of each member's
agency and, with projects: all, the member's IAM project listing per region; it prints one line
per target (account, region, project) with a check mark, or the code a function would report
(AGENCY_MISSING, ACCESS_DENIED, ASSUME_FAILED, DISCOVERY_FAILED, TARGET_NOT_ALLOWED: no project
there) and why. Nothing is written. Exit status: 0 valid (and, with --check, every target
reachable), 1 invalid or a target not reachable, 2 usage, 3 credentials.
"""
EPILOG = """
examples:
  sgguard targets targets.yaml
  TARGETS="$(cat targets.json)" sgguard targets --json
  sgguard targets targets.yaml --check --endpoint $LOCALCLOUD_URL
"""


def add_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="a TARGETS document (default: the environment)")
    parser.add_argument("--region", help="the home region (default: REGION or HUAWEICLOUD_SDK_REGION, cn-north-4)")
    parser.add_argument("--json", action="store_true", help='print {"valid", "errors": [...], "targets": {...}}')
    parser.add_argument(
        "--check", action="store_true", help="try each target: ListAccounts, AssumeAgency, the project listing"
    )
    parser.add_argument("--endpoint", metavar="URL", help="one URL for every service (e.g. localcloud's)")


def resolve(document: object, source: str, region: str) -> dict:
    """The report for a parsed document (``_MISSING``: nothing to check), by the functions' parser."""
    from shared.targets import TargetsError, parse_targets

    report: dict = {"source": source, "valid": False, "errors": [], "home_region": region, "accounts": []}
    if document is _MISSING:
        report["errors"] = [{"path": "", "message": "no TARGETS document: give FILE, TARGETS or TARGETS_FILE"}]
        return report
    try:
        targets = parse_targets(document, home_region=region)
    except TargetsError as error:
        report["errors"] = [{"path": d.path, "message": d.message} for d in error.details]
        return report
    report["valid"] = True
    report["home"] = {"account": targets.home_account, "name": targets.home_name, "region": region}
    report["accounts"] = [
        {
            "domain_id": member.domain_id,
            "name": member.name,
            "agency_urn": member.agency_urn,
            "external_id": bool(member.external_id),  # only whether one is set: it is a shared secret
            "regions": list(member.regions),
            "projects": "all" if member.projects is None else list(member.projects),
            "exclude_projects": list(member.exclude_projects),
            "overrides": sorted({*member.overrides, *targets.defaults_overrides}),
        }
        for member in targets.accounts.values()
    ]
    return report


_MISSING = object()


def _document(args, environ) -> tuple[object, str]:
    """The document and where it came from; a text that does not parse is a usage error."""
    from ..errors import UsageError

    if args.file:
        name, label = args.file, args.file
    elif environ.get("TARGETS"):
        return _parse(environ["TARGETS"], "TARGETS", yaml_text=False), "TARGETS"
    elif environ.get("TARGETS_FILE"):
        name, label = environ["TARGETS_FILE"], f"TARGETS_FILE ({environ['TARGETS_FILE']})"
    else:
        return _MISSING, "-"
    try:
        raw = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{name}: cannot read: {error}") from None
    return _parse(raw, label, yaml_text=not name.endswith(".json")), label


def _parse(text: str, label: str, *, yaml_text: bool) -> object:
    from ..errors import UsageError

    if not yaml_text:
        try:
            return json.loads(text)
        except ValueError as error:
            raise UsageError(f"{label} is not valid JSON: {error}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{label} is not valid YAML: {error}".replace("\n", " ")) from None


def _home_run(document: object, region: str, endpoint: str | None, environ):
    """A Run of the home project with the caller's credentials and the parsed TARGETS (a valid document)."""
    from shared import records
    from shared.targets import parse_targets

    from ..cloudargs import credentials_from
    from ..report.collect import make_run

    targets = parse_targets(document, home_region=region)
    sts = endpoint or environ.get("STS_ENDPOINT") or environ.get("HUAWEICLOUD_SDK_STS_ENDPOINT") or ""
    endpoints = {
        "ECS_ENDPOINT": endpoint or environ.get("ECS_ENDPOINT") or f"https://ecs.{region}.myhuaweicloud.com",
        "VPC_ENDPOINT": endpoint or environ.get("VPC_ENDPOINT") or f"https://vpc.{region}.myhuaweicloud.com",
    }
    home = make_run(
        {"STS_ENDPOINT": sts} if sts else {}, region=region, endpoints=endpoints, credentials=credentials_from(environ)
    )
    return records.replace(home, settings=records.replace(home.settings, targets=targets))


def _check(document: object, region: str, args, ctx) -> dict:
    """``--check``'s rows for a valid document (sgguard_cli/targets_check.py)."""
    from shared.cloud.exceptions import CloudCallError

    from ..errors import ConfigError
    from ..targets_check import check_targets, endpoint_environment

    endpoint = args.endpoint or ctx.environ.get("LOCALCLOUD_URL")
    home = _home_run(document, region, endpoint, ctx.environ)
    try:
        with endpoint_environment(endpoint, {region}):
            return check_targets(home.settings.targets, home, endpoint_override=endpoint)
    except CloudCallError as error:
        raise ConfigError(error.describe()) from None


def _print_check(checked: dict, ctx) -> int:
    from .report import printable

    failed = 0
    discovery = checked["discovery"]
    if discovery is not None:
        mark = "✓" if discovery["ok"] else "✗"
        failed += not discovery["ok"]
        ctx.out(f"{mark} discovery      {discovery['code'] + ': ' if discovery['code'] else ''}{discovery['message']}")
    for row in checked["targets"]:
        failed += not row["ok"]
        where = " ".join(str(x) for x in (row["region"] or "(every region)", row["project_id"] or "") if x)
        label = f"{printable(row['name'] or '-')} {row['account']}"  # a discovered name: untrusted
        if row["ok"]:
            ctx.out(f"✓ {label}  {where}  {row['message']}")
        else:
            ctx.out(f"✗ {label}  {where}  {row['code']}: {row['message']}")
    total = len(checked["targets"]) + (discovery is not None)
    ctx.out(f"{total - failed}/{total} reachable")
    return 1 if failed else 0


def run(args, ctx) -> int:
    region = args.region or ctx.environ.get("REGION") or ctx.environ.get("HUAWEICLOUD_SDK_REGION") or "cn-north-4"
    document, source = _document(args, ctx.environ)
    report = resolve(document, source, region)
    if args.check and report["valid"]:
        checked = _check(document, region, args, ctx)
        report["check"] = checked
        if args.json:
            ctx.out(json.dumps(report, indent=2, ensure_ascii=False))
            return 0 if all(r["ok"] for r in checked["targets"]) and (checked["discovery"] or {"ok": True})["ok"] else 1
        return _print_check(checked, ctx)
    if args.json:
        ctx.out(json.dumps(report, indent=2, ensure_ascii=False))
        return 0 if report["valid"] else 1
    if not report["valid"]:
        for error in report["errors"]:
            ctx.out(f"{source}: {error['path'] + ': ' if error['path'] else ''}{error['message']}")
        return 1
    home = report["home"]
    ctx.out(f"{source}: valid, {len(report['accounts'])} member account(s) besides the home project")
    ctx.out(f"  home          {home['name'] or home['account'] or '(this account)'}  region {home['region']}")
    for account in report["accounts"]:
        projects = account["projects"] if account["projects"] == "all" else ", ".join(account["projects"])
        ctx.out(f"  {account['name'] or '-':<13} {account['domain_id']}  {account['agency_urn']}")
        ctx.out(f"                regions {', '.join(account['regions'])}; projects {projects}")
        if account["exclude_projects"]:
            ctx.out(f"                excluded projects {', '.join(account['exclude_projects'])}")
        if account["overrides"]:
            ctx.out(f"                overrides {', '.join(account['overrides'])}")
        if account["external_id"]:
            ctx.out("                external id: set")
    return 0

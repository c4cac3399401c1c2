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
settings it overrides. Whether each agency can be assumed is not checked yet (docs/organisation.md).
Exit status: 0 valid, 1 invalid, 2 usage.
"""
EPILOG = """
examples:
  sgguard targets targets.yaml
  TARGETS="$(cat targets.json)" sgguard targets --json
"""


def add_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="a TARGETS document (default: the environment)")
    parser.add_argument("--region", help="the home region (default: REGION or HUAWEICLOUD_SDK_REGION, cn-north-4)")
    parser.add_argument("--json", action="store_true", help='print {"valid", "errors": [...], "targets": {...}}')


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


def run(args, ctx) -> int:
    region = args.region or ctx.environ.get("REGION") or ctx.environ.get("HUAWEICLOUD_SDK_REGION") or "cn-north-4"
    document, source = _document(args, ctx.environ)
    report = resolve(document, source, region)
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

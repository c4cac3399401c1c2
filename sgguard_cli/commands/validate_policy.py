"""``sgguard validate-policy``: check an ecs_created policy file before deploying it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "validate"]

SUMMARY = "check ecs_created policy files (schema and rules) before deploying them"
DETAILS = """
Prints every problem as FILE:LINE: PATH: MESSAGE (the line of the value, or of its object for a
missing property), with the values that are valid. Refused besides the schema: a YAML/JSON key
given twice in one mapping (the parser would silently keep the last) and two rules of the same
name. Warned: an exemption whose until date has passed (the policy applies to that server again).
Exit status: 0 every file is valid, 1 one is invalid or cannot be read (or, with --strict, has a
warning), 2 usage.
"""
EPILOG = """
examples:
  sgguard validate-policy policy.yaml
  sgguard validate-policy policy.yaml staging.yaml --json
  sgguard validate-policy --strict policy.yaml      # expired exemptions fail too (CI)
"""


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="policy file (YAML or JSON)")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print [{"file", "valid", "rules", "errors": [{"code", "path", "line", "message"}], "warnings": [...]}]',
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too (an expired exemption)")


def _problem(detail, lines: dict[str, int]) -> dict:
    from shared.flows.policy_source import line_of

    return {"code": detail.code, "path": detail.path, "line": line_of(lines, detail.path), "message": detail.message}


def validate(name: str, today: date | None = None) -> dict:
    """One file's report; ``today`` (UTC) decides which exemptions have expired."""
    from shared.clock import SYSTEM_CLOCK
    from shared.flows.policy import PolicyError, expired_exemptions, parse_policy
    from shared.flows.policy_source import source_lines

    report: dict = {"file": name, "valid": False, "rules": [], "errors": [], "warnings": []}
    try:
        text = Path(name).read_text(encoding="utf-8")
        policy = parse_policy(text, name)
    except OSError as error:
        report["errors"] = [
            {"code": "POLICY_INVALID", "path": "", "line": None, "message": f"cannot read: {error.strerror}"}
        ]
        return report
    except UnicodeDecodeError as error:
        report["errors"] = [
            {"code": "POLICY_INVALID", "path": "", "line": None, "message": f"not UTF-8 text (byte {error.start})"}
        ]
        return report
    except PolicyError as error:
        found = [_problem(detail, error.lines) for detail in error.errors]
        report["errors"] = sorted(found, key=lambda problem: problem["line"] or 0)  # in the file's order
        return report
    expired = expired_exemptions(policy, today or SYSTEM_CLOCK.now().date())
    lines = source_lines(text) if expired else {}
    report.update(
        valid=True, rules=[rule.name for rule in policy.rules], warnings=[_problem(w, lines) for w in expired]
    )
    return report


def _line(name: str, problem: dict, label: str = "") -> str:
    where = f"{name}:{problem['line']}" if problem.get("line") else name
    path = f"{problem['path']}: " if problem["path"] else ""
    return f"{where}: {label}{path}{problem['message']}"


def run(args, ctx) -> int:
    reports = [validate(name) for name in args.files]
    if args.json:
        ctx.out(json.dumps(reports, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            name = report["file"]
            if report["valid"]:
                count = len(report["rules"])
                ctx.out(f"{name}: valid ({count} rule{'s' if count != 1 else ''}: {', '.join(report['rules'])})")
            for error in report["errors"]:
                ctx.out(_line(name, error))
            for warning in report["warnings"]:
                ctx.out(_line(name, warning, "warning: "))
    failed = any(not report["valid"] or (args.strict and report["warnings"]) for report in reports)
    return 1 if failed else 0

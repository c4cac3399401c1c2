"""``sgguard validate-policy``: check an ecs_created policy file before deploying it."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "validate"]

SUMMARY = "check ecs_created policy files (schema and rules) before deploying them"
DETAILS = """
Prints every error with its JSON path. Exit status: 0 every file is valid, 1 one is invalid or
cannot be read, 2 usage.
"""
EPILOG = """
examples:
  sgguard validate-policy policy.yaml
  sgguard validate-policy policy.yaml staging.yaml --json
"""


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="policy file (YAML or JSON)")
    parser.add_argument(
        "--json", action="store_true", help='print [{"file", "valid", "rules", "errors": [{"path", "message"}]}]'
    )


def validate(name: str) -> dict:
    from shared.flows.policy import PolicyError, parse_policy

    try:
        policy = parse_policy(Path(name).read_text(encoding="utf-8"), name)
    except OSError as error:
        return {
            "file": name,
            "valid": False,
            "rules": [],
            "errors": [{"path": "", "message": f"cannot read: {error.strerror}"}],
        }
    except PolicyError as error:
        return {
            "file": name,
            "valid": False,
            "rules": [],
            "errors": [{"path": d.path, "message": d.message} for d in error.errors],
        }
    return {"file": name, "valid": True, "rules": [rule.name for rule in policy.rules], "errors": []}


def run(args, ctx) -> int:
    reports = [validate(name) for name in args.files]
    if args.json:
        ctx.out(json.dumps(reports, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            name = report["file"]
            if report["valid"]:
                ctx.out(f"{name}: valid ({len(report['rules'])} rules: {', '.join(report['rules'])})")
            for error in report["errors"]:
                ctx.out(
                    f"{name}: {error['path']}: {error['message']}" if error["path"] else f"{name}: {error['message']}"
                )
    return 0 if all(report["valid"] for report in reports) else 1

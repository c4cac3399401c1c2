#!/usr/bin/env python3
"""Validate an ecs_created policy file before deploying it.

    .venv/bin/python scripts/validate_policy.py policy.yaml [more.yaml ...]

Prints every error with its JSON path and exits 1 when any file is invalid.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.policy import PolicyError, parse_policy  # noqa: E402


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    status = 0
    for name in paths:
        try:
            policy = parse_policy(Path(name).read_text(encoding="utf-8"), name)
        except OSError as error:
            print(f"{name}: cannot read: {error.strerror}")
            status = 1
        except PolicyError as error:
            status = 1
            for detail in error.errors:
                print(f"{name}: {detail.path}: {detail.message}")
        else:
            print(f"{name}: valid ({len(policy.rules)} rules: {', '.join(r.name for r in policy.rules)})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Reviewing before a write: the confirmation prompt of ``deploy`` and ``bootstrap``, and the
error that names each missing template parameter with its description.

A prompt needs a terminal: without one (CI, a pipe) and without ``--yes`` the command refuses
rather than guessing, as ``terraform apply`` does without ``-auto-approve``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from ..errors import UsageError

__all__ = ["confirm", "missing_parameters_message"]


def confirm(
    question: str,
    *,
    yes: bool,
    stdin: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
) -> bool:
    """True when the user typed ``yes`` (or passed ``--yes``); refuses without a terminal."""
    if yes:
        return True
    stream = stdin if stdin is not None else sys.stdin
    if ask is None:
        if stream is None or not stream.isatty():
            raise UsageError(f"{question} needs a confirmation: run it in a terminal, or pass --yes")
        ask = input
    try:
        answer = ask(f"{question} Only 'yes' will be accepted: ")
    except EOFError:
        answer = ""
    return answer.strip().lower() == "yes"


def missing_parameters_message(path: object, missing: list[str], parameters: dict, others: list[str]) -> str:
    """``template.yaml needs N parameter(s)`` and one line per parameter: its name and description."""
    lines = [f"{path}: {len(missing)} parameter(s) without a value (set them in the environment):"]
    for name in missing:
        spec = parameters.get(name) or {}
        description = spec.get("description") or ""
        secret = " [secret]" if spec.get("secret") else ""
        lines.append(f"  {name}{secret}{': ' + description if description else ''}")
    lines += [f"  {error}" for error in others]
    lines.append("(sgguard bootstrap sets the ones it creates: docs/deploy.md)")
    return "\n".join(lines)

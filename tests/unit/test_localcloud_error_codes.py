"""Each emulated service's error codes are spelled in one place: its ``errors.py``.

Every module of ``localcloud/`` is parsed with :mod:`ast` (nothing is imported) and every string
constant is looked at, f-string parts included, docstrings left out (they may cite a code). A
vendor code of a service — ``Ecs.0114`` (ECS), ``FSS.1051`` (FunctionGraph: its codes are
``FSS.xxxx``, there are no ``FunctionGraph.xxxx`` ones), ``VPC.0603``, ``SMN.0006``,
``EG.00014040`` — may appear only in ``localcloud/services/<that service>/errors.py``: not in
another service's files, not in the runtime, not in the core. localcloud's own codes
(``LocalCloud.Status``...) used by a service likewise live in that service's ``errors.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCALCLOUD = ROOT / "localcloud"
SERVICES = LOCALCLOUD / "services"

# vendor code prefix -> the service package whose errors.py owns it
VENDOR_CODES = {"Ecs": "ecs", "FSS": "functiongraph", "VPC": "vpc", "SMN": "smn", "EG": "eg"}
VENDOR_CODE = re.compile(r"\b(" + "|".join(VENDOR_CODES) + r")\.\d{4,}\b")
LOCAL_CODE = re.compile(r"\bLocalCloud\.[A-Z]\w*")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def code_literals(source: str) -> list[tuple[int, str]]:
    """``(line, code)`` for every error code in a string constant of ``source`` (docstrings aside)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for pattern in (VENDOR_CODE, LOCAL_CODE):
                found.extend((node.lineno, match.group(0)) for match in pattern.finditer(node.value))
    return sorted(found)


def _owner(path: Path) -> str | None:
    """The service package ``path`` belongs to (None outside ``localcloud/services/<svc>/``)."""
    parts = path.relative_to(SERVICES).parts if path.is_relative_to(SERVICES) else ()
    return parts[0] if len(parts) > 1 else None


def misplaced_codes() -> list[str]:
    misplaced = []
    for path in sorted(LOCALCLOUD.rglob("*.py")):
        service = _owner(path)
        is_errors = service is not None and path.name == "errors.py"
        for line, code in code_literals(path.read_text(encoding="utf-8")):
            prefix = code.split(".", 1)[0]
            if prefix == "LocalCloud":
                allowed = service is None or is_errors  # the core's and the runtime's own codes stay there
            else:
                allowed = is_errors and service == VENDOR_CODES[prefix]
            if not allowed:
                misplaced.append(f"{path.relative_to(ROOT)}:{line}: {code}")
    return misplaced


def test_error_codes_only_in_their_services_errors_module():
    misplaced = misplaced_codes()
    assert not misplaced, (
        "error codes outside their service's errors.py (add a constant or a typed error there):\n"
        + "\n".join(misplaced)
    )


def test_every_service_has_an_errors_module():
    services = [p for p in sorted(SERVICES.iterdir()) if (p / "__init__.py").is_file()]
    assert {p.name for p in services} >= set(VENDOR_CODES.values())
    assert [p.name for p in services if not (p / "errors.py").is_file()] == []


def test_the_check_sees_codes_and_skips_docstrings():
    source = (
        '"""Cites ``Ecs.0114``: a docstring."""\n'
        "def f(server_id):\n"
        '    """404 FSS.1051."""\n'
        '    raise NotFound("Ecs.0114", f"Instance[{server_id}] could not be found.")\n'
        'BAD = f"code EG.00014040 for {x}"\n'
        'STATUS = "LocalCloud.Status"\n'
        'NOT_A_CODE = "Ecs.xxxx, VPC.0xxx"\n'
    )
    assert code_literals(source) == [(4, "Ecs.0114"), (5, "EG.00014040"), (6, "LocalCloud.Status")]

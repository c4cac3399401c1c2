"""No import cycles inside ``shared/`` and ``localcloud/``, and ``shared/``'s layers in order.

Every module of the package is parsed with :mod:`ast` (nothing is imported). An edge A -> B is
recorded for every ``import`` / ``from ... import`` in A that names a module of the same package,
relative imports resolved, at module level, inside functions or classes AND under ``if
TYPE_CHECKING:``: a lazy import that closes a cycle still is a cycle in the design, it only moves
the failure to run time, and an annotation that needs a module above is a dependency on it.
``from pkg import name`` counts as an edge to ``pkg.name`` when that is a module, else to ``pkg``
(its ``__init__``); a package's ``__init__`` is a module like any other (a submodule importing
names from its own package while that package imports the submodule is a cycle too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> dict[str, Path]:
    base = ROOT / package
    found: dict[str, Path] = {}
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(tree: ast.AST):
    """Yield every import node, ``if TYPE_CHECKING:`` bodies included."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def import_graph(package: str) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}, intra-package only."""
    modules = _modules(package)
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(name, is_package, node)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:  # ``import a.b.c`` of a name inside a module
                    target = target.rpartition(".")[0]
                if not target or target == name:
                    continue
                graph[name].setdefault(target, node.lineno)
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected component of more than one module, each as one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan; the graphs are small, recursion is fine
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(component), component[0]) for component in components]


def _one_cycle(graph: dict[str, dict[str, int]], members: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target not in members:
                    continue
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start] + list(reversed(path[:-1])) + [start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    return [start, start]  # pragma: no cover - a component always has a cycle


def _component(graph: dict[str, dict[str, int]], start: str) -> set[str]:
    def reach(edges: dict[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for target in edges.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    reverse: dict[str, set[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            reverse.setdefault(target, set()).add(source)
    return reach({source: set(targets) for source, targets in graph.items()}) & reach(reverse)


def describe(package: str, cycles: list[list[str]]) -> str:
    graph = import_graph(package)
    modules = _modules(package)
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        members = _component(graph, cycle[0])
        if len(members) > len(cycle) - 1:
            lines.append(f"    (one cycle of {len(members)} mutually importing modules: {', '.join(sorted(members))})")
        for source, target in zip(cycle, cycle[1:]):
            path = modules[source].relative_to(ROOT)
            line = graph[source][target]
            text = modules[source].read_text(encoding="utf-8").splitlines()[line - 1].strip()
            lines.append(f"    {path}:{line}: {text}")
    return "\n".join(lines)


def test_graph_sees_relative_lazy_and_type_checking_imports():
    graph = import_graph("localcloud")
    assert "localcloud.core.errors" in graph["localcloud.services.vpc.errors"]
    shared = import_graph("shared")
    assert "shared.cloud.clients" in shared["shared.runtime.run"]  # lazy, inside Run.factory
    assert "shared.changes.apply" in shared["shared.runtime.run"]  # under TYPE_CHECKING (and lazy)
    assert find_cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize("package", ["shared", "localcloud"])
def test_no_import_cycle(package):
    cycles = find_cycles(import_graph(package))
    assert not cycles, f"import cycles in {package}/:\n" + describe(package, cycles)


# shared/'s floors, bottom up: a module imports only from its own floor or below. The vocabulary
# (plain data, errors, results, settings, time, schemas, signing) is the ground floor.
SHARED_LAYERS = (
    (
        "vocabulary",
        (
            "shared",
            "shared.records",
            "shared.model",
            "shared.ids",
            "shared.errors",
            "shared.results",
            "shared.config",
            "shared.targets",
            "shared.clock",
            "shared.timestamps",
            "shared.canonical_json",
            "shared.validation",
            "shared.signing",
            "shared.schemas",
            "shared.person",
            "shared.confusables",
            "shared.shapes",
        ),
    ),
    ("cloud", ("shared.cloud", "shared.idempotency", "shared.sinks")),
    ("changes", ("shared.changes",)),
    ("rails/runtime", ("shared.rails", "shared.runtime")),
    ("flows", ("shared.flows",)),
)


def shared_layer(module: str) -> int:
    """The floor of a module of shared/ (a package's modules share its floor)."""
    for floor, (_, prefixes) in enumerate(SHARED_LAYERS):
        if any(module == p or (p != "shared" and module.startswith(p + ".")) for p in prefixes):
            return floor
    raise AssertionError(f"{module} is on no floor: add it to SHARED_LAYERS")


def test_shared_layers_point_down():
    graph = import_graph("shared")
    upward = []
    for source, targets in sorted(graph.items()):
        for target, line in targets.items():
            if shared_layer(target) > shared_layer(source):
                upward.append(
                    f"{source} ({SHARED_LAYERS[shared_layer(source)][0]}) -> {target} "
                    f"({SHARED_LAYERS[shared_layer(target)][0]}), line {line}"
                )
    assert not upward, "imports running up shared/'s floors:\n" + "\n".join(upward)


def test_the_layer_check_can_fail():
    assert (
        shared_layer("shared.flows.change_request")
        > shared_layer("shared.rails.check")
        > shared_layer("shared.changes.apply")
        > shared_layer("shared.cloud.gateway")
        > shared_layer("shared.results")
    )


# ---- module length (issue 14: a structure a newcomer can read) ---------------------------------------------------

MAX_LINES = 400
LONG_MODULE_REASON = "Over 400 lines:"


@pytest.mark.parametrize("package", ["shared", "localcloud", "sgguard_cli", "functions", "bench"])
def test_no_long_module_without_a_reason(package):
    """A module over 400 lines says why in its docstring: a line ``Over 400 lines: <why>``."""
    unexplained = []
    for path in _modules(package).values():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.strip().startswith(LONG_MODULE_REASON) for line in docstring.splitlines()):
            unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, (
        f"over {MAX_LINES} lines, no '{LONG_MODULE_REASON} ...' line in the docstring: " + ", ".join(unexplained)
    )

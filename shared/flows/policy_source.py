"""A policy's text: YAML / JSON into a document, with lines and paths for every problem.

Each parse problem is a :class:`SyntaxProblem` naming its line (YAML) and, for a key given twice
in one mapping, its JSON path: YAML and JSON parsers keep the last of two equal keys silently, so
``mode: ensure`` then ``mode: replace`` would be read as replace without a word. Dates stay strings
(the schema checks them, ``format: date``). :func:`source_lines` maps the JSON paths of schema
errors back to lines from the composed node tree (yaml's marks). PyYAML is imported only here,
only when a policy is YAML.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shared.errors import format_json_path

if TYPE_CHECKING:
    import yaml

__all__ = ["SyntaxProblem", "line_of", "read_document", "source_lines"]


def read_document(text: str) -> Any:
    """The JSON value of policy ``text`` (JSON when it starts with ``{``, else YAML); raises
    :class:`SyntaxProblem`."""
    if not text.lstrip().startswith("{"):
        return _yaml(text)
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except ValueError as error:
        if isinstance(error, SyntaxProblem):
            raise
        raise SyntaxProblem(f"not valid JSON: {error}"[:300]) from None


class SyntaxProblem(ValueError):
    """Text that is not one well-formed YAML / JSON document, or a key given twice; ``path`` says where."""

    def __init__(self, message: str, path: str = "$", line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    twice = next((key for index, key in enumerate(keys) if key in keys[:index]), None)
    if twice is not None:
        raise SyntaxProblem(f"key {twice!r} is given twice in one object; the policy would silently use the last")
    return dict(pairs)


def _yaml(text: str) -> Any:
    import yaml  # only when a policy is YAML

    try:
        loader = _string_date_loader()(text)  # its reader refuses control characters at once
    except yaml.YAMLError as error:
        raise SyntaxProblem(f"YAML syntax error: {error}".replace("\n", " ")[:300]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        twice = _duplicate_key(node)
        if twice is not None:
            key, path, line = twice
            raise SyntaxProblem(
                f"key {key!r} is given twice in one mapping; the policy would silently use the last", path, line
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = "; ".join(part for part in (error.context, error.problem) if part)
        raise SyntaxProblem(f"YAML syntax error at {where}{what}", "$", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise SyntaxProblem(f"YAML syntax error: {error}".replace("\n", " ")[:300]) from None
    finally:
        loader.dispose()


def _children(node: Any, parts: tuple[str | int, ...]) -> Iterable[tuple[Any, Any, tuple[str | int, ...]]]:
    """(key node or None, value node, path parts) of a YAML node's members."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key, value, (*parts, str(key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            yield None, value, (*parts, index)


def _duplicate_key(node: Any) -> tuple[str, str, int] | None:
    """The first key given twice in one mapping: (key, its JSON path, 1-based line)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(node, ())]
    while stack:
        current, where = stack.pop()
        seen: set[str] = set()
        for key, value, child in _children(current, where):
            if key is not None:
                if key.value in seen:
                    return str(key.value), format_json_path(child), key.start_mark.line + 1
                seen.add(key.value)
            stack.append((value, child))
    return None


def source_lines(text: str) -> dict[str, int]:
    """JSON path -> 1-based line of every value in YAML (or JSON) ``text``; empty when unparsable."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, parts = stack.pop()
        lines.setdefault(format_json_path(parts), node.start_mark.line + 1)
        for key, value, child in _children(node, parts):
            lines[format_json_path(child)] = (key or value).start_mark.line + 1
            stack.append((value, child))
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, else of its nearest parent that has one (a missing property: its object)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


@functools.lru_cache(maxsize=1)
def _string_date_loader() -> type[yaml.SafeLoader]:
    """A safe loader that keeps dates as strings: the schema checks them (format: date)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def as_string(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
        return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", as_string)
    return Loader

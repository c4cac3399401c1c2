"""JSON equality for ``enum``, ``const`` and ``uniqueItems``, as jsonschema decides it.

jsonschema (``_utils.equal``) compares numbers by value (``1 == 1.0``), a boolean only with
itself (``true != 1``, ``false != 0``, where Python says otherwise), and arrays and objects member
by member with the same rules. :func:`all_distinct` hashes instead of comparing pairs, so that a
long array costs linear time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["all_distinct", "json_equal"]


def json_equal(one: object, two: object) -> bool:
    """JSON equality, as jsonschema's ``_utils.equal`` on JSON values: numbers by value, booleans
    only equal to themselves, strings, arrays and objects compared member by member."""
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    if isinstance(one, list):
        return (
            isinstance(two, list)
            and len(one) == len(two)
            and all(json_equal(a, b) for a, b in zip(one, two, strict=True))
        )
    if isinstance(one, dict):
        return (
            isinstance(two, dict)
            and len(one) == len(two)
            and all(key in two and json_equal(value, two[key]) for key, value in one.items())
        )
    if isinstance(two, (list, dict)):
        return False
    return one == two


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal to another's exactly when the values are JSON-equal
    (``1`` and ``1.0`` hash alike in Python; booleans are tagged apart from numbers)."""
    if isinstance(value, bool):
        return (_BOOLEAN, value)
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, list):
        return (_ARRAY, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (_OBJECT, frozenset((key, _frozen(item)) for key, item in value.items()))
    raise TypeError(f"{type(value).__name__} is not a JSON value")  # the check answers False


_BOOLEAN, _ARRAY, _OBJECT = object(), object(), object()  # tags no JSON value can equal


def all_distinct(items: list[Any]) -> bool:
    """No two items JSON-equal; hashing keeps a long array linear, not quadratic."""
    return len({_frozen(item) for item in items}) == len(items)

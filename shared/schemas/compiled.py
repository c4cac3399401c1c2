"""A fast yes/no JSON Schema check that says "valid" exactly when jsonschema would.

jsonschema's Draft 2020-12 validator costs most of a millisecond per change request, and almost
every request is valid. :func:`compile_schema` turns a schema into nested Python closures that
answer one question, "is this instance valid?", for the keywords the packaged schemas use:

* ``type`` (sgguard's strict "integer": a JSON number written without a fraction), ``enum``,
  ``const`` (JSON equality: ``1 == 1.0``, ``true != 1``, arrays and objects compared deeply);
* objects: ``properties``, ``additionalProperties``, ``required``, ``minProperties``,
  ``maxProperties``; arrays: ``items``, ``minItems``, ``maxItems``, ``uniqueItems``;
* strings: ``minLength``/``maxLength`` (code points), ``pattern`` (``re.search``, as jsonschema),
  ``format`` (the very checker functions of the validator's FormatChecker); numbers: ``minimum``,
  ``maximum``;
* ``anyOf``, ``not``, ``if``/``then``/``else``, a ``$ref`` to a JSON pointer in the same document;
* annotations, which change nothing: ``description``, ``$comment``, ``title``, ``default``,
  ``errorMessage``, ``$schema``, ``$id`` (at the root only), ``$defs``.

Any other keyword anywhere in the schema raises :class:`UnsupportedSchema`: that schema has no fast
path and jsonschema judges every instance. The caller (``shared.validation.schema_errors``) only
trusts a "valid" answer; "invalid" (or any exception inside the check) sends the instance to
jsonschema, which then produces today's exact errors. A wrong "invalid" costs time, a wrong
"valid" would let bad input through: every rule below is the jsonschema keyword function's
(``jsonschema/_keywords.py``) condition, and tests/unit/test_schema_compiled*.py compare the two on
thousands of documents.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.schemas.json_equality import all_distinct, json_equal

__all__ = ["ANNOTATIONS", "DRAFT_2020_12", "KEYWORDS", "Check", "UnsupportedSchema", "compile_for_validator"]
__all__ += ["compile_schema"]

Check = Callable[[Any], bool]

# Keywords that never make an instance invalid (jsonschema ignores errorMessage: not a keyword).
ANNOTATIONS = frozenset(("description", "$comment", "title", "default", "errorMessage", "$schema", "$id", "$defs"))
KEYWORDS = frozenset(
    "type enum const properties additionalProperties required minProperties maxProperties items minItems"
    " maxItems uniqueItems minLength maxLength pattern format minimum maximum anyOf not if then else $ref".split()
)
# Bounds of the memo of strings a format function accepted (per format, per compiled schema).
_MEMO_ENTRIES = 1024
_MEMO_MAX_CHARS = 256
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_OBJECT_KEYWORDS = ("properties", "additionalProperties", "required", "minProperties", "maxProperties")


class UnsupportedSchema(ValueError):
    """The schema uses something the fast check does not implement; ``where`` is its JSON pointer."""

    def __init__(self, where: str, reason: str):
        self.where = where or "/"
        self.reason = reason
        super().__init__(f"no fast check for the schema at {self.where}: {reason}")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:  # sgguard's strict integer (validation._strict_integers)
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": _is_number,
}
# Values on which a validator's own type checker must agree with _TYPES before the check is trusted.
_TYPE_PROBES: tuple[object, ...] = (None, True, False, 0, 1, -7, 2**70, 1.0, 0.5, -0.0, "", "1", [], [1], {}, {"a": 1})


def _always(_value: object) -> bool:
    return True


def _never(_value: object) -> bool:
    return False


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    frozen = tuple(checks)
    return lambda value: all(check(value) for check in frozen)


def _guarded(kind: Check, body: Check) -> Check:
    """``body`` applied only to instances of ``kind``: a keyword ignores instances of other types."""
    return lambda value: not kind(value) or body(value)


def _typed(is_type: Check, body: Check | None, rest: Check) -> Check:
    """One check for a schema declaring a single type: the type, its keywords, then the others."""
    if body is None:
        return is_type if rest is _always else (lambda value: is_type(value) and rest(value))
    if rest is _always:
        return lambda value: is_type(value) and body(value)
    return lambda value: is_type(value) and body(value) and rest(value)


# The keywords of each kind apply to instances of that JSON type (integer is a number).
_KIND_OF_TYPE = {"object": "object", "array": "array", "string": "string", "integer": "number", "number": "number"}


class _Compiler:
    """One schema document: keeps the root for ``$ref`` and the checks already built per pointer."""

    def __init__(self, root: object, format_checker: Any):
        self.root = root
        self.format_checker = format_checker
        self.by_pointer: dict[str, Check] = {}

    def compile(self, node: object, where: str) -> Check:
        if node is True:
            return _always
        if node is False:
            return _never
        if not isinstance(node, dict):
            raise UnsupportedSchema(where, f"a schema must be an object or a boolean, not {type(node).__name__}")
        unknown = sorted(set(node) - KEYWORDS - ANNOTATIONS)
        if unknown:
            raise UnsupportedSchema(where, f"keyword {unknown[0]!r}")
        if "$id" in node and where:
            raise UnsupportedSchema(where, "$id below the root changes the base of $ref")
        if "$schema" in node and (where or node["$schema"] != DRAFT_2020_12):
            # jsonschema's evolve() picks the class a subschema's $schema names: the stock one,
            # without sgguard's strict integers, and maybe another draft's keywords.
            raise UnsupportedSchema(where, f"$schema {node['$schema']!r} here")
        for name, definition in (node.get("$defs") or {}).items():
            self.compile(definition, f"{where}/$defs/{name}")  # unsupported keywords anywhere: no fast path

        # Every kind is compiled (a subschema's keywords are checked even where they cannot apply).
        bodies = {
            "object": self._object(node, where),
            "array": self._array(node, where),
            "string": self._string(node, where),
            "number": self._number(node, where),
        }
        rest = _all_of(self._any(node, where))
        names = self._type_names(node, where)
        if names is not None and len(names) == 1:
            kind = _KIND_OF_TYPE.get(names[0])
            return _typed(_TYPES[names[0]], bodies[kind] if kind else None, rest)
        checks: list[Check] = []
        if names is not None:
            tests = tuple(_TYPES[name] for name in names)
            checks.append(lambda value: any(test(value) for test in tests))
        checks += [_guarded(_TYPES[kind], body) for kind, body in bodies.items() if body is not None]
        if rest is not _always:
            checks.append(rest)
        return _all_of(checks)

    @staticmethod
    def _type_names(node: dict[str, Any], where: str) -> list[str] | None:
        if "type" not in node:
            return None
        declared = node["type"]
        names = declared if isinstance(declared, list) else [declared]
        if not names or not all(isinstance(name, str) and name in _TYPES for name in names):
            raise UnsupportedSchema(f"{where}/type", f"type {declared!r}")
        return names

    def _object(self, node: dict[str, Any], where: str) -> Check | None:
        if not any(key in node for key in _OBJECT_KEYWORDS):
            return None
        declared = node.get("properties", {})
        if not isinstance(declared, dict):
            raise UnsupportedSchema(f"{where}/properties", "properties must be an object")
        properties = {name: self.compile(sub, f"{where}/properties/{name}") for name, sub in declared.items()}
        # jsonschema: an object additionalProperties validates each extra member, false forbids them.
        extra_schema = node.get("additionalProperties", True)
        extra: Check | None
        if isinstance(extra_schema, dict):
            extra = self.compile(extra_schema, f"{where}/additionalProperties")
        elif isinstance(extra_schema, bool):
            extra = None if extra_schema else _never
        else:
            raise UnsupportedSchema(f"{where}/additionalProperties", "must be a schema")
        required = tuple(node.get("required", ()))
        if not all(isinstance(name, str) for name in required):
            raise UnsupportedSchema(f"{where}/required", "names must be strings")
        low = self._count(node, "minProperties", 0, where)
        high = self._count(node, "maxProperties", None, where)
        top = float("inf") if high is None else high

        def check_object(value: dict[str, Any]) -> bool:  # only called with a dict
            if not low <= len(value) <= top:
                return False
            for name in required:
                if name not in value:
                    return False
            for name, member in value.items():
                check = properties.get(name, extra)
                if check is not None and not check(member):
                    return False
            return True

        return check_object

    def _array(self, node: dict[str, Any], where: str) -> Check | None:
        low = self._count(node, "minItems", 0, where)
        high = self._count(node, "maxItems", None, where)
        top = float("inf") if high is None else high
        item = self.compile(node["items"], f"{where}/items") if "items" in node else _always
        unique = node.get("uniqueItems", False)
        if not isinstance(unique, bool):
            raise UnsupportedSchema(f"{where}/uniqueItems", "must be a boolean")
        if not low and high is None and item is _always and not unique:
            return None

        def check_array(value: list[Any]) -> bool:  # only called with a list
            if not low <= len(value) <= top:
                return False
            if item is not _always:
                for member in value:
                    if not item(member):
                        return False
            return not unique or len(value) < 2 or all_distinct(value)

        return check_array

    def _string(self, node: dict[str, Any], where: str) -> Check | None:
        low = self._count(node, "minLength", 0, where)
        high = self._count(node, "maxLength", None, where)
        top = float("inf") if high is None else high
        pattern = node.get("pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise UnsupportedSchema(f"{where}/pattern", "must be a string")
        try:
            search = re.compile(pattern).search if pattern is not None else None  # what re.search compiles
        except re.error as exc:
            raise UnsupportedSchema(f"{where}/pattern", f"not a Python regular expression: {exc}") from None
        if search is None and not low and high is None:
            return None
        return lambda value: low <= len(value) <= top and (search is None or search(value) is not None)

    def _number(self, node: dict[str, Any], where: str) -> Check | None:
        bounds = []
        for keyword in ("minimum", "maximum"):
            bound = node.get(keyword)
            if keyword in node and not _is_number(bound):
                raise UnsupportedSchema(f"{where}/{keyword}", "must be a number")
            bounds.append(bound)
        low, high = bounds
        if low is None and high is None:
            return None
        # jsonschema: an error when value < minimum, or value > maximum.
        return lambda value: not ((low is not None and value < low) or (high is not None and value > high))

    def _any(self, node: dict[str, Any], where: str) -> list[Check]:
        checks: list[Check] = []
        if "enum" in node:
            checks.append(self._enum(node["enum"], f"{where}/enum"))
        if "const" in node:
            const = node["const"]
            checks.append(lambda value: json_equal(value, const))
        if "format" in node:
            checks.append(self._format(node["format"], f"{where}/format"))
        if "anyOf" in node:
            options = node["anyOf"]
            if not isinstance(options, list) or not options:
                raise UnsupportedSchema(f"{where}/anyOf", "must be a non-empty array")
            branches = tuple(self.compile(sub, f"{where}/anyOf/{i}") for i, sub in enumerate(options))
            checks.append(lambda value: any(branch(value) for branch in branches))
        if "not" in node:
            negated = self.compile(node["not"], f"{where}/not")
            checks.append(lambda value: not negated(value))
        if "if" in node:
            checks.append(self._conditional(node, where))
        else:  # jsonschema ignores then/else without if; still refuse unknown keywords inside them
            for keyword in ("then", "else"):
                if keyword in node:
                    self.compile(node[keyword], f"{where}/{keyword}")
        if "$ref" in node:
            checks.append(self._reference(node["$ref"], f"{where}/$ref"))
        return checks

    def _enum(self, options: object, where: str) -> Check:
        if not isinstance(options, list):
            raise UnsupportedSchema(where, "must be an array")
        if all(isinstance(option, str) for option in options):
            strings = frozenset(options)
            return lambda value: isinstance(value, str) and value in strings
        frozen = tuple(options)
        return lambda value: any(json_equal(value, option) for option in frozen)

    def _format(self, name: object, where: str) -> Check:
        if self.format_checker is None:
            return _always  # jsonschema without a format checker checks no format
        known: Mapping[str, Any] = self.format_checker.checkers
        if not isinstance(name, str) or name not in known:
            raise UnsupportedSchema(where, f"format {name!r} has no checker")
        function, raises = known[name]  # what FormatChecker.check calls, and the errors that mean "no"
        # Strings the function accepted, remembered: format functions are pure, and a batch repeats
        # the same requester many times (the identity check is most of this check's CPU).
        accepted: dict[str, None] = {}

        def check_format(value: object) -> bool:
            if type(value) is str and value in accepted:
                return True
            try:
                conforms = bool(function(value))
            except raises:
                return False
            if conforms and type(value) is str and len(value) <= _MEMO_MAX_CHARS:
                if len(accepted) >= _MEMO_ENTRIES:
                    accepted.clear()
                accepted[value] = None
            return conforms

        return check_format

    def _conditional(self, node: dict[str, Any], where: str) -> Check:
        condition = self.compile(node["if"], f"{where}/if")
        then = self.compile(node["then"], f"{where}/then") if "then" in node else _always
        otherwise = self.compile(node["else"], f"{where}/else") if "else" in node else _always
        return lambda value: then(value) if condition(value) else otherwise(value)

    def _reference(self, ref: object, where: str) -> Check:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")) or "~" in ref or "%" in ref:
            raise UnsupportedSchema(where, f"$ref {ref!r} (only plain JSON pointers into this document)")
        pointer = ref[1:]
        if pointer not in self.by_pointer:
            target = self.root
            for part in pointer.split("/")[1:]:
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    raise UnsupportedSchema(where, f"$ref {ref!r} points at nothing")
            if isinstance(target, dict) and "$schema" in target:  # a reference to the root: see compile()
                raise UnsupportedSchema(where, f"$ref {ref!r} reaches a $schema")
            self.by_pointer[pointer] = _never  # late binding: a recursive definition finds its own check
            built = self.compile(target, pointer)
            self.by_pointer[pointer] = built
        table = self.by_pointer
        return lambda value: table[pointer](value)

    @staticmethod
    def _count(node: dict[str, Any], keyword: str, default: int | None, where: str) -> Any:
        value = node.get(keyword, default)
        if value is not default and not _is_integer(value) and not (isinstance(value, float) and value.is_integer()):
            raise UnsupportedSchema(f"{where}/{keyword}", "must be a whole number")
        return value


def compile_for_validator(validator: Any) -> Check:
    """:func:`compile_schema` for a jsonschema validator instance: its schema, its format checker,
    its type checker; refused unless each keyword it would run is Draft 2020-12's own function."""
    from jsonschema import Draft202012Validator

    for keyword in KEYWORDS:
        if validator.VALIDATORS.get(keyword) is not Draft202012Validator.VALIDATORS.get(keyword):
            raise UnsupportedSchema("/", f"the validator's {keyword!r} is not Draft 2020-12's")
    return compile_schema(
        validator.schema, format_checker=validator.format_checker, type_checker=validator.TYPE_CHECKER
    )


def compile_schema(schema: object, *, format_checker: Any = None, type_checker: Any = None) -> Check:
    """A function ``instance -> bool``, True exactly when jsonschema (Draft 2020-12, with
    ``format_checker``) finds no error. Raises :class:`UnsupportedSchema` for anything it cannot
    decide exactly. With ``type_checker`` (a jsonschema TypeChecker, e.g. the validator's
    ``TYPE_CHECKER``), the built-in types are first compared with it on sample values.

    The returned check never raises: an exception inside (a format function failing in an
    unexpected way, a recursion too deep) answers False, and jsonschema then says what is wrong.
    """
    if type_checker is not None:
        for name, test in _TYPES.items():
            if any(bool(type_checker.is_type(probe, name)) != test(probe) for probe in _TYPE_PROBES):
                raise UnsupportedSchema("/", f"the validator's type {name!r} is not the JSON one")
    root = _Compiler(schema, format_checker).compile(schema, "")

    def is_valid(instance: object) -> bool:
        try:
            return root(instance)
        except Exception:  # noqa: BLE001 - any surprise: let jsonschema judge, and say why
            return False

    return is_valid

"""Turn raw messages into checked JSON values, reporting problems as ErrorDetails.

Two steps, each of which never raises on bad input:

* :func:`decode_json_message` - bytes/str/already-decoded value -> JSON value,
  refusing what a strict (I-JSON, RFC 7493) parser would: oversize input,
  invalid UTF-8, NaN/Infinity, duplicate keys, unpaired surrogates and absurd
  nesting.
* :func:`validate_change_request` / :func:`validate_result_event` /
  :func:`schema_errors` - JSON Schema (Draft 2020-12) validation with clear,
  short messages and JSON paths (``$.change.security_groups[0].id``).

jsonschema is imported lazily, inside :func:`validator_for`, so that code paths
that never validate (e.g. a timer tick) don't pay for it at cold start; each
validator is built once per process.

Over 400 lines: decoding and schema errors share the path and excerpt rules that make every
rejection name its field; split, each half would re-import the other.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import sys
from _thread import allocate_lock  # threading.Lock without importing threading (cold start)

from shared.errors import ErrorCode, ErrorDetail, excerpt, format_json_path

# shared.person (and its confusables, unicodedata), shared.schemas and shared.schemas.messages are
# imported where used: decoding a message, what every envelope does, needs none of them (cold start).

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "CHANGE_REQUEST_SCHEMA",
    "DEFAULT_MAX_BYTES",
    "FormatSupportMissing",
    "MAX_ERRORS",
    "MAX_NESTING_DEPTH",
    "RESULT_SCHEMA",
    "decode_json_message",
    "schema_errors",
    "validate_change_request",
    "validate_result_event",
    "validator_for",
]

CHANGE_REQUEST_SCHEMA = "change_request.v1"
RESULT_SCHEMA = "result.v1"
DEFAULT_MAX_BYTES = 65536
MAX_NESTING_DEPTH = 32
MAX_ERRORS = 20
# Upper bound on raw validator errors looked at before sorting: input is
# size-capped already, this only keeps a pathological document cheap.
_MAX_RAW_ERRORS = 1000

_BUILD_LOCK = allocate_lock()


def _finite(value: float) -> bool:
    """``math.isfinite`` without importing math (cold start): inf - inf and nan - nan are nan."""
    return value - value == 0.0


@functools.cache
def _unpaired_surrogate() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")  # compiled when a message is first checked, not at import


class FormatSupportMissing(RuntimeError):
    """A schema uses a ``format`` the installed jsonschema cannot check.

    jsonschema silently ignores formats it has no checker for (``date-time``
    needs rfc3339-validator, ``uri`` needs rfc3986-validator: install
    ``jsonschema[format-nongpl]``). Failing loudly beats accepting bad input.
    """

    def __init__(self, schema_name: str, missing: Iterable[str]):
        self.schema_name = schema_name
        self.missing = sorted(missing)
        super().__init__(
            f"schema {schema_name!r} uses formats with no checker installed: "
            f"{', '.join(self.missing)} (install jsonschema[format-nongpl])"
        )


# --------------------------------------------------------------------------- decoding


class _StrictJsonError(ValueError):
    """Raised from json hooks for input a strict parser must refuse."""


def _reject_constant(name: str) -> Any:
    raise _StrictJsonError(f"{name} is not allowed in JSON")


def _parse_finite_float(text: str) -> float:
    value = float(text)
    if not _finite(value):  # "1e999" parses to inf without parse_constant
        raise _StrictJsonError(f"number {excerpt(text, 40)} is out of range")
    return value


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _StrictJsonError(f"duplicate key {excerpt(key)} in JSON object")
            seen.add(key)
    return obj


def _structure_problem(value: object, max_depth: int) -> str | None:
    """Why ``value`` is not acceptable I-JSON structure, or None. Iterative: no recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii() and _unpaired_surrogate().search(node):  # ASCII: no surrogate
                return "a string contains an unpaired UTF-16 surrogate"
        elif isinstance(node, float):
            if not _finite(node):
                return "NaN and Infinity are not allowed in JSON"
        elif isinstance(node, (dict, list)):
            if depth + 1 > max_depth:
                return f"nesting is deeper than {max_depth} levels"
            if isinstance(node, dict):
                for key, child in node.items():
                    if not isinstance(key, str):
                        return f"object key {excerpt(key)} is not a string"
                    if not key.isascii() and _unpaired_surrogate().search(key):
                        return "an object key contains an unpaired UTF-16 surrogate"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)
        elif node is None or isinstance(node, (bool, int)):
            continue
        else:
            return f"value of type {type(node).__name__} is not JSON"
    return None


def _too_large(size: int, max_bytes: int) -> ErrorDetail:
    return ErrorDetail(
        ErrorCode.MESSAGE_TOO_LARGE,
        f"message is {size} bytes; at most {max_bytes} bytes are accepted",
    )


def _invalid(message: str) -> tuple[None, ErrorDetail]:
    return None, ErrorDetail(ErrorCode.INVALID_JSON, message)


def decode_json_message(raw: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[object | None, ErrorDetail | None]:
    """Decode one message; return ``(value, None)`` or ``(None, error)``. Never raises.

    ``raw`` may be JSON text (``str``/``bytes``) or a value an envelope already
    decoded (``dict``/``list``), which gets the same size and structure checks.
    """
    if raw is None:
        return _invalid("message body is missing")
    if isinstance(raw, (dict, list)):
        problem = _structure_problem(raw, MAX_NESTING_DEPTH)
        if problem:
            return _invalid(problem)
        try:
            size = len(json.dumps(raw, ensure_ascii=False, allow_nan=False).encode("utf-8"))
        except (TypeError, ValueError) as exc:  # defensive: structure check passed
            return _invalid(f"value cannot be serialised as JSON: {excerpt(str(exc))}")
        if size > max_bytes:
            return None, _too_large(size, max_bytes)
        return raw, None

    if isinstance(raw, (bytes, bytearray, memoryview)):
        data = bytes(raw)
        if len(data) > max_bytes:
            return None, _too_large(len(data), max_bytes)
        if data.startswith(b"\xef\xbb\xbf"):  # some producers prepend a UTF-8 BOM
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _invalid(f"message is not valid UTF-8 (byte {exc.start})")
    elif isinstance(raw, str):
        text = raw
        # A char is >= 1 UTF-8 byte: only measure exactly when it could matter.
        if len(text) > max_bytes:
            return None, _too_large(len(text), max_bytes)
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            return None, _too_large(size, max_bytes)
    else:
        from shared.schemas.messages import json_type_name

        return _invalid(f"message must be JSON text or a JSON object, not {json_type_name(raw)}")

    if not text.strip():
        return _invalid("message is empty")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
            parse_float=_parse_finite_float,
        )
    except json.JSONDecodeError as exc:
        return _invalid(f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}")
    except _StrictJsonError as exc:
        return _invalid(str(exc))
    except RecursionError:
        return _invalid(f"nesting is deeper than {MAX_NESTING_DEPTH} levels")
    except ValueError as exc:  # e.g. an integer with more digits than Python allows
        return _invalid(f"invalid JSON: {excerpt(str(exc))}")
    problem = _structure_problem(value, MAX_NESTING_DEPTH)
    if problem:
        return _invalid(problem)
    return value, None


# --------------------------------------------------------------------------- schemas


def _formats_used(schema: object) -> set[str]:
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _validator_class() -> Any:
    """jsonschema's Draft202012Validator, imported on first use (cold start)."""
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        # jsonschema imports rfc3987_syntax, when installed, only to check the
        # "iri" formats, which no schema here uses; it compiles a grammar at
        # import time (~1 s). Hide it during jsonschema's first import.
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
        try:
            import jsonschema  # noqa: F401
        finally:
            if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
                del sys.modules["rfc3987_syntax"]
    from jsonschema import Draft202012Validator

    return Draft202012Validator


@functools.cache
def validator_for(schema_name: str) -> Any:
    """Draft 2020-12 validator for a packaged schema, with formats enforced. Cached.

    Raises :class:`FormatSupportMissing` when a format the schema uses has no
    checker installed, and jsonschema's SchemaError for a broken schema.
    """
    with _BUILD_LOCK:  # batches run in threads: import and build once, not racing
        return _build_validator(schema_name)


@functools.cache
def _fast_check_for(schema_name: str) -> Any:
    """The compiled yes/no check of a packaged schema (shared.schemas.compiled), or None when the schema
    uses a keyword it does not implement. Built from the very schema, format checker and type
    checker of :func:`validator_for`'s validator, once, under the same lock."""
    validator = validator_for(schema_name)
    from shared.schemas.compiled import UnsupportedSchema, compile_for_validator

    with _BUILD_LOCK:
        try:
            return compile_for_validator(validator)
        except UnsupportedSchema:
            return None


def _build_validator(schema_name: str) -> Any:
    from shared.schemas import load_schema

    Draft202012Validator = _validator_class()
    schema = inline_local_refs(load_schema(schema_name))
    # No check_schema() here: it costs ~15 ms of cold start; tests/unit/test_schemas_wellformed.py checks them.
    checker = _format_checker(Draft202012Validator.FORMAT_CHECKER)
    missing = _formats_used(schema) - set(checker.checkers)
    if missing:
        raise FormatSupportMissing(schema_name, missing)
    return _strict_integers(Draft202012Validator)(schema, format_checker=checker)


def inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``{"$ref": "#/$defs/x"}`` (nothing else beside it but a description)
    replaced by the definition itself: the same constraints, without a reference lookup on every
    message (a third of the validation's CPU). A recursive definition keeps its reference."""
    defs = schema.get("$defs") or {}

    def walk(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and set(node) <= {"$ref", "description"}:
                name = ref[len("#/$defs/") :]
                if name in defs and "/" not in name and name not in seen:
                    return walk(defs[name], seen | {name})
            return {key: value if key == "$defs" else walk(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        return node

    inlined: dict[str, Any] = walk(schema, frozenset())
    return inlined


def _format_checker(base: Any) -> Any:
    """A copy of the draft's format checker with sgguard's own formats (the shared one stays as it is)."""
    from jsonschema import FormatChecker

    from shared.person import IDENTITY_FORMAT, IdentityError, check_identity

    checker = FormatChecker(formats=())
    checker.checkers = {**base.checkers, IDENTITY_FORMAT: (check_identity, IdentityError)}
    return checker


def _strict_integers(base: Any) -> Any:
    """``base`` whose "integer" is a JSON number written without a fraction: ``1.0`` is not one.

    Draft 2020-12 counts 1.0 as an integer, but RFC 8785 canonicalises 1.0 and 1 alike, so a copy
    of a signed request with ``1.0`` would verify and then reach code that needs an int.
    """
    from jsonschema import validators

    def is_integer(_checker: Any, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    checker = base.TYPE_CHECKER.redefine("integer", is_integer)
    return validators.extend(base, type_checker=checker)


def _details_for(error: Any, emitted: set[tuple[str, str]]) -> list[tuple[list[str | int], ErrorDetail]]:
    """ErrorDetails for one jsonschema error; naming the property for required/additional."""
    from shared.schemas.messages import describe

    parts = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        # jsonschema yields one error per missing property with the same data; name each once.
        out = []
        for name in error.validator_value:
            key = (format_json_path(parts + [name]), "required")
            if name not in instance and key not in emitted:
                emitted.add(key)
                out.append(
                    (
                        parts + [name],
                        ErrorDetail(
                            ErrorCode.SCHEMA_VIOLATION,
                            f"missing required property {excerpt(name)}",
                            key[0],
                        ),
                    )
                )
        return out
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties") or ())
        patterns = [re.compile(p) for p in (schema.get("patternProperties") or ())]
        extras = [name for name in instance if name not in known and not any(p.search(name) for p in patterns)]
        return [
            (
                parts + [name],
                ErrorDetail(
                    ErrorCode.SCHEMA_VIOLATION,
                    f"unknown property {excerpt(name)} is not allowed",
                    format_json_path(parts + [name]),
                ),
            )
            for name in extras
        ]
    return [(parts, ErrorDetail(ErrorCode.SCHEMA_VIOLATION, describe(error), format_json_path(parts)))]


def _sort_key(parts: list[str | int]) -> tuple[tuple[int, int, str], ...]:
    # Index 2 before index 10, and members ordered by name, at every level.
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts)


def schema_errors(schema_name: str, instance: object, *, limit: int = MAX_ERRORS) -> list[ErrorDetail]:
    """Every violation of schema ``schema_name`` by ``instance``, sorted by path, capped.

    A valid instance is recognised by the schema's compiled check alone (shared.schemas.compiled, ~15x
    cheaper); anything else, and every schema that check does not cover, goes through jsonschema.
    """
    fast_check = _fast_check_for(schema_name)
    if fast_check is not None and fast_check(instance):
        return []
    validator = validator_for(schema_name)
    try:
        raw = list(itertools.islice(validator.iter_errors(instance), _MAX_RAW_ERRORS))
    except RecursionError:
        return [ErrorDetail(ErrorCode.SCHEMA_VIOLATION, f"nesting is deeper than {MAX_NESTING_DEPTH} levels")]
    emitted: set[tuple[str, str]] = set()
    found: list[tuple[list[str | int], ErrorDetail]] = []
    for error in raw:
        found.extend(_details_for(error, emitted))
    found.sort(key=lambda item: (_sort_key(item[0]), item[1].message))
    unique: list[ErrorDetail] = []
    for _, detail in found:
        if detail not in unique:
            unique.append(detail)
        if len(unique) >= limit:
            break
    return unique


def validate_change_request(obj: object) -> list[ErrorDetail]:
    """Schema errors of a decoded change request; empty list when valid."""
    return schema_errors(CHANGE_REQUEST_SCHEMA, obj)


def validate_result_event(event: object) -> list[ErrorDetail]:
    """Schema errors of a result CloudEvent (see shared.results); empty when valid."""
    return schema_errors(RESULT_SCHEMA, event)

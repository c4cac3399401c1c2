"""How a schema violation reads: one short human sentence per jsonschema error, never a regex.

``must be a UUID (8-4-4-4-12 lowercase hex digits ...), got 'abc'``, ``must be "first", "last"
or an integer from 0 to 99, got "lst"``: every ``pattern`` of every packaged schema has its words
in :data:`PATTERN_TEXTS` (a test checks it), a pattern without them reads "does not have the
expected form"; ``oneOf`` / ``anyOf`` list what each alternative accepts, or, when the value has
the shape of one alternative, report that alternative's own error. Input is echoed through
:func:`shared.errors.excerpt` only (at most ~80 characters, escaped).

Pure; works on jsonschema's error objects without importing jsonschema.
"""

from __future__ import annotations

import json
import re

from shared.errors import excerpt
from shared.person import IDENTITY_FORMAT, IdentityError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FORMAT_NAMES", "PATTERN_TEXTS", "describe", "expectation", "json_type_name"]

_NAME_CHARS = "ASCII letters, digits, '_', '.' or '-'"
# Every pattern of shared/schemas/*.json, in words (tests/unit/test_schema_messages.py checks that
# none is missing): what the value must look like, with an example where the rule is not obvious.
PATTERN_TEXTS: dict[str, str] = {
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\\s\\S])": (
        "a UUID (8-4-4-4-12 lowercase hex digits, like 3f2b8c1e-0a4d-4e5f-9a7b-1c2d3e4f5a6b)"
    ),
    "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}(?![\\s\\S])": (
        "1 to 128 ASCII letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
    ),
    "^[a-z0-9][a-z0-9_-]{0,31}(?![\\s\\S])": (
        "1 to 32 lowercase ASCII letters, digits, '_' or '-', starting with a letter or digit (like servicenow)"
    ),
    "^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}(?![\\s\\S])": (
        "1 to 64 ASCII letters, digits, '.', '_', ':', '/', '#' or '-', starting with a letter or digit"
    ),
    "^https?://": "an http:// or https:// URL",
    "^[A-Za-z0-9_.-]{1,64}(?![\\s\\S])": f"1 to 64 {_NAME_CHARS}",
    "^[A-Za-z0-9._-]{1,64}(?![\\s\\S])": f"1 to 64 {_NAME_CHARS}",
    "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(?![\\s\\S])": f"1 to 64 {_NAME_CHARS}, starting with a letter or digit",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z(?![\\s\\S])": (
        "a UTC date-time like 2026-01-31T12:00:00Z (RFC 3339, ending in Z)"
    ),
    "^[0-9a-f]{64}(?![\\s\\S])": "64 lowercase hex digits (an HMAC-SHA256)",
    "^[^=]+(?![\\s\\S])": "a tag key without '='",
    "^com\\.sgguard\\.": "an event type starting with com.sgguard.",
    "^[A-Z][A-Z0-9_]*$": "upper-case ASCII letters, digits and '_', starting with a letter (like POLICY_FILE)",
    "^\\$": "a JSON path starting with $",
    "^(rule|rail):": "rule:<name> or rail:<name>",
    "^\\$\\{[A-Z][A-Z0-9_]*\\}$": "a parameter reference like ${NAME}",
    "^[A-Za-z](?:[A-Za-z0-9_-]{0,58}[A-Za-z0-9])?$": (
        "1 to 60 ASCII letters, digits, '_' or '-', starting with a letter and ending with a letter or digit"
    ),
    "^[A-Za-z_][A-Za-z0-9_./-]*\\.[A-Za-z_][A-Za-z0-9_]*$": "module.function, like index.handler",
    "^[\\w.-]+\\.zip$": "a file name ending in .zip",
    "^[\\w./-]+$": "a relative path of letters, digits, '_', '.', '/' or '-'",
    "^[A-Za-z0-9_]{1,64}$": "1 to 64 ASCII letters, digits or '_'",
    "^[A-Za-z0-9]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.*-]+$": "service:resource:operation, like ECS:ecs:createServer",
    "^/": "a path starting with /",
    "^[A-Za-z]+:[A-Za-z*]+:[A-Za-z*]+$": "an IAM action like ecs:servers:get",
    # TARGETS (targets.v1) and a change request's target
    "^[0-9a-f]{32}(?![\\s\\S])": "32 lowercase hex digits (an account's domain id or a project id)",
    "^[a-z]{2}(-[a-z0-9]{1,20}){1,3}(?![\\s\\S])": "a region id in lowercase, like cn-north-4 or ap-southeast-1",
    "^ou-[0-9a-z]{4,32}(?![\\s\\S])": "an organizational unit id like ou-1a2b3c4d",
    "^[A-Za-z0-9_+=,.@:/-]{2,1224}(?![\\s\\S])": (
        "2 to 1224 ASCII letters, digits or any of _ + = , . @ : / - (an external id)"
    ),
    "^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}(?![\\s\\S])": (
        "a relative file name of 1 to 128 ASCII letters, digits, '_', '.', '/' or '-' (like policy-prod.yaml)"
    ),
}
FORMAT_NAMES = {
    "uri": "URI",
    "uri-reference": "URI reference",
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "date": "date (YYYY-MM-DD)",
    "date-time": "date-time (RFC 3339, like 2026-01-31T12:00:00Z)",
    IDENTITY_FORMAT: "identity",
}
_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}
_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def json_type_name(value: object) -> str:
    """The JSON type a decoded value has (``object``, ``integer``...)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _literal(value: object) -> str:
    """A JSON value as a message shows it: strings quoted and escaped, the rest as JSON."""
    return excerpt(value) if isinstance(value, str) else excerpt(json.dumps(value), 80)[1:-1]


def _got(value: object) -> str:
    if isinstance(value, dict) and value:
        keys = [excerpt(key, 40) for key in list(value)[:5]]
        return "an object with " + ", ".join(keys) + (" ..." if len(value) > 5 else "")
    return _TYPE_WORDS[json_type_name(value)] if isinstance(value, (dict, list)) else _literal(value)


def _choices(values: list[Any]) -> list[str]:
    return [_literal(value) for value in values]


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _range(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    return f" of at most {high}" if high is not None else ""


def expectation(schema: object) -> list[str]:
    """What ``schema`` accepts, in words, as alternatives (``["\\"first\\"", "\\"last\\""]``)."""
    if not isinstance(schema, dict):
        return ["nothing"] if schema is False else ["anything"]
    if isinstance(schema.get("errorMessage"), str):
        return [schema["errorMessage"].removeprefix("must be ")]
    if "enum" in schema:
        return _choices(list(schema["enum"]))
    if "const" in schema:
        return _choices([schema["const"]])
    if isinstance(schema.get("pattern"), str):
        return [PATTERN_TEXTS.get(schema["pattern"], "a string of the expected form")]
    if isinstance(schema.get("format"), str):
        return [f"a {FORMAT_NAMES.get(schema['format'], schema['format'])}"]
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _TYPE_WORDS:
        text = _TYPE_WORDS[kind]
        if kind in ("integer", "number"):
            text += _range(schema)
        elif kind == "array" and ("minItems" in schema or "maxItems" in schema):
            text += f" of {schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items"
        elif kind == "object" and schema.get("required"):
            text += " with " + _either([f"{name!r}" for name in schema["required"]])
        return [text]
    if isinstance(schema.get("description"), str):
        return [schema["description"]]
    return ["a valid value"]


def describe(error: Any) -> str:
    """Short message for one jsonschema error (no regex), echoing at most ~80 chars of input."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if isinstance(schema.get("errorMessage"), str):
        return str(schema["errorMessage"])
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword is None or error.schema is False:
        return "this property is not allowed here"
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        return f"must be {_either([_TYPE_WORDS.get(str(w), str(w)) for w in wanted])}, got {_got(value)}"
    if keyword in ("const", "enum"):
        return f"must be {_either(_choices(expected if keyword == 'enum' else [expected]))}, got {_got(value)}"
    if keyword == "pattern":
        return f"must be {PATTERN_TEXTS.get(expected, 'of the expected form')}, got {_got(value)}"
    if keyword == "format":
        reason = f": {error.cause}" if isinstance(error.cause, IdentityError) else ""
        return f"{excerpt(value)} is not a valid {FORMAT_NAMES.get(expected, expected)}{reason}"
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"string has {len(value)} characters; {bound} {expected} allowed"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"array has {len(value)} items; {bound} {expected} allowed"
    if keyword in ("minProperties", "maxProperties"):
        names = sorted(schema.get("properties") or ())
        if expected == 1 and names:
            return f"object must have exactly one of: {', '.join(names)}"
        bound = "at least" if keyword == "minProperties" else "at most"
        return f"object has {len(value)} properties; {bound} {expected} allowed"
    if keyword == "uniqueItems":
        return "array contains duplicate items"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than"}
        return f"must be {words.get(keyword, 'less than')} {expected}, got {_got(value)}"
    if keyword in ("anyOf", "oneOf"):
        return _alternatives(error, keyword)
    if keyword == "required" and isinstance(value, dict):
        missing = [name for name in expected if name not in value]
        return f"missing required propert{'y' if len(missing) == 1 else 'ies'} {', '.join(map(excerpt, missing))}"
    if keyword == "additionalProperties" and isinstance(value, dict):
        known = set(schema.get("properties") or ())
        patterns = [re.compile(p) for p in (schema.get("patternProperties") or ())]
        extra = [excerpt(k, 40) for k in value if k not in known and not any(p.search(k) for p in patterns)][:5]
        one = len(extra) == 1
        return f"unknown propert{'y' if one else 'ies'} {', '.join(extra)} {'is' if one else 'are'} not allowed"
    return excerpt(error.message, 200)


def _alternatives(error: Any, keyword: str) -> str:
    """``must be "first", "last" or an integer from 0 to 99, got "lst"``; or, when the value has
    the shape of exactly one alternative (its errors are all inside the value), that error."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    by_branch: dict[int, list[Any]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    inside = [subs for subs in by_branch.values() if all(len(sub.relative_path) > 0 for sub in subs)]
    if len(inside) == 1:
        first = sorted(inside[0], key=lambda sub: [str(p) for p in sub.relative_path])[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.relative_path)
        return f"{where.lstrip('.')}: {describe(first)}"
    if keyword == "oneOf" and len(by_branch) < len(error.validator_value):
        return "matches more than one of the accepted forms; give only one"
    wanted: list[str] = []
    for index, branch in enumerate(error.validator_value):
        subs = by_branch.get(index, [])
        top = next((sub.schema for sub in subs if not sub.relative_path), branch)
        wanted.extend(expectation(top if "$ref" in (branch if isinstance(branch, dict) else {}) else branch))
    if isinstance(schema.get("description"), str) and wanted == ["a valid value"] * len(wanted):
        return f"{excerpt(error.instance)} is not valid: {schema['description']}"
    return f"must be {_either(list(dict.fromkeys(wanted)))}, got {_got(error.instance)}"

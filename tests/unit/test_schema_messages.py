"""Issue 22 item 9: schema errors in words, for every schema: no regex, the valid values, the bounds.

Codes and paths are an API and are asserted unchanged; only the message text is new.
"""

from __future__ import annotations

import json
import re

import pytest

from shared.errors import ErrorCode
from shared.schemas import SCHEMA_DIR, load_schema
from shared.schemas.messages import PATTERN_TEXTS, describe
from shared.validation import schema_errors, validate_change_request
from tests.support.requests import change_request

SCHEMAS = ["change_request.v1", "policy.v1", "result.v1", "targets.v1", "template.v1"]
REGEX_BITS = re.compile(r"\(\?!|\\s\\S|\[\^|\{\d+,\d+\}|\^\[|\$\"|\[A-Za-z")


def _patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_the_five_schemas_are_the_ones_shipped():
    assert sorted(p.name.removesuffix(".json") for p in SCHEMA_DIR.glob("*.json")) == sorted(SCHEMAS)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_pattern_of_every_schema_has_words(name):
    missing = sorted(set(_patterns(load_schema(name))) - set(PATTERN_TEXTS))
    assert not missing, f"add these patterns to shared/schemas/messages.py PATTERN_TEXTS: {missing}"


@pytest.mark.parametrize("pattern", sorted(PATTERN_TEXTS))
@pytest.mark.parametrize("value", ["\u202e!", "x" * 500, "=", " "])
def test_no_pattern_error_shows_a_regex(pattern, value):
    from jsonschema import Draft202012Validator

    for error in Draft202012Validator({"type": "string", "pattern": pattern}).iter_errors(value):
        message = describe(error)
        assert pattern not in message and not REGEX_BITS.search(message), message
        assert message.startswith("must be ") and len(message) < 250 and "\u202e" not in message


def test_an_unknown_pattern_still_shows_no_regex():
    from jsonschema import Draft202012Validator

    [error] = Draft202012Validator({"pattern": "^[a-z]{3}(?![\\s\\S])"}).iter_errors("ABCD")
    assert describe(error) == "must be of the expected form, got 'ABCD'"


# ---- the change request --------------------------------------------------------------------------
def _errors(request):
    return {(e.code, e.path): e.message for e in validate_change_request(request)}


def test_a_bad_server_id_names_the_uuid_form_not_the_regex():
    request = change_request("add", [{"name": "web"}])
    request["target"]["server_id"] = "6F1B3C0E-2A4D-4E8F-9C1A-0B2C3D4E5F60"  # upper case: refused
    assert _errors(request) == {
        (ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"): "must be a UUID (8-4-4-4-12 lowercase hex digits, like "
        "3f2b8c1e-0a4d-4e5f-9a7b-1c2d3e4f5a6b), got '6F1B3C0E-2A4D-4E8F-9C1A-0B2C3D4E5F60'"
    }


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("server_id", 12345, "must be a string, got 12345"),
        ("server_id", ["x"], "must be a string, got a list"),
        ("server_id", {"a": 1}, "must be a string, got an object with 'a'"),
        ("server_id", "\uff16f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60", "got '\uff16f1b3c0e"),  # full-width digit
    ],
)
def test_wrong_types_and_look_alike_digits(field, value, message):
    request = change_request("add", [{"name": "web"}])
    request["target"][field] = value
    assert message in _errors(request)[(ErrorCode.SCHEMA_VIOLATION, f"$.target.{field}")]


def test_enum_and_bounds_list_what_is_valid():
    request = change_request("add", [{"name": "w\u00e9b"}])
    request["change"]["action"] = "delete"
    errors = _errors(request)
    assert errors[(ErrorCode.SCHEMA_VIOLATION, "$.change.action")] == (
        "must be 'replace', 'add', 'remove' or 'reorder', got 'delete'"
    )
    assert errors[(ErrorCode.SCHEMA_VIOLATION, "$.change.security_groups[0].name")] == (
        "must be 1 to 64 ASCII letters, digits, '_', '.' or '-', got 'w\u00e9b'"
    )


def test_a_huge_number_is_named_with_the_bound():
    request = change_request("add", [{"name": "web"}])
    request["change"]["position"] = 10**30
    message = _errors(request)[(ErrorCode.SCHEMA_VIOLATION, "$.change.position")]
    assert message.startswith("must be at most ") and message.endswith(", got 1000000000000000000000000000000")


# ---- the policy ----------------------------------------------------------------------------------
def _policy_errors(rule=None, **top):
    document = {"rules": [{"name": "r", "security_groups": [{"name": "web"}], **(rule or {})}], **top}
    return {e.path: e.message for e in schema_errors("policy.v1", document)}


def test_a_policy_position_lists_the_valid_values():
    # issue 22: "'lst' is not valid"
    assert _policy_errors({"position": "lst"}) == {
        "$.rules[0].position": "must be 'first', 'last' or an integer from 0 to 99, got 'lst'"
    }


def test_policy_enums_consts_and_group_refs():
    errors = _policy_errors({"nics": "both", "security_groups": [{"id": "ABC"}, {"nam": "x"}]}, version=2)
    assert errors["$.rules[0].nics"] == "must be 'primary' or 'all', got 'both'"
    assert errors["$.version"] == "must be 1, got 2"
    assert errors["$.rules[0].security_groups[0]"].startswith("id: must be a UUID (8-4-4-4-12")
    assert errors["$.rules[0].security_groups[1]"] == (
        "must be an object with 'id' or an object with 'name', got an object with 'nam'"
    )


def test_a_tag_key_with_equals_and_a_bad_date():
    errors = _policy_errors(
        {"match": {"tags": {"a=b": "x"}}},
        exclude={"servers": [{"id": "c0000000-0000-4000-8000-000000000001", "until": "2020-13-01"}]},
    )
    assert errors["$.rules[0].match.tags"] == "must be a tag key without '=', got 'a=b'"
    assert errors["$.exclude.servers[0].until"] == "'2020-13-01' is not a valid date (YYYY-MM-DD)"


# ---- the result event and the template ----------------------------------------------------------
def test_result_event_errors_read_in_words():
    errors = {e.path: e.message for e in schema_errors("result.v1", {"specversion": "1.0", "type": "x.y"})}
    assert errors["$.type"] == "must be an event type starting with com.sgguard., got 'x.y'"
    assert all(not REGEX_BITS.search(m) for m in errors.values()), errors


def test_template_errors_read_in_words():
    from sgguard_cli.template import _schema_errors

    errors = _schema_errors({"functions": [{"func_name": "1bad", "handler": "index", "memory_size": 300}]})
    text = json.dumps(errors)
    assert "$: missing required properties 'template_version', 'parameters', 'agency'" in errors
    assert len(errors) == len(set(errors))
    assert "$.functions[0].func_name: must be 1 to 60 ASCII letters" in text
    assert "$.functions[0].handler: must be module.function, like index.handler, got 'index'" in text
    assert "$.functions[0].memory_size: must be " in text and ", got 300" in text
    assert not REGEX_BITS.search(text), errors


def test_docs_errors_lists_every_code():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.MULTILINE))
    assert listed == ErrorCode.all(), (sorted(ErrorCode.all() - listed), sorted(listed - ErrorCode.all()))

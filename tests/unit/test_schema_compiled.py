"""shared.schemas.compiled keyword by keyword: each verdict, both ways, and always jsonschema's verdict too.

Every case is judged twice, by the compiled check and by the Draft 2020-12 validator built as
shared.validation builds it (strict integers, sgguard's format checker), and both must give the
expected answer. The schemas the check must not take on raise UnsupportedSchema.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from shared import validation
from shared.schemas.compiled import DRAFT_2020_12, UnsupportedSchema, compile_for_validator, compile_schema
from shared.schemas.json_equality import json_equal

CHECKER = validation._format_checker(Draft202012Validator.FORMAT_CHECKER)
STRICT = validation._strict_integers(Draft202012Validator)
UUID = "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60"


def both_verdicts(schema: object, instance: object) -> tuple[bool, bool]:
    fast = compile_schema(schema, format_checker=CHECKER, type_checker=STRICT.TYPE_CHECKER)(instance)
    reference = next(STRICT(schema, format_checker=CHECKER).iter_errors(instance), None) is None
    return fast, reference


# (schema, instance, valid?) - grouped by keyword; each keyword has a yes and a no.
CASES = {
    "type_string_yes": ({"type": "string"}, "a", True),
    "type_string_no": ({"type": "string"}, 1, False),
    "type_integer_yes": ({"type": "integer"}, 3, True),
    "type_integer_big_yes": ({"type": "integer"}, 2**80, True),
    "type_integer_float_no": ({"type": "integer"}, 1.0, False),  # sgguard's strict integer
    "type_integer_bool_no": ({"type": "integer"}, True, False),
    "type_number_yes": ({"type": "number"}, 1.5, True),
    "type_number_bool_no": ({"type": "number"}, False, False),
    "type_boolean_yes": ({"type": "boolean"}, False, True),
    "type_boolean_no": ({"type": "boolean"}, 0, False),
    "type_null_yes": ({"type": "null"}, None, True),
    "type_null_no": ({"type": "null"}, 0, False),
    "type_object_yes": ({"type": "object"}, {}, True),
    "type_object_no": ({"type": "object"}, [], False),
    "type_array_yes": ({"type": "array"}, [], True),
    "type_array_no": ({"type": "array"}, {}, False),
    "type_list_yes": ({"type": ["string", "array"]}, [1], True),
    "type_list_no": ({"type": ["string", "array"]}, {}, False),
    "properties_yes": ({"properties": {"a": {"type": "string"}}}, {"a": "x", "b": 1}, True),
    "properties_no": ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False),
    "properties_not_object_ignored": ({"properties": {"a": {"type": "string"}}}, [1], True),
    "additional_false_yes": ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, True),
    "additional_false_no": ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    "additional_schema_yes": ({"additionalProperties": {"type": "integer"}}, {"b": 2}, True),
    "additional_schema_no": ({"additionalProperties": {"type": "integer"}}, {"b": "2"}, False),
    "required_yes": ({"required": ["a"]}, {"a": None}, True),
    "required_no": ({"required": ["a"]}, {"b": None}, False),
    "required_not_object_ignored": ({"required": ["a"]}, "a", True),
    "min_properties_yes": ({"minProperties": 1}, {"a": 1}, True),
    "min_properties_no": ({"minProperties": 1}, {}, False),
    "max_properties_yes": ({"maxProperties": 1}, {"a": 1}, True),
    "max_properties_no": ({"maxProperties": 1}, {"a": 1, "b": 2}, False),
    "items_yes": ({"items": {"type": "string"}}, ["a", "b"], True),
    "items_no": ({"items": {"type": "string"}}, ["a", 2], False),
    "items_false_empty_yes": ({"items": False}, [], True),
    "items_false_no": ({"items": False}, [1], False),
    "min_items_yes": ({"minItems": 2}, [1, 2], True),
    "min_items_no": ({"minItems": 2}, [1], False),
    "max_items_yes": ({"maxItems": 1}, [1], True),
    "max_items_no": ({"maxItems": 1}, [1, 2], False),
    "unique_yes": ({"uniqueItems": True}, [1, "1", True, None, [1], {"a": 1}], True),
    "unique_int_float_no": ({"uniqueItems": True}, [1, 1.0], False),  # JSON equality
    "unique_true_one_yes": ({"uniqueItems": True}, [True, 1], True),
    "unique_false_zero_yes": ({"uniqueItems": True}, [False, 0], True),
    "unique_deep_dict_no": ({"uniqueItems": True}, [{"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2}]}], False),
    "unique_deep_dict_bool_yes": ({"uniqueItems": True}, [{"a": [1]}, {"a": [True]}], True),
    "unique_lists_no": ({"uniqueItems": True}, [[1, 2], [1, 2]], False),
    "unique_key_order_no": ({"uniqueItems": True}, [{"a": 1, "b": 2}, {"b": 2, "a": 1}], False),
    "unique_off_yes": ({"uniqueItems": False}, [1, 1], True),
    "enum_yes": ({"enum": ["a", "b"]}, "b", True),
    "enum_no": ({"enum": ["a", "b"]}, "c", False),
    "enum_mixed_float_yes": ({"enum": [1, None]}, 1.0, True),
    "enum_mixed_bool_no": ({"enum": [1, None]}, True, False),
    "enum_zero_false_no": ({"enum": [0]}, False, False),
    "enum_deep_yes": ({"enum": [{"a": [1]}]}, {"a": [1.0]}, True),
    "const_yes": ({"const": "1"}, "1", True),
    "const_no": ({"const": "1"}, 1, False),
    "const_bool_no": ({"const": 1}, True, False),
    "const_list_no": ({"const": [1, 2]}, [2, 1], False),
    "min_length_yes": ({"minLength": 2}, "ab", True),
    "min_length_no": ({"minLength": 2}, "a", False),
    "min_length_code_points_no": ({"minLength": 2}, "\U0001f600", False),  # one code point, two UTF-16 units
    "max_length_yes": ({"maxLength": 1}, "\U0001f600", True),
    "max_length_no": ({"maxLength": 1}, "ab", False),
    "max_length_not_string_ignored": ({"maxLength": 1}, [1, 2], True),
    "pattern_yes": ({"pattern": "^a[0-9]+(?![\\s\\S])"}, "a12", True),
    "pattern_newline_no": ({"pattern": "^a[0-9]+(?![\\s\\S])"}, "a12\n", False),
    "pattern_search_yes": ({"pattern": "b"}, "abc", True),  # re.search, not re.match
    "pattern_no": ({"pattern": "^b"}, "abc", False),
    "pattern_not_string_ignored": ({"pattern": "^b"}, 5, True),
    "minimum_yes": ({"minimum": 0}, 0, True),
    "minimum_no": ({"minimum": 0}, -1, False),
    "minimum_float_no": ({"minimum": 0}, -0.5, False),
    "maximum_yes": ({"maximum": 99}, 99.0, True),
    "maximum_no": ({"maximum": 99}, 2**64, False),
    "maximum_not_number_ignored": ({"maximum": 99}, True, True),
    "any_of_yes": ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
    "any_of_no": ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 1, False),
    "not_yes": ({"not": {"type": "string"}}, 1, True),
    "not_no": ({"not": {"type": "string"}}, "1", False),
    "not_empty_no": ({"not": {}}, 1, False),
    "if_then_yes": ({"if": {"type": "string"}, "then": {"enum": ["a"]}, "else": {"minItems": 1}}, "a", True),
    "if_then_no": ({"if": {"type": "string"}, "then": {"enum": ["a"]}, "else": {"minItems": 1}}, "b", False),
    "if_else_yes": ({"if": {"type": "string"}, "then": {"enum": ["a"]}, "else": {"minItems": 1}}, [0], True),
    "if_else_no": ({"if": {"type": "string"}, "then": {"enum": ["a"]}, "else": {"minItems": 1}}, [], False),
    "then_without_if_ignored": ({"then": False}, 1, True),
    "ref_yes": ({"$defs": {"u": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/u"}}}, {"a": "x"}, True),
    "ref_no": ({"$defs": {"u": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/u"}}}, {"a": 1}, False),
    "ref_recursive_yes": (
        {"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"},
        [[[]], []],
        True,
    ),
    "ref_recursive_no": (
        {"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"},
        [[[1]]],
        False,
    ),
    "format_ipv4_yes": ({"format": "ipv4"}, "10.0.0.1", True),
    "format_ipv4_no": ({"format": "ipv4"}, "010.0.0.1", False),
    "format_ipv6_scope_no": ({"format": "ipv6"}, "fe80::1%eth0", False),
    "format_date_time_yes": ({"format": "date-time"}, "2026-11-28T21:00:00Z", True),
    "format_date_time_no": ({"format": "date-time"}, "2026-02-30T21:00:00Z", False),
    "format_uri_yes": ({"format": "uri"}, "https://t.example/a?b#c", True),
    "format_uri_no": ({"format": "uri"}, "https://exa mple.com/", False),
    "format_identity_yes": ({"format": "sgguard-identity"}, "zoë.müller@bücher.example", True),
    "format_identity_no": ({"format": "sgguard-identity"}, "Alice <alice@example.com>", False),
    "format_not_string_ignored": ({"format": "sgguard-identity"}, 5, True),
    "annotations_yes": (
        {
            "title": "t",
            "description": "d",
            "$comment": "c",
            "default": 1,
            "errorMessage": "e",
            "$schema": DRAFT_2020_12,
        },
        None,
        True,
    ),
    "true_schema_yes": (True, {"anything": [1]}, True),
    "false_schema_no": (False, None, False),
}


@pytest.mark.parametrize(("schema", "instance", "valid"), CASES.values(), ids=CASES.keys())
def test_each_keyword_agrees_with_jsonschema(schema, instance, valid):
    assert both_verdicts(schema, instance) == (valid, valid)


UNSUPPORTED = {
    "oneOf": {"oneOf": [{"type": "string"}]},
    "nested_in_properties": {"properties": {"a": {"propertyNames": {"maxLength": 1}}}},
    "inside_defs_unreached": {"$defs": {"x": {"patternProperties": {"^a": {}}}}, "type": "object"},
    "inside_then_without_if": {"then": {"dependentRequired": {}}},
    "prefix_items": {"prefixItems": [{}], "items": False},
    "typo": {"maxLenght": 3},
    "examples": {"examples": ["a"]},
    "unknown_type": {"type": "int"},
    "unknown_format": {"format": "hostname-ish"},
    "nested_id": {"properties": {"a": {"$id": "https://x.example/a", "type": "string"}}},
    "remote_ref": {"$ref": "https://x.example/schema"},
    "escaped_pointer": {"$defs": {"a/b": {}}, "$ref": "#/$defs/a~1b"},
    "dangling_ref": {"$ref": "#/$defs/missing"},
    "schema_not_object": {"properties": {"a": 3}},
    "bad_bound": {"maximum": "9"},
    "bad_regex": {"pattern": "(?<=a+)b"},
    "nested_schema": {"properties": {"a": {"$schema": DRAFT_2020_12, "type": "integer"}}},
    "root_of_another_draft": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
    "ref_to_a_root_with_schema": {"$schema": DRAFT_2020_12, "properties": {"a": {"$ref": "#"}}},
}


@pytest.mark.parametrize("schema", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_a_schema_with_anything_else_gets_no_fast_check(schema):
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema, format_checker=CHECKER)


def test_the_packaged_schemas_with_other_keywords_are_left_to_jsonschema():
    assert validation._fast_check_for(validation.CHANGE_REQUEST_SCHEMA) is not None
    for name in ("targets.v1", "policy.v1"):  # oneOf, propertyNames
        assert validation._fast_check_for(name) is None
    policy_errors = validation.schema_errors("policy.v1", {"version": 99})
    assert policy_errors  # still judged, by jsonschema


def test_a_nested_schema_keyword_really_changes_jsonschemas_verdict():
    # Why "nested_schema" above is refused: jsonschema validates that subschema with the stock
    # Draft 2020-12 class, whose "integer" accepts 1.0 where sgguard's does not.
    schema = {"properties": {"a": {"$schema": DRAFT_2020_12, "type": "integer"}}}
    assert next(STRICT(schema, format_checker=CHECKER).iter_errors({"a": 1.0}), None) is None
    assert next(STRICT({"properties": {"a": {"type": "integer"}}}).iter_errors({"a": 1.0}), None) is not None


def test_a_validator_with_a_keyword_of_its_own_gets_no_fast_check():
    from jsonschema import validators

    def strict_maximum(_validator, _maximum, _instance, _schema):
        yield from ()

    relaxed = validators.extend(STRICT, {"maximum": strict_maximum})
    with pytest.raises(UnsupportedSchema, match="maximum"):
        compile_for_validator(relaxed({"maximum": 1}, format_checker=CHECKER))
    assert compile_for_validator(STRICT({"maximum": 1}, format_checker=CHECKER))(2) is False


def test_a_type_checker_other_than_sgguards_gets_no_fast_check():
    # Draft 2020-12's own "integer" accepts 1.0: the compiled check would then be stricter than it.
    with pytest.raises(UnsupportedSchema, match="integer"):
        compile_schema({"type": "integer"}, type_checker=Draft202012Validator.TYPE_CHECKER)


def test_formats_are_judged_by_the_checkers_own_functions():
    calls: list[object] = []

    def even_length(value: object) -> bool:
        calls.append(value)
        if value == "boom":
            raise KeyError(value)  # not one of the checker's "no" errors: the check answers False
        return not isinstance(value, str) or len(value) % 2 == 0

    checker = FormatChecker(formats=())
    checker.checks("even", raises=ValueError)(even_length)
    check = compile_schema({"format": "even"}, format_checker=checker)
    assert check("ab") is True
    assert check("abc") is False
    assert check("boom") is False
    assert calls == ["ab", "abc", "boom"]


def test_format_memo_only_remembers_what_the_function_accepted():
    calls: list[object] = []

    def odd(value: object) -> bool:
        calls.append(value)
        return isinstance(value, str) and len(value) % 2 == 1

    checker = FormatChecker(formats=())
    checker.checks("odd")(odd)
    check = compile_schema({"format": "odd"}, format_checker=checker)
    assert [check("a"), check("a"), check("ab"), check("ab")] == [True, True, False, False]
    assert calls == ["a", "ab", "ab"]  # "a" checked once; a refusal is never remembered


def test_without_a_format_checker_formats_are_not_checked_as_in_jsonschema():
    assert compile_schema({"format": "ipv4"})("not an address") is True
    assert next(Draft202012Validator({"format": "ipv4"}).iter_errors("not an address"), None) is None


def test_a_failure_inside_the_check_answers_false_not_an_exception():
    deep: list[object] = []
    node = deep
    for _ in range(5000):  # deeper than the recursion limit
        child: list[object] = []
        node.append(child)
        node = child
    schema = {"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"}
    assert compile_schema(schema)(deep) is False


JSON_EQUAL = [
    (1, 1.0, True),
    (True, 1, False),
    (False, 0, False),
    (None, None, True),
    ("1", 1, False),
    ([1, [True]], [1.0, [True]], True),
    ([1], [1, 1], False),
    ({"a": 1}, {"a": 1, "b": 2}, False),
    ({"a": {"b": [0]}}, {"a": {"b": [0.0]}}, True),
    ({"a": {"b": [0]}}, {"a": {"b": [False]}}, False),
    ([], {}, False),
]


@pytest.mark.parametrize(("one", "two", "equal"), JSON_EQUAL)
def test_json_equal_is_jsonschemas_equality(one, two, equal):
    from jsonschema._utils import equal as jsonschema_equal

    assert json_equal(one, two) is equal
    assert json_equal(two, one) is equal
    assert jsonschema_equal(one, two) is equal

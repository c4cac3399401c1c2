"""decode_json_message: strict JSON decoding that reports instead of raising."""

import json

import pytest

from shared.errors import ErrorCode, ErrorDetail
from shared.validation import DEFAULT_MAX_BYTES, MAX_NESTING_DEPTH, decode_json_message

REQUEST = {"request_id": "CHG-1", "change": {"action": "add", "security_groups": [{"name": "web"}]}}
TEXT = json.dumps(REQUEST)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_value(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "raw, expected",
    [
        (TEXT, REQUEST),
        (TEXT.encode(), REQUEST),
        (bytearray(TEXT.encode()), REQUEST),
        (memoryview(TEXT.encode()), REQUEST),
        (b"\xef\xbb\xbf" + TEXT.encode(), REQUEST),
        (REQUEST, REQUEST),
        ([REQUEST], [REQUEST]),
        ("  \n" + TEXT + "\t ", REQUEST),
        ('"just a string"', "just a string"),
        ("42", 42),
        ("null", None),
        ('{"euro": "\\u20ac", "emoji": "\\ud83d\\ude00"}', {"euro": "\u20ac", "emoji": "\U0001f600"}),
        ('{"a": 1.5e3}', {"a": 1500.0}),
        (nested(MAX_NESTING_DEPTH), nested_value(MAX_NESTING_DEPTH)),
        (nested_value(MAX_NESTING_DEPTH), nested_value(MAX_NESTING_DEPTH)),
    ],
    ids=[
        "str",
        "bytes",
        "bytearray",
        "memoryview",
        "bom",
        "dict",
        "list",
        "whitespace",
        "json_string",
        "json_number",
        "json_null",
        "unicode_escapes",
        "float",
        "depth_32_text",
        "depth_32_value",
    ],
)
def test_decodes(raw, expected):
    value, error = decode_json_message(raw)
    assert error is None
    assert value == expected


INVALID = {
    "none": (None, "missing"),
    "empty": ("", "empty"),
    "blank": ("  \n ", "empty"),
    "empty_bytes": (b"", "empty"),
    "truncated": ('{"a":', "line 1 column 6 (char 5)"),
    "trailing_garbage": ('{"a": 1} x', "line 1 column 10 (char 9)"),
    "single_quotes": ("{'a': 1}", "char 1"),
    "second_line": ('{\n  "a": tru\n}', "line 2"),
    "nan": ('{"a": NaN}', "NaN"),
    "infinity": ("[Infinity]", "Infinity"),
    "minus_infinity": ("[-Infinity]", "-Infinity"),
    "overflowing_float": ("[1e999]", "out of range"),
    "duplicate_key": ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    "nested_duplicate_key": ('{"x": [{"b": 1, "b": 1}]}', "duplicate key 'b'"),
    "invalid_utf8": (b'{"a": "\xff"}', "UTF-8"),
    "utf16": ('{"a": 1}'.encode("utf-16"), "UTF-8"),
    "lone_surrogate_escape": ('{"a": "\\ud800"}', "surrogate"),
    "lone_surrogate_key": ('{"\\udc00": 1}', "surrogate"),
    "depth_33": (nested(MAX_NESTING_DEPTH + 1), "deeper than 32"),
    "depth_100000": (nested(100000), "deeper than 32"),
    "object_depth_40": ('{"a":' * 40 + "1" + "}" * 40, "deeper than 32"),
    "huge_integer": ("1" * 5000, "invalid JSON"),
    "int_raw": (5, "not integer"),
    "float_raw": (1.5, "not number"),
    "bool_raw": (True, "not boolean"),
    "object_raw": (object(), "not object"),
    "dict_with_nan": ({"a": float("nan")}, "NaN"),
    "dict_with_set": ({"a": {1, 2}}, "set"),
    "dict_int_key": ({1: "a"}, "not a string"),
    "dict_too_deep": (nested_value(40), "deeper than 32"),
    "dict_lone_surrogate": ({"a": "\ud800"}, "surrogate"),
}


@pytest.mark.parametrize("raw, fragment", INVALID.values(), ids=INVALID.keys())
def test_invalid_json(raw, fragment):
    value, error = decode_json_message(raw, max_bytes=10**6)
    assert value is None
    assert isinstance(error, ErrorDetail)
    assert (error.code, error.path) == (ErrorCode.INVALID_JSON, "$")
    assert fragment in error.message
    assert len(error.message) < 250


@pytest.mark.parametrize(
    "raw",
    [
        b"x" * (DEFAULT_MAX_BYTES + 1),
        "x" * (DEFAULT_MAX_BYTES + 1),
        "\u20ac" * (DEFAULT_MAX_BYTES // 3 + 1),  # few chars, many UTF-8 bytes
        {"blob": "y" * DEFAULT_MAX_BYTES},
        [1] * DEFAULT_MAX_BYTES,
    ],
    ids=["bytes", "str", "multibyte_str", "dict", "list"],
)
def test_too_large(raw):
    value, error = decode_json_message(raw)
    assert value is None
    assert (error.code, error.path) == (ErrorCode.MESSAGE_TOO_LARGE, "$")
    assert str(DEFAULT_MAX_BYTES) in error.message


def test_size_limit_is_inclusive_and_configurable():
    body = '"' + "a" * 98 + '"'  # exactly 100 bytes
    assert decode_json_message(body, max_bytes=100) == ("a" * 98, None)
    assert decode_json_message(body, max_bytes=99)[1].code == ErrorCode.MESSAGE_TOO_LARGE


def test_too_large_is_checked_before_decoding():
    # Invalid UTF-8 *and* too large: size wins, the payload is never decoded.
    _, error = decode_json_message(b"\xff" * 100, max_bytes=10)
    assert error.code == ErrorCode.MESSAGE_TOO_LARGE


def test_decoded_dict_is_returned_as_is():
    value, error = decode_json_message(REQUEST)
    assert error is None and value is REQUEST

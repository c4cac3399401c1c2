"""canonical_json: RFC 8785 (JCS) vectors, ordering, escaping, refusals."""

import json
import math
import struct

import pytest

from shared.canonical_json import CanonicalJsonError, _es6_number, canonical_json

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
NUMBER_VECTORS = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324",
    "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308",
    "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343",
    "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}


@pytest.mark.parametrize("bits, expected", NUMBER_VECTORS.items(), ids=NUMBER_VECTORS.keys())
def test_rfc8785_number_vectors(bits, expected):
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert _es6_number(value) == expected
    assert canonical_json(value) == expected.encode()


def test_rfc8785_section_3_2_2_example():
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_rfc8785_sorting_by_utf16_code_units():
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    # U+1F600 is the surrogate pair D83D DE00: it sorts *before* U+FB33 in UTF-16,
    # though after it by code point.
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert sorted(value) != keys  # plain code point order differs: the RFC rule matters


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"b": 1, "a": 2}, b'{"a":2,"b":1}'),
        ({"a": {"d": [3, {"z": 0, "y": None}], "c": True}}, b'{"a":{"c":true,"d":[3,{"y":null,"z":0}]}}'),
        ([3, 1, 2], b"[3,1,2]"),
        ((1, "x"), b'[1,"x"]'),
        ({}, b"{}"),
        ([], b"[]"),
        ("caf\u00e9", '"caf\u00e9"'.encode("utf-8")),
        ("\u2028\u007f", '"\u2028\u007f"'.encode("utf-8")),
        ("tab\tnl\nbs\b ff\f cr\r nul\x00 us\x1f", b'"tab\\tnl\\nbs\\b ff\\f cr\\r nul\\u0000 us\\u001f"'),
        ("\U0001f600", '"\U0001f600"'.encode("utf-8")),
        (True, b"true"),
        (1, b"1"),
        (-0.0, b"0"),
        (5.0, b"5"),
        (2**60, b"1152921504606846976"),
        ({"A": 1, "a": 2, "_": 3, "B": 4}, b'{"A":1,"B":4,"_":3,"a":2}'),
    ],
)
def test_canonical_vectors(value, expected):
    assert canonical_json(value) == expected


def test_whitespace_and_key_order_do_not_matter():
    one = json.loads('{ "z" : [1, 2], "a" : {"y": "x", "b": null} }')
    two = json.loads('{"a":{"b":null,"y":"x"},"z":[1,2]}')
    assert canonical_json(one) == canonical_json(two)


def test_bool_is_not_an_integer():
    assert canonical_json([True, 1, False, 0]) == b"[true,1,false,0]"


@pytest.mark.parametrize(
    "value, path",
    [
        (float("nan"), "$"),
        ({"a": [1, float("inf")]}, "$.a[1]"),
        ({1: "x"}, "$"),
        ({"a": {1, 2}}, "$.a"),
        ({"a": b"bytes"}, "$.a"),
        ("\ud800", "$"),
        ({"k": "\udfff"}, "$"),
    ],
)
def test_refuses_values_without_a_json_form(value, path):
    with pytest.raises(CanonicalJsonError) as info:
        canonical_json(value)
    assert info.value.path == path


def test_refuses_absurd_nesting_without_recursion_error():
    value: object = 1
    for _ in range(500):
        value = [value]
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


def test_es6_numbers_round_trip_for_awkward_values():
    for value in (0.1, 1e-7, 1e21, 1e20, 123456789012345680000.0, 5e-324, math.pi, -1.5e-10, 1e16):
        assert float(_es6_number(value)) == value

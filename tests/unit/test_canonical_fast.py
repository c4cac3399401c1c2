"""The fast canonical writer (str keys in ASCII, ints, strings, lists) writes exactly what the
full RFC 8785 writer does, and hands everything else to it (errors keep their paths)."""

from collections import OrderedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import canonical_json as cj
from shared.canonical_json import CanonicalJsonError, canonical_json

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.one_of(st.text(max_size=6), st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=6))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(keys, c, max_size=4)))


def _full(value: object) -> bytes:
    out: list[str] = []
    cj._write(value, out, ())
    return "".join(out).encode("utf-8")


@SETTINGS
@given(values)
def test_the_same_bytes_as_the_full_writer(value):
    assert canonical_json(value) == _full(value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [True, False, None, "x"]},
        {"\u00e9": 1, "e": 2},  # non-ASCII keys: UTF-16 order
        {"\U0001f600": 1, "\uff61": 2},  # a surrogate pair sorts before U+FF61 in UTF-16, after it by code point
        {"n": 1.0, "m": 1e21},
        {"big": 10**20},
        (1, 2),
        OrderedDict([("b", 1), ("a", 2)]),
    ],
)
def test_values_the_fast_writer_hands_on(value):
    assert canonical_json(value) == _full(value)


def test_the_fast_writer_takes_plain_requests(monkeypatch):
    calls = []
    monkeypatch.setattr(cj, "_write", lambda *a: calls.append(a))
    canonical_json({"request_id": "R-1", "change": {"security_groups": [{"id": "x"}], "n": 3}})
    assert calls == []  # written without the full writer


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": [1, {"b": float("nan")}]}, "$.a[1].b"),
        ({"a": {1: 2}}, "$.a"),
        ({"a": [set()]}, "$.a[0]"),
    ],
)
def test_errors_keep_their_paths(value, path):
    with pytest.raises(CanonicalJsonError) as raised:
        canonical_json(value)
    assert raised.value.path == path


def test_nesting_limit_is_the_full_writers():
    deep: object = "x"
    for _ in range(64):
        deep = [deep]
    assert canonical_json(deep) == _full(deep)
    with pytest.raises(CanonicalJsonError, match="nesting too deep"):
        canonical_json([deep])

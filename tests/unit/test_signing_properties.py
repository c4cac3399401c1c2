"""Property tests: sign-then-verify passes; any single change fails; canonical JSON is stable."""

import copy
import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.canonical_json import _es6_number, canonical_json
from shared.errors import ErrorCode
from shared.signing import sign_request, verify_request_signature
from shared.timestamps import format_timestamp

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False), text
)
json_values = st.recursive(
    scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(text, c, max_size=4)), max_leaves=20
)
requests = st.dictionaries(text.filter(lambda k: k != "signature"), json_values, min_size=1, max_size=6)
key_ids = st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(timezone.utc)
).map(lambda dt: dt.replace(microsecond=0))


def _leaf_paths(value, prefix=()):
    """Paths to every value (containers included) inside ``value``."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield prefix + (key,)
            yield from _leaf_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield prefix + (index,)
            yield from _leaf_paths(child, prefix + (index,))


def _get(value, path):
    for part in path:
        value = value[part]
    return value


def _different(old):
    """A JSON value that canonicalises differently from ``old``."""
    candidates = ["x", 0, None, True, [], {}, "mutated", 12345]
    for candidate in candidates:
        if canonical_json(candidate) != canonical_json(old):
            return candidate
    raise AssertionError("unreachable")


@SETTINGS
@given(requests, key_ids, st.text(min_size=1, max_size=40), moments)
def test_sign_then_verify_passes(request, key_id, secret, moment):
    assume(not any("\ud800" <= ch <= "\udfff" for ch in secret))
    signed = sign_request(request, key_id=key_id, secret=secret, timestamp=format_timestamp(moment))
    assert verify_request_signature(signed, keys={key_id: secret}, now=moment) == []
    assert verify_request_signature(signed, keys={key_id: secret}, now=moment + timedelta(seconds=299)) == []


@SETTINGS
@given(requests, st.data())
def test_any_single_field_mutation_fails(request, data):
    moment = datetime(2026, 11, 28, 21, 0, tzinfo=timezone.utc)
    signed = sign_request(request, key_id="k1", secret="secret", timestamp=format_timestamp(moment))
    paths = [p for p in _leaf_paths(signed) if p[0] != "signature"]
    mutated = copy.deepcopy(signed)
    choice = data.draw(st.sampled_from(["change", "add_root", "drop_root"] + (["change"] * 3 if paths else [])))
    if choice == "change" and paths:
        path = data.draw(st.sampled_from(paths))
        parent = _get(mutated, path[:-1])
        parent[path[-1]] = _different(parent[path[-1]])
    elif choice == "drop_root":
        victim = data.draw(st.sampled_from(sorted(k for k in mutated if k != "signature")))
        del mutated[victim]
    else:
        new_key = data.draw(text.filter(lambda k: k not in mutated))
        mutated[new_key] = data.draw(json_values)
    assume(
        canonical_json({k: v for k, v in mutated.items() if k != "signature"})
        != canonical_json({k: v for k, v in signed.items() if k != "signature"})
    )
    errors = verify_request_signature(mutated, keys={"k1": "secret"}, now=moment)
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.SIGNATURE_INVALID, "$.signature.value")]


@SETTINGS
@given(requests, st.sampled_from(["key_id", "timestamp", "value"]), st.data())
def test_any_signature_field_mutation_fails(request, field, data):
    moment = datetime(2026, 11, 28, 21, 0, tzinfo=timezone.utc)
    keys = {"k1": "secret", "k2": "other"}
    signed = sign_request(request, key_id="k1", secret="secret", timestamp=format_timestamp(moment))
    if field == "key_id":
        signed["signature"]["key_id"] = data.draw(st.sampled_from(["k2", "k3"]))
    elif field == "timestamp":
        shift = data.draw(st.integers(-3600, 3600).filter(lambda s: s != 0))
        signed["signature"]["timestamp"] = format_timestamp(moment + timedelta(seconds=shift))
    else:
        value = data.draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
        assume(value != signed["signature"]["value"])
        signed["signature"]["value"] = value
    errors = verify_request_signature(signed, keys=keys, now=moment)
    assert len(errors) == 1
    assert errors[0].code in (ErrorCode.SIGNATURE_INVALID, ErrorCode.SIGNATURE_EXPIRED)


def _same(a, b):
    """JSON equality where an integral double and the integer it prints as are equal.

    JCS prints 4.854247989269247e16 as 48542479892692470, which Python reads
    back as an int: same number, same canonical bytes, different Python type.
    """
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@SETTINGS
@given(json_values)
def test_canonical_json_is_valid_json_and_idempotent(value):
    first = canonical_json(value)
    reparsed = json.loads(first)
    assert _same(reparsed, value)
    assert canonical_json(reparsed) == first


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_es6_number_round_trips_every_finite_double(value):
    text = _es6_number(value)
    assert float(text) == value
    assert float(json.loads(text)) == value

"""Request signatures, webhook header signatures and timestamps."""

import copy
import hashlib
import hmac
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from shared.canonical_json import canonical_json
from shared.errors import ErrorCode, ErrorDetail
from shared.signing import (
    SIGNATURE_HEADER,
    compute_signature,
    sign_payload_headers,
    sign_request,
    verify_payload_headers,
    verify_request_signature,
)
from shared.timestamps import format_timestamp, parse_timestamp
from shared.validation import validate_change_request

SECRET = "s3cr3t-ünïcode-key"
OTHER_SECRET = "another-secret"
KEYS = {"k1": SECRET, "k2": OTHER_SECRET}
TS = "2026-11-28T21:00:00Z"
NOW = datetime(2026, 11, 28, 21, 0, 0, tzinfo=timezone.utc)

REQUEST = {
    "request_id": "CHG-2026-0001",
    "ticket": {"system": "servicenow", "id": "CHG0031337", "requested_by": "zoë@bücher.example"},
    "target": {"server_id": "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60", "nics": "primary"},
    "change": {"action": "add", "security_groups": [{"name": "web"}], "position": 0},
}


def signed(request=REQUEST, key_id="k1", secret=SECRET, timestamp=TS):
    return sign_request(request, key_id=key_id, secret=secret, timestamp=timestamp)


def verify(request, *, now=NOW, keys=KEYS, **kw):
    return verify_request_signature(request, keys=keys, now=now, **kw)


def codes_paths(errors):
    return [(e.code, e.path) for e in errors]


# ---------------------------------------------------------------- sign_request


def test_signed_request_has_signature_and_validates():
    request = signed()
    assert set(request["signature"]) == {"key_id", "timestamp", "value"}
    assert request["signature"]["key_id"] == "k1" and request["signature"]["timestamp"] == TS
    assert validate_change_request(request) == []


def test_signature_value_is_hmac_of_timestamp_dot_canonical_json():
    expected = hmac.new(
        SECRET.encode("utf-8"), TS.encode() + b"." + canonical_json(REQUEST), hashlib.sha256
    ).hexdigest()
    assert signed()["signature"]["value"] == expected
    assert compute_signature(SECRET, TS, canonical_json(REQUEST)) == expected


def test_sign_request_does_not_mutate_its_input():
    original = copy.deepcopy(REQUEST)
    result = signed()
    result["ticket"]["id"] = "changed"
    assert REQUEST == original


def test_resigning_replaces_the_old_signature():
    once = signed()
    twice = signed(once, key_id="k2", secret=OTHER_SECRET)
    assert twice["signature"]["key_id"] == "k2"
    assert verify(twice) == []


def test_key_order_does_not_change_the_signature():
    reordered = json.loads(json.dumps(REQUEST, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert signed(reordered)["signature"]["value"] == signed()["signature"]["value"]


@pytest.mark.parametrize(
    "kwargs",
    [{"key_id": "bad key"}, {"key_id": ""}, {"timestamp": "2026-11-28 21:00:00"}, {"timestamp": "yesterday"}],
)
def test_sign_request_refuses_bad_key_id_or_timestamp(kwargs):
    args = {"key_id": "k1", "secret": SECRET, "timestamp": TS, **kwargs}
    with pytest.raises(ValueError):
        sign_request(REQUEST, **args)


# ---------------------------------------------------------------- openssl equivalence


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_signature_matches_openssl_hmac():
    ascii_secret = "plain-ascii-secret"  # passed on a command line: keep it shell-simple
    request = signed(secret=ascii_secret)
    message = TS.encode() + b"." + canonical_json({k: v for k, v in request.items() if k != "signature"})
    completed = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", ascii_secret],
        input=message,
        capture_output=True,
        check=True,
        timeout=30,
    )
    openssl_hex = completed.stdout.decode().strip().rsplit("= ", 1)[-1]
    assert openssl_hex == request["signature"]["value"]


# ---------------------------------------------------------------- verify_request_signature


def test_good_signature_verifies():
    assert verify(signed()) == []


def test_wrong_secret_is_invalid():
    assert codes_paths(verify(signed(secret="wrong"))) == [(ErrorCode.SIGNATURE_INVALID, "$.signature.value")]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["ticket"].__setitem__("requested_by", "mallory@example.com"),
        lambda r: r["change"].__setitem__("position", 1),
        lambda r: r["change"]["security_groups"].append({"name": "any-any"}),
        lambda r: r.__setitem__("dry_run", False),
        lambda r: r["target"].__setitem__("nics", "all"),
        lambda r: r["signature"].__setitem__("timestamp", "2026-11-28T21:00:01Z"),
        lambda r: r["signature"].__setitem__("key_id", "k2"),
        lambda r: r["signature"].__setitem__("value", "0" * 64),
        lambda r: r["signature"].__setitem__("value", r["signature"]["value"].upper()),
    ],
    ids=[
        "requested_by",
        "position",
        "extra_group",
        "dry_run_added",
        "nics",
        "timestamp",
        "key_id",
        "zero_value",
        "uppercase_value",
    ],
)
def test_tampering_is_detected(tamper):
    request = signed()
    tamper(request)
    assert codes_paths(verify(request)) == [(ErrorCode.SIGNATURE_INVALID, "$.signature.value")]


@pytest.mark.parametrize(
    "now, ok",
    [
        (NOW + timedelta(seconds=300), True),
        (NOW - timedelta(seconds=300), True),
        (NOW + timedelta(seconds=301), False),  # expired: signed too long ago
        (NOW - timedelta(seconds=301), False),  # future: signed "later" than now
        (NOW + timedelta(days=365), False),
    ],
    ids=["edge_old", "edge_future", "expired", "future", "a_year_old"],
)
def test_timestamp_window(now, ok):
    errors = verify(signed(), now=now)
    if ok:
        assert errors == []
    else:
        assert codes_paths(errors) == [(ErrorCode.SIGNATURE_EXPIRED, "$.signature.timestamp")]


def test_future_and_expired_say_which():
    assert "future" in verify(signed(), now=NOW - timedelta(hours=1))[0].message
    assert "old" in verify(signed(), now=NOW + timedelta(hours=1))[0].message


def test_skew_is_configurable():
    assert verify(signed(), now=NOW + timedelta(seconds=30), max_skew_s=10)[0].code == ErrorCode.SIGNATURE_EXPIRED


def test_now_may_be_in_any_timezone():
    assert verify(signed(), now=NOW.astimezone(timezone(timedelta(hours=8)))) == []


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        verify(signed(), now=datetime(2026, 11, 28, 21, 0, 0))


def test_unparsable_timestamp_is_expired():
    request = signed()
    request["signature"]["timestamp"] = "2026-02-30T10:00:00Z"
    assert codes_paths(verify(request)) == [(ErrorCode.SIGNATURE_EXPIRED, "$.signature.timestamp")]


def test_unknown_key_looks_exactly_like_a_bad_signature():
    """No key-id oracle: an unknown key id and a wrong value get the same answer (naming the key id
    the caller sent, which tells it nothing it did not know)."""
    unknown = verify(signed(key_id="k9", secret="whatever"), keys={"k1": KEYS["k1"]})
    wrong = verify(signed(key_id="k9", secret="wrong-secret-0123456789"), keys={"k9": "the-real-k9-secret-0123"})
    message = "signature does not match the request for key id 'k9'"
    assert unknown == wrong == [ErrorDetail(ErrorCode.SIGNATURE_INVALID, message, "$.signature.value")]


def test_unsigned_and_required():
    assert codes_paths(verify(REQUEST)) == [(ErrorCode.SIGNATURE_REQUIRED, "$.signature")]


def test_unsigned_and_not_required():
    assert verify(REQUEST, required=False) == []
    assert verify(REQUEST, required=False, keys={}) == []


def test_signed_but_no_keys_configured():
    for required in (True, False):
        errors = verify(signed(), keys={}, required=required)
        assert codes_paths(errors) == [(ErrorCode.SIGNATURE_INVALID, "$.signature.value")]


def test_optional_signature_is_still_checked_when_present():
    assert verify(signed(secret="wrong"), required=False)[0].code == ErrorCode.SIGNATURE_INVALID


@pytest.mark.parametrize(
    "signature, path",
    [
        ("abc", "$.signature"),
        ([], "$.signature"),
        ({"key_id": "k1", "timestamp": TS}, "$.signature.value"),
        ({"key_id": 1, "timestamp": TS, "value": "0" * 64}, "$.signature.key_id"),
        ({"key_id": "k1", "timestamp": None, "value": "0" * 64}, "$.signature.timestamp"),
    ],
)
def test_malformed_signature_is_invalid_not_a_crash(signature, path):
    request = dict(REQUEST, signature=signature)
    assert codes_paths(verify(request)) == [(ErrorCode.SIGNATURE_INVALID, path)]


def test_non_object_request():
    assert verify(["not", "a", "request"])[0].code == ErrorCode.SIGNATURE_INVALID


def test_non_ascii_value_does_not_crash_compare_digest():
    request = signed()
    request["signature"]["value"] = "\u00e9" * 64
    assert verify(request)[0].code == ErrorCode.SIGNATURE_INVALID


def test_uncanonicalisable_request_is_invalid():
    request = signed()
    request["extra"] = float("nan")
    assert verify(request)[0].code == ErrorCode.SIGNATURE_INVALID


def test_messages_never_contain_secrets_or_expected_values():
    good = signed()
    cases = [
        verify(signed(secret="wrong")),
        verify(good, now=NOW + timedelta(hours=2)),
        verify(signed(key_id="k9", secret=SECRET)),
        verify(REQUEST),
        verify(good, keys={}),
    ]
    for errors in cases:
        for error in errors:
            text = json.dumps(error.to_dict())
            assert SECRET not in text and OTHER_SECRET not in text
            assert good["signature"]["value"] not in text


# ---------------------------------------------------------------- webhook headers

BODY = json.dumps({"outcome": "succeeded", "request_id": "CHG-1"}).encode()
HEADER_PATH = f"$.headers['{SIGNATURE_HEADER}']"


def test_payload_header_format():
    headers = sign_payload_headers(BODY, key_id="k1", secret=SECRET, timestamp=TS)
    expected = hmac.new(SECRET.encode(), b"sgguard-result-v1." + TS.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    assert headers == {"X-Signature": f"keyId=k1,timestamp={TS},value={expected}"}


def test_a_signed_request_is_never_a_valid_signed_result():
    """Same secret, same bytes: the result scheme's prefix keeps a request off a webhook receiver."""
    request = signed()
    body = canonical_json({k: v for k, v in request.items() if k != "signature"})
    sig = request["signature"]
    header = {"X-Signature": f"keyId={sig['key_id']},timestamp={sig['timestamp']},value={sig['value']}"}
    assert codes_paths(verify_payload_headers(body, header, keys=KEYS, now=NOW)) == [
        (ErrorCode.SIGNATURE_INVALID, "$.headers['X-Signature']")
    ]


def test_payload_header_round_trip_and_case_insensitive_name():
    headers = sign_payload_headers(BODY, key_id="k1", secret=SECRET, timestamp=TS)
    assert verify_payload_headers(BODY, headers, keys=KEYS, now=NOW) == []
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify_payload_headers(BODY, lowered, keys=KEYS, now=NOW) == []


@pytest.mark.parametrize(
    "body, headers, now, code",
    [
        (BODY + b" ", None, NOW, ErrorCode.SIGNATURE_INVALID),
        (BODY, {}, NOW, ErrorCode.SIGNATURE_REQUIRED),
        (BODY, {"X-Signature": "garbage"}, NOW, ErrorCode.SIGNATURE_INVALID),
        (BODY, {"X-Signature": f"keyId=k1,timestamp={TS}"}, NOW, ErrorCode.SIGNATURE_INVALID),
        (BODY, {"X-Signature": f"keyId=k9,timestamp={TS},value={'0' * 64}"}, NOW, ErrorCode.SIGNATURE_INVALID),
        (BODY, None, NOW + timedelta(minutes=10), ErrorCode.SIGNATURE_EXPIRED),
        (BODY, {"X-Signature": f"keyId=k1,timestamp=soon,value={'0' * 64}"}, NOW, ErrorCode.SIGNATURE_EXPIRED),
    ],
    ids=["tampered_body", "missing", "garbage", "no_value", "unknown_key", "expired", "bad_timestamp"],
)
def test_payload_header_failures(body, headers, now, code):
    if headers is None:
        headers = sign_payload_headers(BODY, key_id="k1", secret=SECRET, timestamp=TS)
    assert codes_paths(verify_payload_headers(body, headers, keys=KEYS, now=now)) == [(code, HEADER_PATH)]


def test_payload_header_refuses_key_ids_that_break_the_format():
    with pytest.raises(ValueError):
        sign_payload_headers(BODY, key_id="a,b=c", secret=SECRET, timestamp=TS)


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "dt, kw, expected",
    [
        (NOW, {}, "2026-11-28T21:00:00Z"),
        (NOW.replace(microsecond=123456), {}, "2026-11-28T21:00:00Z"),
        (NOW.replace(microsecond=123456), {"milliseconds": True}, "2026-11-28T21:00:00.123Z"),
        (NOW, {"milliseconds": True}, "2026-11-28T21:00:00.000Z"),
        (datetime(2026, 11, 29, 5, 0, tzinfo=timezone(timedelta(hours=8))), {}, "2026-11-28T21:00:00Z"),
    ],
)
def test_format_timestamp(dt, kw, expected):
    assert format_timestamp(dt, **kw) == expected


def test_format_timestamp_refuses_naive():
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-28T21:00:00Z", NOW),
        ("2026-11-28T21:00:00.5Z", NOW.replace(microsecond=500000)),
        ("2026-11-28T21:00:00.123456789Z", NOW.replace(microsecond=123456)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
        ("2026-11-28T21:00:00+00:00", None),
        ("2026-11-28t21:00:00z", None),
        ("2026-02-30T00:00:00Z", None),
        ("2026-11-28T24:00:00Z", None),
        ("2026-11-28T21:00:00.Z", None),
        ("2026-11-28T21:00:00.1234567890Z", None),
        ("", None),
        (None, None),
        (1795899600, None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


def test_format_then_parse_round_trips():
    assert parse_timestamp(format_timestamp(NOW)) == NOW

"""shared.shapes against a hostile event: secrets under unexpected keys, ids inside strings,
addresses, e-mails, names, tokens in URLs, account ids as numbers. Nothing of them may survive;
what does survive is a key that reads as a field name, a vocabulary value under a vocabulary key,
or a placeholder made only of type names and structure words."""

from __future__ import annotations

import json
import re

import pytest

from shared.shapes import (
    URN_WORDS,
    VOCABULARY_KEYS,
    is_placeholder,
    is_vocabulary_word,
    shape_of,
    synthesise,
)

AK = "HST3UVWXYZ12ABCD34EF"  # the shape of an access key id
AKIA = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # an SK has '/' too: must not read as a path
SK_PLAIN = "Qx7bT2mZ9kLp4RwV8nYc3HdJ6sFg1AeU5oKiXtBv"
TOKEN = "MIIEhwYJKoZIhvcNAQcCoIIEeDCCBHQCAQExDTALBglghkgBZQMEAgEwggJKBgkqhkiG9w0BBwGgggI7"
UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ACCOUNT = "7f3e2d1c0b9a48f7a6e5d4c3b2a1f0e9"  # a domain / project id: 32 hex
SECRETS = [
    AK,
    AKIA,
    SK,
    SK_PLAIN,
    TOKEN,
    UUID,
    ACCOUNT,
    "alice",
    "Alice Liddell",
    "alice@example.com",
    "bob.smith",
    "prod-billing-db",
    "10.1.2.3",
    "203.0.113.77",
    "2001:db8::42",
    "fe80::1%eth0",
    "192.168.0.0/16",
    "s3cr3t-pa55",
    "example.com",
    "123456789012",
    "sgguard-functions",
    "op-session-1",
    "CHG0031337",
]

HOSTILE = {
    "cts": {
        "trace_id": UUID,
        "trace_name": "createServer",
        "trace_type": "ConsoleAction",
        "service_type": "ECS",
        "resource_type": "ecs",
        "resource_id": f"arn/{UUID}/servers/{ACCOUNT}",
        "resource_name": "prod-billing-db",
        "resource_url": f"/v1/{ACCOUNT}/cloudservers/{UUID}",
        "source_ip": "203.0.113.77",
        "code": 200,
        "time": 1764363600000,
        "x": AKIA,
        "note": SK,
        "y": SK_PLAIN,
        "trace_status": AK,  # a vocabulary key holding a secret: still refused
        "tracker_name": "sgguard-functions/op-session-1",  # ... or an agency session
        "status": TOKEN,
        "type": "alice@example.com",
        "source": "https://alice:s3cr3t-pa55@example.com/hook?token=" + TOKEN,
        "account": 123456789012,
        "ratio": 0.25,
        "flag": True,
        AKIA: "key that is a secret",
        UUID: {"10.1.2.3": "an address as a key"},
        "alice@example.com": 1,
        "user": {
            "type": "AssumedAgency",
            "name": "sgguard-functions/op-session-1",
            "id": ACCOUNT,
            "domain": {"name": "bob.smith", "id": ACCOUNT},
            "access_key_id": AK,
            "principal_urn": f"sts::{ACCOUNT}:assumed-agency:sgguard-functions/op-session-1",
            "principal_id": f"{ACCOUNT}:op-session-1",
            "principal_is_root_user": "false",
            "older": "example.com/op_service",
            "oldest": "op_service",
        },
        "request": json.dumps(
            {
                "server": {"name": "Alice Liddell", "adminPass": "s3cr3t-pa55", "metadata": {"owner": "alice"}},
                "security_groups": [{"id": UUID}],
                "nested": json.dumps({"ip": "2001:db8::42", "link": "fe80::1%eth0"}),
            }
        ),
        "response": {
            "job_id": ACCOUNT,
            "entities": {"server_id": UUID, "sub_jobs": [{"cidr": "192.168.0.0/16"}]},
            "tags": {"prod-billing-db": "CHG0031337", "cost-center": "123456789012"},
        },
        "headers": {"Authorization": f"SDK-HMAC-SHA256 Access={AK}, Signature={ACCOUNT}", "X-Auth-Token": TOKEN},
        "list": [AK, SK, 42, None, {"inner": UUID}],
    }
}


def _leaves(value, path=()):
    """Every (path, key, string) leaf and every key of the shape."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, None, key
            yield from _leaves(item, path + (key,))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif isinstance(value, str):
        yield path, path[-1] if path else None, value


_PLACEHOLDER_WORDS = {
    "str",
    "len",
    "uuid",
    "hex",
    "int",
    "float",
    "bool",
    "ip",
    "cidr",
    "email",
    "url",
    "http",
    "https",
    "datetime",
    "digits",
    "urn",
    "path",
    "key",
    "empty",
    "true",
    "false",
    "null",
    "deep",
    *URN_WORDS,
}


def _words(placeholder: str) -> set[str]:
    return {w for w in re.split(r"[<>:=/*#\s]+", placeholder) if w and not w.isdigit()}


def test_no_secret_id_address_or_name_survives():
    shape = shape_of(HOSTILE)
    text = json.dumps(shape)
    for secret in SECRETS:
        assert secret not in text, secret
    # pieces of secrets too (an SK split at '/', the session of a URN)
    for piece in [*SK.split("/"), *TOKEN[:20], "s3cr3t", "Liddell", "billing", "session"]:
        if len(piece) >= 5:
            assert piece not in text, piece


def test_every_leaf_is_a_placeholder_or_vocabulary():
    shape = shape_of(HOSTILE)
    for path, key, text in _leaves(shape):
        if key is None:  # a key of the shape
            assert text == "$json" or is_placeholder(text) or is_vocabulary_word(text) or len(text) <= 3, (path, text)
            continue
        if is_placeholder(text):
            assert _words(text) <= _PLACEHOLDER_WORDS, (path, text, _words(text) - _PLACEHOLDER_WORDS)
        else:
            assert (key in VOCABULARY_KEYS and is_vocabulary_word(text)) or text in URN_WORDS, (path, text)


def test_what_a_shape_keeps():
    shape = shape_of(HOSTILE)["cts"]
    assert shape["trace_name"] == "createServer" and shape["trace_type"] == "ConsoleAction"
    assert shape["user"]["type"] == "AssumedAgency"
    assert shape["user"]["principal_urn"] == "<urn:sts::*:assumed-agency:*/*>"
    assert shape["user"]["older"] == "<path:*/op_service>" and shape["user"]["oldest"] == "op_service"
    assert shape["resource_url"] == "<path:/v1/*/cloudservers/*>"
    assert shape["request"]["$json"]["server"]["metadata"] == {"<key>": "<str:len=5>"}
    assert shape["request"]["$json"]["nested"] == {"$json": {"ip": "<ip>", "link": "<ip>"}}
    assert shape["code"] == "<int>" and shape["account"] == "<int>" and shape["flag"] == "<bool>"
    assert shape["trace_status"] != AK and shape["status"] != TOKEN
    assert set(shape["response"]["tags"]) == {"<key>", "<key#2>"}
    assert shape["source"] == "<url:https>"


@pytest.mark.parametrize(
    "word", ["createServer", "createServerV21", "ECS:CloudTrace:ApiCall", "HC.ECS", "deleteSecurity-group-rule"]
)
def test_vocabulary_words(word):
    assert is_vocabulary_word(word)


@pytest.mark.parametrize("token", [AK, AKIA, SK, SK_PLAIN, TOKEN, UUID, ACCOUNT, "a@b", "https://x", "10.0.0.1"])
def test_tokens_are_not_words(token):
    assert not is_vocabulary_word(token)


def test_a_shape_synthesises_into_the_same_shape():
    shape = shape_of(HOSTILE)
    again = shape_of(synthesise(shape))
    assert again["cts"]["user"] == shape["cts"]["user"]
    assert again["cts"]["request"] == shape["cts"]["request"]
    assert again["cts"]["trace_name"] == "createServer"


def test_odd_values_never_raise():
    deep: dict = {}
    cursor = deep
    for _ in range(100):
        cursor["a"] = {}
        cursor = cursor["a"]
    for value in [deep, [[[]]], {"": ""}, "{not json", "[1, 2", float("nan"), -1, b"bytes", ("t",)]:
        json.dumps(shape_of(value))

"""Rotating a request-signing key (docs/operations.md) with the real change_request handler against
localcloud: add the new key (both valid at once, the old one warned about), switch the sender,
remove the old key (refused, naming the key id it was signed with, before any cloud call)."""

from __future__ import annotations

import json

import pytest

from shared.config import ConfigError, load_settings
from shared.errors import ErrorCode
from shared.signing import sign_request
from shared.validation import validate_result_event
from tests.support.functions import SIGNING_KEYS
from tests.support.requests import change_request

OLD, NEW = "ticketing-1", "ticketing-2"
BEFORE = {"REQUEST_SIGNING_KEYS": json.dumps({OLD: SIGNING_KEYS[OLD]})}
DURING = {"REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS), "RETIRING_SIGNING_KEYS": OLD}
AFTER = {"REQUEST_SIGNING_KEYS": json.dumps({NEW: SIGNING_KEYS[NEW]})}


def one(invoker, request, settings):
    [result] = invoker(request, **settings)["results"]
    assert validate_result_event(result) == [], result
    return result["data"]


def codes(data, field="warnings"):
    return [d["code"] for d in data[field]]


def test_add_switch_remove(cloud, change):
    # before: one key
    assert one(change, change_request(dry_run=True, key_id=OLD), BEFORE)["outcome"] == "planned"
    assert codes(one(change, change_request(dry_run=True, key_id=NEW), BEFORE), "errors") == [
        ErrorCode.SIGNATURE_INVALID
    ]
    # 1. the new key added, the old one marked retiring: both valid at once
    old = one(change, change_request(dry_run=True, key_id=OLD), DURING)
    new = one(change, change_request(dry_run=True, key_id=NEW), DURING)
    assert (old["outcome"], new["outcome"]) == ("planned", "planned")
    [warning] = [w for w in old["warnings"] if w["code"] == ErrorCode.SIGNING_KEY_RETIRING]
    assert (warning["path"], f"'{OLD}'" in warning["message"]) == ("$.signature.key_id", True)
    assert ErrorCode.SIGNING_KEY_RETIRING not in codes(new)
    # 3. the old key removed: refused with the key id named, nothing read or written
    seq = cloud.last_seq()
    refused = one(change, change_request(dry_run=True, key_id=OLD), AFTER)
    assert (refused["outcome"], codes(refused, "errors")) == ("rejected", [ErrorCode.SIGNATURE_INVALID])
    assert f"for key id '{OLD}'" in refused["errors"][0]["message"]
    assert cloud.requests(seq) == []
    assert one(change, change_request(dry_run=True, key_id=NEW), AFTER)["outcome"] == "planned"


def test_a_request_re_signed_with_the_new_key_is_the_same_request(cloud, change):
    """Switching senders mid-flight cannot apply a ticket twice: the signature is not part of the
    request's identity (a copy re-signed with the new key is a duplicate)."""
    first = change_request(key_id=OLD)
    assert one(change, first, DURING)["outcome"] == "succeeded"
    again = sign_request(first, key_id=NEW, secret=SIGNING_KEYS[NEW], timestamp=first["signature"]["timestamp"])
    data = one(change, again, DURING)
    assert data["outcome"] == "no_change" and ErrorCode.DUPLICATE_REQUEST in codes(data)


def test_a_retiring_key_id_must_be_a_configured_one():
    keys = json.dumps(SIGNING_KEYS)
    settings = load_settings(None, {"REQUEST_SIGNING_KEYS": keys, "RETIRING_SIGNING_KEYS": f"{OLD}, "})
    assert settings.retiring_signing_keys == (OLD,)
    assert load_settings(None, {"REQUEST_SIGNING_KEYS": keys}).retiring_signing_keys == ()
    for typo in ("Ticketing-1", "ticketing-3", '["ticketing-1", 1]'):
        with pytest.raises(ConfigError) as raised:
            load_settings(None, {"REQUEST_SIGNING_KEYS": keys, "RETIRING_SIGNING_KEYS": typo})
        assert raised.value.name == "RETIRING_SIGNING_KEYS"

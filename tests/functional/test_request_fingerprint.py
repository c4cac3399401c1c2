"""The idempotency fingerprint of a change request is the SHA-256 of its canonical JSON without the
signature - the signature check's bytes, made once per message - and stays exactly that: entries a
shared store (Redis) holds from an earlier version must still match their redeliveries."""

from __future__ import annotations

import hashlib
import time

from shared.canonical_json import canonical_json
from shared.runtime.run import replay_guard
from tests.support.requests import change_request, kafka


def _fingerprint(request: dict) -> str:
    unsigned = {k: v for k, v in request.items() if k != "signature"}
    return hashlib.sha256(canonical_json(unsigned)).hexdigest()


def test_the_stored_fingerprint_is_the_canonical_digest_without_the_signature(cloud, change):
    request = change_request("add", [{"name": "web"}])
    response = change(kafka(request))
    assert [r["data"]["outcome"] for r in response["results"]] == ["succeeded"]
    guard = replay_guard("change_request")
    ahead = {"now": time.monotonic(), "ttl_s": 3600}
    assert guard.claim(request["request_id"], _fingerprint(request), **ahead).status == "duplicate"
    assert guard.claim(request["request_id"], _fingerprint({**request, "x": 1}), **ahead).status == "reused"

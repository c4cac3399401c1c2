"""Nothing fails for lack of time: a batch that cannot finish hands the messages it did not start
to an asynchronous invocation of the same function (FunctionGraph invocations-async through the
SDK, recorded by localcloud), which completes them. The tests bound the work with
``MAX_MESSAGES_PER_INVOCATION`` (the same hand-on as when time runs short), so that no verdict
depends on how much real work fits in a real timeout."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from bench.workload import SIGNING_KEYS, build_seed, generate_changes, kafka, sign
from shared.runtime.continuation import MAX_HOPS, _mac
from tests.functional.test_change_request import results_of
from tests.support.functions import SIGNING_KEYS as TEST_KEYS
from tests.support.sdk import create_inline_function

KEYS = json.dumps({**TEST_KEYS, **SIGNING_KEYS})


def _create_self(cloud) -> str:
    """change_request itself, created in localcloud (inline code: the invocation is recorded)."""
    return create_inline_function(
        cloud, "change_request", b"def handler(event, context):\n    return {}\n", memory_size=256, timeout=60
    )


def _invocations(cloud) -> list[dict]:
    return cloud._call("GET", "functiongraph/invocations?function=change_request")["invocations"]


def _seeded(cloud, servers: int = 10, count: int = 40):
    document, fleet = build_seed(servers, seed=9)
    cloud.reset(empty=True)
    cloud.seed(document)
    _create_self(cloud)
    prefix = f"CONT-{uuid.uuid4().hex[:8]}"  # request ids no earlier test (nor its replay memory) saw
    return generate_changes(fleet, count, seed=4, mix={"add": 3, "remove": 1, "dry-run": 1}, prefix=prefix)


def _user_data(cloud, **extra: str) -> dict:
    return {"FUNCTIONGRAPH_ENDPOINT": cloud.url, "REQUEST_SIGNING_KEYS": KEYS, **extra}


def test_messages_not_started_in_time_are_handed_on_and_completed(cloud, change):
    messages = _seeded(cloud)
    budget = 15
    first = results_of(
        change(
            kafka([sign(m.request) for m in messages]),
            CONCURRENCY="2",
            MAX_MESSAGES_PER_INVOCATION=str(budget),
            **_user_data(cloud),
        )
    )
    assert len(first) == len(messages)
    deferred = [r["data"] for r in first if r["data"]["outcome"] == "deferred"]
    assert len(deferred) == len(messages) - budget, [(r["data"]["outcome"], r["data"]["errors"]) for r in first]
    assert not [(r["data"]["request_id"], r["data"]["errors"]) for r in first if r["data"]["outcome"] == "failed"]
    (invocation,) = _invocations(cloud)
    assert invocation["mode"] == "async"
    assert {d["continuation"]["id"] for d in deferred} == {invocation["request_id"]}
    assert all(d["continuation"]["hop"] == 1 for d in deferred)
    event = invocation["payload"]
    assert event["sgguard_continuation"]["hop"] == 1 and event["sgguard_continuation"]["trigger"] == "kafka"
    assert len(event["messages"]) == len(deferred)
    # per server, queue order: what was handed on is, for each server, the tail of its messages
    by_index = {r["data"]["message_index"]: r["data"]["outcome"] for r in first}
    for server in {m.server_id for m in messages}:
        outcomes = [by_index[i] for i, m in enumerate(messages) if m.server_id == server]
        assert outcomes == sorted(outcomes, key=lambda o: o == "deferred")
    # the runtime would now run the continuation: the same handler, with that event
    second = results_of(change(event, **_user_data(cloud)))
    expected = [m.outcome for i, m in enumerate(messages) if by_index[i] == "deferred"]
    assert [r["data"]["outcome"] for r in second] == expected
    done = {r["data"]["request_id"]: r["data"]["outcome"] for r in first + second if r["data"]["outcome"] != "deferred"}
    assert done == {m.request_id: m.outcome for m in messages}


def test_a_continuation_judges_signatures_when_the_batch_was_received(cloud, change):
    messages = _seeded(cloud, count=6)
    # 400 s ago: the signatures were fresh then (skew 300 s), not now; the continuation is within its window (600 s)
    received = time.time() - 400
    bodies = [json.dumps(sign(m.request, now=datetime.fromtimestamp(received - 5, timezone.utc))) for m in messages]
    header = {"hop": 1, "origin": "first", "received_at": received, "trigger": "kafka", "key_id": "bench-1"}
    header["mac"] = _mac(SIGNING_KEYS["bench-1"], header, bodies)
    event = {"sgguard_continuation": header, "messages": bodies}
    forged = {"sgguard_continuation": {**header, "received_at": received + 1}, "messages": bodies}
    refused = results_of(change(forged, **_user_data(cloud)))  # the mac no longer matches: judged now
    assert {r["data"]["errors"][0]["code"] for r in refused} == {"SIGNATURE_EXPIRED"}
    accepted = results_of(change(event, **_user_data(cloud)))
    assert [r["data"]["outcome"] for r in accepted] == [m.outcome for m in messages]


def test_past_the_hop_limit_a_message_fails_retryably(cloud, change):
    messages = _seeded(cloud, count=3)
    event = {
        "sgguard_continuation": {"hop": MAX_HOPS, "origin": "x", "received_at": time.time(), "trigger": "kafka"},
        "messages": [json.dumps(sign(m.request)) for m in messages],
    }
    results = results_of(change(event, timeout_s=0.6, SAFETY_MARGIN_MS="600", **_user_data(cloud)))
    assert {r["data"]["outcome"] for r in results} == {"failed"}
    assert all(r["data"]["retryable"] and r["data"]["errors"][0]["code"] == "TIMEOUT" for r in results)
    assert _invocations(cloud) == []

"""The retry lane (docs/retries.md), in localcloud's runtime with template.yaml deployed and a real
redis-server as the idempotency store: a Kafka batch's retryable failures go, with their server's
later messages, to an asynchronous invocation of change_request that raises while they fail, so that
FunctionGraph's async retry policy retries it; when the policy gives up, the function gets the
platform's on-failure payload and publishes every message in full to the dead-letter topic.

Retries are held between two attempts with ``pause_retries`` (never a race against the retry pause)."""

from __future__ import annotations

import json

import pytest

from tests.support.runtime import signed

LEGACY, DB = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"


def _request(number: int, server_id: str, action: str, group: str = "monitoring") -> dict:
    change = {"action": action, "security_groups": [{"name": group}]}
    if action == "add":
        change["position"] = 0
    return {
        "request_id": f"CHG-LANE-{number:04d}",
        "ticket": {"system": "servicenow", "id": f"CHG{number:07d}", "requested_by": "alice@example.com"},
        "target": {"server_id": server_id, "nics": "primary"},
        "change": change,
    }


# LEGACY: add then remove "monitoring" (applied out of order, it would stay); DB: add it.
REQUESTS = [_request(1, LEGACY, "add"), _request(2, DB, "add"), _request(3, LEGACY, "remove")]
IDS = [r["request_id"] for r in REQUESTS]


@pytest.fixture
def lane_env(env, redis_server):
    env.deploy(IDEMPOTENCY_STORE_URL=redis_server.url)
    yield env
    env.runtime.resume_retries()
    if redis_server.process is None:
        redis_server.start()


def _by_request(env) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for result in env.results("change_request"):
        found.setdefault(result["data"].get("request_id"), []).append(result["data"])
    return found


def _lane_invocations(env) -> list[dict]:
    return [i for i in env.invocations("change_request") if "sgguard_continuation" in i["payload"]]


def test_a_batch_with_redis_down_is_applied_once_through_the_platforms_retries(lane_env, redis_server):
    env = lane_env
    legacy_before = env.port_groups(LEGACY)[0]
    redis_server.stop()
    env.runtime.pause_retries()
    env.publish([signed(r, env.signing_keys) for r in REQUESTS])
    (lane,) = env.wait_for(lambda: _lane_invocations(env), 60) or [None]
    assert lane is not None, "no retry lane was invoked"
    header, messages = lane["payload"]["sgguard_continuation"], lane["payload"]["messages"]
    assert header["lane"] == "retry" and header["hop"] == 1 and header["trigger"] == "kafka"
    assert [json.loads(m)["request_id"] for m in messages] == IDS  # the batch's order, per server kept
    first = env.wait_executions(lambda e: e["request_id"] == lane["request_id"], 1, 60)[0]
    assert first["status"] == "failed" and first["error"]["errorType"] == "RetryableFailure"

    def deferred():
        found = [d for d in env.results("change_request") if d["data"]["outcome"] == "deferred"]
        return found if len(found) == len(IDS) else None

    batch = env.wait_for(deferred, 30) or []
    assert sorted(d["data"]["request_id"] for d in batch) == sorted(IDS)
    assert {d["data"]["continuation"]["id"] for d in batch} == {lane["request_id"]}
    assert all(d["data"]["continuation"]["lane"] == "retry" for d in batch)
    assert env.port_groups(LEGACY)[0] == legacy_before  # nothing applied while the store is down

    redis_server.start()
    env.runtime.resume_retries()
    final = env.wait_executions(lambda e: e["request_id"] == lane["request_id"] and "async" in e, 1, 60)[0]
    assert final["async"]["condition"] == "Success", final
    results = _by_request(env)
    for request_id in IDS:
        outcomes = [d["outcome"] for d in results[request_id]]
        assert outcomes.count("succeeded") == 1, (request_id, outcomes)
    writes = sum(d["api_calls"]["writes"] for ds in results.values() for d in ds if d["outcome"] == "succeeded")
    assert writes == 3  # one write per change: nothing applied twice
    assert env.port_groups(LEGACY)[0] == legacy_before  # added, then removed: queue order kept
    assert env.port_groups(DB)[0][0] == "monitoring"

    # a replay of the lane's event (same header, same mac) changes nothing
    from huaweicloudsdkfunctiongraph.v2 import AsyncInvokeFunctionRequest, FunctionGraphClient

    urn = env.functions()["change_request"]["func_urn"]
    replay = env.client(FunctionGraphClient).async_invoke_function(
        AsyncInvokeFunctionRequest(function_urn=urn, body=lane["payload"])
    )
    done = env.wait_executions(lambda e: e["request_id"] == replay.request_id and "async" in e, 1, 60)[0]
    assert done["status"] == "succeeded"
    replayed = [r["data"] for r in env.results("change_request") if r["_execution"]["request_id"] == replay.request_id]
    assert sorted(d["request_id"] for d in replayed) == sorted(IDS)
    assert all(d["outcome"] == "no_change" for d in replayed), [(d["outcome"], d["errors"]) for d in replayed]
    after = _by_request(env)
    assert all([d["outcome"] for d in after[i]].count("succeeded") == 1 for i in IDS)
    assert env.port_groups(DB)[0][0] == "monitoring" and env.port_groups(LEGACY)[0] == legacy_before


def test_redis_down_longer_than_the_retry_policy_dead_letters_every_message_in_full(lane_env, redis_server):
    env = lane_env
    legacy_before, db_before = env.port_groups(LEGACY)[0], env.port_groups(DB)[0]
    redis_server.stop()
    sent = [signed(r, env.signing_keys) for r in REQUESTS]
    env.publish(sent)

    def dead_letters():
        found = [json.loads(m["message"]) for m in env.smn_messages(env.alert_topic_urn)]
        found = [m for m in found if "sgguard_dead_letter" in m]
        return found if len(found) >= len(sent) else None

    letters = env.wait_for(dead_letters, 90)
    assert letters, f"not every message reached the dead-letter topic: {env.smn_messages(env.alert_topic_urn)}"
    assert sorted(m["message"] for m in letters) == sorted(sent)  # each message in full, as received
    (lane,) = _lane_invocations(env)
    attempts = [e for e in env.executions(request_id=lane["request_id"])]
    assert [e["attempt"] for e in attempts] == [1, 2, 3, 4]  # 1 + max_async_retry_attempts (template)
    assert attempts[-1]["async"]["condition"] == "RetriesExhausted"
    assert attempts[-1]["async"]["destination"]["type"] == "FunctionGraph"
    header = letters[0]["sgguard_dead_letter"]
    assert header["condition"] == "RetriesExhausted" and header["approximate_invoke_count"] == 4
    assert header["request_id"] == lane["request_id"] and header["function"] == "change_request"

    def dead_lettered():
        found = [r["data"] for r in env.results("change_request") if r["data"].get("dead_lettered")]
        return found if len(found) >= len(sent) else None

    results = env.wait_for(dead_lettered, 30)
    assert results and sorted(d["request_id"] for d in results) == sorted(IDS)
    assert all(d["outcome"] == "failed" and d["errors"][0]["code"] == "DEAD_LETTERED" for d in results)
    assert not any(d["outcome"] == "succeeded" for ds in _by_request(env).values() for d in ds)
    assert env.port_groups(LEGACY)[0] == legacy_before and env.port_groups(DB)[0] == db_before  # none applied
    assert env.runtime.wait_idle(30)
    assert len(dead_letters()) == len(sent)  # and each once


def test_a_poison_message_is_never_laned(lane_env, redis_server):
    env = lane_env
    redis_server.stop()
    env.runtime.pause_retries()
    poison = "{not json"
    forged = json.dumps({**_request(9, DB, "add"), "signature": {"key_id": "ticketing-1", "value": "00"}})
    env.publish([poison, forged, signed(REQUESTS[1], env.signing_keys)])
    (lane,) = env.wait_for(lambda: _lane_invocations(env), 60) or [None]
    assert lane is not None
    assert [json.loads(m)["request_id"] for m in lane["payload"]["messages"]] == [REQUESTS[1]["request_id"]]

    def batch_outcomes():
        batch = [r for r in env.results("change_request") if r["_execution"]["request_id"] != lane["request_id"]]
        return {r["data"]["message_index"]: r["data"]["outcome"] for r in batch} if len(batch) == 3 else None

    assert env.wait_for(batch_outcomes, 30) == {0: "rejected", 1: "rejected", 2: "deferred"}

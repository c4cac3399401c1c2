"""The retry lane's bounds, with the real change_request and ecs_created handlers against localcloud
(a store that does not answer, a server never ready; docs/retries.md). The async invocations land
in localcloud's FunctionGraph, recorded, not run (the platform's retries: tests/runtime/test_retry_lane.py)."""

from __future__ import annotations

import json
import time

import pytest

from shared.errors import ErrorCode
from shared.runtime.continuation import MAX_HOPS
from shared.runtime.handler import RetryableFailure
from tests.support.ecs import create_servers, cts_event, cts_trace
from tests.support.functions import Invoker
from tests.support.requests import LEGACY, change_request, kafka
from tests.support.sdk import create_inline_function

DOWN = {"IDEMPOTENCY_STORE": "redis://127.0.0.1:1/0"}  # nothing listens there: STORE_UNAVAILABLE


@pytest.fixture
def lane_cloud(cloud):
    create_inline_function(cloud, "change_request", b"def handler(event, context):\n    return {}\n")
    return cloud


def _invocations(cloud) -> list[dict]:
    return cloud._call("GET", "functiongraph/invocations?function=change_request")["invocations"]


def _settings(cloud) -> dict:
    return {"FUNCTIONGRAPH_ENDPOINT": cloud.url, **DOWN}


def test_a_retryable_failure_goes_to_the_lane_with_its_servers_later_messages_in_order(lane_cloud, change):
    cloud = lane_cloud
    first, second = change_request("add", [{"name": "web"}]), change_request("remove", [{"name": "web"}])
    other = change_request("add", [{"name": "db"}], server_id="c0000000-0000-4000-8000-000000000002")
    results = [r["data"] for r in change(kafka(first, other, second), CONCURRENCY="1", **_settings(cloud))["results"]]
    assert [d["outcome"] for d in results] == ["deferred"] * 3
    assert all(d["continuation"]["lane"] == "retry" and d["continuation"]["hop"] == 1 for d in results)
    assert {w["code"] for d in results for w in d["warnings"]} == {ErrorCode.STORE_UNAVAILABLE}
    (lane,) = _invocations(cloud)
    event = lane["payload"]
    assert event["sgguard_continuation"]["lane"] == "retry" and event["sgguard_continuation"]["trigger"] == "kafka"
    assert [json.loads(m)["request_id"] for m in event["messages"]] == [
        first["request_id"],
        other["request_id"],
        second["request_id"],
    ]  # the batch's order: LEGACY's two stay in theirs

    # in the lane the failure raises (the platform retries); the server's later message waits
    with pytest.raises(RetryableFailure):
        change(event, CONCURRENCY="1", **_settings(cloud))
    by_id = {line["data"]["request_id"]: line["data"] for line in change.log_lines if "data" in line}
    assert by_id[first["request_id"]]["errors"][0]["code"] == ErrorCode.STORE_UNAVAILABLE
    assert by_id[second["request_id"]]["errors"][0]["code"] == ErrorCode.BEHIND_RETRY
    assert by_id[second["request_id"]]["retryable"] is True
    assert len(_invocations(cloud)) == 1  # the lane is not laned again


def test_the_lane_respects_the_hop_bound(lane_cloud, change):
    cloud = lane_cloud
    request = change_request("add", [{"name": "web"}], server_id=LEGACY)
    header = {"hop": MAX_HOPS, "origin": "x", "received_at": time.time(), "trigger": "kafka"}
    event = {"sgguard_continuation": header, "messages": [json.dumps(request)]}
    (data,) = [r["data"] for r in change(event, **_settings(cloud))["results"]]
    assert data["outcome"] == "failed" and data["retryable"] is True  # its own failure, not handed on
    assert data["errors"][0]["code"] == ErrorCode.STORE_UNAVAILABLE
    assert _invocations(cloud) == []


def test_ecs_created_lanes_a_server_not_ready_in_time_and_raises_in_the_lane(cloud, ecs):
    create_inline_function(cloud, "ecs_created", b"def handler(event, context):\n    return {}\n")
    cloud.settings(build_delay_ms=600_000)  # never ACTIVE during the test
    job, [server] = create_servers(ecs, "slow-lane")
    created = Invoker(cloud, "ecs_created")
    settings = {"FUNCTIONGRAPH_ENDPOINT": cloud.url, "READINESS_POLL_S": "0.05", "READINESS_MAX_WAIT_S": "0.3"}
    (data,) = [r["data"] for r in created(cts_event(cts_trace([server], job)), **settings)["results"]]  # no raise
    assert data["outcome"] == "deferred" and data["continuation"]["lane"] == "retry"
    assert data["warnings"][0]["code"] == ErrorCode.NOT_READY
    (lane,) = cloud._call("GET", "functiongraph/invocations?function=ecs_created")["invocations"]
    assert lane["payload"]["sgguard_continuation"]["trigger"] == "cts"
    with pytest.raises(RetryableFailure):  # in the lane: FunctionGraph's async retry policy takes over
        created(lane["payload"], **settings)
    (line,) = created.log_lines
    assert line["data"]["outcome"] == "failed" and line["data"]["errors"][0]["code"] == ErrorCode.NOT_READY

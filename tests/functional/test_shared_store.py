"""Exactly once across instances: the shared idempotency store on a REAL redis-server (issue 12).

Instances are separate interpreters (tests/support/instance.py) sharing one localcloud and one
Redis, like FunctionGraph instances sharing DCS; some checks run the handler in this process too
(it is one more instance: its memory store is never consulted when the store is Redis).
"""

from __future__ import annotations

import threading
import time

import pytest

from shared.errors import ErrorCode
from tests.support.ecs import create_servers, cts_event, cts_trace
from tests.support.functions import Invoker
from tests.support.instance import Instance
from tests.support.requests import LEGACY, LEGACY_PORTS, SG, change_request, kafka
from tests.support.state import port_groups, writes_since

pytestmark = pytest.mark.slow  # instances in their own processes, latency faults: seconds each

P1 = LEGACY_PORTS[0]


@pytest.fixture
def store(redis_server):
    return {"IDEMPOTENCY_STORE": redis_server.url}


@pytest.fixture
def instances(cloud):
    started: list[Instance] = []

    def start(**user_data) -> Instance:
        instance = Instance(cloud, **user_data)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.close()


def datas(answer: dict) -> list[dict]:
    return [result["data"] for result in answer["results"]]


def codes(data: dict) -> set[str]:
    return {d["code"] for d in data.get("warnings", []) + data.get("errors", [])}


def default_sg(cloud):
    groups = cloud.state()["projects"][cloud.project_id]["vpc"]["security_groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


def claim_key(cloud, request_id, function="change_request"):
    return f"sgguard:{function}:{cloud.project_id}:{request_id}"


def wait_for(condition, timeout_s=15.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_replay_after_a_later_change_on_another_instance_is_refused(cloud, store, instances):
    """The issue's scenario: R1 adds X, R2 removes X, R1 again on another instance: X must not come back."""
    first, second = instances(**store), instances(**store)
    r1 = change_request("add", [{"name": "web"}])
    r2 = change_request("remove", [{"name": "web"}])
    assert datas(first(kafka(r1)))[0]["outcome"] == "succeeded"
    assert datas(second(kafka(r2)))[0]["outcome"] == "succeeded"
    seq = cloud.last_seq()
    [replayed] = datas(second(kafka(r1)))  # this instance never saw R1: only the shared store knows it
    assert replayed["outcome"] == "no_change" and ErrorCode.DUPLICATE_REQUEST in codes(replayed), replayed
    assert "succeeded" in replayed["warnings"][0]["message"]  # the original outcome's summary
    assert writes_since(cloud, seq) == [] and SG["web"] not in port_groups(cloud, P1)
    assert [r for r in cloud.requests(seq) if r.get("service")] == []  # not even a read


def test_with_the_memory_store_the_same_replay_reaches_the_cloud(cloud, instances):
    """Why the shared store exists: per-instance memory lets that replay re-apply R1 (X is back)."""
    first, second = instances(), instances()
    r1 = change_request("add", [{"name": "web"}])
    assert datas(first(kafka(r1)))[0]["outcome"] == "succeeded"
    assert datas(second(kafka(change_request("remove", [{"name": "web"}]))))[0]["outcome"] == "succeeded"
    assert datas(second(kafka(r1)))[0]["outcome"] == "succeeded"
    assert SG["web"] in port_groups(cloud, P1)


def test_three_instances_racing_on_one_new_request_write_once(cloud, store, instances):
    racers = [instances(**store) for _ in range(3)]
    cloud.add_fault(kind="latency", method="GET", path="/v1/*/ports", latency_ms=400)  # keep the first busy
    request = change_request("add", [{"name": "web"}])
    seq = cloud.last_seq()
    for racer in racers:
        racer.send(kafka(request))
    answers = [datas(racer.receive())[0] for racer in racers]
    outcomes = sorted(a["outcome"] for a in answers)
    assert outcomes == ["no_change", "no_change", "succeeded"], answers
    for answer in answers:
        if answer["outcome"] == "no_change":
            assert codes(answer) & {ErrorCode.IN_PROGRESS, ErrorCode.DUPLICATE_REQUEST}, answer
    assert len(writes_since(cloud, seq)) == 1
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], SG["web"]]


def test_a_holder_that_dies_mid_request_loses_its_claim_when_it_expires(cloud, redis_server, store, instances):
    holder = instances(timeout_s=3.0, READ_TIMEOUT_S="20", **store)  # claim in progress for ~3 s
    cloud.add_fault(kind="latency", method="GET", path="/v1/*/ports", latency_ms=8000, count=1)
    request = change_request("add", [{"name": "web"}])
    seq = cloud.last_seq()
    holder.send(kafka(request))
    client = redis_server.client()
    key = claim_key(cloud, request["request_id"])
    wait_for(lambda: client.exists(key), what="the holder's claim")
    holder.kill()  # dies mid-request, before any write
    cloud.clear_faults()
    redelivery = Invoker(cloud, "change_request")
    [busy] = [r["data"] for r in redelivery(kafka(request), **store)["results"]]
    assert busy["outcome"] == "no_change" and ErrorCode.IN_PROGRESS in codes(busy), busy
    assert 0 < client.pttl(key) <= 3000
    wait_for(lambda: not client.exists(key), timeout_s=5, what="the claim to expire")
    [done] = [r["data"] for r in redelivery(kafka(request), **store)["results"]]
    assert done["outcome"] == "succeeded", done
    assert len(writes_since(cloud, seq)) == 1 and SG["web"] in port_groups(cloud, P1)
    assert '"s":"c"' in client.get(key)  # completed: the replay window starts
    client.close()


def test_the_same_id_with_other_content_is_refused_on_another_instance(cloud, store, instances):
    first, second = instances(**store), instances(**store)
    request = change_request("add", [{"name": "web"}])
    assert datas(first(kafka(request)))[0]["outcome"] == "succeeded"
    seq = cloud.last_seq()
    other = change_request("add", [{"name": "db"}], request_id=request["request_id"])
    [data] = datas(second(kafka(other)))
    assert data["outcome"] == "rejected" and codes(data) == {ErrorCode.REQUEST_ID_REUSED}, data
    assert writes_since(cloud, seq) == []


def test_redis_stopped_mid_batch_fails_closed_then_a_restart_resumes(cloud, redis_server, store, change):
    if not redis_server.can_stop:
        pytest.skip("REDIS_URL is an external server: it cannot be stopped here")
    first = change_request("add", [{"name": "web"}])
    second = change_request("add", [{"name": "db"}])
    cloud.add_fault(
        kind="latency", method="*", path="/v3/*/ports/*/insert-security-groups", latency_ms=600, count=1
    )  # under READ_TIMEOUT_S (1 s)
    client = redis_server.client()
    seq = cloud.last_seq()

    def run():
        change(kafka(first, second), CONCURRENCY="1", **store)

    worker = threading.Thread(target=run)
    worker.start()
    wait_for(lambda: client.exists(claim_key(cloud, first["request_id"])), what="the first claim")
    redis_server.stop()  # while the first request is writing; the second is not claimed yet
    worker.join(30)
    by_id = {line["data"]["request_id"]: line["data"] for line in change.log_lines if "data" in line}
    assert by_id[first["request_id"]]["outcome"] == "succeeded"  # its completion failed: logged, result stands
    failed = by_id[second["request_id"]]
    assert failed["outcome"] == "failed" and failed["retryable"] is True, failed
    assert codes(failed) == {ErrorCode.STORE_UNAVAILABLE}
    writes = writes_since(cloud, seq)
    assert len(writes) == 1 and SG["db"] not in port_groups(cloud, P1)  # nothing written for the second
    # Redis back: the redelivery is processed
    redis_server.start()
    [data] = [r["data"] for r in change(kafka(second), **store)["results"]]
    assert data["outcome"] == "succeeded", data
    assert SG["db"] in port_groups(cloud, P1)


def test_a_store_that_is_down_fails_every_message_closed_without_any_cloud_call(cloud, change):
    seq = cloud.last_seq()
    response = change(
        kafka(change_request("add", [{"name": "web"}]), change_request("replace", [{"name": "web"}])),
        IDEMPOTENCY_STORE="redis://127.0.0.1:1/0",
    )
    results = [r["data"] for r in response["results"]]
    assert [r["outcome"] for r in results] == ["failed", "failed"]
    # the second (same server) waits behind the first, in queue order: the retry lane (not invocable
    # here) would have taken both (docs/retries.md)
    assert [codes(r) for r in results] == [{ErrorCode.STORE_UNAVAILABLE}, {ErrorCode.BEHIND_RETRY}]
    assert all(r["retryable"] for r in results)
    assert [r for r in cloud.requests(seq) if r.get("service")] == []


def test_concurrent_replace_from_two_processes_never_interleaves_on_one_server(cloud, store, instances):
    one, two = instances(**store), instances(**store)
    cloud.add_fault(kind="latency", method="GET", path="/v1/*/ports", latency_ms=300)  # widen the read-write gap
    a = change_request("replace", [{"name": "baseline"}, {"name": "web"}])
    b = change_request("replace", [{"name": "baseline"}, {"name": "app"}])
    seq = cloud.last_seq()
    one.send(kafka(a))
    two.send(kafka(b))
    answers = [datas(one.receive())[0], datas(two.receive())[0]]
    assert [x["outcome"] for x in answers] == ["succeeded", "succeeded"], answers
    # per instance (its own temporary AK): the span from its port listing to its last write
    spans = {}
    for entry in cloud.requests(seq):
        if entry.get("service") and (entry["path"].endswith("/ports") or entry.get("write")):
            first, last = spans.get(entry["ak"], (entry["seq"], entry["seq"]))
            spans[entry["ak"]] = (min(first, entry["seq"]), max(last, entry["seq"]))
    assert len(spans) == 2
    (s1, e1), (s2, e2) = sorted(spans.values())
    assert e1 < s2, f"read-modify-write of two instances interleaved: {spans}"
    # the one that locked second read what the first wrote, and its list is the final one
    later = max(answers, key=lambda x: x["nics"][0]["before"] != [default_sg(cloud), SG["app"]])
    assert later["nics"][0]["before"] in ([SG["baseline"], SG["web"]], [SG["baseline"], SG["app"]])
    assert port_groups(cloud, P1) == later["nics"][0]["after"]


def test_a_server_locked_too_long_fails_retryably_without_cloud_calls(cloud, redis_server, store, change):
    client = redis_server.client()
    client.set(f"sgguard:lock:{cloud.project_id}:{LEGACY}", "someone-else", px=20000)
    seq = cloud.last_seq()
    response = change(kafka(change_request("reorder", [{"name": "app"}, {"name": "default"}])), timeout_s=3.0, **store)
    [data] = [r["data"] for r in response["results"]]
    assert data["outcome"] == "failed" and data["retryable"] and codes(data) == {ErrorCode.SERVER_LOCKED}, data
    assert [r for r in cloud.requests(seq) if r.get("service")] == []
    client.delete(f"sgguard:lock:{cloud.project_id}:{LEGACY}")
    client.close()
    # an add needs no lock (insert-security-groups is one atomic call on the server side)
    client = redis_server.client()
    client.set(f"sgguard:lock:{cloud.project_id}:{LEGACY}", "someone-else", px=20000)
    [data] = [r["data"] for r in change(kafka(change_request("add", [{"name": "web"}])), **store)["results"]]
    assert data["outcome"] == "succeeded"
    client.close()


def test_a_trace_redelivered_to_another_instance_answers_no_change_without_reading(cloud, ecs, store):
    cloud.settings(build_delay_ms=300)
    job, [server] = create_servers(ecs, "web-1", tags={"env": "prod", "role": "web"})
    event = cts_event(cts_trace([server], job))
    fast = {"READINESS_POLL_S": "0.05", "READINESS_MAX_WAIT_S": "10", **store}
    first = Invoker(cloud, "ecs_created")
    [done] = [r["data"] for r in first(event, **fast)["results"]]
    assert done["outcome"] == "succeeded", done
    from shared.flows.ecs_created.steps import REPLAY_GUARD

    REPLAY_GUARD.clear()  # as if another instance: only Redis remembers the trace
    seq = cloud.last_seq()
    [again] = [r["data"] for r in Invoker(cloud, "ecs_created")(event, **fast)["results"]]
    assert again["outcome"] == "no_change" and ErrorCode.DUPLICATE_REQUEST in codes(again), again
    assert [r for r in cloud.requests(seq) if r.get("service")] == []

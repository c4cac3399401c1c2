"""Attack: a continuation outlives the replay window (issue 19). An authentic continuation event is
accepted only within REPLAY_WINDOW_S of its batch's first receipt, and the requests it carries stay
claimed from the moment they are handed on until the continuation completes them: replayed before
the window ends it finds each request in progress or completed; after, it is refused whole.

The continuation is forced by a work budget (MAX_MESSAGES_PER_INVOCATION=1), never by a real
timeout; "two hours later" is the system clock shifted for the handler, never a sleep."""

from __future__ import annotations

import json

import pytest

import shared.runtime.run as run_module
from shared.runtime.continuation import MAX_HOPS, _mac
from tests.functional.test_change_request import only, results_of
from tests.support.clock import shifted_clock
from tests.support.functions import SIGNING_KEYS
from tests.support.requests import LEGACY_PORTS, SG, change_request, kafka
from tests.support.sdk import create_inline_function
from tests.support.state import port_groups, writes_since

P1 = LEGACY_PORTS[0]
TWO_HOURS = 7200


def _create_self(cloud) -> None:
    """change_request itself, in localcloud, so that its asynchronous self-invocation is recorded."""
    create_inline_function(
        cloud, "change_request", b"def handler(event, context):\n    return {}\n", memory_size=256, timeout=60
    )


def _settings(cloud, **extra: str) -> dict:
    return {"FUNCTIONGRAPH_ENDPOINT": cloud.url, "MAX_MESSAGES_PER_INVOCATION": "1", "CONCURRENCY": "1", **extra}


def _vpc_writes(cloud, seq: int) -> list[dict]:
    return [r for r in writes_since(cloud, seq) if "/functiongraph/" not in r["path"] and "/fgs/" not in r["path"]]


def _hand_on(cloud, change, *requests, **extra: str) -> tuple[list[dict], dict]:
    """The first invocation: the first request is processed, the rest handed on; the continuation event."""
    _create_self(cloud)
    first = [r["data"] for r in results_of(change(kafka(*requests), **_settings(cloud, **extra)))]
    invocations = cloud._call("GET", "functiongraph/invocations?function=change_request")["invocations"]
    assert [i["mode"] for i in invocations] == ["async"], invocations
    return first, invocations[0]["payload"]


def _world_ssh():
    return change_request("add", [{"name": "ssh-open"}], approved_by="bob@example.com")


def test_a_replayed_continuation_changes_nothing_within_its_window_and_is_refused_after(cloud, change, monkeypatch):
    web, ssh = change_request("add", [{"name": "web"}]), _world_ssh()
    first, continuation = _hand_on(cloud, change, web, ssh)
    assert [d["outcome"] for d in first] == ["succeeded", "deferred"], first
    done = only(change(continuation, **_settings(cloud)))
    assert (done["request_id"], done["outcome"]) == (ssh["request_id"], "succeeded"), done
    assert SG["ssh-open"] in port_groups(cloud, P1)
    removed = only(change(change_request("remove", [{"name": "ssh-open"}]), **_settings(cloud)))
    assert removed["outcome"] == "succeeded", removed  # a later ticket closes SSH again

    seq = cloud.last_seq()
    replay = only(change(continuation, **_settings(cloud)))  # within the window, after it finished
    assert replay["outcome"] == "no_change" and replay["warnings"][0]["code"] == "DUPLICATE_REQUEST", replay
    assert _vpc_writes(cloud, seq) == [] and SG["ssh-open"] not in port_groups(cloud, P1)

    # two hours later (default settings): the requests' records are gone, the mac still verifies
    monkeypatch.setattr(run_module, "SYSTEM_CLOCK", shifted_clock(TWO_HOURS))
    seq = cloud.last_seq()
    late = only(change(continuation, **_settings(cloud)))
    assert late["outcome"] == "rejected", late
    assert late["errors"][0]["code"] == "CONTINUATION_EXPIRED"
    assert late["errors"][0]["path"] == "$.sgguard_continuation.received_at"
    assert late["request_id"] == ssh["request_id"]  # the ticket can still be matched to its result
    assert _vpc_writes(cloud, seq) == [] and SG["ssh-open"] not in port_groups(cloud, P1)


# past the window by a second (time only adds to it); ahead of the skew (300 s) by ten minutes, whatever the speed
@pytest.mark.parametrize("seconds", [601, -900], ids=["past_the_window", "from_the_future"])
def test_a_continuation_outside_its_window_is_refused_before_anything_is_read(cloud, change, monkeypatch, seconds):
    _, continuation = _hand_on(cloud, change, change_request("add", [{"name": "web"}]), _world_ssh())
    monkeypatch.setattr(run_module, "SYSTEM_CLOCK", shifted_clock(seconds))
    seq = cloud.last_seq()
    late = only(change(continuation, **_settings(cloud)))
    assert (late["outcome"], late["errors"][0]["code"]) == ("rejected", "CONTINUATION_EXPIRED"), late
    assert cloud.requests(seq) == []  # not even a read


def test_while_handed_on_the_request_is_held_for_its_continuation_on_every_instance(cloud, change, redis_server):
    store = {"IDEMPOTENCY_STORE": redis_server.url}
    web, ssh = change_request("add", [{"name": "web"}]), _world_ssh()
    _, continuation = _hand_on(cloud, change, web, ssh, **store)
    # the same signed request reaches an instance (a re-publish, a redelivery) before the continuation runs
    seq = cloud.last_seq()
    early = only(change(kafka(ssh), **_settings(cloud, **store)))
    assert early["outcome"] == "no_change" and early["warnings"][0]["code"] == "IN_PROGRESS", early
    assert continuation["sgguard_continuation"]["hold"]  # held under this token (mac'd with the rest)
    # a continuation whose mac does not verify cannot take the hold over
    forged = {**continuation, "sgguard_continuation": {**continuation["sgguard_continuation"], "origin": "forged"}}
    refused = only(change(forged, **_settings(cloud, **store)))
    assert refused["outcome"] == "no_change" and refused["warnings"][0]["code"] == "IN_PROGRESS", refused
    assert _vpc_writes(cloud, seq) == []
    # the genuine continuation takes it over and applies it, once
    done = only(change(continuation, **_settings(cloud, **store)))
    assert done["outcome"] == "succeeded", done
    seq = cloud.last_seq()
    replay = only(change(continuation, **_settings(cloud, **store)))
    assert replay["outcome"] == "no_change" and replay["warnings"][0]["code"] == "DUPLICATE_REQUEST", replay
    assert _vpc_writes(cloud, seq) == []


def test_a_continuation_that_could_not_be_invoked_gives_its_holds_up(cloud, change):
    web, ssh = change_request("add", [{"name": "web"}]), _world_ssh()
    # no function to invoke in localcloud: the hand-on fails, the message fails retryably
    first = [r["data"] for r in results_of(change(kafka(web, ssh), **_settings(cloud)))]
    assert [d["outcome"] for d in first] == ["succeeded", "failed"] and first[1]["retryable"], first
    # the platform re-delivers the batch: the request is free again
    again = [r["data"] for r in results_of(change(kafka(web, ssh), FUNCTIONGRAPH_ENDPOINT=cloud.url))]
    assert [d["outcome"] for d in again] == ["no_change", "succeeded"], again


def test_past_the_hop_limit_the_holds_are_given_up(cloud, change):
    web, ssh = change_request("add", [{"name": "web"}]), _world_ssh()
    other = change_request("add", [{"name": "monitoring"}])
    _, continuation = _hand_on(cloud, change, web, ssh)  # ssh is held for the continuation
    # the same continuation at the last hop (re-signed as this function would): ssh cannot start again
    header = {k: v for k, v in continuation["sgguard_continuation"].items() if k != "mac"}
    header["hop"] = MAX_HOPS
    messages = [json.dumps(other), *continuation["messages"]]
    header["mac"] = _mac(SIGNING_KEYS[header["key_id"]], header, messages)
    last = [
        r["data"]
        for r in results_of(change({"sgguard_continuation": header, "messages": messages}, **_settings(cloud)))
    ]
    assert [d["outcome"] for d in last] == ["succeeded", "failed"], last
    assert last[1]["errors"][0]["code"] == "TIMEOUT" and last[1]["retryable"]
    # the platform re-delivers: the request is free, not in progress for the rest of the window
    again = only(change(kafka(ssh), FUNCTIONGRAPH_ENDPOINT=cloud.url))
    assert again["outcome"] == "succeeded", again

"""Holds for continuations, in both stores (Redis: the real redis-server the tests start): a request
handed on stays claimed until its continuation takes the hold over - once - and completes it."""

from __future__ import annotations

import pytest

from shared.config import load_settings
from shared.errors import ErrorCode
from shared.idempotency import MemoryStore, process_once, store_for
from shared.results import Identity, new_result_data

TOKEN, OTHER = "a" * 32, "b" * 32


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    server = request.getfixturevalue("redis_server")
    settings = load_settings(environ={"IDEMPOTENCY_STORE": server.url})
    return store_for(settings, function="change_request", project_id="holds", memory=MemoryStore())


def _hold(store, key="R1", fingerprint="fp", token=TOKEN, holder=None):
    return store.hold(key, fingerprint, now=0, ttl_s=60, hold_s=30, token=token, holder=holder).status


def _claim(store, key="R1", fingerprint="fp", holder=None):
    return store.claim(key, fingerprint, now=0, ttl_s=60, in_progress_s=5, holder=holder).status


def test_a_held_request_is_in_progress_for_everyone_but_its_continuation(store):
    assert _hold(store) == "new"
    assert _claim(store) == "in_progress"  # a replay of the original request, another instance
    assert _claim(store, holder=OTHER) == "in_progress"  # a forged or other continuation
    assert _claim(store, fingerprint="other", holder=TOKEN) == "reused"  # same id, other content
    assert _claim(store, holder=TOKEN) == "new"  # the continuation takes the hold over
    assert _claim(store, holder=TOKEN) == "in_progress"  # ... once: a replay of it finds it in progress
    store.complete("R1", "succeeded")
    claim = store.claim("R1", "fp", now=0, ttl_s=60, holder=TOKEN)
    assert (claim.status, claim.outcome) == ("duplicate", "succeeded")  # and then completed


def test_a_hold_moves_to_the_next_continuation_and_is_given_up_when_not_handed_on(store):
    assert _hold(store) == "new"
    assert _hold(store, token=OTHER) == "in_progress"  # no hold over someone else's
    assert _hold(store, token=OTHER, holder=TOKEN) == "new"  # hop 2 takes hop 1's hold
    assert _claim(store, holder=TOKEN) == "in_progress"  # the old token is worth nothing now
    store.unhold("R1", "fp", TOKEN)  # not ours any more: nothing happens
    assert _claim(store) == "in_progress"
    store.unhold("R1", "fp", OTHER)  # the continuation could not be invoked: the request is free
    assert _claim(store) == "new"


def test_unhold_never_deletes_a_claim_taken_over_or_completed(store):
    assert _hold(store) == "new"
    assert _claim(store, holder=TOKEN) == "new"
    store.unhold("R1", "fp", TOKEN)
    assert _claim(store) == "in_progress"
    store.complete("R1", "succeeded")
    store.unhold("R1", "fp", TOKEN)
    assert _claim(store) == "duplicate"


def test_process_once_takes_the_hold_over_and_a_second_run_changes_nothing(store):
    assert _hold(store, key="R2") == "new"
    calls = []

    def steps():
        calls.append(1)
        return new_result_data("succeeded")

    def run():
        return process_once(store, "R2", "fp", now=1, ttl_s=60, identity=Identity(), steps=steps, holder=TOKEN)

    assert run().outcome == "succeeded"
    again = run()
    assert again.outcome == "no_change" and again.warnings[0].code == ErrorCode.DUPLICATE_REQUEST
    assert calls == [1]


def test_a_redis_hold_lasts_as_long_as_asked(redis_server):
    settings = load_settings(environ={"IDEMPOTENCY_STORE": redis_server.url})
    store = store_for(settings, function="change_request", project_id="holds", memory=MemoryStore())
    store.hold("R3", "fp", now=0, ttl_s=60, hold_s=500, token=TOKEN)
    client = redis_server.client()
    assert 495_000 < client.pttl("sgguard:change_request:holds:R3") <= 500_000
    client.close()

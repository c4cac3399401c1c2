"""shared.idempotency: claim before any call, complete on success, release on anything else."""

import threading

import pytest

from shared.errors import ErrorCode
from shared.idempotency import MemoryStore, process_once
from shared.results import Identity, new_result_data

IDENTITY = Identity(request_id="CHG-1")


def once(store, steps, *, key="CHG-1", fingerprint="f1", now=0.0, ttl_s=600.0):
    return process_once(store, key, fingerprint, now=now, ttl_s=ttl_s, identity=IDENTITY, steps=steps)


def succeeded():
    return new_result_data("succeeded")


def test_a_completed_request_is_a_duplicate_within_the_window_only():
    store = MemoryStore()
    calls = []
    steps = lambda: calls.append(1) or succeeded()  # noqa: E731
    assert once(store, steps).outcome == "succeeded"
    again = once(store, steps, now=599.9)
    assert again.outcome == "no_change" and again.warnings[0].code == ErrorCode.DUPLICATE_REQUEST
    assert "(succeeded)" in again.warnings[0].message
    assert once(store, steps, now=600.0).outcome == "succeeded"  # the window is [t, t + ttl)
    assert len(calls) == 2


@pytest.mark.parametrize("ttl_s", [600.0, 700.0, 3600.0])
def test_the_window_is_the_one_configured(ttl_s):
    store = MemoryStore()
    once(store, succeeded, ttl_s=ttl_s)
    assert once(store, succeeded, now=ttl_s - 1, ttl_s=ttl_s).outcome == "no_change"
    assert once(store, succeeded, now=ttl_s, ttl_s=ttl_s).outcome == "succeeded"


@pytest.mark.parametrize("outcome", ["failed", "rejected", "rolled_back", "skipped"])
def test_any_other_outcome_releases_the_id(outcome):
    store = MemoryStore()
    once(store, lambda: new_result_data(outcome))
    assert len(store) == 0 and once(store, succeeded, now=1.0).outcome == "succeeded"


@pytest.mark.parametrize("error", [TypeError, RecursionError, KeyError, RuntimeError])
def test_whatever_raised_releases_the_id(error):
    """A tampered copy that crashes the steps must not suppress the genuine request after it."""
    store = MemoryStore()

    def boom():
        raise error("hostile")

    with pytest.raises(error):
        once(store, boom)
    assert once(store, succeeded, now=1.0).outcome == "succeeded"


def test_the_same_id_with_other_content_is_refused_not_a_duplicate():
    store = MemoryStore()
    once(store, succeeded)
    data = once(store, succeeded, fingerprint="f2", now=1.0)
    assert data.outcome == "rejected"
    assert [(e.code, e.path) for e in data.errors] == [(ErrorCode.REQUEST_ID_REUSED, "$.request_id")]


def test_a_request_in_progress_answers_in_progress():
    store = MemoryStore()
    seen = {}

    def steps():
        seen["inner"] = once(store, succeeded, now=0.5)
        return succeeded()

    once(store, steps)
    assert seen["inner"].outcome == "no_change"
    assert seen["inner"].warnings[0].code == ErrorCode.IN_PROGRESS


def test_bounded_oldest_evicted():
    store = MemoryStore(max_entries=3)
    for key in "abcd":
        once(store, succeeded, key=key)
    assert len(store) == 3
    assert once(store, succeeded, key="a", now=1.0).outcome == "succeeded"  # evicted: new again
    assert once(store, succeeded, key="d", now=1.0).outcome == "no_change"


def test_refuses_nonsense_settings():
    with pytest.raises(ValueError):
        MemoryStore(max_entries=0)


def test_thread_safe_exactly_one_winner_per_id():
    store = MemoryStore(max_entries=100000)
    winners: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for i in range(300):
            claim = store.claim(f"CHG-{i}", "f", now=0.0, ttl_s=600.0)
            if claim.status == "new":
                with lock:
                    winners.append(f"CHG-{i}")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners) == sorted(f"CHG-{i}" for i in range(300))

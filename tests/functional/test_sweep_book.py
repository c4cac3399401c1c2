"""The sweep book (shared.idempotency.sweeps): memory and the real Redis the fixture starts.

Each plan and each invocation is claimed once; each target finishes once; of many targets finishing
at the same moment exactly one is told it completed the plan (the organisation summary's author).
"""

from __future__ import annotations

import threading

import pytest

from shared.idempotency.exceptions import StoreUnavailable
from shared.idempotency.sweeps import MemorySweepBook, RedisSweepBook

SWEEP = "sweep:20261202T100000Z"


@pytest.fixture(params=["memory", "redis"])
def book(request):
    if request.param == "memory":
        return MemorySweepBook()
    server = request.getfixturevalue("redis_server")
    from shared.idempotency.redis_backend import shared_client

    return RedisSweepBook(shared_client(server.url))


def test_a_plan_and_an_invocation_are_claimed_once(book):
    assert book.claim(SWEEP, "plan") and not book.claim(SWEEP, "plan")
    assert book.plan(SWEEP, 3) and not book.plan(SWEEP, 3)
    assert book.claim(SWEEP, "home/cn-north-4/p#0") and not book.claim(SWEEP, "home/cn-north-4/p#0")
    assert book.claim(SWEEP, "home/cn-north-4/p#1")  # the next hop is another invocation
    assert book.claim("sweep:20261202T110000Z", "plan")  # the next hour's sweep is another sweep


def test_a_target_finishes_once_and_the_last_one_is_told(book):
    book.plan(SWEEP, 2)
    first = book.finish(SWEEP, "a", {"outcome": "complete"})
    assert first.written and not first.last and (first.finished, first.total) == (1, 2)
    again = book.finish(SWEEP, "a", {"outcome": "failed"})
    assert not again.written and not again.last  # a redelivery neither counts nor overwrites
    last = book.finish(SWEEP, "b", {"outcome": "failed", "code": "ACCESS_DENIED"})
    assert last.last and last.finished == 2
    assert book.results(SWEEP) == {"a": {"outcome": "complete"}, "b": {"outcome": "failed", "code": "ACCESS_DENIED"}}
    assert not book.finish(SWEEP, "b", {"outcome": "complete"}).last  # told once only


def test_without_a_plan_nobody_is_last(book):
    assert not book.finish(SWEEP, "a", {"outcome": "complete"}).last


def test_of_many_targets_finishing_at_once_exactly_one_is_last(book):
    targets = [f"acct{i:02d}/cn-north-4/p" for i in range(24)]
    book.plan(SWEEP, len(targets))
    gate = threading.Barrier(len(targets))
    lasts: list[str] = []

    def finish(key: str) -> None:
        gate.wait()
        if book.finish(SWEEP, key, {"outcome": "complete"}).last:
            lasts.append(key)

    threads = [threading.Thread(target=finish, args=(key,)) for key in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lasts) == 1 and len(book.results(SWEEP)) == len(targets)


def test_a_store_that_does_not_answer_is_unavailable(redis_server):
    from shared.idempotency.redis_backend import _client

    book = RedisSweepBook(_client("redis://127.0.0.1:1/0"))
    with pytest.raises(StoreUnavailable):
        book.claim(SWEEP, "plan")
    with pytest.raises(StoreUnavailable):
        book.finish(SWEEP, "a", {})

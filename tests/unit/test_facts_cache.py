"""The rails' facts cache (shared/rails/facts.py): age bound, renewal, expected ids, single flight.

Pure logic on an injected clock: the shelf is given a plain read function that records what it
was asked for (the HTTP path is in tests/functional/test_facts_per_batch.py).
"""

from __future__ import annotations

import threading

import pytest

from shared.rails.facts import _Shelf
from tests.support.clock import FakeTime


class Reads:
    """A read function: answers every id it is asked for except ``absent``, and records the asks."""

    def __init__(self, absent=()):
        self.asks: list[set[str]] = []
        self.absent = set(absent)

    def __call__(self, ids):
        self.asks.append(set(ids))
        return {i: f"fact-of-{i}" for i in ids if i not in self.absent}


def shelf(max_age_s=1.0, start=0.0):
    time = FakeTime(start)
    return _Shelf(max_age_s, time.monotonic), time


def test_a_fact_is_reused_up_to_the_bound_and_read_again_after():
    facts, time = shelf(1.0)
    read = Reads()
    assert facts.get({"a"}, read) == {"a": "fact-of-a"}
    time.now += 1.0
    assert facts.get({"a"}, read) == {"a": "fact-of-a"}
    assert read.asks == [{"a"}]
    time.now += 0.001
    facts.get({"a"}, read)
    assert read.asks == [{"a"}, {"a"}]


def test_one_read_renews_every_stale_fact():
    facts, time = shelf(1.0)
    read = Reads()
    facts.get({"a", "b"}, read)
    time.now += 2
    facts.get({"a"}, read)  # b is stale too: read in the same call
    assert read.asks == [{"a", "b"}, {"a", "b"}]
    facts.get({"b"}, read)
    assert len(read.asks) == 2


def test_expected_ids_come_with_the_first_read_only():
    facts, _ = shelf(1.0)
    read = Reads()
    asked = []

    def expected():
        asked.append(1)
        return {"x", "y"}

    facts.get({"a"}, read, expected)
    facts.get({"x"}, read, expected)  # read with the first: no second read
    assert read.asks == [{"a", "x", "y"}]
    assert len(asked) == 1  # only a read asks for them


def test_an_absent_fact_is_kept_as_absent():
    facts, _ = shelf(1.0)
    read = Reads(absent={"gone"})
    assert facts.get({"gone"}, read) == {"gone": None}
    assert facts.get({"gone"}, read) == {"gone": None}
    assert read.asks == [{"gone"}]


@pytest.mark.parametrize("max_age_s", [0.0])
def test_zero_age_reads_for_every_decision_even_on_a_still_clock(max_age_s):
    facts, _ = shelf(max_age_s)
    read = Reads()
    facts.get({"a"}, read)
    facts.get({"a"}, read)
    assert read.asks == [{"a"}, {"a"}]


def test_a_failed_read_is_not_remembered():
    facts, _ = shelf(1.0)

    def failing(ids):
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        facts.get({"a"}, failing)
    read = Reads()
    assert facts.get({"a"}, read) == {"a": "fact-of-a"}
    assert read.asks == [{"a"}]


def test_a_second_decision_waits_for_the_read_in_flight_instead_of_reading():
    facts, _ = shelf(60.0)
    entered, gate = threading.Event(), threading.Event()
    asks: list[set[str]] = []

    def read(ids):
        asks.append(set(ids))
        if len(asks) == 1:  # the first read is slow: held until the test lets it go
            entered.set()
            assert gate.wait(10)
        return {i: "fact" for i in ids}

    results: dict[str, dict] = {}
    first = threading.Thread(target=lambda: results.setdefault("first", facts.get({"a"}, read)))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=lambda: results.setdefault("second", facts.get({"a"}, read)))
    second.start()
    second.join(0.5)
    # a second read would have answered at once; waiting on the first one, it is still blocked
    assert second.is_alive() and asks == [{"a"}]
    gate.set()
    first.join(10)
    second.join(10)
    assert asks == [{"a"}]
    assert results == {"first": {"a": "fact"}, "second": {"a": "fact"}}


def test_the_waiting_decision_reads_for_itself_when_the_read_in_flight_fails():
    facts, _ = shelf(60.0)
    entered, gate = threading.Event(), threading.Event()
    asks: list[set[str]] = []

    def read(ids):
        asks.append(set(ids))
        if len(asks) == 1:
            entered.set()
            assert gate.wait(10)
            raise ConnectionError("reset")
        return {i: "fact" for i in ids}

    errors: list[Exception] = []
    answers: list[dict] = []

    def decide():
        try:
            answers.append(facts.get({"a"}, read))
        except ConnectionError as error:
            errors.append(error)

    first = threading.Thread(target=decide)
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=decide)
    second.start()
    second.join(0.5)
    gate.set()
    first.join(10)
    second.join(10)
    assert len(errors) == 1 and answers == [{"a": "fact"}]
    assert asks == [{"a"}, {"a"}]

"""ReplayGuard: bounded, thread-safe TTL memory of request ids."""

import threading

import pytest

from shared.signing import ReplayGuard


def test_first_sighting_is_new_then_seen():
    guard = ReplayGuard()
    assert guard.seen("CHG-1", 1000.0) is False
    assert guard.seen("CHG-1", 1001.0) is True
    assert guard.seen("CHG-2", 1001.0) is False


def test_entries_expire_after_the_ttl():
    guard = ReplayGuard(ttl_s=600)
    guard.seen("CHG-1", 0.0)
    assert guard.seen("CHG-1", 599.9) is True
    assert guard.seen("CHG-1", 600.0) is False  # window is [t, t + ttl)
    assert guard.seen("CHG-1", 601.0) is True  # re-marked at 600


def test_a_repeat_does_not_extend_the_window():
    guard = ReplayGuard(ttl_s=10)
    guard.seen("a", 0.0)
    guard.seen("a", 9.0)
    assert guard.seen("a", 10.0) is False


def test_expired_entries_are_dropped():
    guard = ReplayGuard(ttl_s=10)
    for i in range(100):
        guard.seen(f"id-{i}", float(i) * 0.01)
    assert len(guard) == 100
    guard.seen("late", 100.0)
    assert len(guard) == 1


def test_forget_allows_a_retry():
    guard = ReplayGuard()
    guard.seen("CHG-1", 0.0)
    guard.forget("CHG-1")
    assert guard.seen("CHG-1", 1.0) is False
    guard.forget("never-seen")  # no error


def test_bounded_oldest_evicted():
    guard = ReplayGuard(max_entries=3)
    for name in ("a", "b", "c", "d"):
        guard.seen(name, 0.0)
    assert len(guard) == 3
    assert guard.seen("a", 1.0) is False  # evicted, so new again (and evicts "b")
    assert guard.seen("c", 1.0) is True
    assert guard.seen("d", 1.0) is True


def test_clear():
    guard = ReplayGuard()
    guard.seen("a", 0.0)
    guard.clear()
    assert len(guard) == 0 and guard.seen("a", 0.0) is False


@pytest.mark.parametrize("kwargs", [{"ttl_s": 0}, {"max_entries": 0}, {"ttl_s": -1}])
def test_refuses_nonsense_settings(kwargs):
    with pytest.raises(ValueError):
        ReplayGuard(**kwargs)


def test_thread_safe_exactly_one_winner_per_id():
    guard = ReplayGuard(max_entries=100000)
    ids = [f"CHG-{i}" for i in range(500)]
    firsts: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        mine = [request_id for request_id in ids if not guard.seen(request_id, 1.0)]
        with lock:
            firsts.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts) == sorted(ids)

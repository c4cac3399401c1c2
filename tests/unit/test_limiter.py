"""The AIMD limiter shared by an invocation's workers (shared.cloud.limiter)."""

from __future__ import annotations

import threading

from shared.cloud.limiter import AimdLimiter


def test_halves_once_per_round_and_grows_back_by_one_per_window():
    limiter = AimdLimiter(16, window=1)
    epochs = [limiter.acquire(1) for _ in range(8)]
    assert limiter.in_flight == 8 and set(epochs) == {0}
    limiter.release(epochs[0], throttled=True)
    assert limiter.limit == 8
    for epoch in epochs[1:4]:  # 429s of calls sent before the halving: no further halving
        limiter.release(epoch, throttled=True)
    assert limiter.limit == 8 and limiter.throttled == 4 and limiter.decreases == 1
    epoch = limiter.acquire(1)
    limiter.release(epoch, throttled=True)  # a call sent after it: halves again
    assert limiter.limit == 4
    for epoch in epochs[4:]:
        limiter.release(epoch)
    for _ in range(4):  # one window: at least as many successes as the limit
        limiter.release(limiter.acquire(1))
    assert limiter.limit == 5
    assert limiter.stats()["lowest"] == 4


def test_never_below_the_minimum_nor_above_the_maximum():
    limiter = AimdLimiter(2, window=1)
    for _ in range(5):
        limiter.release(limiter.acquire(1), throttled=True)
    assert limiter.limit == 1
    for _ in range(50):
        limiter.release(limiter.acquire(1))
    assert limiter.limit == 2


def test_acquire_waits_for_a_slot_and_gives_up_at_its_timeout():
    limiter = AimdLimiter(1)
    held = limiter.acquire(1)
    assert limiter.acquire(0.05) is None
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(limiter.acquire(5)))
    waiter.start()
    limiter.release(held)
    waiter.join(5)
    assert got == [0]

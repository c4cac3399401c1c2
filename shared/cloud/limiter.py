"""Flow control for one invocation's cloud calls: throttling is a signal to slow down, not an error.

One :class:`AimdLimiter` is shared by every worker of an invocation (:class:`shared.runtime.batch.Run`).
It bounds the calls in flight: it starts at the batch's concurrency, **halves** when the API
gateway throttles (HTTP 429 / ``APIG.0308``: the gateway refused the call before the service saw
it, so nothing happened and repeating it is safe, write or read), and **grows back by one** after
each success window (as many successes as the current limit, so growth is about one step per
round of calls). A throttled call waits for a slot again and is repeated without using up one of
its ``MAX_ATTEMPTS`` (only the invocation's deadline bounds it), so a big batch against a throttled
API slows to the rate the API accepts instead of burning its retries and failing.

Only one halving per round: calls that were already in flight when the limit dropped report their
429 too, and those must not halve it again (as TCP's congestion window ignores losses of packets
sent before the last reduction).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from shared.cloud.exceptions import CloudCallError, DeadlineExceeded

if TYPE_CHECKING:
    from shared.clock import Clock, Deadline
    from shared.cloud.retry import RetryPolicy

__all__ = ["AimdLimiter", "flow_call"]

T = TypeVar("T")


class AimdLimiter:
    """Additive-increase, multiplicative-decrease bound on the calls in flight."""

    # window: successes needed per +1 (default four times the maximum, and never fewer than the limit)

    def __init__(
        self,
        limit: int,
        *,
        minimum: int = 1,
        window: int | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.maximum = max(1, int(limit))
        # successes per +1: at least the limit (one round), and a floor so that growth is slower
        # than the gateway's memory (its bucket holds about a second of calls)
        self.window = max(1, int(window)) if window is not None else 4 * self.maximum
        self.minimum = max(1, min(int(minimum), self.maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.successes = 0  # in the current window
        self.throttled = 0  # 429s seen (all of them)
        self.decreases = 0
        self.lowest = self.maximum
        self._epoch = 0  # bumped by each decrease: a 429 of an older call does not halve again
        self._cond = threading.Condition(threading.Lock())
        if monotonic is None:
            import time

            monotonic = time.monotonic
        self._monotonic = monotonic

    def acquire(self, timeout_s: float) -> int | None:
        """A slot: the epoch to report back with :meth:`release`; None when ``timeout_s`` passed."""
        with self._cond:
            if self.in_flight >= self.limit:
                ends = self._monotonic() + max(0.0, timeout_s)
                while self.in_flight >= self.limit:
                    left = ends - self._monotonic()
                    if left <= 0:
                        return None
                    self._cond.wait(left)
            self.in_flight += 1
            return self._epoch

    def release(self, epoch: int, *, throttled: bool = False) -> None:
        """The call that took a slot at ``epoch`` ended (``throttled``: answered 429 / APIG.0308)."""
        with self._cond:
            self.in_flight -= 1
            if throttled:
                self.throttled += 1
                if epoch == self._epoch and self.limit > self.minimum:
                    self.limit = max(self.minimum, self.limit // 2)
                    self.lowest = min(self.lowest, self.limit)
                    self.decreases += 1
                    self._epoch += 1
                    self.successes = 0
            else:
                self.successes += 1
                if self.successes >= max(self.limit, self.window) and self.limit < self.maximum:
                    self.limit += 1
                    self.successes = 0
            if self.in_flight < self.limit:
                self._cond.notify_all()

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "limit": self.limit,
                "maximum": self.maximum,
                "lowest": self.lowest,
                "throttled": self.throttled,
                "decreases": self.decreases,
            }


def flow_call(
    limiter: AimdLimiter,
    operation: str,
    call: Callable[[], T],
    *,
    count: Callable[[], None],
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
) -> T:
    """One call through the invocation's limiter (``count`` runs for each call actually made).

    A throttled answer (429 / APIG.0308: the gateway refused it, nothing happened) slows the
    limiter down and the call is made again, after a short jittered pause, without using up an
    attempt; only the deadline ends that. Any other failure is raised as a :class:`CloudCallError`.
    """
    from shared.cloud.retry import translate

    last: CloudCallError | None = None
    while True:
        epoch = limiter.acquire(deadline.remaining())
        if epoch is None:
            raise DeadlineExceeded(operation, last)
        count()
        try:
            result = call()
        except Exception as raw:  # noqa: BLE001 - translate() re-raises what is not an SDK error
            try:
                last = translate(operation, raw)
            except BaseException:
                limiter.release(epoch)
                raise
            limiter.release(epoch, throttled=last.throttled)
            if not last.throttled:
                raise last from None
            pause = clock.random() * policy.base_s
            if not deadline.allows(pause):
                raise DeadlineExceeded(operation, last) from None
            clock.sleep(pause)
            continue
        limiter.release(epoch)
        return result

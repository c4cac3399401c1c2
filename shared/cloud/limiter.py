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

**Shared per (account, region, service)** (issue 23, docs/organisation.md "Rate limits"): the API
gateway's limits are an account's in a region, whatever instance calls; with the Redis store, a
limiter also keeps a :class:`SharedLimit` (``shared.idempotency.limits.RedisSharedLimit``: a hash
``sgguard:limit:<account>:<region>:<service>`` = ``{limit, epoch}``) that every instance of every
function working on that account and region reads and moves. Cheap by design, not a round trip
per call: the limiter **loads** the shared limit once (its first call), **halves** it where a 429
halves the local one (one script: only if nobody halved it since this limiter last looked, the
shared ``epoch``, so N instances throttled at once halve it once, not N times) and **grows** it by
one where a success window grows the local one; each answer is adopted at once. So at most one
round trip per window of successes (``window``, by default four times the limit) and one per
halving. Between two syncs an instance may run a window at a limit another one already halved:
the next 429 it gets brings it in line. A store that does not answer is dropped for the rest of the
limiter's life (the local AIMD goes on alone): rate limits are an aid, never a reason to fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from shared.cloud.exceptions import CloudCallError, DeadlineExceeded

if TYPE_CHECKING:
    from shared.clock import Clock, Deadline
    from shared.cloud.retry import RetryPolicy

__all__ = ["AimdLimiter", "SharedLimit", "flow_call"]

T = TypeVar("T")


class SharedLimit(Protocol):
    """A limit shared with other instances: each method answers ``(limit, epoch)`` as it now stands."""

    def load(self, maximum: int) -> tuple[int, int]: ...

    def decrease(self, seen_epoch: int, minimum: int, maximum: int) -> tuple[int, int]: ...

    def increase(self, maximum: int) -> tuple[int, int]: ...


class AimdLimiter:
    """Additive-increase, multiplicative-decrease bound on the calls in flight (``shared``: kept in
    step with other instances', see the module's docstring)."""

    # window: successes needed per +1 (default four times the maximum, and never fewer than the limit)

    def __init__(
        self,
        limit: int,
        *,
        minimum: int = 1,
        window: int | None = None,
        monotonic: Callable[[], float] | None = None,
        shared: SharedLimit | None = None,
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
        self._shared = shared
        self._shared_epoch: int | None = None  # None: not loaded yet
        self.syncs = 0  # round trips to the shared limit

    def _sync(self, action: Callable[[SharedLimit], tuple[int, int]]) -> bool:
        """One round trip to the shared limit (under the lock); its answer adopted. False: none made."""
        shared = self._shared
        if shared is None:
            return False
        try:
            limit, epoch = action(shared)
        except Exception:  # noqa: BLE001 - a store that does not answer: local AIMD from now on
            self._shared = None
            return False
        self.syncs += 1
        if self._shared_epoch is not None and epoch != self._shared_epoch:
            self._epoch += 1  # halved elsewhere: 429s of calls sent before do not halve again
        self._shared_epoch = epoch
        self.limit = max(self.minimum, min(self.maximum, int(limit)))
        self.lowest = min(self.lowest, self.limit)
        return True

    def acquire(self, timeout_s: float) -> int | None:
        """A slot: the epoch to report back with :meth:`release`; None when ``timeout_s`` passed."""
        with self._cond:
            if self._shared is not None and self._shared_epoch is None:
                self._sync(lambda shared: shared.load(self.maximum))
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
                    seen = self._shared_epoch if self._shared_epoch is not None else -1
                    self._epoch += 1
                    if not self._sync(lambda shared: shared.decrease(seen, self.minimum, self.maximum)):
                        self.limit = max(self.minimum, self.limit // 2)
                    self.lowest = min(self.lowest, self.limit)
                    self.decreases += 1
                    self.successes = 0
            else:
                self.successes += 1
                if self.successes >= max(self.limit, self.window) and self.limit < self.maximum:
                    if not self._sync(lambda shared: shared.increase(self.maximum)):
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
                "syncs": self.syncs,
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

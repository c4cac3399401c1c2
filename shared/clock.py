"""Time, injected: a clock and the invocation's deadline.

Retries, back-off and readiness polling read time and sleep only through a :class:`Clock`, so
tests can drive them deterministically (Chalice does the same) and the code never sleeps past
the time FunctionGraph gives the invocation.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

__all__ = ["Clock", "Deadline", "SYSTEM_CLOCK"]


class Clock:
    """Monotonic time, wall time, sleep and jitter; swap any of them in tests."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ):
        self.monotonic = monotonic
        self.sleep = sleep
        self._wall = wall
        self._rng = rng

    def random(self) -> float:
        """Jitter in [0, 1); the generator is made on first use (cold start: a run that never
        backs off never imports :mod:`random`). Tests may replace it (``clock.random = ...``)."""
        if self._rng is None:
            import random

            self._rng = random.Random()
        return self._rng.random()

    def now(self) -> datetime:
        if self._wall:
            return self._wall()
        from datetime import datetime, timezone  # on first use: a run that only stamps results needs epoch()

        return datetime.now(timezone.utc)

    def epoch(self) -> float:
        return self._wall().timestamp() if self._wall else time.time()


SYSTEM_CLOCK = Clock()


class Deadline:
    """The moment the invocation must have finished its cloud work by."""

    def __init__(self, clock: Clock, seconds: float):
        self.clock = clock
        self.at = clock.monotonic() + max(0.0, seconds)

    @classmethod
    def from_context(cls, context: Any, clock: Clock, margin_ms: int, default_s: float = 60.0) -> Deadline:
        remaining_ms = None
        if context is not None and hasattr(context, "getRemainingTimeInMilliSeconds"):
            try:
                remaining_ms = float(context.getRemainingTimeInMilliSeconds())
            except (TypeError, ValueError):
                remaining_ms = None
        if remaining_ms is None:
            remaining_ms = default_s * 1000
        return cls(clock, (remaining_ms - margin_ms) / 1000)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def allows(self, seconds: float) -> bool:
        return self.remaining() > seconds

"""One fake time for every test that drives retries, back-off or polling: instant and recorded."""

from __future__ import annotations

from shared.clock import Clock

__all__ = ["FakeTime", "shifted_clock"]


class FakeTime:
    """Monotonic time that moves only when something sleeps; every sleep is recorded (rounded)."""

    def __init__(self, start: float = 0.0):
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def clock(self, jitter: float | None = None) -> Clock:
        """A :class:`Clock` on this time; ``jitter`` fixes the random draw (full jitter: 1.0 = the cap)."""
        clock = Clock(monotonic=self.monotonic, sleep=self.sleep)
        if jitter is not None:
            clock.random = lambda: jitter
        return clock


def shifted_clock(seconds: float) -> Clock:
    """The system's time ``seconds`` ahead, monotonic and wall alike (a replay "two hours later",
    without waiting): put in place of ``shared.runtime.run.SYSTEM_CLOCK`` for a real handler."""
    import time
    from datetime import datetime, timedelta, timezone

    return Clock(
        monotonic=lambda: time.monotonic() + seconds,
        wall=lambda: datetime.now(timezone.utc) + timedelta(seconds=seconds),
    )

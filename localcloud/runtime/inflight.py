"""In-flight work of the runtime, counted in one place: what ``wait_idle`` waits for.

``with inflight.track(): ...`` counts the work of the block. The count starts when ``track()`` is
called, not when the block is entered, so work handed to another thread is counted while it
waits: ``claim = inflight.track()`` here, ``with claim: ...`` in the thread (or the dispatcher)
that does it. A claim is released once, when its ``with`` block ends.
"""

from __future__ import annotations

import threading

__all__ = ["InFlight", "Claim"]


class Claim:
    """One counted piece of work; a context manager that releases it on exit."""

    __slots__ = ("_owner", "_released")

    def __init__(self, owner: InFlight):
        self._owner = owner
        self._released = False

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        owner = self._owner
        with owner._lock:
            if not self._released:
                self._released = True
                owner._count -= 1


class InFlight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def track(self) -> Claim:
        """Count one piece of work from now until the ``with`` block of the returned claim ends."""
        with self._lock:
            self._count += 1
        return Claim(self)

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

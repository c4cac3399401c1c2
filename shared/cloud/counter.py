"""Counting the cloud calls a message (or a batch's shared reads) made: results report them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["CallCounter"]


@dataclass
class CallCounter:
    """Calls made for one message (thread-safe: a message may fan out)."""

    reads: int = 0
    writes: int = 0
    facts: int = 0  # of ``reads``: the guard rails' facts, read for the batch (shared/rails/facts.py)
    log: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, operation: str, *, write: bool) -> None:
        with self._lock:
            if write:
                self.writes += 1
            else:
                self.reads += 1
            self.log.append(operation)

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def to_dict(self) -> dict[str, int]:
        counts = {"total": self.total, "reads": self.reads, "writes": self.writes}
        if self.facts:
            counts["facts"] = self.facts
        return counts

"""The per-instance store: claims held in this process (``IDEMPOTENCY_STORE=memory``, the default)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Claim", "MemoryStore"]


@dataclass(frozen=True)
class Claim:
    status: str  # "new" | "duplicate" | "in_progress" | "reused"
    outcome: str | None = None  # the first processing's outcome, for a duplicate


class MemoryStore:
    """Claims held in this process for ``ttl_s`` seconds, at most ``max_entries`` (oldest evicted)."""

    def __init__(self, *, max_entries: int = 10000):
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._records: OrderedDict[str, tuple[float, str, str | None]] = OrderedDict()  # at, fingerprint, outcome
        self._lock = threading.Lock()

    def claim(
        self, key: str, fingerprint: str, *, now: float, ttl_s: float, in_progress_s: float | None = None
    ) -> Claim:
        """``in_progress_s`` is for shared stores (a dead holder's claim expires); one instance needs none."""
        with self._lock:
            self._expire(now, ttl_s)
            record = self._records.get(key)
            if record is not None:
                _, held_fingerprint, outcome = record
                if held_fingerprint != fingerprint:
                    return Claim("reused", outcome)
                return Claim("duplicate" if outcome else "in_progress", outcome)
            self._records[key] = (now, fingerprint, None)
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)
            return Claim("new")

    def complete(self, key: str, outcome: str) -> None:
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                self._records[key] = (record[0], record[1], outcome)

    def release(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def close(self) -> None:
        """Nothing to close (the interface of every store)."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def _expire(self, now: float, ttl_s: float) -> None:
        # Insertion order is (nearly) time order: stop at the first live record.
        while self._records:
            key, (at, _, _) = next(iter(self._records.items()))
            if now - at < ttl_s:
                break
            del self._records[key]

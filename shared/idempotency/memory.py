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
    """Claims held in this process for ``ttl_s`` seconds, at most ``max_entries`` (oldest evicted).

    A claim in progress may carry a *holder token*: a hold taken for a continuation
    (:meth:`hold`), which only a claim naming that token takes over (``holder``), once.
    """

    def __init__(self, *, max_entries: int = 10000):
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        # key -> (at, fingerprint, outcome, holder token of a claim in progress)
        self._records: OrderedDict[str, tuple[float, str, str | None, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def claim(
        self,
        key: str,
        fingerprint: str,
        *,
        now: float,
        ttl_s: float,
        in_progress_s: float | None = None,
        holder: str | None = None,
    ) -> Claim:
        """``in_progress_s`` is for shared stores (a dead holder's claim expires); one instance needs none.
        ``holder``: the token of a hold this claim may take over (a continuation's)."""
        return self._take(key, fingerprint, now=now, ttl_s=ttl_s, token=None, holder=holder)

    def hold(
        self,
        key: str,
        fingerprint: str,
        *,
        now: float,
        ttl_s: float,
        hold_s: float,
        token: str,
        holder: str | None = None,
    ) -> Claim:
        """Claim ``key`` for a continuation: in progress under ``token`` (``hold_s`` is for shared
        stores), taken over by the continuation's own claim; or take over ``holder``'s hold."""
        return self._take(key, fingerprint, now=now, ttl_s=ttl_s, token=token, holder=holder)

    def unhold(self, key: str, fingerprint: str, token: str) -> None:
        """Give up a hold that is still ours (the continuation could not be invoked)."""
        with self._lock:
            record = self._records.get(key)
            if record is not None and record[1] == fingerprint and record[2] is None and record[3] == token:
                del self._records[key]

    def _take(
        self, key: str, fingerprint: str, *, now: float, ttl_s: float, token: str | None, holder: str | None
    ) -> Claim:
        with self._lock:
            self._expire(now, ttl_s)
            record = self._records.get(key)
            if record is not None:
                _, held_fingerprint, outcome, held_token = record
                if held_fingerprint != fingerprint:
                    return Claim("reused", outcome)
                if outcome is not None:
                    return Claim("duplicate", outcome)
                if holder is None or held_token != holder:
                    return Claim("in_progress")
                del self._records[key]  # taken over: re-inserted below, as the newest record
            self._records[key] = (now, fingerprint, None, token)
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)
            return Claim("new")

    def complete(self, key: str, outcome: str) -> None:
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                self._records[key] = (record[0], record[1], outcome, None)

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
            key, (at, _, _, _) = next(iter(self._records.items()))
            if now - at < ttl_s:
                break
            del self._records[key]

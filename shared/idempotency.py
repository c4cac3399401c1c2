"""Process a request id once: claim before any cloud call, complete on success, release on failure.

Both functions use :func:`process_once` around their steps, so the "check replay -> process ->
forget on failure" dance is written once. A claim is bound to the request's content (a hash of
the signed request): the same id with other content is not a duplicate but a reuse, refused.

The store behind it is per function instance (:class:`MemoryStore`, the default): it catches
redeliveries that reach the same instance; across instances the compare-before-write plan keeps a
repeated request from writing twice (README, "Duplicates").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from .errors import ErrorCode, ErrorDetail
from .results import ResultData, new_result_data, rejected

__all__ = ["Claim", "MemoryStore", "process_once", "SUCCESS_OUTCOMES"]

# Outcomes after which a repeat is a duplicate; after any other (or an exception) the id is released.
SUCCESS_OUTCOMES = frozenset({"succeeded", "no_change", "planned"})


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
        self._records: "OrderedDict[str, tuple[float, str, str | None]]" = OrderedDict()  # at, fingerprint, outcome
        self._lock = threading.Lock()

    def claim(self, key: str, fingerprint: str, *, now: float, ttl_s: float) -> Claim:
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


def process_once(store: MemoryStore, key: str, fingerprint: str, *, now: float, ttl_s: float,
                 identity: dict, steps: Callable[[], ResultData], path: str = "$.request_id") -> ResultData:
    """``steps()`` unless ``key`` was claimed within ``ttl_s``; the claim is released unless it succeeded."""
    claim = store.claim(key, fingerprint, now=now, ttl_s=ttl_s)
    if claim.status == "reused":
        return rejected([ErrorDetail(ErrorCode.REQUEST_ID_REUSED,
                                     "this request id was already used for a request with other content "
                                     f"within the last {ttl_s:g} s", path)], **identity)
    if claim.status != "new":
        data = new_result_data("no_change", **identity)
        what = ("is being processed" if claim.status == "in_progress"
                else f"was already processed within the last {ttl_s:g} s ({claim.outcome})")
        code = ErrorCode.IN_PROGRESS if claim.status == "in_progress" else ErrorCode.DUPLICATE_REQUEST
        data.warnings.append(ErrorDetail(code, f"this request {what}; not applied again", path))
        return data
    data = None
    try:
        data = steps()
    finally:  # whatever raised: a redelivery must be able to try again
        if data is not None and data.outcome in SUCCESS_OUTCOMES:
            store.complete(key, data.outcome)
        else:
            store.release(key)
    return data

"""Process a request id once: claim before any cloud call, complete on success, release on failure.

Both functions use :func:`process_once` around their steps, so the "check replay -> process ->
forget on failure" dance is written once. A claim is bound to the request's content (a hash of
the signed request): the same id with other content is not a duplicate but a reuse, refused.

The store is chosen in one place, :func:`store_for`, from the ``IDEMPOTENCY_STORE`` setting:

- ``memory`` (the default): :class:`MemoryStore`, per function instance. It catches redeliveries
  that reach the same instance; enough for local runs and a function kept to one instance.
- ``redis://...`` / ``rediss://...``: :class:`shared.idempotency_redis.RedisStore`, shared by every
  instance (Huawei DCS for Redis). Imported only then: the memory path never loads ``redis``.

Every store has the same interface: ``claim``, ``complete``, ``release`` (and ``close``). A store
that cannot answer a claim raises :class:`StoreUnavailable`; :func:`process_once` then fails the
message closed (``failed``, retryable, ``STORE_UNAVAILABLE``) without running its steps. An error on
``complete``/``release`` is logged and the result stands (the claim expires on its own).

:func:`lock_for` is the per-server lock for read-modify-write changes (a no-op with the memory
store: one instance has nobody to race with).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .errors import ErrorCode, ErrorDetail
from .results import ResultData, new_result_data, rejected

__all__ = ["Claim", "MemoryStore", "process_once", "store_for", "lock_for", "store_failure", "in_progress_s",
           "SUCCESS_OUTCOMES",
           "StoreError", "StoreUnavailable", "ServerLocked"]


class StoreError(Exception):
    """Base of the idempotency store's own errors (never carries a password)."""


class StoreUnavailable(StoreError):
    """The store did not answer (connection refused, timeout, error reply): fail closed."""


class ServerLocked(StoreError):
    """Another instance held the server's lock for longer than this invocation could wait."""

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

    def claim(self, key: str, fingerprint: str, *, now: float, ttl_s: float,
              in_progress_s: float | None = None) -> Claim:
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


def store_failure(error: StoreError, **identity: Any) -> ResultData:
    """The ``failed``, retryable result of a message the store kept from being processed."""
    code = ErrorCode.SERVER_LOCKED if isinstance(error, ServerLocked) else ErrorCode.STORE_UNAVAILABLE
    data = new_result_data("failed", **identity)
    data.errors = [ErrorDetail(code, str(error), "$")]
    data.retryable = True
    return data


def _log_store_error(action: str, key: str, error: Exception) -> None:
    # stderr: the function log. The key is the request id (no secret); the error text never has the password.
    sys.stderr.write(f"sgguard: idempotency store: {action} of {key!r} failed ({error}); the result stands\n")


def process_once(store, key: str, fingerprint: str, *, now: float, ttl_s: float,
                 identity: dict, steps: Callable[[], ResultData], path: str = "$.request_id",
                 in_progress_s: float | None = None) -> ResultData:
    """``steps()`` unless ``key`` was claimed within ``ttl_s``; the claim is released unless it succeeded.

    ``in_progress_s``: how long a claim lasts while its holder runs (the invocation's remaining time),
    so that a holder that dies never blocks the request for longer than its invocation could have run.
    """
    try:
        claim = store.claim(key, fingerprint, now=now, ttl_s=ttl_s, in_progress_s=in_progress_s)
    except StoreError as error:  # fail closed: no claim, no cloud call
        return store_failure(error, **identity)
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
        done = data is not None and data.outcome in SUCCESS_OUTCOMES
        try:
            if done:
                store.complete(key, data.outcome)
            else:
                store.release(key)
        except StoreError as error:  # the work is done (or not): the claim expires by itself
            _log_store_error("complete" if done else "release", key, error)
    return data


def store_for(settings, *, function: str, project_id: str | None, memory: MemoryStore):
    """The store ``settings`` name: ``memory`` (this function's per-instance store) or a shared Redis store.

    A Redis store's keys are ``sgguard:{function}:{project_id}:{key}``; its client is built once per
    URL per process. ``redis`` is imported only here, only for a redis URL.
    """
    url = getattr(settings, "idempotency_store", "memory")
    if url == "memory":
        return memory
    from .idempotency_redis import redis_store

    return redis_store(url, function=function, project_id=project_id or "-")


def in_progress_s(context: Any, default_s: float = 60.0) -> float:
    """How long a claim may stay in progress: the invocation's remaining time (the context's
    ``getRemainingTimeInMilliSeconds``), else the function's timeout (``RUNTIME_TIMEOUT``, preset by
    FunctionGraph), else ``default_s``."""
    method = getattr(context, "getRemainingTimeInMilliSeconds", None)
    if callable(method):
        try:
            return max(1.0, float(method()) / 1000)
        except (TypeError, ValueError):
            pass
    try:
        return max(1.0, float(os.environ["RUNTIME_TIMEOUT"]))
    except (KeyError, ValueError):
        return default_s


@contextlib.contextmanager
def lock_for(store, project_id: str | None, server_id: str, *, deadline, clock) -> Iterator[None]:
    """Hold the per-server lock around a read-modify-write (raises :class:`ServerLocked` or
    :class:`StoreUnavailable` before anything is read). No lock with a store that has none (memory)."""
    lock = getattr(store, "server_lock", None)
    if lock is None:
        yield
        return
    with lock(project_id or "-", server_id, deadline=deadline, clock=clock):
        yield

"""The one claim -> steps -> complete | release dance change_request and ecs_created use, and choosing the store."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import ErrorCode, ErrorDetail
from shared.idempotency.exceptions import ServerLocked, StoreError
from shared.idempotency.memory import Claim, MemoryStore
from shared.results import Identity, ResultData, failure_data, new_result_data, rejected

if TYPE_CHECKING:
    from shared.clock import Clock, Deadline
    from shared.config import Settings

__all__ = [
    "IdempotencyStore",
    "process_once",
    "store_for",
    "lock_for",
    "store_failure",
    "in_progress_s",
    "SUCCESS_OUTCOMES",
]

# Outcomes after which a repeat is a duplicate; after any other (or an exception) the id is released.
SUCCESS_OUTCOMES = frozenset({"succeeded", "no_change", "planned"})


class IdempotencyStore(Protocol):
    """Every store's interface: :class:`MemoryStore` and ``redis_backend.RedisStore`` (which also has
    ``server_lock``, see :func:`lock_for`)."""

    def claim(
        self,
        key: str,
        fingerprint: str,
        *,
        now: float,
        ttl_s: float,
        in_progress_s: float | None = None,
        holder: str | None = None,
    ) -> Claim: ...

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
    ) -> Claim: ...

    def unhold(self, key: str, fingerprint: str, token: str) -> None: ...

    def complete(self, key: str, outcome: str) -> None: ...

    def release(self, key: str) -> None: ...

    def close(self) -> None: ...


def store_failure(error: StoreError, identity: Identity | None = None) -> ResultData:
    """The ``failed``, retryable result of a message the store kept from being processed."""
    code = ErrorCode.SERVER_LOCKED if isinstance(error, ServerLocked) else ErrorCode.STORE_UNAVAILABLE
    return failure_data(ErrorDetail(code, str(error), "$"), retryable=True, identity=identity)


def _log_store_error(action: str, key: str, error: Exception) -> None:
    # stderr: the function log. The key is the request id (no secret); the error text never has the password.
    sys.stderr.write(f"sgguard: idempotency store: {action} of {key!r} failed ({error}); the result stands\n")


def process_once(
    store: IdempotencyStore,
    key: str,
    fingerprint: str,
    *,
    now: float,
    ttl_s: float,
    identity: Identity,
    steps: Callable[[], ResultData],
    path: str = "$.request_id",
    in_progress_s: float | None = None,
    holder: str | None = None,
) -> ResultData:
    """``steps()`` unless ``key`` was claimed within ``ttl_s``; the claim is released unless it succeeded.

    ``in_progress_s``: how long a claim lasts while its holder runs (the invocation's remaining time),
    so that a holder that dies never blocks the request for longer than its invocation could have run.
    ``holder``: a continuation's hold token: a claim held under it is taken over (once), not in progress.
    """
    try:
        claim = store.claim(key, fingerprint, now=now, ttl_s=ttl_s, in_progress_s=in_progress_s, holder=holder)
    except StoreError as error:  # fail closed: no claim, no cloud call
        return store_failure(error, identity)
    if claim.status == "reused":
        return rejected(
            [
                ErrorDetail(
                    ErrorCode.REQUEST_ID_REUSED,
                    f"this request id was already used for a request with other content within the last {ttl_s:g} s",
                    path,
                )
            ],
            identity=identity,
        )
    if claim.status != "new":
        what = (
            "is being processed"
            if claim.status == "in_progress"
            else f"was already processed within the last {ttl_s:g} s ({claim.outcome})"
        )
        code = ErrorCode.IN_PROGRESS if claim.status == "in_progress" else ErrorCode.DUPLICATE_REQUEST
        return new_result_data(
            "no_change", identity, warnings=[ErrorDetail(code, f"this request {what}; not applied again", path)]
        )
    data: ResultData | None = None
    try:
        data = steps()
    finally:  # whatever raised: a redelivery must be able to try again
        done = data is not None and data.outcome in SUCCESS_OUTCOMES
        try:
            if data is not None and done:
                store.complete(key, data.outcome)
            else:
                store.release(key)
        except StoreError as error:  # the work is done (or not): the claim expires by itself
            _log_store_error("complete" if done else "release", key, error)
    return data


def store_for(settings: Settings, *, function: str, project_id: str | None, memory: MemoryStore) -> IdempotencyStore:
    """The store ``settings`` name: ``memory`` (this function's per-instance store) or a shared Redis store.

    A Redis store's keys are ``sgguard:{function}:{project_id}:{key}``; its client is built once per
    URL per process. ``redis`` is imported only here, only for a redis URL.
    """
    url = getattr(settings, "idempotency_store", "memory")
    if url == "memory":
        return memory
    from shared.idempotency.redis_backend import redis_store

    return redis_store(url, function=function, project_id=project_id or "-")


def in_progress_s(context: Any, timeout_s: float | None = None, default_s: float = 60.0) -> float:
    """How long a claim may stay in progress: the invocation's remaining time (the context's
    ``getRemainingTimeInMilliSeconds``), else the function's timeout (``timeout_s``: settings'
    ``RUNTIME_TIMEOUT``, preset by FunctionGraph), else ``default_s``."""
    method = getattr(context, "getRemainingTimeInMilliSeconds", None)
    if callable(method):
        try:
            return max(1.0, float(method()) / 1000)
        except (TypeError, ValueError):
            pass
    return max(1.0, timeout_s) if timeout_s else default_s


@contextlib.contextmanager
def lock_for(
    store: IdempotencyStore, project_id: str | None, server_id: str, *, deadline: Deadline, clock: Clock
) -> Iterator[None]:
    """Hold the per-server lock around a read-modify-write (raises :class:`ServerLocked` or
    :class:`StoreUnavailable` before anything is read). No lock with a store that has none (memory)."""
    lock = getattr(store, "server_lock", None)
    if lock is None:
        yield
        return
    with lock(project_id or "-", server_id, deadline=deadline, clock=clock):
        yield

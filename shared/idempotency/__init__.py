"""Process a request id once: claim before any cloud call, complete on success, release on failure.

change_request and ecs_created use :func:`process_once` around their steps, so the "check replay -> process ->
forget on failure" dance is written once. A claim is bound to the request's content (a hash of
the signed request): the same id with other content is not a duplicate but a reuse, refused.

The store is chosen in one place, :func:`store_for`, from the ``IDEMPOTENCY_STORE`` setting:

- ``memory`` (the default): :class:`MemoryStore`, per function instance. It catches redeliveries
  that reach the same instance; enough for local runs and a function kept to one instance.
- ``redis://...`` / ``rediss://...``: :class:`shared.idempotency.redis_backend.RedisStore`, shared by every
  instance (Huawei DCS for Redis). Imported only then: the memory path never loads ``redis``.

Every store has the same interface: ``claim``, ``complete``, ``release``, ``hold`` / ``unhold`` (a
request handed on to a continuation stays claimed under the continuation's token, which its own
``claim(..., holder=token)`` takes over, once) and ``close``. A store
that cannot answer a claim raises :class:`StoreUnavailable`; :func:`process_once` then fails the
message closed (``failed``, retryable, ``STORE_UNAVAILABLE``) without running its steps. An error on
``complete``/``release`` is logged and the result stands (the claim expires on its own).

:func:`lock_for` is the per-server lock for read-modify-write changes (a no-op with the memory
store: one instance has nobody to race with).

Layout (as Powertools' idempotency utility): this thin public entry, ``core`` (the dance, the store
choice, the lock), ``memory`` and ``redis_backend`` (the stores), ``exceptions``.
"""

from __future__ import annotations

from shared.idempotency.core import (
    SUCCESS_OUTCOMES,
    IdempotencyStore,
    in_progress_s,
    lock_for,
    process_once,
    store_failure,
    store_for,
)
from shared.idempotency.exceptions import ServerLocked, StoreError, StoreUnavailable
from shared.idempotency.memory import Claim, MemoryStore

__all__ = [
    "Claim",
    "MemoryStore",
    "IdempotencyStore",
    "process_once",
    "store_for",
    "lock_for",
    "store_failure",
    "in_progress_s",
    "SUCCESS_OUTCOMES",
    "StoreError",
    "StoreUnavailable",
    "ServerLocked",
]

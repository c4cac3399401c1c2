"""The shared idempotency store on Redis (Huawei DCS for Redis): one record per request id for every instance.

Same interface as :class:`shared.idempotency.memory.MemoryStore` (``claim`` / ``complete`` / ``release``,
plus ``close``), in the spirit of Powertools' idempotency utility:

- ``claim``: one round trip (a Lua script): ``SET key {in_progress, fingerprint, token} NX PX
  <the invocation's remaining time>``; when the key exists the same script returns the record, so a
  duplicate, an in-progress request and a reused id are told apart without a second call. A holder
  that dies leaves a claim that expires when its invocation would have been stopped anyway.
- ``hold``: the same script, for a request handed on to a continuation: the in-progress record
  carries the continuation's token and lasts until the continuation would be refused as expired;
  the continuation's ``claim`` names the token (``holder``) and the script swaps the hold for its
  own claim only if the record is exactly that hold - once, so a replayed continuation finds the
  request in progress or completed. ``unhold`` deletes a hold still ours (compare-and-delete).
- ``complete``: one round trip: the record becomes ``{completed, outcome, fingerprint}`` with a TTL
  of the replay window, only if the key still holds *our* claim (or nothing: it expired while we
  worked); a later holder's claim is never overwritten (a plain ``SET XX`` would).
- ``release``: ``DEL`` only if the record is still ours (compare the whole claim: fingerprint + token).
- :meth:`RedisStore.server_lock`: ``sgguard:lock:{project}:{server_id}``, ``SET NX PX`` with a token,
  waited for with bounded back-off, released by compare-and-delete.

Keys: ``sgguard:{function}:{project_id}:{request key}``. The client is built once per URL per process
with short socket timeouts and no retries (a retry would hide a store that is down); every Redis
error becomes :class:`~shared.idempotency.StoreUnavailable`, whose text never carries the password.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.config import redact_store_url
from shared.idempotency.exceptions import ServerLocked, StoreUnavailable
from shared.idempotency.memory import Claim

if TYPE_CHECKING:
    from shared.clock import Clock, Deadline

__all__ = ["RedisStore", "redis_store", "shared_client", "close_clients", "SOCKET_TIMEOUT_S", "LOCK_MAX_S"]

SOCKET_TIMEOUT_S = 1.0  # connect and read: a store that is slower than this is down for us
LOCK_MAX_S = 120.0  # a lock never outlives this, whatever the invocation's remaining time
_DEFAULT_IN_PROGRESS_S = 60.0

# KEYS[1] key; ARGV[1] our in-progress record; ARGV[2] its expiry (ms); ARGV[3] a hold we may take over
# (the exact record, or ""). nil: claimed (or taken over); else the record held.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local held = redis.call('GET', KEYS[1])
if ARGV[3] ~= '' and held == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return held
"""
# KEYS[1] key; ARGV[1] our in-progress record; ARGV[2] the completed record; ARGV[3] its TTL (ms).
_COMPLETE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
# KEYS[1] key; ARGV[1] the value we set. Deletes only our own record or lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_CLIENTS: dict[str, Any] = {}
_STORES: dict[tuple[str, str, str], RedisStore] = {}
_BUILD = threading.Lock()


def _client(url: str) -> Any:  # a redis.Redis (redis-py 5 to 8)
    """One client (connection pool) per URL per process."""
    client = _CLIENTS.get(url)
    if client is not None:
        return client
    with _BUILD:
        client = _CLIENTS.get(url)
        if client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            try:  # no CLIENT SETINFO on connect (redis-py >= 7 spells it driver_info)
                from redis.driver_info import DriverInfo

                quiet: dict[str, Any] = {"driver_info": DriverInfo(name=None, lib_version=None)}
            except ImportError:
                quiet = {"lib_name": None, "lib_version": None}
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=SOCKET_TIMEOUT_S,
                socket_timeout=SOCKET_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
                decode_responses=True,
                **quiet,
            )
            _CLIENTS[url] = client
    return client


def shared_client(url: str) -> Any:
    """The process's client for ``url`` (also :mod:`shared.idempotency.ledger`'s)."""
    return _client(url)


def redis_store(url: str, *, function: str, project_id: str) -> RedisStore:
    """The store of ``function`` in ``project_id`` on ``url`` (cached: built once per process)."""
    ident = (url, function, project_id)
    store = _STORES.get(ident)
    if store is None:
        store = _STORES.setdefault(
            ident, RedisStore(_client(url), namespace=f"sgguard:{function}:{project_id}:", where=redact_store_url(url))
        )
    return store


def close_clients() -> None:
    """Close every client this process built (tests, benchmarks)."""
    with _BUILD:
        for client in _CLIENTS.values():
            with contextlib.suppress(Exception):
                client.close()
        _CLIENTS.clear()
        _STORES.clear()


def _record(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


class RedisStore:
    """Claims shared by every instance, in one Redis database."""

    def __init__(self, client: Any, *, namespace: str, where: str = "redis"):
        import redis

        self.client = client
        self.namespace = namespace
        self.where = where  # the URL without its password, for messages
        self._errors = (redis.RedisError, OSError)
        self._claim = client.register_script(_CLAIM)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)
        self._held: dict[str, tuple[str, str, int]] = {}  # key -> (our claim, fingerprint, completed TTL ms)
        self._lock = threading.Lock()

    def _unavailable(self, action: str, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"idempotency store {self.where} unavailable on {action}: {type(error).__name__}: {str(error)[:200]}"
        )

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
        """``now`` is unused: Redis keeps the time (expiries), so instances need no common clock.
        ``holder``: the token of a hold this claim may take over (a continuation's), atomically, once."""
        mine = _record(s="p", f=fingerprint, t=secrets.token_hex(8))
        expiry_s = in_progress_s if in_progress_s is not None else _DEFAULT_IN_PROGRESS_S
        claim = self._take(key, fingerprint, mine, expiry_s, holder, "claim")
        if claim.status == "new":
            with self._lock:
                self._held[key] = (mine, fingerprint, max(1000, int(ttl_s * 1000)))
        return claim

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
        """Claim ``key`` for a continuation: in progress under ``token`` for ``hold_s`` (until the
        continuation would be refused as expired), taken over by the continuation's own claim; or
        take over ``holder``'s hold (a continuation handing on again). Not ours to complete."""
        return self._take(key, fingerprint, _record(s="p", f=fingerprint, t=token), hold_s, holder, "hold")

    def unhold(self, key: str, fingerprint: str, token: str) -> None:
        """Give up a hold that is still ours (the continuation could not be invoked)."""
        try:
            self._release(keys=[self.namespace + key], args=[_record(s="p", f=fingerprint, t=token)])
        except self._errors as error:
            raise self._unavailable("release", error) from None

    def _take(self, key: str, fingerprint: str, mine: str, expiry_s: float, holder: str | None, action: str) -> Claim:
        taken_over = _record(s="p", f=fingerprint, t=holder) if holder else ""
        try:
            held = self._claim(keys=[self.namespace + key], args=[mine, max(1000, int(expiry_s * 1000)), taken_over])
        except self._errors as error:
            raise self._unavailable(action, error) from None
        if held is None:
            return Claim("new")
        try:
            record = json.loads(held)
        except ValueError:
            record = {}
        if record.get("f") != fingerprint:
            return Claim("reused", record.get("o"))
        if record.get("s") == "c":
            return Claim("duplicate", record.get("o"))
        return Claim("in_progress")

    def complete(self, key: str, outcome: str) -> None:
        with self._lock:
            held = self._held.pop(key, None)
        if held is None:
            return
        mine, fingerprint, ttl_ms = held
        try:
            self._complete(keys=[self.namespace + key], args=[mine, _record(s="c", f=fingerprint, o=outcome), ttl_ms])
        except self._errors as error:
            raise self._unavailable("complete", error) from None

    def release(self, key: str) -> None:
        with self._lock:
            held = self._held.pop(key, None)
        if held is None:
            return
        try:
            self._release(keys=[self.namespace + key], args=[held[0]])
        except self._errors as error:
            raise self._unavailable("release", error) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    @contextlib.contextmanager
    def server_lock(self, project_id: str, server_id: str, *, deadline: Deadline, clock: Clock) -> Iterator[None]:
        """Hold ``sgguard:lock:{project}:{server}`` for a read-modify-write.

        Waits with jittered back-off (20 ms doubling to 500 ms) for at most half the invocation's
        remaining time, so that the holder of the lock still has the other half for its work; then
        :class:`ServerLocked`. The lock expires with the invocation (at most :data:`LOCK_MAX_S`): a
        holder that dies blocks the server no longer than it could have run.
        """
        key = f"sgguard:lock:{project_id}:{server_id}"
        token = secrets.token_hex(8)
        give_up_at = clock.monotonic() + deadline.remaining() / 2
        delay = 0.02
        while True:
            expiry_ms = max(1000, int(min(LOCK_MAX_S, deadline.remaining() + 1.0) * 1000))
            try:
                acquired = self.client.set(key, token, nx=True, px=expiry_ms)
            except self._errors as error:
                raise self._unavailable("lock", error) from None
            if acquired:
                break
            left = give_up_at - clock.monotonic()
            if left <= 0:
                raise ServerLocked(
                    f"server {server_id} is being changed by another instance; its lock was not released in time"
                )
            clock.sleep(min(left, delay * (0.5 + clock.random() / 2)))
            delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            try:
                self._release(keys=[key], args=[token])
            except self._errors as error:  # it expires by itself
                sys.stderr.write(
                    f"sgguard: idempotency store: unlock of server {server_id} failed "
                    f"({type(error).__name__}); the lock expires by itself\n"
                )

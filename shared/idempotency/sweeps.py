"""Sweep progress across TARGETS: which invocation of an organisation sweep already ran, and which finished.

The fanned-out sweep (:mod:`shared.flows.sg_drift.fanout`) keeps, per ``sweep_id``:

- the **plan**: how many targets the sweep has (``plan`` claims it once: a redelivered timer
  event or plan finds it taken and invokes nothing);
- a **claim** per invocation (target and hop): a redelivered target invocation finds its claim
  taken and does no work;
- the **results**: one record per finished target (``finish`` writes it once); the caller whose
  record completes the plan is told so (``last``), atomically, and emits the organisation summary.

Two books, chosen like the idempotency store (``IDEMPOTENCY_STORE``): :class:`MemorySweepBook`
(per process: enough for one instance, which is what a local run has) and :class:`RedisSweepBook`
(shared by every instance; one round trip per operation, a Lua script for ``finish`` so that
exactly one finisher sees the plan complete). Keys ``sgguard:sweep:{sweep_id}:{plan|claim:<key>|done}``
expire after :data:`PROGRESS_TTL_S`. A store that does not answer raises
:class:`~shared.idempotency.StoreUnavailable`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.idempotency.exceptions import StoreUnavailable

if TYPE_CHECKING:
    from shared.config import Settings

__all__ = ["SweepBook", "MemorySweepBook", "RedisSweepBook", "Finish", "sweep_book_for", "PROGRESS_TTL_S"]
__all__ += ["MEMORY_BOOK"]

PROGRESS_TTL_S = 2 * 3600  # two hourly sweeps: a sweep's progress outlives any of its invocations

# KEYS[1] done hash, KEYS[2] plan; ARGV[1] target key, ARGV[2] record, ARGV[3] ttl ms.
# -> {written (0/1), finished so far, planned total (-1: no plan)}
_FINISH = """
local written = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local total = redis.call('GET', KEYS[2])
return {written, redis.call('HLEN', KEYS[1]), tonumber(total or '-1')}
"""


@dataclass(frozen=True)
class Finish:
    """What ``finish`` found: ``written`` (False: this target had finished already), how many of the
    ``total`` planned targets have finished; ``last``: this record completed the plan."""

    written: bool
    finished: int
    total: int

    @property
    def last(self) -> bool:
        return self.written and self.total > 0 and self.finished == self.total


class SweepBook:
    """The interface (see the module's docstring)."""

    def plan(self, sweep_id: str, total: int) -> bool:
        """Record the plan of ``total`` targets; False when the sweep was planned already."""
        raise NotImplementedError

    def claim(self, sweep_id: str, key: str) -> bool:
        """Claim one invocation (``key``: target and hop); False when it was claimed already."""
        raise NotImplementedError

    def finish(self, sweep_id: str, key: str, record: dict[str, Any]) -> Finish:
        raise NotImplementedError

    def results(self, sweep_id: str) -> dict[str, dict[str, Any]]:
        """Every finished target's record, by target key."""
        raise NotImplementedError


class MemorySweepBook(SweepBook):
    """Per process (bounded: the oldest sweeps are forgotten first)."""

    def __init__(self, max_sweeps: int = 64) -> None:
        self._plans: dict[str, int] = {}
        self._claims: dict[str, set[str]] = {}
        self._done: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._max = max_sweeps

    def _bound(self) -> None:
        while len(self._claims) > self._max:
            oldest = next(iter(self._claims))
            self._plans.pop(oldest, None)
            self._claims.pop(oldest, None)
            self._done.pop(oldest, None)

    def plan(self, sweep_id: str, total: int) -> bool:
        with self._lock:
            if sweep_id in self._plans:
                return False
            self._plans[sweep_id] = total
            self._claims.setdefault(sweep_id, set())
            self._bound()
            return True

    def claim(self, sweep_id: str, key: str) -> bool:
        with self._lock:
            claims = self._claims.setdefault(sweep_id, set())
            self._bound()
            if key in claims:
                return False
            claims.add(key)
            return True

    def finish(self, sweep_id: str, key: str, record: dict[str, Any]) -> Finish:
        with self._lock:
            done = self._done.setdefault(sweep_id, {})
            written = key not in done
            if written:
                done[key] = dict(record)
            return Finish(written, len(done), self._plans.get(sweep_id, -1))

    def results(self, sweep_id: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._done.get(sweep_id, {}).items()}

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
            self._claims.clear()
            self._done.clear()


class RedisSweepBook(SweepBook):
    """Shared by every instance (the idempotency store's Redis)."""

    def __init__(self, client: Any, *, where: str = "redis", ttl_s: float = PROGRESS_TTL_S) -> None:
        import redis

        self.client = client
        self.where = where
        self._ttl_ms = max(1000, int(ttl_s * 1000))
        self._errors = (redis.RedisError, OSError)
        self._finish = client.register_script(_FINISH)

    @staticmethod
    def _key(sweep_id: str, part: str) -> str:
        return f"sgguard:sweep:{sweep_id}:{part}"

    def _unavailable(self, action: str, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"sweep progress {self.where} unavailable on {action}: {type(error).__name__}")

    def plan(self, sweep_id: str, total: int) -> bool:
        try:
            return bool(self.client.set(self._key(sweep_id, "plan"), str(total), nx=True, px=self._ttl_ms))
        except self._errors as error:
            raise self._unavailable("plan", error) from None

    def claim(self, sweep_id: str, key: str) -> bool:
        try:
            return bool(self.client.set(self._key(sweep_id, f"claim:{key}"), "1", nx=True, px=self._ttl_ms))
        except self._errors as error:
            raise self._unavailable("claim", error) from None

    def finish(self, sweep_id: str, key: str, record: dict[str, Any]) -> Finish:
        keys = [self._key(sweep_id, "done"), self._key(sweep_id, "plan")]
        text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        try:
            written, finished, total = self._finish(keys=keys, args=[key, text, self._ttl_ms])
        except self._errors as error:
            raise self._unavailable("finish", error) from None
        return Finish(bool(written), int(finished), int(total))

    def results(self, sweep_id: str) -> dict[str, dict[str, Any]]:
        try:
            raw = self.client.hgetall(self._key(sweep_id, "done"))
        except self._errors as error:
            raise self._unavailable("results", error) from None
        records: dict[str, dict[str, Any]] = {}
        for key, value in raw.items():
            try:
                records[str(key)] = json.loads(value)
            except ValueError:
                records[str(key)] = {}
        return records


MEMORY_BOOK = MemorySweepBook()


def sweep_book_for(settings: Settings) -> SweepBook:
    """The book beside the idempotency store ``settings`` name."""
    url = settings.idempotency_store
    if url == "memory":
        return MEMORY_BOOK
    from shared.config import redact_store_url
    from shared.idempotency.redis_backend import shared_client

    return RedisSweepBook(shared_client(url), where=redact_store_url(url))

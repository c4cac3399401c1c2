"""What sgguard itself added, recently: the groups each of its changes attached, per port.

Every applied change (change_request, ecs_created, sg_drift's repairs: :meth:`Run.apply`) records
the groups it added to each port, for ``LEDGER_TTL_S``. sg_drift reads the record before it
repairs and never removes a group listed there: if a trace of sgguard's own change is not
recognised as its own (a ``user`` form nobody documented, :mod:`shared.flows.cts`), judging it as
drift cannot undo what a ticket asked for.

Where the record lives follows ``IDEMPOTENCY_STORE``: with Redis, one hash per port
(``sgguard:ledger:{project}:{port}``, field = group id, value = expiry in epoch ms), shared by every
function and instance; with ``memory``, this process only — change_request and sg_drift run in
different instances in the cloud, so there the guarantee needs the shared store (README).

Recording never fails a change (an error is logged); reading fails closed for the repair: when
the ledger cannot be read, sg_drift keeps every group it would have removed.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.config import Settings

__all__ = ["Ledger", "MemoryLedger", "RedisLedger", "ledger_for", "MEMORY_LEDGER", "LedgerUnavailable"]


class LedgerUnavailable(Exception):
    """The ledger could not be read: callers keep every group (fail closed)."""


class Ledger:
    """The interface: ``record`` what was added, ``recent`` what is still on record."""

    def record(self, project_id: str, added: Mapping[str, Iterable[str]], *, now_s: float, ttl_s: float) -> None:
        raise NotImplementedError

    def recent(self, project_id: str, port_ids: Iterable[str], *, now_s: float) -> dict[str, set[str]]:
        raise NotImplementedError


class MemoryLedger(Ledger):
    """This process's record (bounded: the oldest ports are forgotten first)."""

    def __init__(self, max_ports: int = 20000) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], dict[str, float]] = {}
        self._max_ports = max_ports

    def record(self, project_id: str, added: Mapping[str, Iterable[str]], *, now_s: float, ttl_s: float) -> None:
        with self._lock:
            for port_id, groups in added.items():
                entry = self._entries.pop((project_id, port_id), {})
                entry.update({group: now_s + ttl_s for group in groups})
                self._entries[(project_id, port_id)] = entry  # re-inserted: the newest last
            while len(self._entries) > self._max_ports:
                del self._entries[next(iter(self._entries))]

    def recent(self, project_id: str, port_ids: Iterable[str], *, now_s: float) -> dict[str, set[str]]:
        with self._lock:
            found: dict[str, set[str]] = {}
            for port_id in port_ids:
                entry = self._entries.get((project_id, port_id), {})
                live = {group for group, expiry in entry.items() if expiry > now_s}
                if live:
                    found[port_id] = live
            return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisLedger(Ledger):
    """The shared record: one hash per port, expiring with its newest entry."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @staticmethod
    def _key(project_id: str, port_id: str) -> str:
        return f"sgguard:ledger:{project_id}:{port_id}"

    def record(self, project_id: str, added: Mapping[str, Iterable[str]], *, now_s: float, ttl_s: float) -> None:
        expiry_ms = int((now_s + ttl_s) * 1000)
        pipe = self._client.pipeline(transaction=False)
        for port_id, groups in added.items():
            fields = {group: expiry_ms for group in groups}
            if fields:
                pipe.hset(self._key(project_id, port_id), mapping=fields)
                pipe.pexpire(self._key(project_id, port_id), max(1, int(ttl_s * 1000)))
        pipe.execute()

    def recent(self, project_id: str, port_ids: Iterable[str], *, now_s: float) -> dict[str, set[str]]:
        ports = list(port_ids)
        try:
            pipe = self._client.pipeline(transaction=False)
            for port_id in ports:
                pipe.hgetall(self._key(project_id, port_id))
            answers = pipe.execute()
        except Exception as error:  # noqa: BLE001 - any client error: the caller fails closed
            raise LedgerUnavailable(type(error).__name__) from None
        now_ms = now_s * 1000
        found: dict[str, set[str]] = {}
        for port_id, entry in zip(ports, answers):
            live = {_text(group) for group, expiry in (entry or {}).items() if _number(expiry) > now_ms}
            if live:
                found[port_id] = live
        return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: Any) -> float:
    try:
        return float(_text(value))
    except ValueError:
        return 0.0


MEMORY_LEDGER = MemoryLedger()


def ledger_for(settings: Settings) -> Ledger:
    """The ledger beside the idempotency store ``settings`` name (see the module docstring)."""
    url = getattr(settings, "idempotency_store", "memory")
    if url == "memory":
        return MEMORY_LEDGER
    from shared.idempotency.redis_backend import shared_client

    return RedisLedger(shared_client(url))


def log_failure(action: str, error: Exception) -> None:
    """One structured line on stderr: the ledger is an aid, never a reason to fail a change."""
    line = {"level": "WARNING", "message": f"ledger {action} failed", "error": type(error).__name__}
    print(json.dumps(line), file=sys.stderr)

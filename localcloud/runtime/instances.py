"""Function instances: unpacked code, one ``python runner.py`` process each, and a warm pool.

* **Code cache** (:mod:`.codecache`). A function's zip is unpacked once per SHA-256 under the
  runtime's cache directory, a dependency package once per SHA-256; a dependency that cannot
  load here (the localcloud stand-in, native extensions for another Python) is left out and the
  interpreter's own environment stands in.
* **Instances** (:mod:`.process`). One process per instance (:mod:`.runner`), environment = the
  user data (plain and encrypted, non-empty values) plus the platform's ``RUNTIME_*`` variables,
  a private ``HOME``, cwd = the code directory. One invocation at a time per instance; a timeout
  kills the process group.
* **Warm pool** (here). With ``warm`` the instance is kept for the next invocation of the same
  function configuration (``fingerprint``) until ``idle_s`` passes; otherwise it serves one
  invocation. Instances are capped per function (its ``concurrency``) and in all
  (``max_instances``); at a cap an idle instance of another configuration is evicted, or the
  caller waits until its deadline.

The snapshot, request and outcome types are in :mod:`.invocation`. Every name other modules
import from here (``CodeCache``, ``Dependency``, ``FunctionSnapshot``, ``Instance``, ``Outcome``,
``invocation_request``, ...) is re-exported.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from .codecache import STUB_DEPENDENCY_NAMES, CodeCache
from .invocation import Dependency, FunctionSnapshot, Outcome, invocation_request  # noqa: F401  (re-exported)
from .process import RUNNER, Instance  # noqa: F401  (re-exported)

__all__ = [
    "FunctionSnapshot",
    "CodeCache",
    "Instance",
    "InstancePool",
    "Outcome",
    "STUB_DEPENDENCY_NAMES",
    "invocation_request",
]


class InstancePool:
    """Instances per function configuration, within a per-function and a global cap."""

    def __init__(
        self, cache: CodeCache, home: Path, *, warm: bool = True, idle_s: float = 300.0, max_instances: int = 8
    ):
        self.cache = cache
        self.home = home
        self.warm = warm
        self.idle_s = idle_s
        self.max_instances = max_instances
        self._cond = threading.Condition()
        self._idle: dict[str, list[Instance]] = {}
        self._busy: set[Instance] = set()
        self._generation = 0
        self._spawning: dict[tuple[str, str], int] = {}

    def _count(self, function_key: tuple[str, str] | None = None) -> int:
        instances = [i for group in self._idle.values() for i in group] + list(self._busy)
        if function_key is not None:
            instances = [i for i in instances if (i.project_id, i.function) == function_key]
            return len(instances) + self._spawning.get(function_key, 0)
        return len(instances) + sum(self._spawning.values())

    def acquire(self, snapshot: FunctionSnapshot, deadline: float) -> tuple[Instance | None, int]:
        """An instance for ``snapshot`` (idle and warm, or new), or None when none could be had by
        ``deadline``. Returns ``(instance, generation)``."""
        fingerprint = snapshot.fingerprint
        key = (snapshot.project_id, snapshot.name)
        with self._cond:
            while True:
                self._reap_locked()
                idle = self._idle.get(fingerprint) or []
                while idle:
                    instance = idle.pop()
                    if instance.alive:
                        self._busy.add(instance)
                        return instance, self._generation
                    instance.kill()
                self._retire_stale_locked(key, fingerprint)
                cap_function = snapshot.concurrency if snapshot.concurrency and snapshot.concurrency > 0 else None
                if self._count() < self.max_instances and (cap_function is None or self._count(key) < cap_function):
                    self._spawning[key] = self._spawning.get(key, 0) + 1
                    break
                # at a cap: an idle instance of another configuration can make room
                if self._evict_one_locked(None if self._count() >= self.max_instances else key):
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, self._generation
                self._cond.wait(min(remaining, 0.5))
            generation = self._generation
        try:
            instance = Instance(snapshot, self.cache, self.home)
        except BaseException:
            with self._cond:
                self._spawning[key] -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._spawning[key] -= 1
            self._busy.add(instance)
        return instance, generation

    def release(self, instance: Instance, generation: int, healthy: bool) -> None:
        with self._cond:
            self._busy.discard(instance)
            keep = healthy and self.warm and instance.alive and generation == self._generation
            if keep:
                self._idle.setdefault(instance.fingerprint, []).append(instance)
            self._cond.notify_all()
        if not keep:
            instance.close() if healthy else instance.kill()

    def _retire_stale_locked(self, key: tuple[str, str], fingerprint: str) -> None:
        """Idle instances of an older code or configuration of the function are of no more use."""
        for other, group in list(self._idle.items()):
            if other == fingerprint:
                continue
            for instance in [i for i in group if (i.project_id, i.function) == key]:
                group.remove(instance)
                threading.Thread(target=instance.close, daemon=True).start()
            if not group:
                del self._idle[other]

    def _evict_one_locked(self, key: tuple[str, str] | None) -> bool:
        oldest = None
        for group in self._idle.values():
            for instance in group:
                if key is not None and (instance.project_id, instance.function) != key:
                    continue
                if oldest is None or instance.last_used < oldest.last_used:
                    oldest = instance
        if oldest is None:
            return False
        self._idle[oldest.fingerprint].remove(oldest)
        threading.Thread(target=oldest.close, daemon=True).start()
        return True

    def _reap_locked(self) -> None:
        now = time.monotonic()
        for fingerprint, group in list(self._idle.items()):
            for instance in list(group):
                if not instance.alive or now - instance.last_used > self.idle_s:
                    group.remove(instance)
                    threading.Thread(target=instance.close, daemon=True).start()
            if not group:
                del self._idle[fingerprint]

    def retire(self, predicate=None) -> None:
        """Stop idle instances (all, or those ``predicate(instance)`` names); busy ones end after
        their invocation (a new generation is never kept warm)."""
        with self._cond:
            if predicate is None:
                self._generation += 1
            doomed = []
            for fingerprint, group in list(self._idle.items()):
                for instance in list(group):
                    if predicate is None or predicate(instance):
                        group.remove(instance)
                        doomed.append(instance)
                if not group:
                    del self._idle[fingerprint]
            self._cond.notify_all()
        for instance in doomed:
            instance.kill()

    def describe(self) -> list[dict]:
        with self._cond:
            entries = [(i, "idle") for group in self._idle.values() for i in group] + [(i, "busy") for i in self._busy]
        return [
            {
                "id": i.id,
                "project_id": i.project_id,
                "function": i.function,
                "state": state,
                "pid": i.process.pid,
                "invocations": i.invocations,
                "notes": list(i.notes),
            }
            for i, state in entries
        ]

    def busy_count(self) -> int:
        with self._cond:
            return len(self._busy) + sum(self._spawning.values())

    def close(self) -> None:
        self.retire()
        deadline = time.monotonic() + 5
        with self._cond:
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(0.1)
            busy = list(self._busy)
        for instance in busy:
            instance.kill()

"""The local FunctionGraph runtime: runs what was deployed into localcloud, as the platform would.

:class:`LocalRuntime` is the invoker of :mod:`localcloud.services.functiongraph` (installed with
:func:`localcloud.runtime.install`): every invocation the FunctionGraph API or a trigger records
comes here, outside the state lock.

* **sync** (``invoke_function``, APIG): one execution; the answer is ``{"status": 200 | 500,
  "result", "log"}`` (``result``: the handler's return value, or its error object).
* **async** (``invocations-async``, CTS, DMS, SMN, EventGrid, destinations): executions until one
  succeeds or ``max_async_retry_attempts`` retries were made (default 3, the API's default), with
  an exponential pause (``retry_delay_s``, doubling) and within ``max_async_event_age_in_seconds``;
  then the ``on_success`` / ``on_failure`` destination (SMN topic or FunctionGraph function)
  receives the platform's destination payload.

Here: the invoker, one execution (``snapshot`` of the function under the state lock, then an
instance, outside it), the event dispatcher the trigger listeners hand their work to, ``spawn``
for background work, ``wait_idle``, ``reset`` and ``close``. Elsewhere: async retries
(:mod:`.async_invoke`), destinations (:mod:`.destinations`), the execution log
(:mod:`.executions`), the in-flight count ``wait_idle`` waits on (:mod:`.inflight`). The retries
and destinations call back into the runtime through the Protocols of :mod:`.protocols` (what they
may touch, listed), so they never import this module.

Each execution runs in a function instance (:mod:`.instances`) with a FunctionGraph context:
request id, remaining time from the function's timeout, user data (plain and encrypted merged),
temporary credentials of the function's agency (``xrole``) issued by localcloud (none without an
agency, as on the platform), project id, function name, version, memory, logger. Every execution
is recorded (``executions()``, ``GET /_localcloud/functiongraph/executions``) with the log lines
the handler printed.

Locking: the runtime never holds one of its own locks while it waits for the backend lock;
``reset`` (called under the backend lock) takes none of them.
"""

from __future__ import annotations

import atexit
import json
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import async_invoke
from .executions import ExecutionLog
from .inflight import InFlight
from .instances import CodeCache, Dependency, FunctionSnapshot, InstancePool, Outcome, invocation_request

if TYPE_CHECKING:
    from localcloud.core.state import Backend, Credential
    from localcloud.services.functiongraph.models import Invocation

    from .timers import TimerLoop

__all__ = ["LocalRuntime"]

_COLD_START_GRACE_S = 1.0  # a new process's interpreter start-up is not the handler's time
_WARM_GRACE_S = 0.25


class LocalRuntime:
    def __init__(
        self,
        backend: Backend,
        *,
        cache_dir: str | Path | None = None,
        warm: bool = True,
        idle_s: float = 300.0,
        max_instances: int = 8,
        retry_delay_s: float = 0.2,
        credential_ttl_s: int = 3600,
        echo: Callable[[str], None] | None = None,
    ):
        self.backend = backend
        self.retry_delay_s = retry_delay_s
        self.credential_ttl_s = credential_ttl_s
        self.echo = echo  # e.g. print: one line per execution (serve)
        self._own_dir = cache_dir is None
        self.root = Path(tempfile.mkdtemp(prefix="localcloud-fgs-") if cache_dir is None else cache_dir)
        if self._own_dir:  # also when the process ends without close()
            atexit.register(shutil.rmtree, self.root, True)
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        self.cache = CodeCache(self.root / "cache")
        self.pool = InstancePool(self.cache, self.root / "home", warm=warm, idle_s=idle_s, max_instances=max_instances)
        self._generation = 0
        self._stop = threading.Event()
        self._reset_event = threading.Event()
        self._retries_open = threading.Event()
        self._retries_open.set()
        self._credentials: dict[tuple[str, str], Credential] = {}
        self.log = ExecutionLog(echo)
        self._inflight = InFlight()
        self._events: queue.Queue[tuple[str, dict[str, Any], Any]] = queue.Queue()
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._reset_hooks: list[Callable[[], None]] = []
        # Attached by localcloud.runtime.install: the DMS broker (.dms.Broker, typed loosely: that
        # module imports this one), the trigger listeners (backend topic, listener), the timer loop.
        self.broker: Any = None
        self.listeners: Sequence[tuple[str, Callable[..., None]]] = ()
        self.timers: TimerLoop | None = None
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="fgs-dispatch", daemon=True)
        self._dispatcher.start()

    # ---- the invoker ---------------------------------------------------------------------------
    def __call__(self, invocation: Invocation) -> dict[str, Any] | None:
        if invocation.mode == "sync":
            return self.run_sync(invocation)
        with self._inflight.track():
            self.run_async(invocation)
        return None

    def run_sync(self, invocation: Invocation, timeout_s: float | None = None) -> dict[str, Any]:
        snapshot = self.snapshot(invocation)
        if snapshot is None:
            return {
                "status": 500,
                "result": {"errorType": "FunctionNotFound", "errorMessage": "the function is gone"},
                "log": "",
            }
        outcome, _ = self.execute(invocation, snapshot, attempt=1, timeout_s=timeout_s)
        return {
            "status": 200 if outcome.ok else 500,
            "result": outcome.result if outcome.ok else outcome.error,
            "log": outcome.log,
        }

    def run_async(self, invocation: Invocation) -> dict[str, Any] | None:
        """Attempts, retries and the destination (:mod:`.async_invoke`); the final execution record."""
        return async_invoke.run_async(self, invocation)

    @property
    def generation(self) -> int:
        """Bumped by ``reset`` and ``close``: work started in an older generation stops."""
        return self._generation

    @property
    def reset_event(self) -> threading.Event:
        """Set by the next ``reset`` / ``close`` (a retry pause waits on it)."""
        return self._reset_event

    @property
    def retries_open(self) -> threading.Event:
        """Set unless a test paused async retries (``pause_retries``): a retry waits here after its pause."""
        return self._retries_open

    def pause_retries(self) -> None:
        """Hold every async retry (not first attempts) until ``resume_retries`` or ``reset``: a
        test decides what happens between two attempts without racing the retry pause."""
        self._retries_open.clear()

    def resume_retries(self) -> None:
        self._retries_open.set()

    # ---- one execution -------------------------------------------------------------------------
    def snapshot(self, invocation: Invocation) -> FunctionSnapshot | None:
        backend = self.backend
        with backend.lock:
            project = backend.project(invocation.project_id)
            if project is None:
                return None
            model = project.service("functiongraph")
            function = invocation.function
            if model.functions.get(function.name) is not function:
                return None
            dependencies = []
            for version_id in function.depend_version_list:
                version = model.dependency_version(version_id)
                if version:
                    dependencies.append(Dependency(version_id, version["name"], version["sha256"], version["content"]))
            strategy = function.strategy_config or {}
            return FunctionSnapshot(
                project_id=invocation.project_id,
                name=function.name,
                package=function.package,
                urn=function.urn,
                runtime=function.runtime,
                handler=function.handler,
                timeout=function.timeout,
                memory_size=function.memory_size,
                code=function.code,
                sha256=function.sha256,
                user_data=function.user_data_dict(),
                encrypted_user_data=function.user_data_dict(encrypted=True),
                xrole=function.xrole,
                initializer_handler=function.initializer_handler,
                initializer_timeout=function.initializer_timeout,
                concurrency=int(strategy.get("concurrency") or -1),
                dependencies=tuple(dependencies),
                async_config=json.loads(json.dumps(function.async_config)) if function.async_config else None,
            )

    def _credential(self, snapshot: FunctionSnapshot) -> tuple[str, str, str]:
        if not snapshot.xrole:
            return "", "", ""
        key = (snapshot.project_id, snapshot.xrole)
        credentials = self._credentials  # swapped (not cleared) by reset: no lock needed
        credential = credentials.get(key)
        if credential is None or (credential.expires_at or 0) - self.backend.clock() < max(600, snapshot.timeout + 60):
            credential = self.backend.issue_temporary_credential(
                snapshot.project_id, self.credential_ttl_s, agency=snapshot.xrole
            )
            credentials[key] = credential
        return credential.ak, credential.sk, credential.security_token or ""

    def execute(
        self, invocation: Invocation, snapshot: FunctionSnapshot, *, attempt: int = 1, timeout_s: float | None = None
    ) -> tuple[Outcome, dict[str, Any]]:
        started_wall = time.time()
        started = time.monotonic()
        timeout = float(snapshot.timeout if timeout_s is None else min(timeout_s, snapshot.timeout))
        request = invocation_request(
            snapshot, invocation.request_id, invocation.payload, timeout, self._credential(snapshot)
        )
        instance, generation = None, 0
        try:
            instance, generation = self.pool.acquire(snapshot, deadline=started + timeout)
        except Exception as error:  # noqa: BLE001 - a broken zip or a process that cannot start
            outcome = Outcome(
                False,
                error={"errorType": "InstanceStartFailed", "errorMessage": str(error)[:500], "stackTrace": []},
                system_error=True,
            )
        else:
            if instance is None:
                outcome = Outcome(
                    False,
                    error={
                        "errorType": "TooManyInstances",
                        "errorMessage": "no function instance became free within the function's timeout",
                        "stackTrace": [],
                    },
                    system_error=True,
                )
            else:
                grace = _COLD_START_GRACE_S if instance.invocations == 0 else _WARM_GRACE_S
                if snapshot.initializer_handler and instance.invocations == 0:
                    grace += snapshot.initializer_timeout
                remaining = timeout - (time.monotonic() - started)
                request["timeout_s"] = max(0.0, remaining)
                outcome = instance.invoke(request, remaining + grace)
                self.pool.release(instance, generation, healthy=not (outcome.timed_out or outcome.system_error))
        record = self.log.record(invocation, snapshot, attempt, outcome, started_wall, time.monotonic() - started)
        return outcome, record

    # ---- background work ---------------------------------------------------------------------------
    def spawn(self, target: Callable[..., object], *args: Any) -> None:
        """Run ``target(*args)`` in its own thread, counted as in-flight work from now."""
        claim = self._inflight.track()

        def run() -> None:
            with claim:
                target(*args)

        threading.Thread(target=run, name="fgs-async", daemon=True).start()

    def on(self, kind: str, handler: Callable[[dict[str, Any]], None]) -> None:
        self._handlers[kind] = handler

    def enqueue(self, kind: str, **payload: Any) -> None:
        """From an event listener (under the backend lock): hand the work to the dispatcher."""
        self._events.put((kind, payload, self._inflight.track()))

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                kind, payload, claim = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            with claim:
                try:
                    self._handlers[kind](payload)
                except Exception as error:  # noqa: BLE001 - one bad event must not stop the dispatcher
                    if self.echo:
                        self.echo(f"[fgs] dispatching {kind} failed: {error!r}")

    @property
    def busy(self) -> int:
        return self._inflight.count

    def wait_idle(self, timeout_s: float = 30.0, extra: Callable[[], int] | None = None) -> bool:
        """True once no event, invocation or retry is pending (and ``extra()`` is 0)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.busy == 0 and (extra is None or extra() == 0):
                time.sleep(0.05)  # let a just-finished invocation's follow-ups be enqueued
                if self.busy == 0 and (extra is None or extra() == 0):
                    return True
            time.sleep(0.05)
        return False

    # ---- inspection ----------------------------------------------------------------------------------
    def executions(
        self,
        *,
        function: str | None = None,
        project_id: str | None = None,
        since: int = 0,
        request_id: str | None = None,
    ) -> list[dict]:
        return self.log.query(function=function, project_id=project_id, since=since, request_id=request_id)

    def status(self) -> dict:
        return {
            "busy": self.busy,
            "instances": self.pool.describe(),
            "cache_dir": str(self.root),
            "executions": self.log.count,
            "warm": self.pool.warm,
        }

    # ---- lifecycle ------------------------------------------------------------------------------------
    def on_reset(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` at the end of every ``reset`` (under the backend lock, like ``reset``)."""
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        """``Backend.reset`` (under the backend lock): forget everything; take no runtime lock."""
        self._generation += 1
        self._reset_event.set()
        self._credentials = {}
        self.log.clear()
        self.pool.retire()
        self._reset_event = threading.Event()
        self._retries_open.set()
        for hook in self._reset_hooks:
            hook()

    def close(self) -> None:
        self._generation += 1
        self._stop.set()
        self._reset_event.set()
        self._retries_open.set()
        self.pool.close()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

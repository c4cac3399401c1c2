"""The execution log: one record per execution (attempt), newest last, at most ``MAX_EXECUTIONS``.

What ``LocalRuntime.executions()`` and ``GET /_localcloud/functiongraph/executions`` answer: request
id, project, function, mode, source, attempt, start time, durations, status, cold start, instance,
result or error, the log lines the handler printed, notes, and (for the final attempt of an async
invocation) ``async`` = ``{condition, approximate_invoke_count, outcome, destination}``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from localcloud.core.timefmt import iso_millis

from .instances import FunctionSnapshot, Outcome

__all__ = ["ExecutionLog", "MAX_EXECUTIONS"]

MAX_EXECUTIONS = 5000


class ExecutionLog:
    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo  # e.g. print: one line per execution (serve)
        self._lock = threading.Lock()
        self._records: deque[dict] = deque(maxlen=MAX_EXECUTIONS)
        self._seq = 0

    @property
    def count(self) -> int:
        """Executions recorded since start (not reset by ``clear``)."""
        return self._seq

    def record(
        self,
        invocation: Any,
        snapshot: FunctionSnapshot,
        attempt: int,
        outcome: Outcome,
        started_wall: float,
        elapsed_s: float,
    ) -> dict:
        status = "succeeded" if outcome.ok else ("timeout" if outcome.timed_out else "failed")
        record = {
            "request_id": invocation.request_id,
            "project_id": snapshot.project_id,
            "function": snapshot.name,
            "func_urn": snapshot.urn,
            "mode": invocation.mode,
            "source": invocation.source,
            "attempt": attempt,
            "started_at": iso_millis(started_wall),
            "duration_ms": round(elapsed_s * 1000, 3),
            "handler_ms": outcome.duration_ms,
            "status": status,
            "cold_start": outcome.cold_start,
            "instance": outcome.instance_id,
            "result": outcome.result if outcome.ok else None,
            "error": outcome.error,
            "log": outcome.log.splitlines(),
            "notes": list(outcome.notes),
        }
        with self._lock:
            self._seq += 1
            record["seq"] = self._seq
            self._records.append(record)
        if self.echo:
            failure = outcome.error or {}
            error = "" if outcome.ok else f"  {failure.get('errorType')}: {failure.get('errorMessage')}"
            self.echo(
                f"[fgs] {snapshot.name} {invocation.request_id[:8]} {invocation.source} attempt {attempt} "
                f"{status} in {record['duration_ms']:.0f} ms{' (cold start)' if outcome.cold_start else ''}"
                f"{error}"
            )
            for line in record["log"]:
                self.echo(f"      | {line}")
        return record

    def annotate(self, record: dict, key: str, value: Any) -> None:
        with self._lock:
            record[key] = value

    def query(
        self,
        *,
        function: str | None = None,
        project_id: str | None = None,
        since: int = 0,
        request_id: str | None = None,
    ) -> list[dict]:
        with self._lock:
            return [
                json.loads(json.dumps(r, default=str))
                for r in self._records
                if r["seq"] > since
                and (not function or r["function"] == function)
                and (not project_id or r["project_id"] == project_id)
                and (not request_id or r["request_id"] == request_id)
            ]

    def clear(self) -> None:
        """Forget every record (``reset``, under the backend lock: swaps the deque, takes no lock)."""
        self._records = deque(maxlen=MAX_EXECUTIONS)

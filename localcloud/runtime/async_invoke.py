"""Async invocations: attempts, retries and the destination (``LocalRuntime.run_async``).

An async invocation (``invocations-async``, CTS, DMS, SMN, EventGrid, a destination) runs until
one execution succeeds or ``max_async_retry_attempts`` retries were made (default 3, the API's
default), pausing ``retry_delay_s`` before the first retry and doubling it each time, and only
while the event is younger than ``max_async_event_age_in_seconds`` (default one day); then the
``on_success`` / ``on_failure`` destination (:mod:`.destinations`) receives the platform's payload
and the final execution record gets ``async`` = ``{condition, approximate_invoke_count, outcome,
destination}``. A ``reset`` of the runtime ends the loop (no more attempts, no destination). A test may
hold retries between two attempts (``LocalRuntime.pause_retries``); the platform has no such switch.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .destinations import deliver_destination, destination_payload
from .protocols import AsyncRuntime

if TYPE_CHECKING:
    from localcloud.services.functiongraph.models import Invocation

__all__ = ["run_async", "DEFAULT_RETRY_ATTEMPTS", "DEFAULT_EVENT_AGE_S"]

DEFAULT_RETRY_ATTEMPTS = 3  # FunctionGraph API: max_async_retry_attempts defaults to 3
DEFAULT_EVENT_AGE_S = 86400


def run_async(runtime: AsyncRuntime, invocation: Invocation) -> dict[str, Any] | None:
    """Attempts, retries and the destination; returns the final execution record.

    ``runtime`` is the :class:`.engine.LocalRuntime`, seen through :class:`.protocols.AsyncRuntime`.
    """
    generation = runtime.generation
    first_started = time.time()
    received = time.monotonic()
    attempt = 0
    record = None
    while True:
        snapshot = runtime.snapshot(invocation)
        if snapshot is None or generation != runtime.generation:
            return record
        config = snapshot.async_config or {}
        retries = config.get("max_async_retry_attempts")
        retries = DEFAULT_RETRY_ATTEMPTS if retries is None else int(retries)
        max_age = float(config.get("max_async_event_age_in_seconds") or DEFAULT_EVENT_AGE_S)
        attempt += 1
        outcome, record = runtime.execute(invocation, snapshot, attempt=attempt)
        if generation != runtime.generation:
            return record
        if outcome.ok:
            condition, kind = "", "on_success"
            break
        if attempt > retries:
            condition, kind = "RetriesExhausted", "on_failure"
            break
        delay = runtime.retry_delay_s * (2 ** (attempt - 1))
        if time.monotonic() - received + delay > max_age:
            condition, kind = "EventAgeExceeded", "on_failure"
            break
        if runtime.reset_event.wait(delay) and generation != runtime.generation:
            return record
        while not runtime.retries_open.wait(0.05):  # a test paused retries (LocalRuntime.pause_retries)
            if generation != runtime.generation:
                return record
    payload = destination_payload(invocation, snapshot, outcome, condition, attempt, first_started)
    destination = deliver_destination(runtime, kind, config, payload, snapshot)
    summary = {
        "condition": condition or "Success",
        "approximate_invoke_count": attempt,
        "outcome": "succeeded" if outcome.ok else "failed",
        "destination": destination,
    }
    runtime.log.annotate(record, "async", summary)
    if runtime.echo and destination:
        runtime.echo(
            f"[fgs] {snapshot.name} {invocation.request_id[:8]} {kind} -> {destination.get('type')} "
            f"{destination.get('target')}: "
            f"{'delivered' if destination.get('delivered') else destination.get('error')}"
        )
    return record

"""The delivery loop: every result event to every configured sink, nothing lost.

1. ``log`` first, always: one JSON line per result (``shared.results.to_log_line``) on the stream
   (stdout: FunctionGraph ships it to LTS). Whatever happens next, every result is in the log.
2. Every other sink of ``RESULT_SINKS``, in parallel (one slow webhook does not eat the time of
   the others), each with its own retries: exponential back-off with full jitter
   (``shared.cloud.retry.backoff_delay``, the run's ``RetryPolicy``), transient failures only,
   within the delivery deadline (the run's deadline plus half of its safety margin, which is
   kept back for rollback *and emit*).
   A sink takes only the results its entry asks for: ``outcomes`` (a list: only those), and
   sg_drift's skips of sgguard's own changes (warning ``OWN_CHANGE``) only with
   ``"own_changes": true`` — by default they are in the log alone (counted as ``filtered``), so
   every change sgguard makes does not also page someone.
3. A result a sink still could not take is written as one ``undelivered`` JSON line (redacted)
   with the sink's name, why, and the full event, and counted. A sink never raises out of here,
   never changes a result, and nothing here ever re-runs a function's steps.

Delivery to the cloud sinks is at least once: a call whose answer was lost is repeated, so a
consumer can see an event twice; the CloudEvent ``id`` (with ``source``) identifies it.
"""

from __future__ import annotations

import importlib
import sys
from _thread import allocate_lock  # threading.Lock without importing threading (cold start)

from shared.clock import Deadline
from shared.errors import ErrorCode
from shared.records import field, record
from shared.results import redact, to_log_line
from shared.sinks.exceptions import SinkConfigError, SinkError
from shared.sinks.log import write_results

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from shared.sinks.base import Sink, SinkRun

__all__ = ["deliver_events", "SINK_MODULES", "sink_name", "delivery_deadline", "undelivered_line", "wanted_by"]

# type -> module (imported only when a RESULT_SINKS entry names it) and class name.
SINK_MODULES = {
    "functiongraph": ("functiongraph", "FunctionGraphSink"),
    "eventgrid": ("eventgrid", "EventGridSink"),
    "eg": ("eventgrid", "EventGridSink"),
    "smn": ("smn", "SmnSink"),
    "webhook": ("webhook", "WebhookSink"),
}
_MAX_PARALLEL_SINKS = 8


@record
class _Outcome:
    """One sink's delivery: how many events it took, and each failure with its event index."""

    name: str
    delivered: int = 0
    failures: list[tuple[int, SinkError]] = field(default_factory=list)  # (event index, why)


def sink_name(config: dict[str, Any]) -> str:
    """``type`` or ``type:name`` (a webhook is always named: its URL is looked up by name)."""
    kind = str(config.get("type", "")).strip().lower()
    name = config.get("name")
    return f"{kind}:{name}" if isinstance(name, str) and name else kind


def delivery_deadline(run: SinkRun) -> Deadline:
    margin_s = run.settings.safety_margin_ms / 1000 * run.settings.delivery_margin_share
    return Deadline(run.clock, run.deadline.remaining() + margin_s)


def undelivered_line(name: str, error: SinkError, event: dict[str, Any]) -> str:
    return to_log_line({"undelivered": True, "sink": name, "error": error.describe(), "event": event})


def wanted_by(config: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether a sink configured as ``config`` takes ``event`` (its ``outcomes`` and ``own_changes``)."""
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    warnings = data.get("warnings") or []
    if not config.get("own_changes") and any(
        isinstance(w, dict) and w.get("code") == ErrorCode.OWN_CHANGE for w in warnings
    ):
        return False
    outcomes = config.get("outcomes")
    return not outcomes or data.get("outcome") in outcomes


def _configured(run: SinkRun) -> list[tuple[str, dict[str, Any]]]:
    """The non-log RESULT_SINKS entries with unique names, in configuration order."""
    seen: dict[str, int] = {}
    sinks = []
    for config in run.settings.result_sinks:
        config = dict(config) if isinstance(config, dict) else {"type": str(config)}
        if str(config.get("type", "")).strip().lower() == "log":
            continue
        name = sink_name(config)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        sinks.append((name, config))
    return sinks


def _build(name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline) -> Sink:
    kind = str(config.get("type", "")).strip().lower()
    entry = SINK_MODULES.get(kind)
    if entry is None:
        known = ", ".join(sorted({"log", *SINK_MODULES}))
        raise SinkConfigError(
            name, f"RESULT_SINKS: unknown sink type {kind!r}; known types: {known}", setting="RESULT_SINKS"
        )
    module = importlib.import_module(f"{__package__}.{entry[0]}")
    sink_class: type[Sink] = getattr(module, entry[1])
    return sink_class(name, config, run, deadline)


def _out_of_time(error: SinkError | None, attempts: int) -> SinkError:
    detail = f" after {attempts} attempt(s): {error.message}" if error else " before the first attempt"
    sink = error.sink if error else ""
    return SinkError(
        sink,
        f"no time left in the invocation{detail}",
        transient=True,
        status=error.status if error else None,
        code=error.code if error else "DEADLINE",
    )


def _send_unit(
    sink: Sink, unit: list[tuple[int, dict[str, Any], int]], run: SinkRun
) -> tuple[int, list[tuple[int, SinkError]]]:
    """Send one batch, retrying what failed transiently; returns (delivered, final failures)."""
    policy, clock, deadline = run.retry_policy, run.clock, sink.deadline
    max_attempts = sink.max_attempts
    pending = unit
    delivered, attempts = 0, 0
    failures: list[tuple[int, SinkError]] = []
    last: SinkError | None = None
    while pending:
        if deadline.expired():
            failures += [(index, _out_of_time(last, attempts)) for index, _, _ in pending]
            break
        try:
            errors = sink.send([event for _, event, _ in pending]) or {}
        except SinkError as error:
            errors = {position: error for position in range(len(pending))}
        except Exception as error:  # noqa: BLE001 - a bug in a sink costs its deliveries, nothing else
            _print_exc()
            unexpected = SinkError(sink.name, f"unexpected {type(error).__name__} in the sink")
            errors = {position: unexpected for position in range(len(pending))}
        attempts += 1
        delivered += len(pending) - len(errors)
        retry = []
        for position in sorted(errors):
            failure = errors[position]
            if failure.transient:
                retry.append((pending[position], failure))
            else:
                failures.append((pending[position][0], failure))
        if not retry:
            break
        last = retry[0][1]
        if attempts >= max_attempts:
            failures += [
                (
                    item[0],
                    SinkError(
                        sink.name,
                        f"gave up after {attempts} attempt(s): {error.message}",
                        transient=True,
                        status=error.status,
                        code=error.code,
                    ),
                )
                for item, error in retry
            ]
            break
        from shared.cloud.retry import backoff_delay  # only a failed delivery backs off (cold start)

        delay = backoff_delay(attempts - 1, policy, clock)
        retry_after = max((error.retry_after or 0.0) for _, error in retry)
        delay = max(delay, min(retry_after, policy.max_s))
        if not deadline.allows(delay):
            failures += [(item[0], _out_of_time(error, attempts)) for item, error in retry]
            break
        clock.sleep(delay)
        pending = [item for item, _ in retry]
    return delivered, failures


def _run_sink(
    name: str, config: dict[str, Any], events: list[dict[str, Any]], run: SinkRun, deadline: Deadline
) -> _Outcome:
    from shared.sinks.base import encoded_size  # a configured sink's (the log alone needs none: cold start)

    outcome = _Outcome(name)
    try:
        sink = _build(name, config, run, deadline)
        ready = []
        for index, event in enumerate(events):
            size = encoded_size(event)
            problem = sink.check(event, size)
            if problem is not None:
                outcome.failures.append((index, problem))
            else:
                ready.append((index, event, size))
        units = sink.batches(ready)
        workers = min(sink.concurrency, len(units))
        if workers <= 1:
            results = [_send_unit(sink, unit, run) for unit in units]
        else:
            from concurrent.futures import ThreadPoolExecutor  # only with several batches (cold start)

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sink-{sink.kind}") as pool:
                results = list(pool.map(lambda unit: _send_unit(sink, unit, run), units))
        for delivered, failures in results:
            outcome.delivered += delivered
            outcome.failures += failures
    except SinkError as error:  # configuration: nothing can be sent to this sink
        done = {index for index, _ in outcome.failures}
        outcome.delivered = 0
        outcome.failures = [(index, error) for index in range(len(events)) if index not in done] + outcome.failures
    except Exception as error:  # noqa: BLE001 - never out of deliver()
        _print_exc()
        unexpected = SinkError(name, f"unexpected {type(error).__name__} while delivering")
        done = {index for index, _ in outcome.failures}
        outcome.failures += [(index, unexpected) for index in range(len(events)) if index not in done]
    outcome.failures.sort(key=lambda item: item[0])
    return outcome


def deliver_events(events: list[dict[str, Any]], run: SinkRun, stream: TextIO) -> dict[str, Any]:
    """Deliver ``events`` to the log and every configured sink; returns the counts.

    ``{"log": {"delivered": n, "undelivered": 0}, "<sink>": {...}, ..., "undelivered": total}``
    """
    report: dict[str, Any] = {"log": write_results(events, stream)}
    total_undelivered = report["log"]["undelivered"]
    configured = _configured(run)
    if configured and events:
        public = [redact(event) for event in events]  # what leaves the function never carries a secret
        deadline = delivery_deadline(run)
        chosen = [[i for i, event in enumerate(public) if wanted_by(config, event)] for _, config in configured]

        def run_one(position: int) -> _Outcome:
            name, config = configured[position]
            if not chosen[position]:
                return _Outcome(name)  # nothing it wants: no client built, no call
            outcome = _run_sink(name, config, [public[i] for i in chosen[position]], run, deadline)
            outcome.failures = [(chosen[position][i], error) for i, error in outcome.failures]  # batch indexes
            return outcome

        if len(configured) == 1:
            outcomes = [run_one(0)]
        else:
            from concurrent.futures import ThreadPoolExecutor  # only with several sinks (cold start)

            with ThreadPoolExecutor(
                max_workers=min(len(configured), _MAX_PARALLEL_SINKS), thread_name_prefix="sinks"
            ) as pool:
                outcomes = list(pool.map(run_one, range(len(configured))))
        lines = []
        for position, outcome in enumerate(outcomes):
            lines += [undelivered_line(outcome.name, error, public[index]) for index, error in outcome.failures]
            report[outcome.name] = {"delivered": outcome.delivered, "undelivered": len(outcome.failures)}
            if len(chosen[position]) < len(public):
                report[outcome.name]["filtered"] = len(public) - len(chosen[position])
            total_undelivered += len(outcome.failures)
        _write(stream, lines)
    else:
        for name, _ in configured:
            report[name] = {"delivered": 0, "undelivered": 0}
    report["undelivered"] = total_undelivered
    return report


_WRITE_LOCK = allocate_lock()


def _write(stream: TextIO, lines: list[str]) -> None:
    if not lines:
        return
    try:
        with _WRITE_LOCK:
            for line in lines:
                stream.write(line + "\n")
            stream.flush()
    except Exception:  # noqa: BLE001 - a closed stdout must not fail the invocation
        _print_exc()


def _print_exc() -> None:
    import traceback  # only when something went wrong (cold start)

    traceback.print_exc(file=sys.stderr)

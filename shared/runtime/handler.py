"""What every handler does around the pipeline: start the run, answer the trigger.

Kept apart from the pipeline so that a handler reads as its four steps: parse the envelope,
run the pipeline, emit, return.
"""

from __future__ import annotations

import itertools
import json
import sys
from _thread import allocate_lock  # threading.Lock without importing threading (cold start)

from shared.config import ConfigError
from shared.errors import ErrorCode, ErrorDetail
from shared.results import EventMeta, failure_data, result_event, to_log_line
from shared.runtime.envelopes import Envelope, apig_response
from shared.runtime.run import Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = [
    "settle_heap",
    "start_run",
    "respond",
    "raise_for_retry",
    "RetryableFailure",
    "log_envelope_shape",
    "continuation_of",
    "retry_lane",
    "DeadLetterLost",
]


class DeadLetterLost(Exception):
    """A dead letter of a dead letter met a broken configuration: its messages are in the log, and
    the invocation ends normally (``response``), or the platform would give it up to this function
    again, wrapped once more, until the payload outgrew the async limit."""

    def __init__(self, count: int):
        super().__init__(f"{count} dead-lettered message(s) could not be handled: written to the log")
        self.response = {"results": [], "delivery": {"dead_letters_lost": count}}


# Invocations this process (the instance) has started, counted atomically (next() on a count holds
# the GIL): see settle_heap.
_invocations = itertools.count(1)


def settle_heap() -> bool:
    """From an instance's second invocation on, once: what its first invocation left on the heap
    (imported modules, SDK clients and models, caches: ~80 000 objects) is moved out of the cyclic
    garbage collector's reach (``gc.freeze``), so that a full collection during a batch no longer
    walks it all (one took ~115 ms in a 200-message batch on a busy core: ~0.6 ms per message).
    Garbage is still freed as before (reference counts, and the collector for what comes after);
    only cycles already unreachable at that moment stay, once. Returns True when it froze."""
    if next(_invocations) != 2:
        return False
    import gc

    gc.freeze()
    return True


# LOG_ENVELOPE_SHAPES: how many envelopes this instance has logged the shape of (per process: an
# instance is one process, and the count must not reset per invocation).
_shapes_logged = 0
_shapes_lock = allocate_lock()


def start_run(
    function: str,
    context: Any,
    envelope: Envelope,
    *,
    setup: Mapping[str, Callable[[Run], Any]] | None = None,
    event: Any = None,
    **overrides: Any,
) -> Run:
    """The invocation's Run, with ``setup`` resources loaded (e.g. the policy). With
    ``LOG_ENVELOPE_SHAPES=N``, the redacted shape of ``event`` is logged for the first N envelopes.
    An instance's second invocation first settles the heap (:func:`settle_heap`).

    A broken configuration or policy fails the invocation loudly, after logging one ``failed``
    result per message (the sinks themselves may be what is misconfigured).
    """
    settle_heap()
    try:
        run = Run.start(function, context, **overrides)
        if run.settings.log_envelope_shapes and event is not None:
            log_envelope_shape(function, envelope.kind, event, run.settings.log_envelope_shapes)
        for name, load in (setup or {}).items():
            run.resources[name] = load(run)
        return run
    except ConfigError as error:
        from shared.clock import SYSTEM_CLOCK

        detail = ErrorDetail(ErrorCode.CONFIG_INVALID, str(error), "$")
        data = failure_data(detail, retryable=True)
        for index in [message.index for message in envelope.messages] or [0]:
            meta = EventMeta(index, envelope.kind, function)
            sys.stdout.write(
                to_log_line(result_event(data, function=function, now=SYSTEM_CLOCK.epoch(), meta=meta)) + "\n"
            )
        dead_letter = envelope.meta.get("dead_letter") if envelope.kind == "dead_letter" else None
        if dead_letter and dead_letter.get("depth", 1) >= 2:
            _log_lost(function, envelope, dead_letter)
            raise DeadLetterLost(len(envelope.messages)) from error
        sys.stdout.flush()
        raise


def _log_lost(function: str, envelope: Envelope, dead_letter: dict[str, Any]) -> None:
    """Each message of the dead letter, as received (secrets masked), on its own log line: the last
    place it can be read."""
    from shared.results import redact

    for message in envelope.messages:
        try:
            body: Any = json.loads(message.body) if isinstance(message.body, str) else message.body
        except ValueError:
            body = message.body
        line = {"log": "dead_letter_lost", "function": function, "depth": dead_letter.get("depth"), "message": body}
        sys.stdout.write(json.dumps(redact(line), sort_keys=True, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def log_envelope_shape(function: str, kind: str, event: Any, limit: int) -> bool:
    """One JSON line ``{"log": "envelope_shape", ...}`` with the event's shape (:mod:`shared.shapes`:
    no value that could identify anyone), while this instance has logged fewer than ``limit``."""
    global _shapes_logged
    with _shapes_lock:
        if _shapes_logged >= limit:
            return False
        _shapes_logged += 1
        number = _shapes_logged
    from shared.shapes import FORMAT, shape_of  # only when enabled: cold start

    line = {"log": "envelope_shape", "format": FORMAT, "function": function, "kind": kind, "number": number}
    line["shape"] = shape_of(event)
    sys.stdout.write(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return True


def respond(envelope: Envelope, results: list[dict[str, Any]], delivery: dict[str, Any]) -> dict[str, Any]:
    """The handler's return value; for APIG, a proper APIG response."""
    payload = {"results": results, "delivery": delivery}
    if envelope.kind != "apig":
        return payload
    single_rejected = len(results) == 1 and results[0]["data"]["outcome"] == "rejected"
    too_many = single_rejected and any(e["code"] == ErrorCode.TOO_MANY_REQUESTS for e in results[0]["data"]["errors"])
    status = 413 if too_many else 400 if single_rejected else 200
    return apig_response(status, json.loads(json.dumps(payload)))


class RetryableFailure(Exception):
    """Raised after the results were delivered, so that FunctionGraph's async retry re-delivers."""

    def __init__(self, count: int):
        super().__init__(f"{count} result(s) failed and may succeed later; asking the platform to retry")
        self.count = count


def raise_for_retry(results: list[dict[str, Any]], run: Run, envelope: Envelope, *, always: bool = False) -> None:
    """Raise :class:`RetryableFailure` when a result failed retryably (``failed`` or ``rolled_back``,
    ``retryable: true``) and the platform's async retry is what retries it: in the retry lane, for a
    dead letter not yet published, or ``always`` (ecs_created: its triggers are async)."""
    from shared.runtime.batch import retry_mode, retryable_failure

    if not (always or envelope.kind == "dead_letter" or retry_mode(run, envelope) == "raise"):
        return
    failed = [r for r in results if retryable_failure(r["data"]["outcome"], r["data"].get("retryable"))]
    if failed:
        raise RetryableFailure(len(failed))


def continuation_of(envelope: Envelope, run: Run) -> Any:
    """A ``setup`` entry: the continuation (or retry lane) this envelope carries, or None."""
    if "continuation" not in envelope.meta:
        return None
    from shared.runtime.continuation import read_continuation

    return read_continuation(envelope, run.settings)


def retry_lane(run: Run, envelope: Envelope, prepared: list[Any], failures: dict[int, Any]) -> list[Any]:
    """``process_batch``'s ``retry_lane`` for a flow without holds (ecs_created, sg_drift)."""
    from shared.runtime.continuation import RETRY_LANE, hand_on

    return hand_on(run, envelope, prepared, lane=RETRY_LANE, failures=failures)

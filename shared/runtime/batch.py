"""The batch runner every flow shares: one result per message, whatever happens.

:func:`process_batch` takes every message of an envelope through a flow's two steps - ``prepare``
(message -> :class:`Prepared`: a typed job with its ordering key, or the answer already) and
``step`` (job -> :class:`~shared.results.ResultData`) - with bounded concurrency, keeping queue
order among messages that share a key (the target server), and turns any unexpected exception
into that message's own ``failed`` result, so that one poison message never costs the others
theirs. A message answered at prepare time (unreadable, rejected, nothing to do: :class:`Skip`)
gets that answer without running the step.

In a queue batch (:data:`~shared.runtime.envelopes.QUEUE_TRIGGERS`) with a ``retry_lane``, a
message that fails retryably stops its server's lane: it and the server's later messages go to the
retry lane (:mod:`shared.runtime.continuation`). In the retry lane itself, the later messages of a
server whose message failed retryably are not started (they wait for the platform's next attempt).
"""

from __future__ import annotations

import sys
import time
from _thread import allocate_lock  # threading.Lock without importing threading (cold start)
from collections import OrderedDict

from shared.errors import ErrorCode, ErrorDetail
from shared.records import Generic, record
from shared.results import EventMeta, Identity, ResultData, failure_data, new_result_data, rejected
from shared.runtime.envelopes import QUEUE_TRIGGERS, Envelope, InboundMessage
from shared.runtime.run import Run
from shared.validation import decode_json_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol, TypeVar

__all__ = ["Job", "Prepared", "Skip", "process_batch", "decode_object", "retry_mode", "retryable_failure"]


if TYPE_CHECKING:  # typing for the type checker only (cold start)

    class Job(Protocol):
        """What every flow's job offers the runtime: its identity (for the results the runtime writes
        itself: ``deferred``, a bug's ``failed``)."""

        @property
        def identity(self) -> Identity: ...

    J = TypeVar("J", bound=Job)
else:
    J = None  # Generic[J] below is shared.records' stand-in at run time


@record(frozen=True)
class Skip:
    """Nothing to do for this message, and why (answered ``skipped`` by :func:`process_batch`)."""

    reason: str
    identity: Identity = Identity()


@record
class Prepared(Generic[J]):
    """A message made ready for its step: a job and its ordering key, or the message's answer."""

    message: InboundMessage
    job: J | None = None
    key: str | None = None  # messages with the same key run one after another, in order
    answer: ResultData | None = None  # decided at prepare time: the step does not run

    @classmethod
    def rejected(cls, message: InboundMessage, error: ErrorDetail, identity: Identity | None = None) -> Prepared[J]:
        return cls(message, answer=rejected([error], identity=identity))

    @classmethod
    def skipped(cls, message: InboundMessage, skip: Skip) -> Prepared[J]:
        return cls(message, answer=new_result_data("skipped", skip.identity, reason=skip.reason))

    @classmethod
    def answered(cls, message: InboundMessage, data: ResultData) -> Prepared[J]:
        return cls(message, answer=data)

    @property
    def identity(self) -> Identity:
        if self.answer is not None:
            return self.answer.identity
        return self.job.identity if self.job is not None else Identity()


if TYPE_CHECKING:  # the step signatures, for the type checker only
    Prepare = Callable[[InboundMessage, Run], Prepared[Any] | list[Prepared[Any]]]
    Step = Callable[[Any, Run], ResultData]
    Ready = Callable[[Run, list[Prepared[Any]]], None]
    HandOn = Callable[[Run, Envelope, list[Prepared[Any]]], list[ResultData]]
    # the retry lane: (run, envelope, messages, their retryable failures by id of the message) -> results
    RetryLane = Callable[[Run, Envelope, list[Prepared[Any]], dict[int, ResultData]], list[ResultData]]


def retryable_failure(outcome: str, retryable: bool | None) -> bool:
    """A result that may succeed later: ``failed`` or ``rolled_back`` (a transient failure on a later
    interface leaves the server as unprotected as one on the first), ``retryable: true``."""
    return outcome in ("failed", "rolled_back") and bool(retryable)


def retry_mode(run: Run, envelope: Envelope) -> str | None:
    """``"raise"`` in the retry lane (its retryable failures raise: the platform retries), ``"hand"``
    in a queue batch (they go to the retry lane), None otherwise (the caller sees the result)."""
    # the run's continuation (shared.runtime.continuation, which imports this module): read, not imported
    continuation = run.resources.get("continuation")
    if getattr(continuation, "lane", None) == "retry":
        return "raise"
    trigger = getattr(continuation, "trigger", None) or envelope.kind
    return "hand" if trigger in QUEUE_TRIGGERS else None


def decode_object(message: InboundMessage, run: Run, expected: str) -> dict[str, Any] | ErrorDetail:
    """The message as one JSON object, or the error saying why not (``expected`` names what the
    function wanted)."""
    if message.decode_error:
        return message.decode_error
    body, error = decode_json_message(message.body, max_bytes=run.settings.max_message_bytes)
    if error:
        return error
    if not isinstance(body, dict):
        return ErrorDetail(ErrorCode.SCHEMA_VIOLATION, f"expected {expected}", "$")
    return body


def _print_exc() -> None:
    import traceback  # only when something went wrong (cold start)

    traceback.print_exc(file=sys.stderr)


def _guarded(step: Step, prepared: Prepared[Any], run: Run) -> ResultData:
    """The step's result; a bug costs this message its result, never the batch's."""
    if prepared.answer is not None:
        return prepared.answer
    try:
        return step(prepared.job, run)
    except Exception as error:  # noqa: BLE001 - a bug must cost one message its result, not the batch
        _print_exc()  # for the function log; results carry no internals
        return failure_data(
            ErrorDetail(
                ErrorCode.INTERNAL_ERROR, f"unexpected {type(error).__name__} while processing the message", "$"
            ),
            retryable=True,
            identity=prepared.identity,
        )


def _prepared(prepare: Prepare, message: InboundMessage, run: Run) -> list[Prepared[Any]]:
    """``prepare`` under the same guard as the steps: a hostile message costs only its own result."""
    try:
        item = prepare(message, run)  # one message may fan out (a batch creation names several servers)
    except (RecursionError, TypeError, ValueError, AttributeError, KeyError) as error:
        _print_exc()
        detail = ErrorDetail(ErrorCode.INVALID_JSON, f"the message could not be read ({type(error).__name__})", "$")
        return [Prepared.rejected(message, detail)]
    except Exception as error:  # noqa: BLE001 - a bug must cost one message its result, not the batch
        _print_exc()
        detail = ErrorDetail(
            ErrorCode.INTERNAL_ERROR, f"unexpected {type(error).__name__} while reading the message", "$"
        )
        return [Prepared.rejected(message, detail)]
    return item if isinstance(item, list) else [item]


def _envelope_rejections(envelope: Envelope, run: Run, accepts: tuple[str, ...] | None) -> list[dict[str, Any]] | None:
    """One rejection per message when the envelope itself cannot be served (or is too big)."""
    error = envelope.error
    if error is None and accepts is not None and envelope.kind not in accepts:
        error = ErrorDetail(
            ErrorCode.UNSUPPORTED_TRIGGER,
            f"{run.function} is not meant to be triggered by {envelope.kind}; it serves {', '.join(accepts)}",
            "$",
        )
    if error is not None:
        indexes = [message.index for message in envelope.messages] or [0]
        meta = [EventMeta(index, envelope.kind, run.function) for index in indexes]
        return [run.event(rejected([error]), each) for each in meta]
    if envelope.kind == "apig" and len(envelope.messages) > run.settings.max_requests_per_call:
        # One caller, one synchronous call: bounded work, answered 413 before anything is decoded.
        detail = ErrorDetail(
            ErrorCode.TOO_MANY_REQUESTS,
            f"{len(envelope.messages)} requests in one call; at most {run.settings.max_requests_per_call} are accepted",
            "$.body",
        )
        return [run.event(rejected([detail]), EventMeta(0, envelope.kind, run.function))]
    return None


def process_batch(
    envelope: Envelope,
    run: Run,
    *,
    prepare: Prepare,
    step: Step,
    accepts: tuple[str, ...] | None = None,
    hand_on: HandOn | None = None,
    ready: Ready | None = None,
    retry_lane: RetryLane | None = None,
) -> list[dict[str, Any]]:
    """Result events, one per message, in message order (an unreadable envelope: one rejection).

    ``accepts`` lists the trigger kinds the function serves; messages of any other trigger are
    each rejected (a misconfigured trigger must not pass for valid input). With ``hand_on``, a
    message is not started when the time left before the safety margin is less than a message
    may take (twice the mean so far, at least the longest): it and the rest of its lane go to
    ``hand_on`` (a continuation, :mod:`shared.runtime.continuation`), which gives each its result.
    ``ready`` sees every prepared message before the first step starts (an aid: its failure costs
    no message anything). ``retry_lane``: where a queue batch's retryable failures go, with their
    server's later messages (see the module's docstring).
    """
    if envelope.kind == "dead_letter":  # what the async retry policy gave up on: published, not applied
        return _dead_letters(envelope, run)
    refused = _envelope_rejections(envelope, run, accepts)
    if refused is not None:
        return refused
    prepared = [item for message in envelope.messages for item in _prepared(prepare, message, run)]
    if ready is not None:
        try:
            ready(run, prepared)
        except Exception:  # noqa: BLE001 - an aid: each message does its own reads, and reports their failure
            _print_exc()
    lanes: OrderedDict[str, list[int]] = OrderedDict()
    for index, item in enumerate(prepared):
        lanes.setdefault(item.key if item.key is not None else f"#{index}", []).append(index)
    results: list[dict[str, Any] | None] = [None] * len(prepared)
    pace = _Pace(run.settings.max_messages_per_invocation)
    mode = retry_mode(run, envelope) if retry_lane is not None else None

    def emit(index: int, data: ResultData, seconds: float | None) -> None:
        duration_ms = None if seconds is None else round(seconds * 1000, 3)
        meta = EventMeta(prepared[index].message.index, envelope.kind, run.function, duration_ms)
        results[index] = run.event(data, meta)

    def run_lane(indexes: list[int]) -> None:
        for position, index in enumerate(indexes):
            if hand_on is not None and prepared[index].answer is None and not pace.may_start(run.deadline.remaining()):
                pace.defer(indexes[position:])  # the rest of the lane too: queue order
                return
            started = time.perf_counter()
            data = _guarded(step, prepared[index], run)
            seconds = time.perf_counter() - started
            if prepared[index].answer is None:
                pace.done(seconds)
            if mode is not None and retryable_failure(data.outcome, data.retryable):
                if mode == "hand":  # this one and the server's later ones: to the retry lane, in order
                    pace.lane(index, data, indexes[position + 1 :])
                    return
                emit(index, data, seconds)
                for later in indexes[position + 1 :]:  # queue order: they wait for the next attempt
                    emit(later, _behind(prepared[later], prepared[index]), None)
                return
            emit(index, data, seconds)

    workers = min(run.settings.concurrency, len(lanes))
    if workers <= 1:
        for indexes in lanes.values():
            run_lane(indexes)
    else:
        from concurrent.futures import ThreadPoolExecutor  # only batches pay for it (cold start)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sgguard") as pool:
            for future in [pool.submit(run_lane, indexes) for indexes in lanes.values()]:
                future.result()
    if hand_on is not None and pace.deferred:
        waiting = sorted(pace.deferred)
        for index, data in zip(waiting, hand_on(run, envelope, [prepared[i] for i in waiting])):
            emit(index, data, None)  # never started here: no duration
    if retry_lane is not None and pace.laned:
        laned = sorted(pace.laned)
        failures = {id(prepared[i]): data for i, data in pace.failures.items()}
        for index, data in zip(laned, retry_lane(run, envelope, [prepared[i] for i in laned], failures)):
            emit(index, data, None)
    return [event for event in results if event is not None]


def _dead_letters(envelope: Envelope, run: Run) -> list[dict[str, Any]]:
    from shared.model import is_safe_id, is_uuid
    from shared.runtime.dead_letter import dead_letter_results  # rare: cold start

    identities = []
    for message in envelope.messages:
        body = decode_object(message, run, "a message")
        identity = Identity.of_request(body if isinstance(body, dict) else None)
        identities.append(identity.safe(is_request_id=is_safe_id, is_server_id=is_uuid))
    results = dead_letter_results(run, envelope, identities)
    return [
        run.event(data, EventMeta(message.index, envelope.kind, run.function))
        for message, data in zip(envelope.messages, results)
    ]


def _behind(item: Prepared[Any], failed: Prepared[Any]) -> ResultData:
    ahead = failed.identity.request_id or "an earlier message"
    return failure_data(
        ErrorDetail(
            ErrorCode.BEHIND_RETRY,
            f"not started: {ahead} for the same server failed retryably and must be applied first (queue order); "
            "the next attempt of this invocation runs both",
            "$",
        ),
        retryable=True,
        identity=item.identity,
    )


class _Pace:
    """How long messages take, and which were not started for lack of time or of budget (thread-safe)."""

    def __init__(self, budget: int = 0) -> None:
        self._lock = allocate_lock()
        self.budget = budget  # messages this invocation may start (0: no bound)
        self.started = 0
        self.count = 0
        self.total_s = 0.0
        self.longest_s = 0.0
        self.deferred: list[int] = []
        self.laned: list[int] = []  # to the retry lane: a retryable failure and its server's later messages
        self.failures: dict[int, ResultData] = {}

    def done(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.total_s += seconds
            self.longest_s = max(self.longest_s, seconds)

    def may_start(self, remaining_s: float) -> bool:
        """Whether one more message may start, counting it if so: within the budget, and more time
        left than a message may take (twice the mean, at least the longest so far)."""
        with self._lock:
            expected = max(2 * self.total_s / self.count, self.longest_s) if self.count else 0.0
            if remaining_s <= expected or (self.budget and self.started >= self.budget):
                return False
            self.started += 1
            return True

    def defer(self, indexes: list[int]) -> None:
        with self._lock:
            self.deferred.extend(indexes)

    def lane(self, index: int, failure: ResultData, later: list[int]) -> None:
        with self._lock:
            self.failures[index] = failure
            self.laned.extend([index, *later])

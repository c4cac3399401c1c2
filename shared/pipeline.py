"""The batch runner both functions share: one result per message, whatever happens.

A :class:`Run` is one invocation: its settings, clock, deadline and (lazily built) cloud clients.
:func:`process_batch` takes every message of an envelope through a function's steps with bounded
concurrency, keeping queue order among messages that share a key (the target server), and turns
any unexpected exception into that message's own ``failed`` result, so that one poison message
never costs the others theirs.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import SYSTEM_CLOCK, Clock, Deadline
from .cloud.exceptions import CloudCallError, DeadlineExceeded
from .cloud.limiter import AimdLimiter
from .cloud.retry import RetryPolicy
from .config import Settings, load_settings
from .envelopes import Envelope, InboundMessage
from .errors import ErrorCode, ErrorDetail
from .results import ResultData, new_result_data, rejected, result_event
from .validation import decode_json_message

if TYPE_CHECKING:  # imported where used: a run that never calls the cloud never loads them (cold start)
    from .apply import ApplyReport
    from .cloud.clients import ClientFactory
    from .cloud.gateway import CallCounter, NetworkGateway, ServerGateway
    from .cloud.protocols import Network
    from .planning import NicPlan

__all__ = ["Run", "Prepared", "process_batch", "decode_object", "failure_data", "cloud_failure"]

_LIMITER_LOCK = threading.Lock()


@dataclass
class Prepared:
    """A message made ready for its steps: decoded payload (or why not) and its ordering key."""

    message: InboundMessage
    payload: Any = None
    error: ErrorDetail | None = None
    key: str | None = None  # messages with the same key run one after another, in order


@dataclass
class Run:
    function: str
    context: Any
    settings: Settings
    clock: Clock
    deadline: Deadline
    resources: dict[str, Any] = field(default_factory=dict)  # per-function things loaded at start (the policy)
    started_at: float = 0.0  # epoch seconds when the invocation started
    _factory: ClientFactory | None = field(default=None, repr=False)
    _limiter: AimdLimiter | None = field(default=None, repr=False)

    @classmethod
    def start(cls, function: str, context: Any, *, clock: Clock | None = None, settings: Settings | None = None) -> Run:
        clock = clock or SYSTEM_CLOCK
        settings = settings or load_settings(context)
        run = cls(function, context, settings, clock, Deadline.from_context(context, clock, settings.safety_margin_ms))
        run._limiter = AimdLimiter(settings.concurrency, monotonic=clock.monotonic)  # before any worker starts
        run.started_at = clock.epoch()
        return run

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.settings.max_attempts, self.settings.backoff_base_s, self.settings.backoff_max_s)

    def factory(self) -> ClientFactory:
        from .cloud.clients import client_factory, credentials_from_context

        if self._factory is None:  # built on first cloud call: a rejected batch never builds a client
            self._factory = client_factory(credentials_from_context(self.context, self.settings), self.settings)
        return self._factory

    @property
    def limiter(self) -> AimdLimiter:
        """The invocation's flow control, shared by its workers (AIMD on the calls in flight)."""
        with _LIMITER_LOCK:  # a Run built without start(): the first worker creates it, once
            if self._limiter is None:
                self._limiter = AimdLimiter(self.settings.concurrency, monotonic=self.clock.monotonic)
            return self._limiter

    def network(self, counter: CallCounter) -> NetworkGateway:
        from .cloud.gateway import NetworkGateway

        return NetworkGateway(
            self.factory(),
            clock=self.clock,
            deadline=self.deadline,
            policy=self.retry_policy,
            counter=counter,
            limiter=self.limiter,
        )

    def servers(self, counter: CallCounter) -> ServerGateway:
        from .cloud.gateway import ServerGateway

        return ServerGateway(
            self.factory(),
            clock=self.clock,
            deadline=self.deadline,
            policy=self.retry_policy,
            counter=counter,
            limiter=self.limiter,
        )

    def rollback_deadline(self) -> Deadline:
        """Rollback may use part of the safety margin: leaving an interface half changed is worse."""
        margin_s = self.settings.safety_margin_ms / 1000 * self.settings.rollback_margin_share
        return Deadline(self.clock, self.deadline.remaining() + margin_s)

    def apply(self, plans: list[NicPlan], network: Network) -> ApplyReport:
        """Apply the plans within this invocation's deadline, rolling back within part of the margin."""
        from .apply import apply_plans

        return apply_plans(
            plans,
            network,
            clock=self.clock,
            deadline=self.deadline,
            policy=self.retry_policy,
            rollback_deadline=self.rollback_deadline,
        )

    def event(self, data: ResultData | dict[str, Any]) -> dict[str, Any]:
        return result_event(data, function=self.function, now=self.clock.now())


def decode_object(message: InboundMessage, run: Run, expected: str) -> dict[str, Any] | Prepared:
    """The message as one JSON object, or the rejected :class:`Prepared` saying why not (``expected``
    names what the function wanted, for the error)."""
    if message.decode_error:
        return Prepared(message, error=message.decode_error)
    body, error = decode_json_message(message.body, max_bytes=run.settings.max_message_bytes)
    if error:
        return Prepared(message, error=error)
    if not isinstance(body, dict):
        return Prepared(message, error=ErrorDetail(ErrorCode.SCHEMA_VIOLATION, f"expected {expected}", "$"))
    return body


def failure_data(error: ErrorDetail, *, retryable: bool = False, **fields: Any) -> ResultData:
    data = new_result_data("failed", **fields)
    data.errors = [error]
    data.retryable = retryable
    return data


def cloud_failure(error: CloudCallError | DeadlineExceeded, **identity: Any) -> ResultData:
    """A ``failed``, retryable result for a cloud call that kept failing or ran out of time."""
    detail = (
        ErrorDetail(ErrorCode.CLOUD_ERROR, error.describe(), "$")
        if isinstance(error, CloudCallError)
        else ErrorDetail(ErrorCode.TIMEOUT, str(error), "$")
    )
    return failure_data(detail, retryable=True, **identity)


def _guarded(step: Callable[[Prepared, Run], ResultData], prepared: Prepared, run: Run, trigger: str) -> dict[str, Any]:
    """The step's result as an event; a bug costs this message its result, never the batch's."""
    started = time.perf_counter()
    try:
        data = step(prepared, run)
    except Exception as error:  # noqa: BLE001 - a bug must cost one message its result, not the batch
        _print_exc()  # for the function log; results carry no internals
        data = failure_data(
            ErrorDetail(
                ErrorCode.INTERNAL_ERROR, f"unexpected {type(error).__name__} while processing the message", "$"
            ),
            retryable=True,
        )
    data.message_index = prepared.message.index if data.message_index is None else data.message_index
    data.trigger = data.trigger or trigger
    data.function = run.function
    data.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return run.event(data)


def _print_exc() -> None:
    import traceback  # only when something went wrong (cold start)

    traceback.print_exc(file=sys.stderr)


def _prepared(
    prepare: Callable[[InboundMessage, Run], Prepared | list[Prepared]], message: InboundMessage, run: Run
) -> Prepared | list[Prepared]:
    """``prepare`` under the same guard as the steps: a hostile message costs only its own result."""
    try:
        return prepare(message, run)
    except (RecursionError, TypeError, ValueError, AttributeError, KeyError) as error:
        _print_exc()
        return Prepared(
            message,
            error=ErrorDetail(ErrorCode.INVALID_JSON, f"the message could not be read ({type(error).__name__})", "$"),
        )
    except Exception as error:  # noqa: BLE001 - a bug must cost one message its result, not the batch
        _print_exc()
        return Prepared(
            message,
            error=ErrorDetail(
                ErrorCode.INTERNAL_ERROR, f"unexpected {type(error).__name__} while reading the message", "$"
            ),
        )


def process_batch(
    envelope: Envelope,
    run: Run,
    *,
    prepare: Callable[[InboundMessage, Run], Prepared | list[Prepared]],
    step: Callable[[Prepared, Run], ResultData],
    accepts: tuple[str, ...] | None = None,
    hand_on: Callable[[Run, Envelope, list[Prepared]], list[ResultData]] | None = None,
) -> list[dict[str, Any]]:
    """Result events, one per message, in message order (an unreadable envelope: one rejection).

    ``accepts`` lists the trigger kinds the function serves; messages of any other trigger are
    each rejected (a misconfigured trigger must not pass for valid input). With ``hand_on``, a
    message is not started when the time left before the safety margin is less than a message
    may take (twice the mean so far, at least the longest): it and the rest of its lane go to
    ``hand_on`` (a continuation, :mod:`shared.continuation`), which gives each its result.
    """
    error = envelope.error
    if error is None and accepts is not None and envelope.kind not in accepts:
        error = ErrorDetail(
            ErrorCode.UNSUPPORTED_TRIGGER,
            f"{run.function} is not meant to be triggered by {envelope.kind}; it serves {', '.join(accepts)}",
            "$",
        )
    if error is not None:
        rejections = []
        for message in envelope.messages or (None,):
            data = rejected([error])
            data.trigger, data.function, data.message_index = (
                envelope.kind,
                run.function,
                message.index if message else 0,
            )
            rejections.append(run.event(data))
        return rejections
    if envelope.kind == "apig" and len(envelope.messages) > run.settings.max_requests_per_call:
        # One caller, one synchronous call: bounded work, answered 413 before anything is decoded.
        data = rejected(
            [
                ErrorDetail(
                    ErrorCode.TOO_MANY_REQUESTS,
                    f"{len(envelope.messages)} requests in one call; at most "
                    f"{run.settings.max_requests_per_call} are accepted",
                    "$.body",
                )
            ]
        )
        data.trigger, data.function, data.message_index = envelope.kind, run.function, 0
        return [run.event(data)]
    prepared: list[Prepared] = []
    for message in envelope.messages:
        item = _prepared(prepare, message, run)  # one message may fan out (a batch creation names several servers)
        prepared.extend(item if isinstance(item, list) else [item])
    lanes: OrderedDict[str, list[int]] = OrderedDict()
    for index, item in enumerate(prepared):
        lanes.setdefault(item.key if item.key is not None else f"#{index}", []).append(index)
    results: list[dict[str, Any] | None] = [None] * len(prepared)
    pace = _Pace()

    def run_lane(indexes: list[int]) -> None:
        for position, index in enumerate(indexes):
            if hand_on is not None and pace.too_late(run.deadline.remaining()):
                pace.defer(indexes[position:])  # the rest of the lane too: queue order
                return
            started = time.perf_counter()
            results[index] = _guarded(step, prepared[index], run, envelope.kind)
            pace.done(time.perf_counter() - started)

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
            data.message_index = prepared[index].message.index
            data.trigger, data.function = envelope.kind, run.function
            results[index] = run.event(data)
    return [event for event in results if event is not None]


class _Pace:
    """How long messages take, and which were not started for lack of time (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.total_s = 0.0
        self.longest_s = 0.0
        self.deferred: list[int] = []

    def done(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.total_s += seconds
            self.longest_s = max(self.longest_s, seconds)

    def too_late(self, remaining_s: float) -> bool:
        """Less time left than a message may take: twice the mean, at least the longest so far."""
        with self._lock:
            expected = max(2 * self.total_s / self.count, self.longest_s) if self.count else 0.0
        return remaining_s <= expected

    def defer(self, indexes: list[int]) -> None:
        with self._lock:
            self.deferred.extend(indexes)

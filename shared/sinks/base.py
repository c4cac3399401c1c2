"""What every sink shares: the :class:`Sink` interface, its settings and its SDK clients.

Nothing here imports an SDK at module level. A cloud sink imports its SDK package inside
:func:`sdk_client`, on its first send, so that ``import shared.sinks`` (every invocation) costs
nothing and an unused sink's SDK is never imported; the client itself is built by the run's
:class:`shared.cloud.clients.ClientFactory`, like every other SDK client. Their settings
(``SMN_ENDPOINT``, ``EG_ENDPOINT``, ``FUNCTIONGRAPH_ENDPOINT``, ``WEBHOOK_URLS``,
``WEBHOOK_SIGNING_KEYS``) are parsed in :mod:`shared.config` with all the others.

Sinks see the invocation through :class:`SinkRun` (what they need of
:class:`shared.runtime.run.SinkRun`), so that they sit below the runtime.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from shared.clock import Clock, Deadline
from shared.config import ConfigError, Settings
from shared.records import overload
from shared.sinks.exceptions import SinkConfigError, SinkError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal, Protocol

    from shared.cloud.clients import ClientFactory
    from shared.cloud.retry import RetryPolicy

__all__ = [
    "Sink",
    "SinkRun",
    "encoded_size",
    "sdk_client",
    "sdk_error",
    "config_int",
    "config_float",
    "config_bool",
    "config_str",
]


if TYPE_CHECKING:  # a Protocol for the type checker only: typing stays out of the cold start

    class SinkRun(Protocol):
        """What a sink needs of the invocation (:class:`shared.runtime.run.SinkRun` has it all)."""

        settings: Settings
        clock: Clock
        deadline: Deadline

        @property
        def retry_policy(self) -> RetryPolicy: ...

        def factory(self) -> ClientFactory: ...


class Sink:
    """One configured destination of result events.

    Subclasses set ``kind`` and the batching limits, check each event once (:meth:`check`, e.g.
    a size limit: never transient) and send a batch (:meth:`send`). ``send`` raises
    :class:`SinkError` when the whole batch failed, or returns ``{index: SinkError}`` for the
    events of the batch that failed on their own (EventGrid answers per event).
    """

    kind = "sink"
    max_batch_events = 1  # events per call; >1 where the API takes a list
    max_batch_bytes: int | None = None  # sum of encoded event sizes per call
    default_concurrency = 4  # calls of this sink in flight at once

    def __init__(self, name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline):
        self.name = name
        self.config = config
        self.run = run
        self.deadline = deadline
        self.max_attempts = config_int(self, "max_attempts", run.settings.max_attempts, 1, 20)
        self.concurrency = config_int(self, "concurrency", self.default_concurrency, 1, 16)

    # ---- per event ----------------------------------------------------------------------
    def check(self, event: dict[str, Any], size: int) -> SinkError | None:
        """Why this event can never be sent to this sink (not transient), or None."""
        return None

    # ---- per call -----------------------------------------------------------------------
    def batches(self, items: list[tuple[int, dict[str, Any], int]]) -> list[list[tuple[int, dict[str, Any], int]]]:
        """Split ``(index, event, size)`` items into calls, keeping their order."""
        batches: list[list[tuple[int, dict[str, Any], int]]] = []
        current: list[tuple[int, dict[str, Any], int]] = []
        current_bytes = 0
        for item in items:
            size = item[2]
            full = len(current) >= self.max_batch_events or (
                self.max_batch_bytes is not None and current and current_bytes + size > self.max_batch_bytes
            )
            if full:
                batches.append(current)
                current, current_bytes = [], 0
            current.append(item)
            current_bytes += size
        if current:
            batches.append(current)
        return batches

    def send(self, events: list[dict[str, Any]]) -> dict[int, SinkError] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- helpers ------------------------------------------------------------------------
    def error(self, message: str, **kw: Any) -> SinkError:
        return SinkError(self.name, message, **kw)

    def config_error(self, message: str, setting: str | None = None) -> SinkConfigError:
        return SinkConfigError(self.name, message, setting=setting)


def encoded_size(event: Any) -> int:
    """Bytes of the compact UTF-8 JSON of ``event`` (what every sink sends, give or take)."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))


@overload
def config_str(sink: Sink, key: str, *, required: Literal[True] = True, max_len: int = 512) -> str: ...
@overload
def config_str(sink: Sink, key: str, *, required: bool, max_len: int = 512) -> str | None: ...
def config_str(sink: Sink, key: str, *, required: bool = True, max_len: int = 512) -> str | None:
    value = sink.config.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise sink.config_error(
            f"RESULT_SINKS entry {sink.name!r} needs {key!r}: a non-empty string of at most {max_len} characters",
            "RESULT_SINKS",
        )
    return value.strip()


def config_int(sink: Sink, key: str, default: int, low: int, high: int) -> int:
    value = sink.config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise sink.config_error(
            f"RESULT_SINKS entry {sink.name!r}: {key!r} must be an integer within {low}..{high}", "RESULT_SINKS"
        )
    return value


def config_float(sink: Sink, key: str, default: float, low: float, high: float) -> float:
    value = sink.config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise sink.config_error(
            f"RESULT_SINKS entry {sink.name!r}: {key!r} must be a number within {low}..{high}", "RESULT_SINKS"
        )
    return float(value)


def config_bool(sink: Sink, key: str, default: bool) -> bool:
    value = sink.config.get(key, default)
    if not isinstance(value, bool):
        raise sink.config_error(f"RESULT_SINKS entry {sink.name!r}: {key!r} must be true or false", "RESULT_SINKS")
    return value


# ---- SDK clients ------------------------------------------------------------------------------
def sdk_client(sink: Sink, kind: str, load_class: Callable[[], Any], endpoint: str) -> Any:
    """The SDK client ``load_class()`` at ``endpoint`` for the run's agency credentials, from the
    run's client factory (built once per credentials and endpoint: FunctionGraph rotates the
    agency's temporary credentials)."""
    try:
        factory = sink.run.factory()
    except ConfigError as error:
        raise sink.config_error(str(error), error.name) from None
    return factory.client(kind, load_class(), endpoint)


def sdk_error(sink: Sink, operation: str, error: Exception) -> SinkError:
    """An SDK exception as a :class:`SinkError` (same classification as the cloud gateway)."""
    from shared.cloud.retry import translate

    # huaweicloudsdkcore wraps requests' ConnectionError only. A read timeout on a GET or PUT
    # arrives as one (urllib3 retries idempotent methods, then gives up with MaxRetryError), but on
    # a POST - every sink call - it is requests.exceptions.ReadTimeout itself, unwrapped (seen with
    # localcloud's "timeout" fault). The call may or may not have landed: retry (at least once).
    requests_exceptions = sys.modules.get("requests.exceptions")
    if requests_exceptions is not None and isinstance(error, requests_exceptions.RequestException):
        return SinkError(
            sink.name,
            f"{operation}: {type(error).__name__}: {str(error)[:200]}",
            transient=True,
            code=type(error).__name__,
        )
    try:
        failure = translate(operation, error)
    except Exception:  # noqa: BLE001 - not an SDK error: a bug or a local problem, do not hammer
        return sink.error(f"{operation}: unexpected {type(error).__name__}: {str(error)[:200]}")
    suffix = f" (request id {failure.request_id})" if failure.request_id else ""
    return SinkError(
        sink.name,
        f"{operation}: {failure.message}{suffix}",
        transient=failure.transient,
        status=failure.status,
        code=failure.code,
    )

"""Classification of SDK failures and retries with exponential back-off and full jitter.

The SDK's own retry (``HttpConfig.retry_times``) stays 0: it re-sends a PUT after a read
timeout, which can apply a write twice. Reads are retried here; writes are retried by the
applier, which re-reads state before it repeats a write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError, DeadlineExceeded

__all__ = ["RetryPolicy", "translate", "call_with_retry", "backoff_delay"]

T = TypeVar("T")
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 0.2
    max_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:  # no attempt at all would end in ``raise None``
            raise ValueError("a retry policy needs at least one attempt")


def backoff_delay(attempt: int, policy: RetryPolicy, clock: Clock) -> float:
    """Full jitter: uniform in [0, min(max, base * 2**attempt)] (attempt counts from 0)."""
    return clock.random() * min(policy.max_s, policy.base_s * float(2**attempt))


def translate(operation: str, error: Exception) -> CloudCallError:
    """Map an SDK exception to a :class:`CloudCallError`."""
    from huaweicloudsdkcore.exceptions import exceptions as sdk

    if isinstance(error, CloudCallError):  # already classified (the flow-controlled call below)
        return error
    if isinstance(error, sdk.ServiceResponseException):
        status = int(error.status_code) if error.status_code is not None else None
        code = str(error.error_code or status)
        # With retry_times 0 the SDK surfaces a gateway 429 as code '429' with urllib3 text.
        transient = status in TRANSIENT_STATUS or code in ("APIG.0308", "APIGW.0308", "429")
        return CloudCallError(
            operation,
            status=status,
            code=code,
            message=str(error.error_msg)[:300],
            request_id=error.request_id,
            transient=transient,
        )
    if isinstance(error, (sdk.ConnectionException, sdk.RequestTimeoutException)):
        # Read timeouts arrive as ConnectionException too; the write may or may not have landed.
        return CloudCallError(
            operation, status=None, code=type(error).__name__, message=str(error.error_msg)[:300], transient=True
        )
    import requests

    if isinstance(error, requests.exceptions.RequestException):
        # On a POST the SDK lets a read timeout through unwrapped; it is as ambiguous as any timeout.
        return CloudCallError(
            operation, status=None, code=type(error).__name__, message=str(error)[:300], transient=True
        )
    if isinstance(error, sdk.SdkException):
        return CloudCallError(
            operation, status=None, code=type(error).__name__, message=str(error.error_msg)[:300], transient=False
        )
    raise error


def call_with_retry(
    operation: str,
    call: Callable[[], T],
    *,
    clock: Clock,
    deadline: Deadline,
    policy: RetryPolicy,
    on_attempt: Callable[[], None] | None = None,
) -> T:
    """Run an idempotent call, retrying transient failures while time and attempts allow."""
    last: CloudCallError | None = None
    for attempt in range(policy.max_attempts):
        if deadline.expired():
            raise DeadlineExceeded(operation, last)
        if on_attempt:
            on_attempt()
        try:
            return call()
        except Exception as raw:  # noqa: BLE001 - translate() re-raises what is not an SDK error
            last = translate(operation, raw)
        if not last.transient or attempt + 1 >= policy.max_attempts:
            raise last
        delay = backoff_delay(attempt, policy, clock)
        if not deadline.allows(delay):
            raise DeadlineExceeded(operation, last)
        clock.sleep(delay)
    assert last is not None  # pragma: no cover - max_attempts >= 1: the loop always returns or raises
    raise last  # pragma: no cover

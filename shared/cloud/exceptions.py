"""Structured errors of cloud calls."""

from __future__ import annotations

__all__ = ["CloudCallError", "DeadlineExceeded", "InvalidIdentifier", "THROTTLE_CODES"]

# With retry_times 0 the SDK surfaces a gateway 429 as code '429'; the body says APIG.0308.
THROTTLE_CODES = frozenset({"APIG.0308", "APIGW.0308", "429"})


class CloudCallError(Exception):
    """A cloud API call failed. ``transient`` says whether repeating it may succeed."""

    def __init__(
        self,
        operation: str,
        *,
        status: int | None,
        code: str,
        message: str,
        request_id: str | None = None,
        transient: bool = False,
    ):
        super().__init__(f"{operation}: {status or '-'} {code}: {message}")
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.transient = transient

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def throttled(self) -> bool:
        """The API gateway's flow control (429 / APIG.0308): refused before the service saw the call."""
        return self.status == 429 or self.code in THROTTLE_CODES

    def describe(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.operation} failed: HTTP {self.status or '-'} {self.code}: {self.message}{suffix}"


class DeadlineExceeded(Exception):
    """No time left in the invocation for another attempt."""

    def __init__(self, operation: str, last_error: CloudCallError | None = None):
        super().__init__(f"{operation}: out of time" + (f" after {last_error.describe()}" if last_error else ""))
        self.operation = operation
        self.last_error = last_error


class InvalidIdentifier(ValueError):
    """An id that is not of the expected form; never sent into a URL."""

    def __init__(self, kind: str, value: object):
        super().__init__(f"invalid {kind} id")
        self.kind = kind
        self.value = value

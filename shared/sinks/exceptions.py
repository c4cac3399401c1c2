"""Structured errors of result sinks.

A sink raises :class:`SinkError` for a whole batch, or reports one per event (EventGrid answers
per event). ``transient`` decides whether the delivery loop tries again; everything else about
the error is for the ``undelivered`` line a sink leaves when it gives up.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["SinkError", "SinkConfigError"]


class SinkError(Exception):
    """Delivering to ``sink`` failed. ``transient``: repeating the call may succeed."""

    def __init__(
        self,
        sink: str,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.sink = sink
        self.message = message
        self.transient = transient
        self.status = status
        self.code = code
        self.retry_after = retry_after  # seconds the destination asked us to wait (Retry-After), if any

    def describe(self) -> str:
        """One line for the ``undelivered`` record: status, code and message, never a secret."""
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(str(self.code))
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "message": self.message,
            "transient": self.transient,
            "status": self.status,
            "code": self.code,
        }

    def __repr__(self) -> str:
        return (
            f"SinkError(sink={self.sink!r}, status={self.status!r}, code={self.code!r}, "
            f"transient={self.transient!r}, message={self.message!r})"
        )


class SinkConfigError(SinkError):
    """The sink's configuration (``RESULT_SINKS`` entry or one of its settings) is unusable.

    Never transient: every result meant for this sink becomes an ``undelivered`` line that says
    which setting to fix.
    """

    def __init__(self, sink: str, message: str, *, setting: str | None = None):
        super().__init__(sink, message, transient=False, code="SINK_CONFIG_INVALID")
        self.setting = setting

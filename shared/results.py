"""Result events: what a function did, as CloudEvents 1.0 (structured JSON mode).

Build ``data`` with :func:`new_result_data` (or :func:`rejected`), fill it in,
then wrap it with :func:`result_event`. Every event must validate against
``shared/schemas/result.v1.json`` (``shared.validation.validate_result_event``).

Results are logged and published, so they must never carry secrets:
:func:`to_log_line` passes everything through :func:`redact` first.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, overload

from shared.errors import ErrorDetail
from shared.timestamps import format_timestamp

__all__ = [
    "OUTCOMES",
    "Outcome",
    "ResultData",
    "REDACTED",
    "new_result_data",
    "redact",
    "rejected",
    "result_event",
    "to_log_line",
]

OUTCOMES = (
    "succeeded",
    "no_change",
    "planned",
    "rejected",
    "failed",
    "rolled_back",
    "skipped",
    "deferred",  # change_request: handed on to a continuation (not started before the safety margin)
    "compliant",  # sg_drift: a server as the policy and the rails want it
    "drift_detected",  # sg_drift: findings (report mode, or what enforce may not repair)
    "repaired",  # sg_drift: every finding repaired (enforce mode)
    "summary",  # sg_drift: one per sweep (servers, interfaces, findings by kind, duration, calls)
)
REDACTED = "***"

# Key names whose values are secret. Whole-name matches for short names (`sk`
# would otherwise hit `task_state`), substring matches for the long ones.
_SECRET_NAME_EXACT = frozenset({"sk", "ak_sk", "secret_key", "x-auth-token", "x-security-token", "authorization"})
_SECRET_NAME_PART = re.compile(r"secret|passw|token|credential|private_?key|api_?key", re.IGNORECASE)
_FUNCTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

Detail = ErrorDetail | dict[str, Any]
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _detail_dicts(details: Iterable[Detail]) -> list[dict[str, Any]]:
    return [d.to_dict() if isinstance(d, ErrorDetail) else dict(d) for d in details]


Outcome = Literal[
    "succeeded",
    "no_change",
    "planned",
    "rejected",
    "failed",
    "rolled_back",
    "skipped",
    "deferred",
    "compliant",
    "drift_detected",
    "repaired",
    "summary",
]


@dataclass
class ResultData:
    """The ``data`` of one result event, typed; serialised once (:meth:`to_dict`) by the pipeline."""

    outcome: Outcome
    request_id: str | None = None
    ticket: dict[str, Any] | None = None
    server_id: str | None = None
    dry_run: bool = False
    errors: list[ErrorDetail] = field(default_factory=list)
    warnings: list[ErrorDetail] = field(default_factory=list)
    nics: list[dict[str, Any]] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=lambda: {"total": 0, "reads": 0, "writes": 0})
    # where they apply
    plan: list[dict[str, Any]] | None = None
    effective_rules: list[dict[str, Any]] | None = None
    rules_matched: list[str] | None = None
    reason: str | None = None
    retryable: bool | None = None
    findings: list[dict[str, Any]] | None = None  # sg_drift: what differs from the policy and the rails
    mode: str | None = None  # sg_drift: DRIFT_MODE (report | enforce)
    summary: dict[str, Any] | None = None  # sg_drift: the sweep's summary
    continuation: dict[str, Any] | None = None  # deferred: {"id": the async invocation's request id, "hop": n}
    # filled in by the pipeline
    message_index: int | None = None
    trigger: str | None = None
    function: str | None = None
    duration_ms: float | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {', '.join(OUTCOMES)}")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outcome": self.outcome,
            "request_id": self.request_id,
            "ticket": self.ticket,
            "server_id": self.server_id,
            "dry_run": bool(self.dry_run),
            "errors": _detail_dicts(self.errors),
            "warnings": _detail_dicts(self.warnings),
            "nics": self.nics,
            "api_calls": self.api_calls,
        }
        for name in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


_OPTIONAL_FIELDS = (
    "plan",
    "effective_rules",
    "rules_matched",
    "reason",
    "retryable",
    "findings",
    "mode",
    "summary",
    "continuation",
    "message_index",
    "trigger",
    "function",
    "duration_ms",
)


def new_result_data(
    outcome: Outcome,
    *,
    request_id: str | None = None,
    ticket: dict[str, Any] | None = None,
    server_id: str | None = None,
    dry_run: bool = False,
) -> ResultData:
    """A fresh result with every required field filled in."""
    return ResultData(outcome, request_id=request_id, ticket=ticket, server_id=server_id, dry_run=bool(dry_run))


def rejected(errors: Iterable[ErrorDetail], *, warnings: Iterable[ErrorDetail] = (), **identity: Any) -> ResultData:
    """A request refused before anything was changed."""
    data = new_result_data("rejected", **identity)
    data.errors = list(errors)
    data.warnings = list(warnings)
    return data


def result_event(
    data: ResultData | dict[str, Any], *, function: str, now: datetime, event_id: str | None = None
) -> dict[str, Any]:
    """Wrap ``data`` as a CloudEvent from ``urn:sgguard:function:<function>``.

    ``type`` is ``com.sgguard.<function>.<outcome>``; ``subject`` is the server id
    when known; ``time`` is ``now`` in RFC 3339 UTC with milliseconds.
    """
    if isinstance(data, ResultData):
        data = data.to_dict()
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise ValueError(f"data has unknown outcome {outcome!r}")
    if not _FUNCTION_NAME.match(function):
        raise ValueError(f"function name {function!r} must match {_FUNCTION_NAME.pattern}")
    event = {
        "specversion": "1.0",
        "id": event_id or _uuid4_hex(),
        "source": f"urn:sgguard:function:{function}",
        "type": f"com.sgguard.{function}.{outcome}",
        "time": format_timestamp(now, milliseconds=True),
        "datacontenttype": "application/json",
        "data": data,
    }
    server_id = data.get("server_id")
    if isinstance(server_id, str) and server_id:
        event["subject"] = server_id
    return event


def _uuid4_hex() -> str:
    """``uuid.uuid4().hex`` without importing uuid (it imports platform: cold start)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAME_EXACT or lowered.endswith("_sk") or bool(_SECRET_NAME_PART.search(lowered))


@overload
def redact(obj: dict[str, Any]) -> dict[str, Any]: ...
@overload
def redact(obj: object) -> object: ...
def redact(obj: object) -> object:
    """Copy of ``obj`` with secret-looking values replaced by ``***``.

    Also masks ``signature.value`` (a request's HMAC: not a secret, but no use
    in logs and a replay aid), keeping its key id and timestamp.
    """
    if isinstance(obj, dict):
        out: dict[object, object] = {}
        for key, value in obj.items():
            if isinstance(key, str) and _is_secret_name(key) and value is not None:
                out[key] = REDACTED
            elif key == "signature" and isinstance(value, dict):
                out[key] = {k: (REDACTED if k == "value" else redact(v)) for k, v in value.items()}
            else:
                out[key] = redact(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [redact(item) for item in obj]
    return obj


def to_log_line(event: object) -> str:
    """One compact JSON line (redacted) for the function log."""
    line = json.dumps(redact(event), ensure_ascii=False, separators=(",", ":"), default=str)
    # Characters some readers treat as line breaks must not split one result into two lines.
    return line.translate(_LINE_BREAKS)

"""Result events: what a function did, as CloudEvents 1.0 (structured JSON mode).

Build ``data`` once with :func:`new_result_data` (or :func:`rejected`, :func:`failure_data`),
then wrap it with :func:`result_event`. Every event must validate against
``shared/schemas/result.v1.json`` (``shared.validation.validate_result_event``).

Results are logged and published, so they must never carry secrets:
:func:`to_log_line` passes everything through :func:`redact` first.
"""

from __future__ import annotations

import functools
import json
import os
import re

from shared.errors import ErrorDetail
from shared.records import field, overload, record, replace
from shared.timestamps import format_epoch, format_timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from typing import Any, Literal

__all__ = [
    "OUTCOMES",
    "Outcome",
    "EventMeta",
    "Identity",
    "ResultData",
    "failure_data",
    "REDACTED",
    "new_result_data",
    "redact",
    "rejected",
    "result_event",
    "to_log_line",
]

# The outcome vocabulary once, as values; for the type checker the same words as a Literal, which
# it checks OUTCOMES against (no typing at run time: cold start).
OUTCOMES: tuple[Outcome, ...] = (
    "succeeded",
    "no_change",
    "planned",
    "rejected",
    "failed",
    "rolled_back",
    "skipped",
    "deferred",  # handed on to a continuation (not started before the safety margin)
    "compliant",  # sg_drift: a server as the policy and the rails want it
    "drift_detected",  # sg_drift: findings (report mode, or what enforce may not repair)
    "repaired",  # sg_drift: every finding repaired (enforce mode)
    "summary",  # sg_drift: one per sweep (servers, interfaces, findings by kind, duration, calls)
)
if TYPE_CHECKING:
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
else:
    Outcome = str
REDACTED = "***"

# Key names whose values are secret. Whole-name matches for short names (`sk`
# would otherwise hit `task_state`), substring matches for the long ones.
_SECRET_NAME_EXACT = frozenset({"sk", "ak_sk", "secret_key", "x-auth-token", "x-security-token", "authorization"})
_SECRET_NAME_PART = r"secret|passw|token|credential|private_?key|api_?key"  # searched case-insensitively
_SECRET_NAME_PARTS = ("secret", "passw", "token", "credential", "private_key", "privatekey", "api_key", "apikey")
_FUNCTION_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # patterns compiled on first use (cold start)


@functools.cache
def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


if TYPE_CHECKING:
    Detail = ErrorDetail | dict[str, Any]
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _detail_dicts(details: Iterable[Detail]) -> list[dict[str, Any]]:
    return [d.to_dict() if isinstance(d, ErrorDetail) else dict(d) for d in details]


@record(frozen=True)
class Identity:
    """What a result echoes of its request so that a caller can match the two (built once per
    message, from what the message says; see :meth:`safe` for input that failed validation)."""

    request_id: str | None = None
    ticket: dict[str, Any] | None = None
    server_id: str | None = None
    dry_run: bool = False

    @classmethod
    def of_request(cls, request: object) -> Identity:
        """The identity fields of a change request, each only when of the right type."""
        if not isinstance(request, dict):
            return cls()
        ticket, target = request.get("ticket"), request.get("target")
        server_id = target.get("server_id") if isinstance(target, dict) else None
        request_id = request.get("request_id")
        return cls(
            request_id if isinstance(request_id, str) else None,
            ticket if isinstance(ticket, dict) else None,
            server_id if isinstance(server_id, str) else None,
            request.get("dry_run") is True,
        )

    def safe(self, *, is_request_id: Any, is_server_id: Any) -> Identity:
        """Only the fields of a safe form (for a request that failed validation: no ticket echoed)."""
        return Identity(
            self.request_id if is_request_id(self.request_id) else None,
            None,
            self.server_id if is_server_id(self.server_id) else None,
            self.dry_run,
        )


@record(frozen=True)
class ResultData:
    """The ``data`` of one result event, typed and immutable: built once by a step (amend with
    :meth:`replace`), serialised once (:meth:`to_dict`) by the pipeline, which adds where the
    message came from (:class:`EventMeta`)."""

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
    mode: str | None = None  # sg_drift: DRIFT_MODE (report | enforce); ecs_created: "report" when observing only
    summary: dict[str, Any] | None = None  # sg_drift: the sweep's summary
    continuation: dict[str, Any] | None = (
        None  # deferred: {"id": the async invocation's request id, "hop": n[, "lane"]}
    )
    target: dict[str, Any] | None = None  # with TARGETS: {account, account_name, region, project_id, home}
    dead_lettered: bool | None = None  # failed: the async retry policy gave up; the message is on the dead-letter topic

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {', '.join(OUTCOMES)}")

    @property
    def identity(self) -> Identity:
        return Identity(self.request_id, self.ticket, self.server_id, self.dry_run)

    def replace(self, **changes: Any) -> ResultData:
        """A copy with ``changes``: results are values, never mutated."""
        return replace(self, **changes)

    def to_dict(self, meta: EventMeta | None = None) -> dict[str, Any]:
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
        if meta is not None:
            data.update(meta.to_dict())
        return data


@record(frozen=True)
class EventMeta:
    """Where a result's message came from, added by the pipeline when it serialises the result."""

    message_index: int | None = None
    trigger: str | None = None
    function: str | None = None
    duration_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        values = (
            ("message_index", self.message_index),
            ("trigger", self.trigger),
            ("function", self.function),
            ("duration_ms", self.duration_ms),
        )
        return {name: value for name, value in values if value is not None}


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
    "target",
    "dead_lettered",
)


def new_result_data(outcome: Outcome, identity: Identity | None = None, **fields: Any) -> ResultData:
    """A result with every required field filled in: ``identity`` (or its fields as keywords) and any
    other field of :class:`ResultData`."""
    if identity is not None:
        fields = {
            "request_id": identity.request_id,
            "ticket": identity.ticket,
            "server_id": identity.server_id,
            "dry_run": identity.dry_run,
            **fields,
        }
    if "dry_run" in fields:
        fields["dry_run"] = bool(fields["dry_run"])
    return ResultData(outcome, **fields)


def rejected(
    errors: Iterable[Detail], *, warnings: Iterable[ErrorDetail] = (), identity: Identity | None = None, **fields: Any
) -> ResultData:
    """A request refused before anything was changed."""
    details = [e if isinstance(e, ErrorDetail) else ErrorDetail.from_dict(e) for e in errors]
    return new_result_data("rejected", identity, errors=details, warnings=list(warnings), **fields)


def failure_data(
    error: ErrorDetail, *, retryable: bool = False, identity: Identity | None = None, **fields: Any
) -> ResultData:
    """A ``failed`` result for one error."""
    return new_result_data("failed", identity, errors=[error], retryable=retryable, **fields)


def result_event(
    data: ResultData | dict[str, Any],
    *,
    function: str,
    now: datetime | float,
    event_id: str | None = None,
    meta: EventMeta | None = None,
) -> dict[str, Any]:
    """Wrap ``data`` as a CloudEvent from ``urn:sgguard:function:<function>``.

    ``type`` is ``com.sgguard.<function>.<outcome>``; ``subject`` is the server id
    when known; ``time`` is ``now`` (aware, or epoch seconds) in RFC 3339 UTC with milliseconds.
    """
    if isinstance(data, ResultData):
        data = data.to_dict(meta)
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise ValueError(f"data has unknown outcome {outcome!r}")
    if not _compiled(_FUNCTION_NAME).match(function):
        raise ValueError(f"function name {function!r} must match {_FUNCTION_NAME}")
    event = {
        "specversion": "1.0",
        "id": event_id or _uuid4_hex(),
        "source": f"urn:sgguard:function:{function}",
        "type": f"com.sgguard.{function}.{outcome}",
        "time": format_epoch(now) if isinstance(now, (int, float)) else format_timestamp(now, milliseconds=True),
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


@functools.lru_cache(maxsize=2048)  # a result's key names repeat in every result: checked once each
def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    if lowered in _SECRET_NAME_EXACT or lowered.endswith("_sk"):
        return True
    if lowered.isascii():  # the pattern's case-insensitive match of ASCII text is a plain substring test
        return any(part in lowered for part in _SECRET_NAME_PARTS)
    return bool(_compiled(_SECRET_NAME_PART, re.IGNORECASE).search(lowered))  # "ſecret" (long s) too


_CONTAINERS = (dict, list, tuple)


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
                out[key] = redact(value) if isinstance(value, _CONTAINERS) else value  # a scalar: itself
        return out
    if isinstance(obj, (list, tuple)):
        return [redact(item) for item in obj]
    return obj


def to_log_line(event: object) -> str:
    """One compact JSON line (redacted) for the function log."""
    line = json.dumps(redact(event), ensure_ascii=False, separators=(",", ":"), default=str)
    # Characters some readers treat as line breaks must not split one result into two lines.
    return line.translate(_LINE_BREAKS)

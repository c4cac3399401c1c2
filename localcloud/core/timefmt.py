"""Timestamps as the emulated APIs print them: the one place localcloud formats a time.

Every API localcloud serves prints UTC in RFC 3339 with a ``Z`` suffix (never ``+00:00``: the
Huawei Cloud SDK parses a datetime as ``value + "Z"`` unless it already ends with ``Z``, so an
offset would not parse); they differ only in the precision:

* :func:`iso_seconds` ``2024-05-01T12:00:00Z``: VPC and address groups (``created_at`` /
  ``updated_at``), EventGrid, FunctionGraph, ECS servers (``created``, ``updated``, ``fault``),
  the ``time`` of an HC.ECS CloudEvent;
* :func:`iso_millis` ``2024-05-01T12:00:00.123Z``: ECS jobs (``begin_time`` / ``end_time``),
  SMN messages, the runtime's execution log;
* :func:`iso_or_none`: either, ``None`` for ``None`` (ECS fields not set yet).

``ts`` is seconds since the epoch (``time.time()`` or the backend's clock). Both variants round
``ts`` to the microsecond once, so ``iso_seconds(ts)`` is always ``iso_millis(ts)`` without its
fraction.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["iso_seconds", "iso_millis", "iso_or_none", "parse_iso_seconds"]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def iso_seconds(ts: float) -> str:
    """``2024-05-01T12:00:00Z``."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ts: float) -> str:
    """``2024-05-01T12:00:00.123Z`` (milliseconds truncated, not rounded)."""
    moment = _utc(ts)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_or_none(ts: float | None, *, millis: bool = False) -> str | None:
    if ts is None:
        return None
    return iso_millis(ts) if millis else iso_seconds(ts)


def parse_iso_seconds(text: str) -> float:
    """Seconds since the epoch of ``2024-05-01T12:00:00Z`` (a seed's times); ValueError otherwise."""
    if not (isinstance(text, str) and text.endswith("Z")):
        raise ValueError(f"not an RFC 3339 UTC time: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc).timestamp()

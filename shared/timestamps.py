"""RFC 3339 timestamps in UTC: the one formatter and parser of ``shared``.

Time itself is never read here: callers pass ``now`` from the injected clock (``shared.clock``).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = ["format_timestamp", "parse_timestamp"]

_RFC3339_UTC = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z\Z")


def format_timestamp(dt: datetime, *, milliseconds: bool = False) -> str:
    """RFC 3339 UTC text: ``2026-11-28T21:00:00Z`` (or ``...:00.123Z``)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format_timestamp needs a timezone-aware datetime")
    utc = dt.astimezone(timezone.utc)
    if milliseconds:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: object) -> datetime | None:
    """Aware UTC datetime from RFC 3339 ``...Z`` text (up to 9 fraction digits), or None."""
    if not isinstance(text, str):
        return None
    match = _RFC3339_UTC.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    if second == 60:  # leap second: RFC 3339 allows it, datetime does not
        second = 59
    try:
        return datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=timezone.utc)
    except ValueError:
        return None

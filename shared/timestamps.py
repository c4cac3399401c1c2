"""RFC 3339 timestamps in UTC: the one formatter and parser of ``shared``.

Time itself is never read here: callers pass ``now`` from the injected clock (``shared.clock``).
"""

from __future__ import annotations

import re
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["format_epoch", "format_timestamp", "parse_timestamp", "parse_cloud_time"]

# Patterns as text, compiled on first use by re's own cache: a result's time is formatted, never parsed,
# on most paths, and compiling them costs every cold start.
_RFC3339_UTC = r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z\Z"
# ISO 8601 as the cloud APIs write it: ``2019-05-22T03:19:19Z`` (ECS ``created``), with an offset, or
# with none (``launched_at``: ``2019-05-22T03:23:59.000000``, UTC); ASCII digits only
_CLOUD_TIME = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|z|[+-][0-9]{2}:?[0-9]{2})?\Z"
)


def format_epoch(seconds: float) -> str:
    """RFC 3339 UTC text with milliseconds of epoch ``seconds``: the same text as
    ``format_timestamp(datetime.fromtimestamp(seconds, timezone.utc), milliseconds=True)``, with
    :mod:`time` only (a result event's time: ``datetime`` costs every cold start ~1 ms)."""
    micros = round(seconds * 1_000_000)  # as datetime rounds a timestamp: to the microsecond, half even
    whole, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{fraction // 1000:03d}Z"


def format_timestamp(dt: datetime, *, milliseconds: bool = False) -> str:
    """RFC 3339 UTC text: ``2026-11-28T21:00:00Z`` (or ``...:00.123Z``)."""
    from datetime import timezone  # here, not at import: see format_epoch

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
    from datetime import datetime, timezone

    match = re.match(_RFC3339_UTC, text)
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


def parse_cloud_time(text: object) -> datetime | None:
    """Aware UTC datetime from a cloud API's ISO 8601 time (``Z``, ``+08:00`` / ``+0800``, or no
    offset: UTC, as ECS writes ``launched_at``), or None for anything else (a missing or malformed
    time is the caller's to judge, never guessed)."""
    if not isinstance(text, str):
        return None
    from datetime import datetime, timedelta, timezone

    match = re.match(_CLOUD_TIME, text.strip(), re.ASCII)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    zone = match.group(8) or "Z"
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= timedelta(hours=24) or int(digits[2:]) >= 60:
            return None
        offset = -offset if zone[0] == "-" else offset
    if second == 60:
        second = 59
    try:
        local = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=timezone(offset))
    except ValueError:
        return None
    return local.astimezone(timezone.utc)

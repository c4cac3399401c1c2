"""The shapes of the ids sgguard checks before an id goes into a URL or a result.

Kept apart from :mod:`shared.model` (which re-exports them): a trace that is not a creation is
checked with these and never needs the model's dataclasses (cold start). The checks are string
methods, not regular expressions: nothing is compiled at import; ``UUID_RE`` / ``SAFE_ID_RE`` (the
same shapes as patterns, for messages and callers that want one) are compiled on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

__all__ = ["UUID_PATTERN", "SAFE_ID_PATTERN", "is_uuid", "is_safe_id"]  # and UUID_RE, SAFE_ID_RE (module __getattr__)

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"  # \Z: no "id\n"
SAFE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z"  # request and trace ids echoed in results

_HEX = frozenset("0123456789abcdef")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_SAFE = _ALNUM | frozenset("._:-")
_UUID_DASHES = (8, 13, 18, 23)


def is_safe_id(value: object) -> bool:
    """``SAFE_ID_PATTERN``: 1-128 ASCII letters, digits, ``._:-``, starting with a letter or digit."""
    return isinstance(value, str) and 0 < len(value) <= 128 and value[0] in _ALNUM and _SAFE.issuperset(value)


def is_uuid(value: object) -> bool:
    """``UUID_PATTERN``: 8-4-4-4-12 lower-case hex digits."""
    return (
        isinstance(value, str)
        and len(value) == 36
        and all(value[i] == "-" for i in _UUID_DASHES)
        and _HEX.issuperset(value[:8] + value[9:13] + value[14:18] + value[19:23] + value[24:])
    )


def __getattr__(name: str) -> re.Pattern[str]:
    if name in ("UUID_RE", "SAFE_ID_RE"):
        import re

        pattern = re.compile(UUID_PATTERN if name == "UUID_RE" else SAFE_ID_PATTERN)
        globals()[name] = pattern
        return pattern
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Error vocabulary shared by every function.

An :class:`ErrorDetail` is the unit of bad news: a stable machine-readable
``code`` from :class:`ErrorCode`, a human ``message`` and a JSON ``path``
(``$`` is the root, e.g. ``$.change.security_groups[0].id``) telling where in
the request the problem is. Result events carry lists of them, so they must be
plain, JSON-serialisable and free of secrets.

"""

from __future__ import annotations

import re

from shared.records import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = [
    "ErrorCode",
    "ErrorDetail",
    "excerpt",
    "format_json_path",
]


class ErrorCode:
    """Stable error and warning codes (plain strings, safe to compare and log)."""

    # Message decoding and envelope problems.
    INVALID_JSON = "INVALID_JSON"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    UNKNOWN_ENVELOPE = "UNKNOWN_ENVELOPE"
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"

    # Authenticity and replay.
    SIGNATURE_REQUIRED = "SIGNATURE_REQUIRED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNATURE_EXPIRED = "SIGNATURE_EXPIRED"
    SIGNING_KEY_RETIRING = "SIGNING_KEY_RETIRING"  # a warning: signed with a key id RETIRING_SIGNING_KEYS lists
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    IN_PROGRESS = "IN_PROGRESS"  # the same request is being processed right now
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"  # the same request id with other content
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"  # more requests in one call than MAX_REQUESTS_PER_CALL
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"  # the shared idempotency store did not answer: nothing was done
    SERVER_LOCKED = "SERVER_LOCKED"  # another instance kept the server's read-modify-write lock too long
    CONTINUATION_EXPIRED = "CONTINUATION_EXPIRED"  # a continuation older than REPLAY_WINDOW_S: nothing done
    BEHIND_RETRY = "BEHIND_RETRY"  # retry lane: not started, the server's earlier message failed retryably
    DEAD_LETTERED = "DEAD_LETTERED"  # the async retry policy gave up: the message went to the dead-letter topic

    # Organisation scale (TARGETS): which account, region and project; credentials per target.
    TARGET_NOT_ALLOWED = "TARGET_NOT_ALLOWED"  # a request's target is not one of TARGETS: nothing read or written
    AGENCY_MISSING = "AGENCY_MISSING"  # the member account has no such agency (STS AssumeAgency: 404)
    ACCESS_DENIED = "ACCESS_DENIED"  # assuming the member agency was refused: trust, external id, policy (403)
    ASSUME_FAILED = "ASSUME_FAILED"  # AssumeAgency failed otherwise (bad request, throttled, unreachable)
    DISCOVERY_FAILED = "DISCOVERY_FAILED"  # TARGETS discover: Organizations ListAccounts refused or failed
    EVENT_TARGET_UNKNOWN = "EVENT_TARGET_UNKNOWN"  # with TARGETS: an event's account / project missing or malformed

    # Resolving the target and the groups.
    SERVER_NOT_FOUND = "SERVER_NOT_FOUND"
    NIC_NOT_FOUND = "NIC_NOT_FOUND"
    SECURITY_GROUP_NOT_FOUND = "SECURITY_GROUP_NOT_FOUND"
    SECURITY_GROUP_AMBIGUOUS = "SECURITY_GROUP_AMBIGUOUS"

    # Policy decisions.
    PROTECTED_GROUP = "PROTECTED_GROUP"
    GROUP_NOT_ALLOWED = "GROUP_NOT_ALLOWED"
    TOO_MANY_GROUPS = "TOO_MANY_GROUPS"
    RISKY_RULE = "RISKY_RULE"
    PORT_SECURITY_DISABLED = "PORT_SECURITY_DISABLED"  # error or warning, by policy
    EMPTY_GROUP_LIST = "EMPTY_GROUP_LIST"
    REORDER_MISMATCH = "REORDER_MISMATCH"

    # Execution.
    CLOUD_ERROR = "CLOUD_ERROR"
    TIMEOUT = "TIMEOUT"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    VERIFY_FAILED = "VERIFY_FAILED"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"  # the port changed under the change: re-planned, then given up (retryable)
    INTERNAL_ERROR = "INTERNAL_ERROR"

    # Configuration.
    CONFIG_INVALID = "CONFIG_INVALID"
    POLICY_INVALID = "POLICY_INVALID"

    # Warnings.
    SOFT_LIMIT_EXCEEDED = "SOFT_LIMIT_EXCEEDED"
    EXEMPTION_EXPIRED = "EXEMPTION_EXPIRED"  # a policy exemption ran out: the policy applies again
    NOT_READY = "NOT_READY"  # a new server did not become ready in time
    NOT_A_NEW_SERVER = "NOT_A_NEW_SERVER"  # a creation event for a server created before CREATION_MAX_AGE_S
    RECENTLY_ADDED = "RECENTLY_ADDED"  # sg_drift kept a group a recent sgguard change added
    OWN_CHANGE = "OWN_CHANGE"  # a trace of sgguard's own change: skipped, to the log only by default
    UNSUPPORTED_TRIGGER = "UNSUPPORTED_TRIGGER"
    NOT_ATTACHED = "NOT_ATTACHED"  # a group to remove is not on the interface

    @classmethod
    def all(cls) -> frozenset[str]:
        """Every defined code (handy for schema enums and tests)."""
        return frozenset(value for name, value in vars(cls).items() if name.isupper() and isinstance(value, str))


@record(frozen=True)
class ErrorDetail:
    """One problem: what (``code``), why (``message``) and where (``path``)."""

    code: str
    message: str
    path: str = "$"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "path": self.path}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorDetail:
        return cls(str(data["code"]), str(data["message"]), str(data.get("path", "$")))

    def __str__(self) -> str:
        return f"{self.code} at {self.path}: {self.message}"


# Member names that need no quoting in a JSON path: `$.name` rather than `$['name']`.
_PLAIN_MEMBER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def excerpt(value: object, limit: int = 80) -> str:
    """``repr``-like text of ``value`` cut to ``limit`` characters.

    Messages may echo user input; this keeps a huge or hostile value from
    bloating logs and result events.
    """
    if isinstance(value, str) and len(value) > limit * 4:
        value = value[: limit * 4]  # don't repr() a megabyte just to cut it
    text = repr(value)
    if len(text) > limit:
        text = text[: max(limit - 3, 1)] + "..."
    return text


def format_json_path(parts: Iterable[str | int], *, max_member_length: int = 64) -> str:
    """Build ``$.a.b[0]`` from path parts; odd member names become ``['..']``.

    Member names come from user input (unknown properties), so they are cut to
    ``max_member_length`` characters and quoted, keeping the path unambiguous.
    """
    out = ["$"]
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
            continue
        name = str(part)
        if _PLAIN_MEMBER.match(name) and len(name) <= max_member_length:
            out.append(f".{name}")
            continue
        if len(name) > max_member_length:
            name = name[:max_member_length] + "..."
        escaped = name.replace("\\", "\\\\").replace("'", "\\'")
        escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
        out.append(f"['{escaped}']")
    return "".join(out)

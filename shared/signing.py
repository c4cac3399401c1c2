"""Request authenticity: HMAC-SHA256 signatures of change requests and of outgoing results.

A change request is signed by its producer with a shared secret::

    value = hex(HMAC-SHA256(secret, timestamp + "." + canonical_json(request - "signature")))

and carries ``{"signature": {"key_id", "timestamp", "value"}}`` (canonical JSON:
:mod:`shared.canonical_json`; timestamps: :mod:`shared.timestamps`; replays:
:mod:`shared.idempotency`). The same HMAC scheme, with its own keys and the prefix
``sgguard-result-v1.``, signs outgoing webhooks (``X-Signature`` header).

Time is always injected (``now``); nothing here reads the clock.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.canonical_json import CanonicalJsonError, canonical_json
from shared.errors import ErrorCode, ErrorDetail, excerpt
from shared.timestamps import parse_timestamp

__all__ = [
    "RESULT_SIGNATURE_PREFIX",
    "SIGNATURE_HEADER",
    "compute_signature",
    "sign_payload_headers",
    "sign_request",
    "unsigned_canonical",
    "verify_payload_headers",
    "verify_request_signature",
]

SIGNATURE_HEADER = "X-Signature"
RESULT_SIGNATURE_PREFIX = b"sgguard-result-v1."  # signed before a webhook's timestamp and body
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
_HEADER_PATH = f"$.headers['{SIGNATURE_HEADER}']"


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _skew_error(timestamp: object, now: datetime, max_skew_s: int, path: str) -> ErrorDetail | None:
    signed_at = parse_timestamp(timestamp)
    if signed_at is None:
        message = f"signature timestamp {excerpt(timestamp)} is not RFC 3339 UTC (like 2026-11-28T21:00:00Z)"
    else:
        skew = int((signed_at - now).total_seconds())
        if abs(skew) <= max_skew_s:
            return None
        when = f"{skew} s in the future" if skew > 0 else f"{-skew} s old"
        message = f"signature timestamp is {when}; at most {max_skew_s} s of skew allowed"
    return ErrorDetail(ErrorCode.SIGNATURE_EXPIRED, message, path)


def _check_signing_args(key_id: str, timestamp: str) -> None:
    if not _KEY_ID.match(key_id):
        raise ValueError(f"key_id {excerpt(key_id)} must match {_KEY_ID.pattern}")
    if parse_timestamp(timestamp) is None:
        raise ValueError(f"timestamp {excerpt(timestamp)} must be RFC 3339 UTC ending with Z")


def _secret_for(key_id: str, keys: Mapping[str, str]) -> str | None:
    return keys.get(key_id) if keys else None


# Stands in for an unknown key, so that an unknown key id costs the same HMAC as a known one.
_NO_SECRET = "\x00unknown-key\x00"


def _authentic(
    key_id: str, keys: Mapping[str, str], timestamp: str, payload: bytes, provided: str, prefix: bytes = b""
) -> bool:
    """HMAC check in which an unknown key id and a wrong value are indistinguishable (no key oracle)."""
    secret = _secret_for(key_id, keys)
    expected = compute_signature(secret or _NO_SECRET, timestamp, payload, prefix=prefix)
    return _matches(expected, provided) and secret is not None


def _matches(expected_hex: str, provided: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str, and input is untrusted.
    return hmac.compare_digest(expected_hex.encode("ascii"), provided.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- request signatures


def compute_signature(secret: str, timestamp: str, payload: bytes, *, prefix: bytes = b"") -> str:
    """Lowercase hex HMAC-SHA256(secret, prefix + timestamp + "." + payload)."""
    message = prefix + timestamp.encode("utf-8") + b"." + payload
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _unsigned(request: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in request.items() if key != "signature"}


def unsigned_canonical(request: Mapping[str, Any]) -> bytes:
    """The bytes a request's signature covers: its canonical JSON without ``signature``.
    Raises CanonicalJsonError."""
    return canonical_json(_unsigned(request))


def sign_request(request: dict[str, Any], *, key_id: str, secret: str, timestamp: str) -> dict[str, Any]:
    """Copy of ``request`` with ``signature`` set (any previous signature is replaced)."""
    _check_signing_args(key_id, timestamp)
    signed = copy.deepcopy(_unsigned(request))
    value = compute_signature(secret, timestamp, canonical_json(signed))
    signed["signature"] = {"key_id": key_id, "timestamp": timestamp, "value": value}
    return signed


def verify_request_signature(
    request: object,
    *,
    keys: Mapping[str, str],
    now: datetime,
    max_skew_s: int = 300,
    required: bool = True,
    canonical: bytes | None = None,
) -> list[ErrorDetail]:
    """Errors proving ``request`` is not authentic; empty list when it is (or may go unsigned).

    Checks, in order: presence, key id, timestamp window (+-``max_skew_s``), HMAC.
    Stops at the first failure. Messages never contain secrets or expected values.
    ``canonical``: :func:`unsigned_canonical` of ``request``, when the caller made it already.
    """
    _require_aware(now)
    if not isinstance(request, Mapping):
        return [ErrorDetail(ErrorCode.SIGNATURE_INVALID, "request is not a JSON object")]
    signature = request.get("signature")
    if signature is None:
        if required:
            return [ErrorDetail(ErrorCode.SIGNATURE_REQUIRED, "request must be signed", "$.signature")]
        return []
    if not isinstance(signature, Mapping):
        return [ErrorDetail(ErrorCode.SIGNATURE_INVALID, "signature must be an object", "$.signature")]
    for field in ("key_id", "timestamp", "value"):
        if not isinstance(signature.get(field), str):
            return [
                ErrorDetail(ErrorCode.SIGNATURE_INVALID, f"signature {field} must be a string", f"$.signature.{field}")
            ]
    expired = _skew_error(signature["timestamp"], now, max_skew_s, "$.signature.timestamp")
    if expired:
        return [expired]
    try:
        payload = canonical if canonical is not None else canonical_json(_unsigned(request))
    except CanonicalJsonError as exc:
        return [ErrorDetail(ErrorCode.SIGNATURE_INVALID, f"request cannot be canonicalised: {exc.reason}", exc.path)]
    if not _authentic(signature["key_id"], keys, signature["timestamp"], payload, signature["value"]):
        # The same answer for an unknown (or removed) key id: a caller must not learn which key ids
        # exist. Naming the key id it sent tells nothing new, and shows a sender still on a retired key.
        message = f"signature does not match the request for key id {excerpt(signature['key_id'], 72)}"
        return [ErrorDetail(ErrorCode.SIGNATURE_INVALID, message, "$.signature.value")]
    return []


# --------------------------------------------------------------------------- webhook headers


def sign_payload_headers(body: bytes, *, key_id: str, secret: str, timestamp: str) -> dict[str, str]:
    """``{"X-Signature": "keyId=..,timestamp=..,value=<hex HMAC(secret, 'sgguard-result-v1.' + ts + '.' + body)>"}``.

    The prefix keeps the two schemes apart: a signed change request read off a queue is never a
    valid signed result, even under a shared secret.
    """
    _check_signing_args(key_id, timestamp)
    value = compute_signature(secret, timestamp, bytes(body), prefix=RESULT_SIGNATURE_PREFIX)
    return {SIGNATURE_HEADER: f"keyId={key_id},timestamp={timestamp},value={value}"}


def _parse_signature_header(text: str) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or name in fields:
            return None
        fields[name] = value
    if set(fields) != {"keyId", "timestamp", "value"}:
        return None
    return fields


def verify_payload_headers(
    body: bytes,
    headers: Mapping[str, str],
    *,
    keys: Mapping[str, str],
    now: datetime,
    max_skew_s: int = 300,
) -> list[ErrorDetail]:
    """Counterpart of :func:`sign_payload_headers`; header name is case-insensitive."""
    _require_aware(now)
    header = next(
        (
            value
            for name, value in (headers or {}).items()
            if isinstance(name, str) and name.lower() == SIGNATURE_HEADER.lower()
        ),
        None,
    )
    if header is None:
        return [ErrorDetail(ErrorCode.SIGNATURE_REQUIRED, f"{SIGNATURE_HEADER} header is missing", _HEADER_PATH)]
    fields = _parse_signature_header(header) if isinstance(header, str) else None
    if fields is None:
        return [
            ErrorDetail(
                ErrorCode.SIGNATURE_INVALID,
                f"{SIGNATURE_HEADER} must look like keyId=..,timestamp=..,value=..",
                _HEADER_PATH,
            )
        ]
    expired = _skew_error(fields["timestamp"], now, max_skew_s, _HEADER_PATH)
    if expired:
        return [expired]
    if not _authentic(
        fields["keyId"], keys, fields["timestamp"], bytes(body), fields["value"], prefix=RESULT_SIGNATURE_PREFIX
    ):
        return [ErrorDetail(ErrorCode.SIGNATURE_INVALID, "signature does not match the body", _HEADER_PATH)]
    return []

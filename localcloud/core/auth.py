"""Verification of the SDK-HMAC-SHA256 request signature, as ``huaweicloudsdkcore`` signs it.

The canonical request is rebuilt from what arrived on the wire (method, raw path, raw query,
signed headers, body) so that any tampering in transit, or a wrong SK, breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote

from .errors import Unauthorized

__all__ = ["SignedRequest", "parse_authorization", "verify_signature", "canonical_request"]

_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<ak>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),\s*"
    r"Signature=(?P<sig>[0-9a-f]+)$"
)
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_EMPTY_HASH = hashlib.sha256(b"").hexdigest()
# The SDK stamps X-Sdk-Date with the client's clock; accept the same skew as the real gateway.
MAX_CLOCK_SKEW_S = 15 * 60


class SignedRequest:
    """The parts of an ``Authorization`` header."""

    def __init__(self, ak: str, signed_headers: list[str], signature: str):
        self.ak = ak
        self.signed_headers = signed_headers
        self.signature = signature


def _encode(value: str) -> str:
    return quote(value, safe="~")


def parse_authorization(header: str | None) -> SignedRequest:
    if not header:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: Authorization header missing")
    match = _AUTH_RE.match(header.strip())
    if not match:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: malformed Authorization header")
    return SignedRequest(match["ak"], match["headers"].split(";"), match["sig"])


def canonical_request(
    method: str, raw_path: str, raw_query: str, headers: dict[str, str], signed_headers: list[str], body: bytes
) -> str:
    segments = [_encode(part) for part in unquote(raw_path).split("/")]
    uri = "/".join(segments)
    if not uri.endswith("/"):
        uri += "/"
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    lowered = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered.get(name, '').strip()}\n" for name in signed_headers)
    content_hash = lowered.get("x-sdk-content-sha256")
    if not content_hash:
        content_hash = hashlib.sha256(body).hexdigest() if body else _EMPTY_HASH
    return "\n".join([method.upper(), uri, query, canonical_headers, ";".join(signed_headers), content_hash])


def verify_signature(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    secret_for,
    now: datetime | None = None,
) -> str:
    """Check the request's signature; return the access key. ``secret_for(ak)`` returns the SK or None."""
    signed = parse_authorization(headers.get("Authorization") or headers.get("authorization"))
    lowered = {k.lower(): v for k, v in headers.items()}
    date_value = lowered.get("x-sdk-date")
    if not date_value:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: X-Sdk-Date missing")
    try:
        signed_at = datetime.strptime(date_value, _DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: bad X-Sdk-Date") from None
    now = now or datetime.now(timezone.utc)
    if abs((now - signed_at).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: request expired")
    if "host" not in signed.signed_headers:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: host not signed")
    secret = secret_for(signed.ak)
    if secret is None:
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: unknown access key")
    canonical = canonical_request(method, raw_path, raw_query, headers, signed.signed_headers, body)
    string_to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (date_value, hashlib.sha256(canonical.encode()).hexdigest())
    expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        raise Unauthorized("APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail")
    return signed.ak

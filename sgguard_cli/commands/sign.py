"""``sgguard sign``: sign a change request with a key read from a file or standard input."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UsageError
from ..request_checks import MIN_SECRET_CHARS, check_request, check_secret

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "read_secret", "MIN_SECRET_CHARS"]

SUMMARY = 'sign a change request (HMAC-SHA256, README "Signing") with a secret from a file or stdin'
DETAILS = """
The same as scripts/sign_request.sh, through shared.signing.sign_request: value = hex
HMAC-SHA256(secret, timestamp + "." + canonical JSON of the request without "signature"). The secret
is read from --secret-file (default $SECRET_FILE), else $SGGUARD_SIGNING_SECRET, else standard input
— never from the command line, where the process list would show it. Line breaks are removed from
it. Before signing, the request is checked against the change-request schema (every error with its
JSON path) and the key with the functions' rule for REQUEST_SIGNING_KEYS: what the functions would
reject is never signed. The signed request is printed (JSON). Exit status: 0 signed, 2 usage (no key
id, an empty secret or one the functions refuse - under 16 characters -, an unreadable or invalid
request).
"""
EPILOG = """
examples:
  sgguard sign --key-id ticketing-1 --secret-file /run/secrets/sgguard request.json > signed.json
  sgguard sign --key-id ticketing-1 request.json < secret.txt > signed.json
  KEY_ID=ticketing-1 SECRET_FILE=secret.txt sgguard sign request.json     # the shell recipe's variables
"""


def add_arguments(parser) -> None:
    parser.add_argument("request", metavar="REQUEST.json", help="the change request (JSON file)")
    parser.add_argument("--key-id", help="the key id (default: $KEY_ID)")
    parser.add_argument(
        "--secret-file",
        metavar="FILE",
        help="file holding the secret, '-' for stdin (default: $SECRET_FILE, else $SGGUARD_SIGNING_SECRET, else stdin)",
    )
    parser.add_argument("--timestamp", help="RFC 3339 UTC timestamp to sign with (default: $TIMESTAMP, else now)")


def read_secret(path: str) -> str:
    """The secret in a file ('-': standard input), line breaks removed (as the shell recipe does)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"secret file {path}: {error.strerror}") from None
    return text.replace("\r", "").replace("\n", "")


def run(args, ctx) -> int:
    from shared.canonical_json import CanonicalJsonError
    from shared.signing import sign_request

    key_id = args.key_id or ctx.environ.get("KEY_ID")
    if not key_id:
        raise UsageError("give --key-id (or set KEY_ID)")
    secret_file = args.secret_file or ctx.environ.get("SECRET_FILE")
    if secret_file:
        secret = read_secret(secret_file)
    elif ctx.environ.get("SGGUARD_SIGNING_SECRET"):
        secret = ctx.environ["SGGUARD_SIGNING_SECRET"]
    else:
        secret = read_secret("-")
    check_secret(key_id, secret)
    try:
        request = json.loads(Path(args.request).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"request {args.request}: {error}") from None
    check_request(request, args.request)
    timestamp = (
        args.timestamp or ctx.environ.get("TIMESTAMP") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    try:
        signed = sign_request(request, key_id=key_id, secret=secret, timestamp=timestamp)
    except (CanonicalJsonError, ValueError) as error:
        raise UsageError(f"request {args.request}: {error}") from None
    ctx.out(json.dumps(signed, indent=2, ensure_ascii=False))
    return 0

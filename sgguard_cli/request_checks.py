"""What ``sgguard sign`` and ``sgguard submit`` check before anything is signed or sent: the request
against the change-request schema (``shared/schemas/``, the functions' own validator), and the
signing secret with the rule the functions apply to ``REQUEST_SIGNING_KEYS`` (``shared.config``).

Both raise :class:`~sgguard_cli.errors.UsageError` (exit 2) with every problem and its JSON path,
so a request the functions would reject as ``INVALID_REQUEST`` never reaches a queue, and a secret
they would refuse at start-up never signs anything.

    from sgguard_cli.request_checks import check_request, check_secret
    check_request(request, "req.json")     # before signing: the signature is not part of the judgement
    check_secret("ticketing-1", secret)
"""

from __future__ import annotations

import json
from typing import Any

from .errors import UsageError

__all__ = ["check_request", "check_secret", "MIN_SECRET_CHARS", "MAX_LISTED_ERRORS"]

MIN_SECRET_CHARS = 16  # shared/config.py's rule for REQUEST_SIGNING_KEYS (check_secret asks it)
MAX_LISTED_ERRORS = 10


def check_request(request: Any, source: str) -> None:
    """Refuse ``request`` (from ``source``, for the message) unless it is a valid change request."""
    from shared.validation import validate_change_request

    if not isinstance(request, dict):
        raise UsageError(f"request {source}: not one JSON object")
    errors = validate_change_request(request)
    if not errors:
        return
    listed = "; ".join(f"{error.path}: {error.message}" for error in errors[:MAX_LISTED_ERRORS])
    more = f" (+{len(errors) - MAX_LISTED_ERRORS} more)" if len(errors) > MAX_LISTED_ERRORS else ""
    raise UsageError(f"request {source} is not a valid change request, the functions would reject it: {listed}{more}")


def check_secret(key_id: str, secret: str) -> None:
    """Refuse a key id or secret the functions would refuse in ``REQUEST_SIGNING_KEYS``."""
    from shared.config import ConfigError, load_settings
    from shared.signing import sign_request

    if not secret:
        raise UsageError("empty secret (--secret-file, SECRET_FILE, SGGUARD_SIGNING_SECRET or standard input)")
    if len(secret) < MIN_SECRET_CHARS:  # the clearest words for the commonest case
        raise UsageError(
            f"the secret has {len(secret)} characters; the functions accept signing secrets of at least "
            f"{MIN_SECRET_CHARS} (REQUEST_SIGNING_KEYS), so nothing signed with it would verify"
        )
    try:
        load_settings(None, {"REQUEST_SIGNING_KEYS": json.dumps({key_id: secret})})
        sign_request({}, key_id=key_id, secret=secret, timestamp="2026-01-01T00:00:00Z")  # the key id's rule
    except ConfigError as error:
        raise UsageError(
            f"the functions would refuse this key ({error.message}): nothing signed with it would verify"
        ) from None
    except ValueError:
        raise UsageError(f"key id {key_id!r}: 1 to 64 letters, digits, '.', '_' or '-'") from None

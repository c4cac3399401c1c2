"""AssumeAgency: the caller's account must be the one the agency trusts, with its external id.

Issued credentials belong to the agency's account (``Credential.domain_id``), carry the session
name (CTS in the member account shows it) and expire after ``duration_seconds``.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any

from localcloud.core.accounts import AGENCY_DURATION_LIMITS

from . import errors

__all__ = ["assume_agency"]

_URN = re.compile(r"^iam::(?P<domain>[0-9a-f]{32}):agency:(?P<name>[A-Za-z0-9+/=_-]{1,64})$")
_SESSION = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,128}$")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")


def _field(body: dict, name: str, pattern: re.Pattern[str], required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise errors.invalid_parameter(name, "missing or malformed")
    return value


def assume_agency(backend: Any, caller: Any, body: Any) -> dict:
    """The AssumeAgency answer for ``caller`` (a state.Credential), or a typed error."""
    if not isinstance(body, dict):
        raise errors.invalid_parameter("body", "must be a JSON object")
    urn = _field(body, "agency_urn", _URN)
    assert urn is not None
    session = _field(body, "agency_session_name", _SESSION)
    external_id = _field(body, "external_id", _EXTERNAL_ID, required=False)
    low, high, temporary_cap = AGENCY_DURATION_LIMITS
    duration = body.get("duration_seconds", 3600)
    if isinstance(duration, bool) or not isinstance(duration, int) or not low <= duration <= high:
        raise errors.invalid_parameter("duration_seconds", f"must be an integer within {low}..{high}")
    if caller.security_token is not None and duration > temporary_cap:
        raise errors.duration_too_long(temporary_cap)
    match = _URN.fullmatch(urn)
    assert match is not None
    directory = backend.directory
    agency = directory.agency(match["domain"], match["name"])
    if agency is None:
        raise errors.agency_not_found(urn)
    caller_account = caller.domain_id or directory.owner_of(caller.project_id)
    if caller_account is None or caller_account != agency.trusted_domain_id:
        raise errors.not_trusted(urn)
    if agency.external_id is not None and external_id != agency.external_id:
        raise errors.external_id_mismatch(urn)
    if duration > agency.max_duration_s:
        raise errors.duration_too_long(agency.max_duration_s)
    expires_at = backend.clock() + duration
    credential = backend.add_credential(
        "TMP" + secrets.token_hex(10).upper(),
        secrets.token_urlsafe(30),
        "",
        security_token=secrets.token_urlsafe(48),
        expires_at=expires_at,
        domain_id=agency.domain_id,
    )
    credential.agency, credential.session_name = agency.name, session
    expiration = datetime.fromtimestamp(expires_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "credentials": {
            "access_key_id": credential.ak,
            "secret_access_key": credential.sk,
            "security_token": credential.security_token,
            "expiration": expiration,
        },
        "assumed_agency": {
            "urn": f"sts::{agency.domain_id}:assumed-agency:{agency.name}/{session}",
            "id": f"{agency.agency_id}:{session}",
        },
    }

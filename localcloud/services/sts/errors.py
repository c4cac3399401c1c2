"""Every STS error the emulator raises, in one place.

Provenance: the body ``{"request_id", "error_code", "error_msg"}`` is the IAM5/STS error body the
API reference shows (fields error_code, error_msg; ``encoded_authorization_message`` only on
IAM5 authorisation errors, left out here). The rules are the SDK model's
(``huaweicloudsdksts.v1.AssumeAgencyReqBody``: URN of 5 parts, session name 2..128 of
``[A-Za-z0-9_+=,.@-]``, external id 2..1224, duration 900..43200, at most 3600 with
``X-Security-Token``). The codes and statuses are chosen: the documented error-code table was
not checked (``docs/organisation.md``): 400 bad parameter, 403 trust / external id / caller,
404 no such agency.
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, Forbidden, NotFound

__all__ = [
    "BODY_INVALID",
    "invalid_parameter",
    "agency_not_found",
    "not_trusted",
    "external_id_mismatch",
    "duration_too_long",
]

BODY_INVALID = "STS.0001"  # also a body that is not JSON


def invalid_parameter(name: str, why: str) -> BadRequest:
    return BadRequest(BODY_INVALID, f"Invalid parameter {name}: {why}")


def agency_not_found(urn: str) -> NotFound:
    return NotFound("STS.0004", f"The agency {urn} does not exist.")


def not_trusted(urn: str) -> Forbidden:
    return Forbidden("STS.0003", f"You are not authorized to assume the agency {urn}.")


def external_id_mismatch(urn: str) -> Forbidden:
    return Forbidden("STS.0003", f"You are not authorized to assume the agency {urn}: external_id does not match.")


def duration_too_long(limit: int) -> BadRequest:
    return BadRequest("STS.0002", f"Invalid parameter duration_seconds: at most {limit} for this caller.")

"""Every IAM error the emulator raises, in one place (body: ``{"error_code": "IAM.XXXX", "error_msg"}``).

Provenance (IAM API reference, "Error Codes"; the agency and custom-policy pages):
  verified  the body shape (IAM's 403 example) and the ``IAM.`` prefix of the codes.
  chosen    the exact codes below: IAM's error-code table lists many agency/role codes, but which
            one each case answers was not confirmed — verify on a real account.
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, Conflict, Forbidden, NotFound

__all__ = ["invalid", "agency_exists", "agency_not_found", "role_not_found", "permission_not_found", "listing_denied"]


def invalid(detail: str) -> BadRequest:
    return BadRequest("IAM.0001", f"Invalid parameter: {detail}")


def agency_exists(name: str) -> Conflict:
    return Conflict("IAM.0008", f"The agency {name} already exists.")


def agency_not_found() -> NotFound:
    return NotFound("IAM.0004", "Could not find agency.")


def role_not_found() -> NotFound:
    return NotFound("IAM.0004", "Could not find role.")


def permission_not_found() -> NotFound:
    return NotFound("IAM.0004", "The agency has not been granted this role on the project.")


def listing_denied() -> Forbidden:
    """KeystoneListProjects of another account's projects, or by a caller of no account (IAM's 403 body)."""
    return Forbidden("IAM.0003", "Policy doesn't allow iam:projects:list to be performed.")

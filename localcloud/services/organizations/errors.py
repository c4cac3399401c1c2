"""Every Organizations error the emulator raises, in one place.

Provenance: the body ``{"request_id", "error_code", "error_msg"}`` is the shape the Organizations
API reference's error pages use (as STS/IAM5); the parameter rules are the ListAccounts page's
(``parent_id`` ``^(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{8,32})$``; ``limit`` default 1000, at most 200
with ``with_register_contact_info``). The codes and statuses are chosen (docs/fidelity.md,
"assumed"): 400 bad parameter, 403 a caller that is neither the management account nor a
delegated administrator (or of no organisation), 404 an unknown parent.
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, Forbidden, NotFound

__all__ = ["invalid_parameter", "not_administrator", "parent_not_found"]


def invalid_parameter(name: str, why: str) -> BadRequest:
    return BadRequest("Organizations.1001", f"Invalid parameter {name}: {why}")


def not_administrator() -> Forbidden:
    return Forbidden(
        "Organizations.1003",
        "This operation can be called only from the organization's management account "
        "or from a member account that is a delegated administrator.",
    )


def parent_not_found(parent_id: str) -> NotFound:
    return NotFound("Organizations.1004", f"The parent {parent_id} does not exist.")

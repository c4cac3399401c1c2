"""Every CTS error the emulator raises, in one place (body: ``{"error_code": "CTS.XXX", "error_msg"}``).

Provenance (CTS API reference, "Querying All Operations on a Cloud Service" cts_api_0332 and
"Querying a Trace List": 400/401/403 bodies are ``{"error_code": "CTS.XXX", "error_msg"}``):
  verified  the body shape and the ``CTS.`` prefix of the codes.
  chosen    CTS.0001 for a bad query parameter (``resource_type`` without ``service_type``: the
            page says service_type is then mandatory; a ``limit`` or time outside its range), the
            exact code of each case is not documented in what we checked; CTS.0005 (400) for a second
            system tracker (CTS allows one per project; the code is not confirmed).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest

__all__ = ["BAD_REQUEST", "bad_query", "control_usage", "tracker_exists"]

BAD_REQUEST = "CTS.0001"


def bad_query(detail: str) -> BadRequest:
    return BadRequest(BAD_REQUEST, f"Invalid parameter: {detail}")


def control_usage(usage: str) -> BadRequest:
    """A control-API body localcloud cannot read (``LocalCloud.CTS``: localcloud's own code)."""
    return BadRequest("LocalCloud.CTS", usage)


def tracker_exists() -> BadRequest:
    return BadRequest("CTS.0005", "The tracker already exists.")

"""The DMS for Kafka errors the message route raises (DMS renders ``{"error_code", "error_msg"}``).

Provenance (DMS for Kafka API reference, "Error Codes"): verified DMS.00400004 "The request body is
empty." and DMS.00400005 "The message body is not in JSON format or contains invalid characters."
(both 400). Chosen: DMS.00400005 also for a missing topic, body or property_list and for an
``action_id`` other than ``send`` (the page names no finer code for them).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest

__all__ = ["body_empty", "body_invalid"]


def body_empty() -> BadRequest:
    return BadRequest("DMS.00400004", "The request body is empty.")


def body_invalid(detail: str) -> BadRequest:
    message = "The message body is not in JSON format or contains invalid characters"
    return BadRequest("DMS.00400005", f"{message}: {detail}")

"""Every DMS for Kafka error the emulator raises (body: ``{"error_code": "DMS.XXXXXXXX", "error_msg"}``).

Provenance (Kafka API reference, "Error Codes"):
  verified  the body shape and the ``DMS.`` prefix; DMS.00400005 (body not JSON or a field invalid).
  chosen    DMS.00404022 for an unknown instance and DMS.00400827 for a topic that exists already
            (the table's entries for these cases were not confirmed — verify on a real account).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, NotFound

__all__ = ["invalid", "instance_not_found", "topic_exists", "control_usage"]


def invalid(detail: str) -> BadRequest:
    return BadRequest(
        "DMS.00400005", f"The message body is not in JSON format or contains invalid characters: {detail}"
    )


def instance_not_found() -> NotFound:
    return NotFound("DMS.00404022", "The instance does not exist.")


def topic_exists(name: str) -> BadRequest:
    return BadRequest("DMS.00400827", f"The topic {name} already exists.")


def control_usage(usage: str) -> BadRequest:
    return BadRequest("LocalCloud.DMS", usage)

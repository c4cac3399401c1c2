"""Every SMN error the emulator raises, in one place.

SMN's own error body is ``{"request_id", "code", "message"}`` (API reference, "Exception
Response"); the routes render it themselves (see :func:`.routes._smn_errors`).

Provenance (SMN API reference, "Error Codes"):
  verified  SMN.0005 "Parameter: TopicUrn is invalid." (400), SMN.0006 "Topic not found." (404),
            SMN.0021 "MessageStructure is invalid." (400), SMN.0230 "Parameter: Invalid title." (400),
            SMN.0002 "Parameter: Name is invalid." (400), SMN.0011 / SMN.0012 protocol / endpoint
            invalid (400).
  chosen    SMN.0008 for a missing, oversized or non-string message and for invalid
            message_attributes / time_to_live (the exact codes are not documented in what we
            checked); the rules themselves are the SDK models' (PublishMessageRequestBody,
            MessageAttribute, SubscriptionsFilterPolicy).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, NotFound

__all__ = [
    "MESSAGE_INVALID",
    "topic_not_found",
    "topic_urn_invalid",
    "message_invalid",
    "subject_invalid",
    "message_structure_invalid",
    "name_invalid",
    "protocol_invalid",
    "endpoint_invalid",
    "control_usage",
]

MESSAGE_INVALID = "SMN.0008"  # also a publish body that is not JSON


def topic_not_found() -> NotFound:
    return NotFound("SMN.0006", "Topic not found.")


def topic_urn_invalid() -> BadRequest:
    return BadRequest("SMN.0005", "Parameter: TopicUrn is invalid.")


def message_invalid(detail: str) -> BadRequest:
    return BadRequest(MESSAGE_INVALID, f"Parameter: message is invalid. {detail}")


def subject_invalid() -> BadRequest:
    return BadRequest("SMN.0230", "Parameter: Invalid title.")


def message_structure_invalid() -> BadRequest:
    return BadRequest("SMN.0021", "MessageStructure is invalid.")


def name_invalid() -> BadRequest:
    return BadRequest("SMN.0002", "Parameter: Name is invalid.")


def protocol_invalid() -> BadRequest:
    return BadRequest("SMN.0011", "Parameter: Protocol is invalid.")


def endpoint_invalid() -> BadRequest:
    return BadRequest("SMN.0012", "Parameter: Endpoint is invalid.")


def control_usage(usage: str) -> BadRequest:
    """A control-API body localcloud cannot read (``LocalCloud.SMN``: localcloud's own code)."""
    return BadRequest("LocalCloud.SMN", usage)

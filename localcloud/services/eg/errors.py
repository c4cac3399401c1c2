"""Every EG error the emulator raises, in one place (body: ``{"request_id", "error_code", "error_msg"}``).

Provenance (EG API reference, response examples of the channel APIs and "Error Codes"):
  verified  EG.00014000 "Bad request" (400), EG.00014040 "Not request resource found" (404),
            EG.00015000 "Internal Server Error" (500), EG.00513001 "name duplicated" (400),
            EG.00513000 "invalid parameters" (400).
  chosen    which of EG.00014000 / EG.00513000 a given validation failure of PutEvents returns
            (EG.00014000 for a malformed body or event, as in the API's examples), and the
            per-event error of an event whose ``source`` is not a custom event source of the
            channel (EG.00513000 in ``events[]`` of a 200 answer).
  chosen    EG.00014030 (403): a forwarding into another account's channel that does not admit it
            (no public page lists the answer; localcloud/runtime/forwarding.py records it).
  doc       the limits: 64 KB per event, 256 KB and 20 events per request; ``datacontenttype``
            application/json only (user guide, "Events").
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, NotFound

BAD_REQUEST = "EG.00014000"
NOT_FOUND = "EG.00014040"
INVALID_PARAMETERS = "EG.00513000"
NAME_DUPLICATED = "EG.00513001"
FORBIDDEN = "EG.00014030"


def bad_request(detail: str) -> BadRequest:
    return BadRequest(BAD_REQUEST, f"Bad request: {detail}")


def channel_not_found(channel_id: str) -> NotFound:
    return NotFound(NOT_FOUND, f"Not request resource found: channel {channel_id}")


def invalid_parameters(detail: str) -> BadRequest:
    return BadRequest(INVALID_PARAMETERS, f"invalid parameters: {detail}")


def name_duplicated(name: str) -> BadRequest:
    return BadRequest(NAME_DUPLICATED, f"name duplicated: {name}")


def control_usage(usage: str) -> BadRequest:
    """A control-API body localcloud cannot read (``LocalCloud.EG``: localcloud's own code)."""
    return BadRequest("LocalCloud.EG", usage)

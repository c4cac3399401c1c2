"""Every FunctionGraph error the emulator raises, with the vendor code it carries, in one place.

The routes render them as ``{"error_code": "FSS.xxxx", "error_msg"}``
(``localcloud.core.errors.render_error``, style ``fgs``; the body is the SDK's
``ServiceResponseException`` parsing).

Provenance (docs/fidelity.md: FunctionGraph's codes are assumed unless named here):
  real      FSS.1011 "zip: not a valid zip file", the answer to a broken code package.
  assumed   FSS.1051 "Not found the function" (404); FSS.0400 for every other invalid request,
            with a message that names the field (the real per-field codes are not all
            documented); FSS.0403 for the CTS trigger quota (400); FSS.0404 for a missing
            trigger, dependency or async invoke config; FSS.0409 for a function or trigger that
            already exists; FSS.0413 for an async invocation over 256 KB (400).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, Conflict, NotFound

__all__ = [
    "INVALID",
    "invalid",
    "bad_zip",
    "function_not_found",
    "function_exists",
    "trigger_exists",
    "trigger_quota",
    "trigger_not_found",
    "dependency_not_found",
    "async_config_not_found",
    "async_request_too_large",
]

INVALID = "FSS.0400"
QUOTA = "FSS.0403"
NOT_FOUND = "FSS.0404"
EXISTS = "FSS.0409"
TOO_LARGE = "FSS.0413"
BAD_ZIP = "FSS.1011"
FUNCTION_NOT_FOUND = "FSS.1051"


def invalid(message: str) -> BadRequest:
    """An invalid request body or parameter; ``message`` names the field."""
    return BadRequest(INVALID, message)


def bad_zip(entry: str | None = None) -> BadRequest:
    detail = f" (bad entry {entry})" if entry is not None else ""
    return BadRequest(BAD_ZIP, f"zip: not a valid zip file{detail}")


def function_not_found() -> NotFound:
    return NotFound(FUNCTION_NOT_FOUND, "Not found the function")


def function_exists(name: str) -> Conflict:
    return Conflict(EXISTS, f"The function {name} already exists.")


def trigger_exists() -> Conflict:
    return Conflict(EXISTS, "The trigger already exists.")


def trigger_quota() -> BadRequest:
    return BadRequest(QUOTA, "The maximum number of CTS triggers (10 per project) has been reached.")


def trigger_not_found(trigger_id: str) -> NotFound:
    return NotFound(NOT_FOUND, f"Not found the trigger {trigger_id}")


def dependency_not_found(depend_id: str) -> NotFound:
    return NotFound(NOT_FOUND, f"Not found the dependency {depend_id}")


def async_config_not_found() -> NotFound:
    return NotFound(NOT_FOUND, "The async invoke config of the function does not exist.")


def async_request_too_large() -> BadRequest:
    return BadRequest(TOO_LARGE, "The async invocation request is larger than 256 KB.")

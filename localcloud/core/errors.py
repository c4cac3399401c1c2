"""Typed emulator errors and the one place that renders them as each service's real error body.

Models raise ``CloudError`` subclasses; they never build HTTP bodies. The server renders an error
with the *style* of the route that was called, because the same fault (say "port not found")
looks different on VPC v1 (``{"code", "message"}``), VPC v3 (``{"request_id", "error_code",
"error_msg"}``) and ECS (``{"error": {"code", "message"}}``).
"""

from __future__ import annotations

__all__ = [
    "CloudError",
    "NotFound",
    "BadRequest",
    "Conflict",
    "QuotaExceeded",
    "Unauthorized",
    "Forbidden",
    "Throttled",
    "InternalError",
    "ServiceUnavailable",
    "render_error",
    "ERROR_STYLES",
]

ERROR_STYLES = ("ecs", "vpc1", "vpc3", "apigw", "fgs", "eg", "smn", "iam")


class CloudError(Exception):
    """An API error with the HTTP status and the vendor error code it maps to."""

    status = 400
    fault: str  # set only on an injected fault (the request log names it); read with getattr

    def __init__(self, code: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


class BadRequest(CloudError):
    status = 400


class Unauthorized(CloudError):
    status = 401


class Forbidden(CloudError):
    status = 403


class NotFound(CloudError):
    status = 404


class Conflict(CloudError):
    status = 409


class QuotaExceeded(CloudError):
    status = 400


class Throttled(CloudError):
    status = 429


class InternalError(CloudError):
    status = 500


class ServiceUnavailable(CloudError):
    status = 503


def render_error(error: CloudError, style: str, request_id: str) -> dict:
    """Return the JSON body the real service sends for ``error``."""
    if style == "ecs":
        return {"error": {"code": error.code, "message": error.message}}
    if style == "vpc1":
        return {"code": error.code, "message": error.message}
    if style == "smn":
        return {"request_id": request_id, "code": error.code, "message": error.message}
    if style in ("vpc3", "apigw", "eg"):
        return {"request_id": request_id, "error_code": error.code, "error_msg": error.message}
    if style in ("fgs", "iam", "cts"):  # iam: IAM's documented 403 body, {"error_code": "IAM.0003", "error_msg"}
        return {"error_code": error.code, "error_msg": error.message}
    raise ValueError(f"unknown error style {style!r}")

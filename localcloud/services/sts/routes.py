"""STS API routes (path and body from ``huaweicloudsdksts/v1/sts_client.py``'s
``_assume_agency_http_info`` and ``AssumeAgencyReqBody``).

``POST /v5/agencies/assume`` ``{"agency_urn", "agency_session_name", "duration_seconds",
"external_id"?}`` -> 200 ``{"credentials": {access_key_id, secret_access_key, security_token,
expiration}, "assumed_agency": {urn, id}}``; errors as ``{"request_id", "error_code", "error_msg"}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from .errors import BODY_INVALID
from .models import assume_agency as _assume

__all__ = ["router"]

router = Router("sts", "vpc3")  # vpc3's style is the {request_id, error_code, error_msg} body


@router.route("POST", "/v5/agencies/assume")
def assume_agency(ctx: ApiContext):
    return 200, _assume(ctx.backend, ctx.credential, ctx.json(BODY_INVALID))

"""Organizations API routes (path and query from ``huaweicloudsdkorganizations/v1/organizations_client.py``'s
``_list_accounts_http_info``; fields from the ListAccounts API reference and the SDK's ``AccountDto``).

``GET /v1/organizations/accounts?parent_id=&with_register_contact_info=&limit=&marker=`` -> 200
``{"accounts": [{id, urn, join_method, status, joined_at, name}], "page_info": {next_marker, current_count}}``;
errors as ``{"request_id", "error_code", "error_msg"}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from .models import list_accounts as _list

__all__ = ["router"]

router = Router("organizations", "vpc3")  # vpc3's style is the {request_id, error_code, error_msg} body


@router.route("GET", "/v1/organizations/accounts")
def list_accounts(ctx: ApiContext):
    directory = ctx.backend.directory
    credential = ctx.credential
    caller = credential.domain_id or directory.owner_of(credential.project_id)
    answer = _list(
        directory,
        caller,
        parent_id=ctx.arg("parent_id"),
        limit=ctx.int_arg("limit", code="Organizations.1001"),
        marker=ctx.arg("marker"),
        contacts=ctx.arg("with_register_contact_info"),
    )
    return 200, answer

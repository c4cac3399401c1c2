"""IAM routes (path and query from ``huaweicloudsdkiam/v3/iam_client.py``'s
``_keystone_list_projects_http_info``: ``domain_id``, ``name``, ``parent_id``, ``enabled``,
``page``, ``per_page``).

``GET /v3/projects`` -> 200 ``{"links": {"self", "previous", "next"}, "projects": [{id, name,
domain_id, parent_id, enabled, is_domain, description, links}]}``: the projects of the caller's
account only; a ``domain_id`` of another account answers IAM's 403 ``{"error_code", "error_msg"}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from .errors import listing_denied

__all__ = ["router"]

router = Router("iam", "iam")


@router.route("GET", "/v3/projects")
def keystone_list_projects(ctx: ApiContext):
    directory = ctx.backend.directory
    credential = ctx.credential
    account = credential.domain_id or directory.owner_of(credential.project_id)
    asked = ctx.arg("domain_id")
    if account is None or (asked is not None and asked != account):
        raise listing_denied()
    name, parent = ctx.arg("name"), ctx.arg("parent_id")
    page, per_page = max(ctx.int_arg("page", 1), 1), min(max(ctx.int_arg("per_page", 5000), 1), 5000)
    records = [
        r
        for r in directory.projects_of(account)
        if (name is None or r.name == name) and (parent in (None, r.parent_id))
    ]
    shown = records[(page - 1) * per_page : page * per_page]
    base = "https://iam.myhuaweicloud.com/v3/projects"
    more = len(records) > page * per_page
    return 200, {
        "links": {
            "self": base,
            "previous": None,
            "next": f"{base}?page={page + 1}&per_page={per_page}" if more else None,
        },
        "projects": [
            {
                "id": r.project_id,
                "name": r.name,
                "domain_id": r.domain_id,
                "parent_id": r.parent_id,
                "enabled": True,
                "is_domain": False,
                "description": "",
                "links": {"self": f"{base}/{r.project_id}"},
            }
            for r in shown
        ],
    }

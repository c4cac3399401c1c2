"""IAM API routes (paths and queries from ``huaweicloudsdkiam/v3/iam_client.py``'s ``_*_http_info``;
bodies from the IAM API reference):

``GET /v3/auth/domains`` -> ``{"domains": [{"id", "name", "enabled"}]}`` (KeystoneListAuthDomains;
the SDK calls it itself to find the account id of ``GlobalCredentials`` without one);
``POST /v3.0/OS-AGENCY/agencies`` ``{"agency": {...}}`` -> 201 ``{"agency"}`` (CreateAgency);
``GET /v3.0/OS-AGENCY/agencies?domain_id=&name=`` -> ``{"agencies": [...]}`` (ListAgencies);
``POST /v3.0/OS-ROLE/roles`` ``{"role": {...}}`` -> 201 ``{"role"}`` (CreateCloudServiceCustomPolicy);
``GET /v3.0/OS-ROLE/roles`` -> ``{"roles", "total_number", "links"}`` (ListCustomPolicies);
``PATCH /v3.0/OS-ROLE/roles/{role_id}`` -> ``{"role"}`` (UpdateCloudServiceCustomPolicy);
``PUT|HEAD /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}`` -> 204
(AssociateAgencyWithProjectPermission / CheckProjectPermissionForAgency);
``GET /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles`` -> ``{"roles"}``;
``GET /v3/projects?domain_id=&name=&parent_id=&page=&per_page=`` -> ``{"links", "projects": [{id,
name, domain_id, parent_id, enabled, is_domain, description, links}]}`` (KeystoneListProjects: the
caller's account's projects of every region; another account's ``domain_id`` answers IAM's 403).
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from .errors import listing_denied

__all__ = ["router"]

router = Router("iam", "iam")


def _iam(ctx: ApiContext):
    return ctx.project.service("iam")


@router.route("GET", "/v3/auth/domains")
def list_auth_domains(ctx: ApiContext):
    return 200, _iam(ctx).domains()


@router.route("POST", "/v3.0/OS-AGENCY/agencies")
def create_agency(ctx: ApiContext):
    return 201, _iam(ctx).create_agency(ctx.json("IAM.0001"))


@router.route("GET", "/v3.0/OS-AGENCY/agencies")
def list_agencies(ctx: ApiContext):
    return 200, _iam(ctx).list_agencies(ctx.arg("domain_id"), ctx.arg("name"))


@router.route("POST", "/v3.0/OS-ROLE/roles")
def create_custom_policy(ctx: ApiContext):
    return 201, _iam(ctx).create_role(ctx.json("IAM.0001"))


@router.route("GET", "/v3.0/OS-ROLE/roles")
def list_custom_policies(ctx: ApiContext):
    return 200, _iam(ctx).list_roles()


@router.route("PATCH", "/v3.0/OS-ROLE/roles/{role_id}")
def update_custom_policy(ctx: ApiContext):
    return 200, _iam(ctx).update_role(ctx.params["role_id"], ctx.json("IAM.0001"))


_GRANT = "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}"


@router.route("PUT", _GRANT)
def grant_on_project(ctx: ApiContext):
    _iam(ctx).grant(ctx.params["project_id"], ctx.params["agency_id"], ctx.params["role_id"])
    return 204, None


@router.route("HEAD", _GRANT)
def check_grant_on_project(ctx: ApiContext):
    _iam(ctx).check_grant(ctx.params["project_id"], ctx.params["agency_id"], ctx.params["role_id"])
    return 204, None


@router.route("GET", "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles")
def list_grants_on_project(ctx: ApiContext):
    return 200, _iam(ctx).list_grants(ctx.params["project_id"], ctx.params["agency_id"])


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

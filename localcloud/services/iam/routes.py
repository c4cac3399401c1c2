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
``GET /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles`` -> ``{"roles"}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

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

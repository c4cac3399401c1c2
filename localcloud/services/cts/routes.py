"""CTS API routes (paths and queries from ``huaweicloudsdkcts/v3/cts_client.py``'s
``_list_operations_http_info`` and ``_list_traces_http_info``; bodies from the API reference).

``GET /v3/{project_id}/operations?service_type=&resource_type=`` -> 200 ``{"operations":
[{"service_type", "resource_type", "operation_list"}]}`` (CTS API cts_api_0332).
``GET /v3/{project_id}/traces?trace_type=system&from=&to=&limit=&next=&service_type=...`` -> 200
``{"traces": [...], "meta_data": {"count", "marker"}}`` (SDK ``ListTracesResponse``, ``MetaData``).
``POST /v3/{project_id}/tracker`` ``{"tracker_type": "system", "tracker_name": "system"}`` -> 201
the tracker (CreateTracker); ``GET /v3/{project_id}/trackers?tracker_name=&tracker_type=`` -> 200
``{"trackers": [...]}`` (ListTrackers).
Errors render as ``{"error_code": "CTS.XXX", "error_msg"}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from . import errors
from .models import EXACT_FILTERS

__all__ = ["router"]

router = Router("cts", "cts")


@router.route("GET", "/v3/{project_id}/operations")
def list_operations(ctx: ApiContext):
    model = ctx.project.service("cts")
    return 200, model.list_operations(ctx.arg("service_type"), ctx.arg("resource_type"))


@router.route("GET", "/v3/{project_id}/traces")
def list_traces(ctx: ApiContext):
    query: dict[str, str | int | None] = {
        name: ctx.arg(name) for name in ("trace_type", *EXACT_FILTERS, "user", "next")
    }
    for name in ("limit", "from", "to"):
        query[name] = ctx.int_arg(name, None, errors.BAD_REQUEST)
    return 200, ctx.project.service("cts").list_traces(query)


@router.route("POST", "/v3/{project_id}/tracker")
def create_tracker(ctx: ApiContext):
    return 201, ctx.project.service("cts").create_tracker(ctx.json(errors.BAD_REQUEST))


@router.route("GET", "/v3/{project_id}/trackers")
def list_trackers(ctx: ApiContext):
    return 200, ctx.project.service("cts").list_trackers(ctx.arg("tracker_name"), ctx.arg("tracker_type"))

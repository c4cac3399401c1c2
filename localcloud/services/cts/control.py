"""Control routes of the CTS emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/cts/operations`` ``{"operations": [{"service_type", "resource_type",
"operation_list"}], "project_id"?}`` replaces the operation catalog ListOperations answers.
``POST /_localcloud/cts/traces`` ``{"traces": [trace, ...], "project_id"?}`` records traces as CTS
would (ListTraces answers them).
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext
from localcloud.core.state import DEFAULT_PROJECT_ID

from . import errors

__all__ = ["set_operations", "add_traces", "record_trace"]


def _body(ctx: ApiContext, key: str) -> tuple[str, object]:
    body = ctx.json() or {}
    if not isinstance(body, dict) or key not in body:
        raise errors.control_usage(f'send {{"{key}": [...], "project_id"?: "..."}}')
    return str(body.get("project_id") or DEFAULT_PROJECT_ID), body[key]


@control.route("POST", "/_localcloud/cts/operations")
def set_operations(ctx: ApiContext):
    project_id, operations = _body(ctx, "operations")
    with ctx.backend.lock:
        ctx.backend.project(project_id, create=True).service("cts").set_operations(operations)
    return 200, {"project_id": project_id}


@control.route("POST", "/_localcloud/cts/traces")
def add_traces(ctx: ApiContext):
    project_id, traces = _body(ctx, "traces")
    if not isinstance(traces, list) or not all(isinstance(t, dict) for t in traces):
        raise errors.control_usage('send {"traces": [{...}, ...]}')
    with ctx.backend.lock:
        model = ctx.backend.project(project_id, create=True).service("cts")
        for trace in traces:
            model.record(trace)
    return 200, {"project_id": project_id, "recorded": len(traces)}


def record_trace(project, trace: dict) -> None:
    """``cloud.trace`` listener (:func:`localcloud.app.start`): CTS records every trace a change made."""
    project.service("cts").record(trace)

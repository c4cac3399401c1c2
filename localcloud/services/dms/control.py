"""Control route of the DMS emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/dms/instances`` ``{"name", "instance_id"?, "status"?, "project_id"?}`` -> 201
``{"instance": {...}}``: an existing Kafka instance, as an administrator would have bought it
(bootstrap checks an instance, it never creates one).
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext
from localcloud.core.state import DEFAULT_PROJECT_ID

from . import errors

__all__ = ["create_instance"]


@control.route("POST", "/_localcloud/dms/instances")
def create_instance(ctx: ApiContext):
    body = ctx.json() or {}
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise errors.control_usage('send {"name": "...", "instance_id"?: "...", "project_id"?: "..."}')
    project_id = str(body.get("project_id") or DEFAULT_PROJECT_ID)
    with ctx.backend.lock:
        instance = (
            ctx.backend.project(project_id, create=True)
            .service("dms")
            .add_instance(body["name"], body.get("instance_id"), str(body.get("status") or "RUNNING"))
        )
    return 201, {"instance": instance}

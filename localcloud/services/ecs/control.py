"""Control routes of the ECS emulation (not a Huawei Cloud API; unsigned, under ``/_localcloud/``).

``POST /_localcloud/ecs/servers/{server_id}/status`` ``{"status": "ERROR", "task_state": null}``
forces a server's status (BUILD, ACTIVE, SHUTOFF, ERROR, REBOOT, ...). On a server still being
created, ACTIVE completes the creation now (job SUCCESS, ``ecs.server_created``) and ERROR fails it
(job FAIL); BUILD on an existing server leaves it in BUILD until it is forced again.
"""

from __future__ import annotations

from localcloud.control import control
from localcloud.core.routing import ApiContext

from . import errors
from .views import server_view

__all__ = ["force_server_status"]


def _find(backend, server_id: str, project_id: str | None):
    for state in list(backend.projects.values()):
        if project_id and state.project_id != project_id:
            continue
        model = state.service("ecs")
        if server_id in model.servers:
            return model
    raise errors.server_not_found(server_id)


@control.route("POST", "/_localcloud/ecs/servers/{server_id}/status")
def force_server_status(ctx: ApiContext):
    body = ctx.json() or {}
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        raise errors.status_invalid('send {"status": "ACTIVE" | "SHUTOFF" | "ERROR" | "BUILD" | ...}')
    task_state = body.get("task_state")
    if task_state is not None and not isinstance(task_state, str):
        raise errors.status_invalid("task_state must be a string")
    with ctx.backend.lock:
        model = _find(ctx.backend, ctx.params["server_id"], body.get("project_id"))
        server = model.force_status(ctx.params["server_id"], body["status"].upper(), task_state)
        return 200, {"server": server_view(model, server)}

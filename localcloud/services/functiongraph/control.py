"""Control route of the FunctionGraph emulation (not a Huawei Cloud API; unsigned).

``GET /_localcloud/functiongraph/invocations[?function=NAME][&project_id=ID]`` lists the
invocations every function received (sync and async, from the API or a trigger), oldest first:
``{"invocations": [{"project_id", "function", "func_urn", "seq", "request_id", "mode", "source",
"received_at", "payload"}]}`` (``seq`` orders arrivals across functions).
"""

from __future__ import annotations

from typing import Any

from localcloud.control import control
from localcloud.core.routing import ApiContext

__all__ = ["list_invocations"]


@control.route("GET", "/_localcloud/functiongraph/invocations")
def list_invocations(ctx: ApiContext):
    wanted_function, wanted_project = ctx.arg("function"), ctx.arg("project_id")
    found: list[dict[str, Any]] = []
    with ctx.backend.lock:
        for project_id, state in ctx.backend.projects_matching(wanted_project):
            model = state.service("functiongraph")
            for function in model.functions.values():
                if wanted_function and function.name != wanted_function:
                    continue
                found.extend(
                    {"project_id": project_id, "function": function.name, "func_urn": function.urn, **record}
                    for record in function.invocations
                )
    found.sort(key=lambda item: item["seq"])
    return 200, {"invocations": found}

"""The control API under ``/_localcloud/``: reset, seed, state, request log, faults, settings.

Not part of any Huawei Cloud API and not signed: it is how tests, the demo and the benchmarks
arrange and inspect the emulated cloud.
"""

from __future__ import annotations

from .core.errors import BadRequest
from .core.routing import ApiContext, Router
from .core.state import Settings
from .seed import load_seed

__all__ = ["control", "register_initial_seed"]

control = Router("control", "apigw")


@control.route("POST", "/_localcloud/reset")
def reset(ctx: ApiContext):
    """Back to the state the server started with (its start-up seed); ``{"empty": true}`` wipes all."""
    ctx.backend.reset()
    ctx.server.faults.clear()
    body = ctx.json() or {}
    summary = {}
    if not body.get("empty") and getattr(ctx.server, "initial_seed", None):
        summary = load_seed(ctx.backend, ctx.server.initial_seed)
    return 200, {"reset": True, "seeded": summary}


@control.route("POST", "/_localcloud/seed")
def seed(ctx: ApiContext):
    document = ctx.json()
    if not isinstance(document, dict):
        raise BadRequest("LocalCloud.InvalidSeed", "the seed must be a JSON object")
    return 200, load_seed(ctx.backend, document)


@control.route("GET", "/_localcloud/state")
def state(ctx: ApiContext):
    return 200, ctx.backend.snapshot()


@control.route("GET", "/_localcloud/requests")
def requests(ctx: ApiContext):
    since = ctx.int_arg("since", 0)
    return 200, {"requests": ctx.backend.requests(since)}


@control.route("POST", "/_localcloud/faults")
def add_faults(ctx: ApiContext):
    body = ctx.json() or {}
    specs = body.get("rules", [body]) if isinstance(body, dict) else body
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        raise BadRequest("LocalCloud.Fault", 'send a rule object, a list of rules or {"rules": [...]}')
    rules = [ctx.server.faults.add(spec).to_dict() for spec in specs]
    return 201, {"rules": rules}


@control.route("GET", "/_localcloud/faults")
def list_faults(ctx: ApiContext):
    return 200, {"rules": ctx.server.faults.list()}


@control.route("DELETE", "/_localcloud/faults")
def clear_faults(ctx: ApiContext):
    ctx.server.faults.clear()
    return 200, {"rules": []}


@control.route("POST", "/_localcloud/settings")
def update_settings(ctx: ApiContext):
    body = ctx.json() or {}
    known = set(vars(Settings()))
    unknown = set(body) - known
    if unknown:
        raise BadRequest("LocalCloud.Settings", f"unknown settings: {sorted(unknown)}; known: {sorted(known)}")
    with ctx.backend.lock:
        for key, value in body.items():
            if not isinstance(value, int) or value < 0:
                raise BadRequest("LocalCloud.Settings", f"{key} must be a non-negative integer")
            setattr(ctx.backend.settings, key, value)
    return 200, vars(ctx.backend.settings)


@control.route("POST", "/_localcloud/credentials/temporary")
def temporary_credentials(ctx: ApiContext):
    """Temporary AK/SK/security token for a project, as an agency would hand a function."""
    body = ctx.json() or {}
    project_id = body.get("project_id")
    if not project_id or ctx.backend.project(project_id) is None:
        raise BadRequest("LocalCloud.Credentials", "project_id of a seeded project is required")
    credential = ctx.backend.issue_temporary_credential(
        project_id, int(body.get("ttl_s", 3600)), body.get("agency", "sgguard-functions")
    )
    return 201, {
        "ak": credential.ak,
        "sk": credential.sk,
        "security_token": credential.security_token,
        "project_id": project_id,
        "expires_at": credential.expires_at,
    }


def register_initial_seed(server, document: dict | None) -> None:
    server.initial_seed = document

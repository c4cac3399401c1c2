"""FunctionGraph v2 API routes (paths and fields from ``huaweicloudsdkfunctiongraph/v2``'s
``*_http_info`` and model ``attribute_map``s). Errors render as ``{"error_code": "FSS.xxxx",
"error_msg": ...}``.

The SDK puts the function URN in the path quoted (``quote(urn, safe='')``: ``urn%3Afss%3A...``);
handlers unquote it. Invocation handlers run the invoker outside the state lock (see
:mod:`.models`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from localcloud.core.routing import ApiContext, Router

from . import errors
from . import validation as v
from .models import Function, FunctionGraphModel

__all__ = ["router", "config_view", "code_view"]

router = Router("functiongraph", "fgs")


def _model(ctx: ApiContext) -> FunctionGraphModel:
    return ctx.project.service("functiongraph")


def _function(ctx: ApiContext) -> Function:
    return _model(ctx).resolve(unquote(ctx.params["function_urn"]))


def _body(ctx: ApiContext) -> dict:
    body = ctx.json(errors.INVALID)
    if not isinstance(body, dict):
        raise v.bad("The request body must be a JSON object.")
    return body


def _common(ctx: ApiContext, f: Function) -> dict:
    return {
        "func_urn": f.urn,
        "func_name": f.name,
        "domain_id": ctx.project.project_id[:16],
        "runtime": f.runtime,
        "code_type": f.code_type,
        "code_url": "",
        "code_filename": f.code_filename,
        "code_size": len(f.code),
        "digest": f.digest,
        "last_modified": f.last_modified,
        "depend_version_list": list(f.depend_version_list),
        "depend_list": list(f.depend_version_list),
        "strategy_config": dict(f.strategy_config),
        "dependencies": [_dependency_view(d) for d in map(_model(ctx).dependency_version, f.depend_version_list) if d],
    }


def code_view(ctx: ApiContext, f: Function) -> dict:
    return {**_common(ctx, f), "func_code": {"file": "", "link": ""}}


def config_view(ctx: ApiContext, f: Function) -> dict:
    return {
        **_common(ctx, f),
        "func_id": f.func_id,
        "resource_id": f.func_id,
        "namespace": ctx.project.project_id,
        "project_name": ctx.project.name,
        "package": f.package,
        "timeout": f.timeout,
        "handler": f.handler,
        "memory_size": f.memory_size,
        "cpu": max(1, f.memory_size // 128) * 50,
        "user_data": f.user_data,
        "encrypted_user_data": f.encrypted_user_data,
        "version": "latest",
        "image_name": "latest",
        "xrole": f.xrole,
        "app_xrole": f.app_xrole,
        "description": f.description,
        "initializer_handler": f.initializer_handler,
        "initializer_timeout": f.initializer_timeout,
        **({"func_vpc": dict(f.func_vpc)} if f.func_vpc else {}),
        "enterprise_project_id": "0",
        "type": "v2",
        "long_time": f.timeout > 900,
    }


def _dependency_view(version: dict) -> dict:
    return {k: val for k, val in version.items() if k not in ("content", "sha256")}


def _trigger_view(trigger: dict, settings) -> dict:
    kind = trigger["trigger_type_code"]
    data = {
        k: val
        for k, val in trigger["event_data"].items()
        if k not in ("kafka_password", "access_password", "db_password")
        and (not settings.terse_trigger_answers or k in v.TRIGGER_REQUIRED.get(kind, ()))
    }
    if kind == "CTS" and settings.cts_operations_joined and isinstance(data.get("operations"), list):
        data["operations"] = v.join_operations(data["operations"])
    data["triggerid"] = trigger["trigger_id"]
    return {
        "trigger_id": trigger["trigger_id"],
        "trigger_type_code": trigger["trigger_type_code"],
        "trigger_status": trigger["trigger_status"],
        "event_data": data,
        "created_time": trigger["created_time"],
        "last_updated_time": trigger["last_updated_time"],
    }


def _async_view(f: Function) -> dict:
    config = f.async_config
    if config is None:
        raise errors.async_config_not_found()
    return {
        "func_urn": f.urn,
        "max_async_event_age_in_seconds": config["max_async_event_age_in_seconds"],
        "max_async_retry_attempts": config["max_async_retry_attempts"],
        "destination_config": config["destination_config"],
        "created_time": config["created_time"],
        "last_modified": config["last_modified"],
        "enable_async_status_log": config["enable_async_status_log"],
    }


# ---- functions -------------------------------------------------------------------------------
@router.route("POST", "/v2/{project_id}/fgs/functions")
def create_function(ctx: ApiContext):
    return 200, config_view(ctx, _model(ctx).create_function(_body(ctx)))


@router.route("GET", "/v2/{project_id}/fgs/functions")
def list_functions(ctx: ApiContext):
    functions = _model(ctx).list_functions(ctx.arg("package_name"), ctx.arg("func_name"))
    marker = ctx.int_arg("marker", 0, errors.INVALID)
    maxitems = ctx.int_arg("maxitems", 400, errors.INVALID)
    page = functions[marker : marker + maxitems]
    views = [
        {k: val for k, val in config_view(ctx, f).items() if k not in ("dependencies", "depend_list")} for f in page
    ]
    return 200, {"functions": views, "next_marker": marker + len(page), "count": len(functions)}


@router.route("GET", "/v2/{project_id}/fgs/functions/{function_urn}/config")
def show_function_config(ctx: ApiContext):
    return 200, config_view(ctx, _function(ctx))


@router.route("PUT", "/v2/{project_id}/fgs/functions/{function_urn}/config")
def update_function_config(ctx: ApiContext):
    function = _function(ctx)
    return 200, config_view(ctx, _model(ctx).update_config(function, _body(ctx)))


@router.route("GET", "/v2/{project_id}/fgs/functions/{function_urn}/code")
def show_function_code(ctx: ApiContext):
    return 200, code_view(ctx, _function(ctx))


@router.route("PUT", "/v2/{project_id}/fgs/functions/{function_urn}/code")
def update_function_code(ctx: ApiContext):
    function = _function(ctx)
    return 200, code_view(ctx, _model(ctx).update_code(function, _body(ctx)))


@router.route("DELETE", "/v2/{project_id}/fgs/functions/{function_urn}")
def delete_function(ctx: ApiContext):
    _model(ctx).delete_function(_function(ctx))
    return 204, None


# ---- async invoke config ---------------------------------------------------------------------
@router.route("GET", "/v2/{project_id}/fgs/functions/{function_urn}/async-invoke-config")
def show_async_invoke_config(ctx: ApiContext):
    return 200, _async_view(_function(ctx))


@router.route("PUT", "/v2/{project_id}/fgs/functions/{function_urn}/async-invoke-config")
def update_async_invoke_config(ctx: ApiContext):
    function = _function(ctx)
    _model(ctx).update_async_config(function, _body(ctx))
    return 200, _async_view(function)


@router.route("DELETE", "/v2/{project_id}/fgs/functions/{function_urn}/async-invoke-config")
def delete_async_invoke_config(ctx: ApiContext):
    function = _function(ctx)
    function.async_config = None
    return 204, None


# ---- triggers ----------------------------------------------------------------------------------
@router.route("POST", "/v2/{project_id}/fgs/triggers/{function_urn}")
def create_function_trigger(ctx: ApiContext):
    function = _function(ctx)
    return 201, _trigger_view(_model(ctx).create_trigger(function, _body(ctx)), ctx.backend.settings)


@router.route("GET", "/v2/{project_id}/fgs/triggers/{function_urn}")
def list_function_triggers(ctx: ApiContext):
    return 200, [_trigger_view(t, ctx.backend.settings) for t in _function(ctx).triggers.values()]


@router.route("GET", "/v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}")
def show_function_trigger(ctx: ApiContext):
    function = _function(ctx)
    return 200, _trigger_view(
        _model(ctx).trigger(function, ctx.params["trigger_type_code"], ctx.params["trigger_id"]), ctx.backend.settings
    )


@router.route("PUT", "/v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}")
def update_trigger(ctx: ApiContext):
    function = _function(ctx)
    trigger = _model(ctx).update_trigger(
        function, ctx.params["trigger_type_code"], ctx.params["trigger_id"], _body(ctx)
    )
    return 200, _trigger_view(trigger, ctx.backend.settings)


@router.route("DELETE", "/v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}")
def delete_function_trigger(ctx: ApiContext):
    function = _function(ctx)
    _model(ctx).delete_trigger(function, ctx.params["trigger_type_code"], ctx.params["trigger_id"])
    return 204, None


# ---- dependencies -------------------------------------------------------------------------------
@router.route("POST", "/v2/{project_id}/fgs/dependencies/version")
def create_dependency_version(ctx: ApiContext):
    return 200, _dependency_view(_model(ctx).create_dependency_version(_body(ctx)))


@router.route("GET", "/v2/{project_id}/fgs/dependencies")
def list_dependencies(ctx: ApiContext):
    name, runtime = ctx.arg("name"), ctx.arg("runtime")
    found = []
    for dependency in _model(ctx).dependencies.values():
        if (name and dependency["name"] != name) or (runtime and dependency["runtime"] != runtime):
            continue
        if dependency["versions"]:
            latest = dict(_dependency_view(dependency["versions"][-1]), id=dependency["id"])
            latest.pop("dep_id", None)
            found.append(latest)
    return 200, {"dependencies": found, "next_marker": len(found), "count": len(found)}


@router.route("GET", "/v2/{project_id}/fgs/dependencies/{depend_id}/version")
def list_dependency_version(ctx: ApiContext):
    dependency = _model(ctx).dependency(ctx.params["depend_id"])
    versions = [dict(_dependency_view(x), is_shared=False) for x in dependency["versions"]]
    return 200, {"dependencies": versions, "next_marker": len(versions), "count": len(versions)}


# ---- invocations --------------------------------------------------------------------------------
def _payload(ctx: ApiContext) -> Any:
    if not ctx.raw_body:
        return {}
    try:
        return json.loads(ctx.raw_body)
    except ValueError:
        raise v.bad("The request body is not valid JSON.") from None


def _outside_lock(backend, call):
    """Run ``call`` with the state lock released (the server holds it around every handler)."""
    state = backend.lock._release_save() if backend.lock._is_owned() else None
    try:
        return call()
    finally:
        if state is not None:
            backend.lock._acquire_restore(state)


@router.route("POST", "/v2/{project_id}/fgs/functions/{function_urn}/invocations")
def invoke_function(ctx: ApiContext):
    model = _model(ctx)
    invocation = model.receive(_function(ctx), _payload(ctx), "sync")
    invoker = model.invoker
    outcome = _outside_lock(ctx.backend, lambda: invoker(invocation)) if invoker else None
    outcome = outcome or {}
    result = outcome.get("result", "")
    if not isinstance(result, str):
        result = json.dumps(result)
    return 200, {
        "request_id": invocation.request_id,
        "result": result,
        "log": outcome.get("log", ""),
        "status": outcome.get("status", 200),
    }


@router.route("POST", "/v2/{project_id}/fgs/functions/{function_urn}/invocations-async")
def async_invoke_function(ctx: ApiContext):
    payload = _payload(ctx)
    if len(ctx.raw_body) > 256 * 1024:
        raise errors.async_request_too_large()
    model = _model(ctx)
    invocation = model.receive(_function(ctx), payload, "async")
    model.dispatch_async(invocation)
    return 202, {"request_id": invocation.request_id}

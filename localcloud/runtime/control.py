"""Control routes of the local runtime (not Huawei Cloud APIs; unsigned, under ``/_localcloud/``).

``GET  /_localcloud/functiongraph/executions?function=&project_id=&since=SEQ&request_id=``
       every execution (each attempt) with its status, result or error and ``log`` (the lines the
       handler printed: results are logged as one JSON line each); an async invocation's last
       attempt carries ``async`` {``condition``, ``approximate_invoke_count``, ``outcome``,
       ``destination``}.
``GET  /_localcloud/runtime``                 instances, pending work, cache directory.
``POST /_localcloud/runtime/wait``  ``{"timeout_s": 30}``  returns ``{"idle": true}`` once nothing
       is queued, running, waiting for a retry or left in a DMS backlog.
``POST /_localcloud/dms/topics/{topic}/messages``         Kafka (KAFKA triggers)
``POST /_localcloud/dms/exchanges/{exchange}/messages``   RabbitMQ (RABBITMQ triggers)
       ``{"messages": [str, ...], "instance_id"?: ..., "project_id"?: ...}`` -> 202 with the
       offsets and the triggers that will receive them.
``POST /_localcloud/functiongraph/timers/fire``  ``{"name"?: ...}`` invokes the TIMER triggers now.
``GET  /_localcloud/dms/topics[?messages=true]``  topics, exchanges, consumers and their batches.
"""

from __future__ import annotations

from urllib.parse import unquote

from localcloud.control import control
from localcloud.core.errors import BadRequest, CloudError
from localcloud.core.routing import ApiContext

__all__ = ["runtime_of"]


def runtime_of(ctx: ApiContext):
    runtime = getattr(ctx.backend, "_localcloud_runtime", None)
    if runtime is None:
        raise CloudError(
            "LocalCloud.NoRuntime",
            "the local FunctionGraph runtime is not installed (localcloud.runtime.install(cloud))",
            status=409,
        )
    return runtime


@control.route("GET", "/_localcloud/functiongraph/executions")
def list_executions(ctx: ApiContext):
    runtime = runtime_of(ctx)
    return 200, {
        "executions": runtime.executions(
            function=ctx.arg("function"),
            project_id=ctx.arg("project_id"),
            since=ctx.int_arg("since", 0) or 0,
            request_id=ctx.arg("request_id"),
        )
    }


@control.route("GET", "/_localcloud/runtime")
def runtime_status(ctx: ApiContext):
    runtime = runtime_of(ctx)
    return 200, {**runtime.status(), "dms_backlog": runtime.broker.backlog()}


@control.route("POST", "/_localcloud/runtime/wait")
def wait_idle(ctx: ApiContext):
    runtime = runtime_of(ctx)
    body = ctx.json() or {}
    timeout_s = body.get("timeout_s", 30) if isinstance(body, dict) else 30
    if not isinstance(timeout_s, (int, float)) or not 0 <= timeout_s <= 600:
        raise BadRequest("LocalCloud.Runtime", "timeout_s must be a number of seconds within 0..600")
    return 200, {"idle": runtime.wait_idle(float(timeout_s), extra=runtime.broker.backlog)}


def _publish(ctx: ApiContext, kind: str, name: str):
    runtime = runtime_of(ctx)
    body = ctx.json()
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not all(isinstance(m, str) for m in messages):
        raise BadRequest("LocalCloud.DMS", 'send {"messages": ["...", ...]} (strings; DMS messages are text)')
    for key in ("instance_id", "project_id"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise BadRequest("LocalCloud.DMS", f"{key} must be a string")
    return 202, runtime.broker.publish(
        kind, name, messages, instance_id=body.get("instance_id"), project_id=body.get("project_id")
    )


@control.route("POST", "/_localcloud/dms/topics/{topic}/messages")
def publish_kafka(ctx: ApiContext):
    return _publish(ctx, "KAFKA", unquote(ctx.params["topic"]))


@control.route("POST", "/_localcloud/dms/exchanges/{exchange}/messages")
def publish_rabbitmq(ctx: ApiContext):
    return _publish(ctx, "RABBITMQ", unquote(ctx.params["exchange"]))


@control.route("GET", "/_localcloud/dms/topics")
def list_topics(ctx: ApiContext):
    runtime = runtime_of(ctx)
    return 200, {"topics": runtime.broker.describe(with_messages=ctx.arg("messages") in ("1", "true"))}


@control.route("POST", "/_localcloud/functiongraph/timers/fire")
def fire_timers_now(ctx: ApiContext):
    """``{"name"?: trigger name}``: invoke every ACTIVE TIMER trigger (or the named one) now."""
    from .timers import fire_timers

    body = ctx.json() or {}
    return 202, {"fired": fire_timers(runtime_of(ctx), name=body.get("name"))}

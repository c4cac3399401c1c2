"""Triggers fired by other emulated services: CTS and EventGrid on server creation, SMN, EventGrid.

Listeners subscribe to the backend's events (published under the backend lock, from request or
timer threads) and only enqueue; the runtime's dispatcher thread then looks up the triggered
functions, records each invocation (``model.receive``, under the lock) and runs it asynchronously
(:meth:`LocalRuntime.run_async`: retries and destinations), as the platform invokes these triggers.

* ``ecs.server_created`` -> a CTS trace ``{"cts": {...}}`` (``trace_name`` ``createServer``,
  ``request`` / ``response`` as JSON strings, ``response`` = the ``createSingleServer`` sub-job)
  for every function with an ACTIVE CTS trigger
  whose ``operations`` list ``ECS:ecs:createServer``; and the same trace as a CloudEvent
  (``source`` ``HC.ECS``, ``type`` ``ECS:CloudTrace:ApiCall``) for every EVENTGRID trigger whose
  ``source_name`` is ``HC.ECS`` (and whose ``event_types``, when set, list that type) on the
  official channel (``channel_name`` ``default`` or none): a custom channel such as the central
  one of the member accounts gets only what subscriptions forward to it.
* ``cloud.trace`` (a port or rule change made through the API, :mod:`localcloud.services.vpc.traces`)
  -> the trace ``{"cts": {...}}`` for every ACTIVE CTS trigger whose ``operations`` list
  ``<service_type>:<resource_type>:<trace_name>`` (e.g. ``VPC:ports:updatePort``).
* ``smn.message_published`` -> the SMN event (``{"record": [{"smn": {...}}], ...}``) for every
  function with an SMN trigger on the topic, and every ``functionstage`` / ``functiongraph``
  subscription whose endpoint is a function URN (filter policies already applied by SMN).
* ``eg.events_published`` -> each CloudEvent, as it is, for every EVENTGRID trigger on that
  channel whose ``source_name`` is the event's ``source`` (and ``event_types``, when set, match).
* a creation's and a change's trace, as a cloud service event, through the project's EventGrid
  subscriptions to other channels, maybe another account's or region's (:mod:`.forwarding`).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from localcloud.core.timefmt import iso_seconds
from localcloud.services.functiongraph.validation import expand_operations

from .engine import LocalRuntime
from .forwarding import forward, service_event

__all__ = ["install_listeners", "cts_trace", "ecs_cloud_event", "smn_event", "CTS_TRACE_NAME"]

CTS_TRACE_NAME = "createServer"
ECS_EVENT_TYPE = "ECS:CloudTrace:ApiCall"
_FUNCTION_PROTOCOLS = ("functionstage", "functiongraph")


def _epoch_ms(value: Any, default: float) -> int:
    if isinstance(value, str) and value:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return int(default * 1000)


def cts_trace(
    project: Any, server: dict, job: dict | None, *, now: float | None = None, system_action: bool = False
) -> dict:
    """The CTS trace of a finished server creation, as the CTS trigger delivers it: ``createServer``
    (ApiCall) or, with ``system_action``, ``createSingleServer`` (SystemAction: CTS "Example Traces"),
    both carrying the finished sub-job with the server id."""
    from localcloud.services.vpc.traces import account_of

    now = time.time() if now is None else now
    job = job or {}
    domain = account_of(project)
    metadata = server.get("metadata") or {}
    request_server = {
        "name": server.get("name"),
        "flavorRef": (server.get("flavor") or {}).get("id"),
        "imageRef": (server.get("image") or {}).get("id"),
        "vpcid": metadata.get("vpc_id"),
        "availability_zone": server.get("OS-EXT-AZ:availability_zone"),
        "server_tags": [
            {"key": k, "value": v} for k, v in (item.partition("=")[::2] for item in server.get("tags") or [])
        ],
    }
    return {
        "trace_id": str(uuid.uuid4()),
        "trace_name": "createSingleServer" if system_action else CTS_TRACE_NAME,
        "trace_type": "SystemAction" if system_action else "ApiCall",
        "trace_rating": "normal",
        "tracker_name": "system",
        "service_type": "ECS",
        "resource_type": "ecs",
        "resource_id": server.get("id"),
        "resource_name": server.get("name"),
        "code": "200",
        "api_version": "v1.1",
        "source_ip": "127.0.0.1",
        "domain_id": domain,  # the account and project of the trace (CTS "Example Traces")
        "project_id": project.project_id,
        "time": _epoch_ms(job.get("begin_time"), now),
        "record_time": int(now * 1000),
        "user": (
            # the older example traces' form of a service acting for the account: no type
            {"name": f"{project.name}/op_service", "domain": {"name": project.name, "id": domain}}
            if system_action
            else {
                "type": "User",
                "name": "localcloud",
                "id": domain,
                "domain": {"name": project.name, "id": domain},
            }
        ),
        # CTS delivers request and response as JSON strings (CTS trace structure page).
        "request": json.dumps({"server": {k: v for k, v in request_server.items() if v not in (None, [])}}),
        "response": json.dumps(
            {
                "job_id": job.get("job_id"),
                "job_type": job.get("job_type") or "createSingleServer",
                "status": job.get("status") or "SUCCESS",
                "entities": {"server_id": server.get("id")},
            }
        ),
    }


def ecs_cloud_event(trace: dict) -> dict:
    """A cloud service event as EventGrid delivers it: a CloudEvent whose ``data`` is the trace
    (``type`` ``ECS:CloudTrace:<trace_type>``)."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "HC.ECS",
        "type": f"ECS:CloudTrace:{trace.get('trace_type') or 'ApiCall'}",
        "subject": trace.get("resource_id"),
        "time": iso_seconds(trace["record_time"] / 1000),
        "datacontenttype": "application/json",
        "data": trace,
    }


def _smn_text(message: dict) -> str:
    if message.get("message") is not None:
        return message["message"]
    structure = message.get("message_structure")
    if structure:
        try:
            parsed = json.loads(structure)
        except ValueError:
            parsed = {}
        for key in ("functionstage", "functiongraph", "default"):
            if isinstance(parsed.get(key), str):
                return parsed[key]
    return message.get("message_template_name") or ""


def smn_event(message: dict, subscription_urn: str, function_name: str) -> dict:
    """The SMN trigger event (``record[].smn``) of one published message."""
    attributes = {a["name"]: a["value"] for a in message.get("message_attributes") or []} or None
    return {
        "record": [
            {
                "event_version": "1.0",
                "smn": {
                    "topic_urn": message["topic_urn"],
                    "timestamp": message.get("published_at"),
                    "message": _smn_text(message),
                    "message_id": message.get("message_id"),
                    "subject": message.get("subject"),
                    "type": "notification",
                    "message_attributes": attributes,
                },
                "event_subscription_urn": subscription_urn,
                "event_source": "smn",
            }
        ],
        "functionname": function_name,
        "requestId": str(uuid.uuid4()),
        "timestamp": message.get("published_at"),
    }


class _Listener:
    """A backend listener that enqueues; ``reset`` (Backend.reset) resets the runtime once."""

    def __init__(self, runtime: LocalRuntime, kind: str, resets: bool = False):
        self.runtime = runtime
        self.kind = kind
        self.resets = resets

    def __call__(self, **payload: Any) -> None:
        self.runtime.enqueue(self.kind, **payload)

    def reset(self) -> None:
        if self.resets:
            self.runtime.reset()


def _fire(runtime: LocalRuntime, found: list) -> None:
    for invocation in found:
        runtime.spawn(runtime.run_async, invocation)


def _deliver_cts(model, trace: dict, operation: str) -> list:
    """The trace, queued for every function whose CTS trigger lists the operation."""
    return [
        model.receive(function, {"cts": trace}, "async", source=f"trigger:CTS:{trigger['trigger_id']}")
        for function, trigger in model.functions_with_trigger("CTS")
        if operation in expand_operations(trigger["event_data"].get("operations") or [])
    ]


def _on_server_created(runtime: LocalRuntime, payload: dict) -> None:
    backend = runtime.backend
    project = payload["project"]
    traces = [cts_trace(project, payload["server"], payload.get("job"))]
    if backend.settings.system_action_traces:  # the same creation, described twice
        traces.append(cts_trace(project, payload["server"], payload.get("job"), system_action=True))
    found = []
    with backend.lock:
        state = backend.project(project.project_id)
        if state is not project:  # reset since
            return
        model = state.service("functiongraph")
        for trace in traces:
            found.extend(_deliver_cts(model, trace, f"ECS:ecs:{trace['trace_name']}"))
            event = ecs_cloud_event(trace)
            for function, trigger in model.functions_with_trigger("EVENTGRID"):
                data = trigger["event_data"]
                types = data.get("event_types") or []
                # the project's own cloud service events reach its official channel ``default`` only:
                # a custom channel (the central one of the member accounts) gets what is forwarded to it
                official = (data.get("channel_name") or "default") == "default"
                if official and data.get("source_name") == "HC.ECS" and (not types or event["type"] in types):
                    found.append(
                        model.receive(
                            function,
                            dict(event, id=str(uuid.uuid4())),
                            "async",
                            source=f"trigger:EVENTGRID:{trigger['trigger_id']}",
                        )
                    )
    _fire(runtime, found)
    for trace in traces:  # the member-side subscriptions: to a central channel, maybe another account's
        forward(backend, str(payload["project"].project_id), service_event(trace))


def _on_cloud_trace(runtime: LocalRuntime, payload: dict) -> None:
    """A change made through the API (``localcloud.services.vpc.traces``) -> CTS triggers listing it."""
    backend = runtime.backend
    project, trace = payload["project"], payload["trace"]
    operation = f"{trace['service_type']}:{trace['resource_type']}:{trace['trace_name']}"
    found = []
    with backend.lock:
        state = backend.project(project.project_id)
        if state is not project:  # reset since
            return
        model = state.service("functiongraph")
        found.extend(_deliver_cts(model, trace, operation))
    _fire(runtime, found)
    forward(backend, str(payload["project"].project_id), service_event(trace))


def _on_smn_published(runtime: LocalRuntime, payload: dict) -> None:
    backend = runtime.backend
    message, urn = payload["message"], payload["topic_urn"]
    found = []
    with backend.lock:
        state = backend.project(payload["project_id"])
        if state is None:
            return
        model = state.service("functiongraph")
        for function, trigger in model.functions_with_trigger("SMN"):
            if trigger["event_data"].get("topic_urn") == urn:
                event = smn_event(message, f"{urn}:{trigger['trigger_id'].replace('-', '')}", function.name)
                found.append(model.receive(function, event, "async", source=f"trigger:SMN:{trigger['trigger_id']}"))
        for subscription in payload.get("subscriptions") or []:
            if subscription.get("protocol") not in _FUNCTION_PROTOCOLS:
                continue
            endpoint = subscription.get("endpoint") or ""
            parts = endpoint.split(":")
            target = backend.project(parts[3]) if len(parts) > 3 else None
            if target is None:
                continue
            target_model = target.service("functiongraph")
            try:
                function = target_model.resolve(endpoint)
            except Exception:  # noqa: BLE001 - a subscription to a function that does not exist
                continue
            event = smn_event(message, subscription["subscription_urn"], function.name)
            found.append(
                target_model.receive(
                    function, event, "async", source=f"subscription:{subscription['subscription_urn']}"
                )
            )
    _fire(runtime, found)


def _on_eg_published(runtime: LocalRuntime, payload: dict) -> None:
    backend = runtime.backend
    found = []
    with backend.lock:
        state = backend.project(payload["project_id"])
        if state is None:
            return
        model = state.service("functiongraph")
        triggers = [
            (f, t)
            for f, t in model.functions_with_trigger("EVENTGRID")
            if t["event_data"].get("channel_id") == payload["channel_id"]
        ]
        for record in payload.get("events") or []:
            event = record["event"]
            for function, trigger in triggers:
                data = trigger["event_data"]
                types = data.get("event_types") or []
                if data.get("source_name") == event.get("source") and (not types or event.get("type") in types):
                    found.append(
                        model.receive(function, event, "async", source=f"trigger:EVENTGRID:{trigger['trigger_id']}")
                    )
    _fire(runtime, found)


def install_listeners(runtime: LocalRuntime) -> list[tuple[str, _Listener]]:
    runtime.on("ecs.server_created", lambda payload: _on_server_created(runtime, payload))
    runtime.on("smn.message_published", lambda payload: _on_smn_published(runtime, payload))
    runtime.on("cloud.trace", lambda payload: _on_cloud_trace(runtime, payload))
    runtime.on("eg.events_published", lambda payload: _on_eg_published(runtime, payload))
    listeners = [
        ("ecs.server_created", _Listener(runtime, "ecs.server_created", resets=True)),
        ("smn.message_published", _Listener(runtime, "smn.message_published")),
        ("cloud.trace", _Listener(runtime, "cloud.trace")),
        ("eg.events_published", _Listener(runtime, "eg.events_published")),
    ]
    for topic, listener in listeners:
        runtime.backend.subscribe(topic, listener)
    return listeners

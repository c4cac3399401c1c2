"""Async destinations: where the final outcome of an async invocation goes (``on_success`` /
``on_failure`` of the function's ``async_config.destination_config``).

* ``SMN``: published to ``param.topic_urn`` (subject ``FunctionGraph <name> async <kind>``, message
  = the payload as JSON);
* ``FunctionGraph``: an async invocation of ``param.func_urn`` with the payload as its event
  (source ``destination:<kind>:<function urn>``), run like any other async invocation;
* anything else (OBS, DIS...): not emulated, reported as not delivered.

The payload is the platform's: ``timestamp``, ``request_context`` {``request_id``,
``function_urn``, ``condition``, ``approximate_invoke_count``}, ``request_payload``,
``response_context`` {``status_code``, ``function_error``}, ``response_payload``.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from localcloud.core.errors import CloudError
from localcloud.core.timefmt import iso_millis
from localcloud.services.functiongraph import errors as fgs_errors
from localcloud.services.smn import errors as smn_errors

from .instances import FunctionSnapshot, Outcome
from .protocols import DestinationRuntime

if TYPE_CHECKING:
    from localcloud.services.functiongraph.models import Invocation

__all__ = ["destination_payload", "deliver_destination"]


def _urn_project(urn: str) -> str | None:
    parts = (urn or "").split(":")
    return parts[3] if len(parts) > 3 else None


def destination_payload(
    invocation: Invocation, snapshot: FunctionSnapshot, outcome: Outcome, condition: str, count: int, started: float
) -> dict[str, Any]:
    if outcome.ok:
        response = outcome.result if isinstance(outcome.result, str) else json.dumps(outcome.result)
        function_error = ""
    else:
        response = json.dumps(outcome.error)
        error = outcome.error or {}
        function_error = f"{error.get('errorType')}: {error.get('errorMessage')}"
    return {
        "timestamp": iso_millis(started),
        "request_context": {
            "request_id": invocation.request_id,
            "function_urn": snapshot.urn,
            "condition": condition,
            "approximate_invoke_count": count,
        },
        "request_payload": json.dumps(invocation.payload),
        "response_context": {"status_code": 500 if outcome.system_error else 200, "function_error": function_error},
        "response_payload": response,
    }


def deliver_destination(
    runtime: DestinationRuntime, kind: str, config: dict[str, Any], payload: dict[str, Any], snapshot: FunctionSnapshot
) -> dict[str, Any] | None:
    """Deliver ``payload`` to the ``kind`` destination of ``config``; what happened (None: no destination)."""
    target = ((config or {}).get("destination_config") or {}).get(kind)
    if not target:
        return None
    backend = runtime.backend
    destination = target.get("destination")
    param = target.get("param") or {}
    if isinstance(param, str):
        try:
            param = json.loads(param)
        except ValueError:
            param = {}
    result = {"condition": kind, "type": destination, "target": None, "delivered": False, "error": None}
    try:
        if destination == "SMN":
            urn = param.get("topic_urn") or ""
            result["target"] = urn
            with backend.lock:
                project = backend.project(_urn_project(urn) or "")
                if project is None:
                    raise smn_errors.topic_not_found()
                answer = project.service("smn").publish(
                    urn,
                    {"subject": f"FunctionGraph {snapshot.name} async {kind}", "message": json.dumps(payload)},
                    request_id=uuid.uuid4().hex,
                )
            result.update(delivered=True, message_id=answer.get("message_id"))
        elif destination == "FunctionGraph":
            urn = param.get("func_urn") or param.get("function_urn") or ""
            result["target"] = urn
            with backend.lock:
                project = backend.project(_urn_project(urn) or "")
                if project is None:
                    raise fgs_errors.function_not_found()
                model = project.service("functiongraph")
                invocation = model.receive(
                    model.resolve(urn), payload, "async", source=f"destination:{kind}:{snapshot.urn}"
                )
            result.update(delivered=True, request_id=invocation.request_id)
            runtime.spawn(runtime.run_async, invocation)
        else:
            result["target"] = param
            result["error"] = f"{destination} destinations are not emulated by localcloud"
    except CloudError as error:
        result["error"] = f"{error.code}: {error.message}"
    return result

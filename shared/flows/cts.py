"""Reading CTS traces, whether delivered by the CTS trigger or by EventGrid: ECS creations
(ecs_created) and the changes that can cause drift (sg_drift).

``request`` and ``response`` may be JSON objects or JSON strings (decoded with bounded nesting);
every id is checked before it is used anywhere.

**Creations** (:func:`read_creation_trace`). A trace is relevant when it is an ECS server
creation that did not fail; anything else is skipped with the reason. Server ids come from the
response (``entities.server_id``, ``serverIds``, sub-jobs) and, failing that, from ``resource_id``.

**Drift** (:func:`read_drift_trace`).
Trace names (docs/fidelity.md, "CTS trigger (sg_drift)", has each with its source):

* VPC ports (resource type ``ports``): ``updatePort`` (documented) and, for the v3 insert / remove
  calls, ``addSecurityGroups`` / ``removeSecurityGroups`` (assumed: no public page names them);
* ECS (resource type ``ecs``): ``addSecurityGroup`` / ``removeSecurityGroup`` (the nova actions),
  ``operateServer`` (nova server actions);
* security-group rules: VPC ``createSecurity-group-rule``, ``updateSecurity-group-rule``,
  ``deleteSecurity-group-rule`` (documented), ECS ``createSgRule`` / ``deleteSgRule``.

A trace caused by sgguard's own agency is skipped (no loops). The agency (``SGGUARD_AGENCY``) is
recognised in every form a trace's ``user`` is known to take (docs/fidelity.md, "Identity in traces"):

* ``principal_urn`` ``sts::<account-id>:assumed-agency:<agency>/<session>`` (CTS ``UserInfo``, SDK model);
* ``type`` ``AssumedAgency`` with ``name`` ``<agency>/<session>`` (or the agency alone);
* no ``type``, ``name`` ``<domain>/<agency>`` (the older example traces: ``<domain>/op_service``) or
  ``<agency>/<session>``: IAM user names cannot contain ``/``, so a person cannot dress up as this;
* the invocation's own temporary access key in ``user.access_key_id``.

A user whose ``type`` names a person (``User``, ``Root``...) is never sgguard, whatever its name.
Any other form (one real delivery carries only ``{domain, name, id}``) is *not* recognised: the
trace is judged, which fails safe — sg_drift never removes a group a recent sgguard change added
(:mod:`shared.idempotency.ledger`), so judging its own change cannot undo a ticket.

Where a VPC trace names the port: ``resource_id``, then ``resource_url`` (the CTS trace model's
fields), then the response's ``port.id``, then the request body's ``port.id``.
"""

from __future__ import annotations

import re

from shared.ids import is_uuid
from shared.records import field, record
from shared.runtime.envelopes import ENVELOPE_MAX_BYTES
from shared.validation import decode_json_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CREATION_TRACES",
    "TraceReading",
    "read_creation_trace",
    "PORT_TRACES",
    "SERVER_TRACES",
    "RULE_TRACES",
    "DriftTrace",
    "read_drift_trace",
    "caused_by_agency",
]

CREATION_TRACES = frozenset(
    {
        "createServer",
        "createServerV2",
        "createServerV21",
        "createSingleServer",
        "createServers",
        "createPostPaidServers",
        "batchCreateServers",
    }
)
_FAILED_STATUSES = frozenset({"FAIL", "FAILED", "ERROR"})
# patterns as text, compiled on first use (re's cache): a trace that is not a creation needs none (cold start)
_JOB_ID = r"^[A-Za-z0-9-]{1,64}\Z"  # it goes into a URL: nothing else passes


@record
class TraceReading:
    """What a creation trace says: its id, the servers it created, the job, or why it is skipped."""

    trace_id: str | None
    server_ids: list[str] = field(default_factory=list)
    job_id: str | None = None
    skip_reason: str | None = None
    trace_name: str | None = None


def _as_object(value: object) -> dict[str, Any]:
    if isinstance(value, str):  # CTS delivers request and response as JSON strings
        value, _ = decode_json_message(value, max_bytes=ENVELOPE_MAX_BYTES)  # bounded nesting, never raises
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _ids_in(response: dict[str, Any]) -> list[str]:
    found: list[str] = []
    entities = response["entities"] if isinstance(response.get("entities"), dict) else {}
    candidates = [entities.get("server_id"), response.get("server_id")]
    for key in ("serverIds", "server_ids"):
        for holder in (response, entities):
            candidates.extend(_items(holder.get(key)))
    for sub_job in _items(entities.get("sub_jobs")):
        if isinstance(sub_job, dict) and str(sub_job.get("status", "")).upper() not in _FAILED_STATUSES:
            sub_entities = sub_job["entities"] if isinstance(sub_job.get("entities"), dict) else {}
            candidates.append(sub_entities.get("server_id"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate not in found:
            found.append(candidate)
    return found


def read_creation_trace(trace: object) -> TraceReading:
    if not isinstance(trace, dict):
        return TraceReading(None, skip_reason="the event carries no CTS trace object")
    trace_id = trace.get("trace_id") if isinstance(trace.get("trace_id"), str) else None
    name = trace.get("trace_name") if isinstance(trace.get("trace_name"), str) else None
    reading = TraceReading(trace_id, trace_name=name)
    service = str(trace.get("service_type") or "").upper()
    if service != "ECS":
        reading.skip_reason = f"not an ECS trace (service_type {service or 'missing'})"
        return reading
    if name not in CREATION_TRACES:
        reading.skip_reason = f"trace {name!r} is not a server creation"
        return reading
    try:
        code = int(trace.get("code") or 200)
    except (TypeError, ValueError):
        code = 200
    response = _as_object(trace.get("response"))
    status = str(response.get("status") or "").upper()
    if code >= 400 or status in _FAILED_STATUSES:
        reason = response.get("fail_reason") or response.get("error") or f"code {code}"
        reading.skip_reason = f"the creation failed ({str(reason)[:120]})"
        return reading
    job_id = response.get("job_id")
    reading.job_id = job_id if isinstance(job_id, str) and re.match(_JOB_ID, job_id) else None
    ids = _ids_in(response)
    if not ids and isinstance(trace.get("resource_id"), str):
        ids = [part.strip() for part in trace["resource_id"].split(",") if part.strip()]
    reading.server_ids = [server_id for server_id in ids if is_uuid(server_id)]
    if not reading.server_ids:
        reading.skip_reason = (
            "no valid server id in the trace"
            if not ids
            else f"the trace names no valid server id ({len(ids)} malformed)"
        )
    return reading


# ---- drift ----------------------------------------------------------------------------------


PORT_TRACES = frozenset({"updatePort", "addSecurityGroups", "removeSecurityGroups"})
SERVER_TRACES = frozenset({"addSecurityGroup", "removeSecurityGroup", "operateServer"})
RULE_TRACES = frozenset(
    {
        "createSecurity-group-rule",
        "updateSecurity-group-rule",
        "deleteSecurity-group-rule",
        "createSgRule",
        "deleteSgRule",
    }
)
_PORT_IN_PATH = r"/ports/([0-9a-f-]{36})"
_SERVER_IN_PATH = r"/servers/([0-9a-f-]{36})"


@record
class DriftTrace:
    """What a drift trace names: the port, server or rule it changed, or why it is skipped."""

    trace_id: str | None
    trace_name: str | None = None
    kind: str | None = None  # "port" | "server" | "rule"
    port_id: str | None = None
    server_id: str | None = None
    group_id: str | None = None
    skip_reason: str | None = None
    user: dict[str, Any] = field(default_factory=dict)
    own_change: bool = False  # skipped because sgguard itself made the change


_PERSON_TYPES = frozenset({"user", "root", "iamuser", "federateduser", "domain"})


def caused_by_agency(user: object, agency: str | None, own_access_key: str | None = None) -> bool:
    """Whether the trace's ``user`` is a session of ``agency`` (sgguard's own), or used our access key
    (the forms are listed in the module docstring; anything else is not recognised)."""
    if not isinstance(user, dict):
        return False
    key = user.get("access_key_id")
    if own_access_key and isinstance(key, str) and key == own_access_key:
        return True
    if not agency:
        return False
    kind = str(user.get("type") or "").strip().lower()
    if kind in _PERSON_TYPES:
        return False
    urn = user.get("principal_urn")
    if isinstance(urn, str) and urn:
        head, marker, tail = urn.partition(":assumed-agency:")
        # sts::<account>:assumed-agency:<agency>/<session>: exactly one marker, the agency exact
        return bool(marker) and head.startswith("sts::") and tail.partition("/")[0] == agency
    name = user.get("name")
    if not isinstance(name, str):
        return False
    if kind == "assumedagency":
        return name == agency or name.partition("/")[0] == agency
    if kind:
        return False  # a type we do not know: not recognised (the trace is judged)
    first, slash, second = name.partition("/")
    return bool(slash) and "/" not in second and agency in (first, second)


def _first_uuid(*candidates: object) -> str | None:
    return next((c for c in candidates if isinstance(c, str) and is_uuid(c)), None)


def _rule_group(request: dict[str, Any], response: dict[str, Any]) -> str | None:
    for holder in (response, request):
        rule = holder.get("security_group_rule")
        if isinstance(rule, dict) and is_uuid(rule.get("security_group_id")):
            return str(rule["security_group_id"])
        if is_uuid(holder.get("security_group_id")):
            return str(holder["security_group_id"])
    return None


def read_drift_trace(trace: object, *, agency: str | None = None, own_access_key: str | None = None) -> DriftTrace:
    if not isinstance(trace, dict):
        return DriftTrace(None, skip_reason="the event carries no CTS trace object")
    trace_id = trace.get("trace_id") if isinstance(trace.get("trace_id"), str) else None
    name = trace.get("trace_name") if isinstance(trace.get("trace_name"), str) else None
    raw_user = trace.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    reading = DriftTrace(trace_id, trace_name=name, user=user)
    if name in PORT_TRACES:
        reading.kind = "port"
    elif name in SERVER_TRACES:
        reading.kind = "server"
    elif name in RULE_TRACES:
        reading.kind = "rule"
    else:
        reading.skip_reason = f"trace {name!r} does not change which groups a port has or what a group allows"
        return reading
    if caused_by_agency(user, agency, own_access_key):
        reading.skip_reason = f"caused by sgguard's own agency ({agency or 'own access key'}): not drift"
        reading.own_change = True
        return reading
    try:
        code = int(trace.get("code") or 200)
    except (TypeError, ValueError):
        code = 200
    if code >= 400:
        reading.skip_reason = f"the operation failed (code {code}): nothing changed"
        return reading
    request, response = _as_object(trace.get("request")), _as_object(trace.get("response"))
    resource_id = trace.get("resource_id")
    path = str(trace.get("resource_url") or "")  # the CTS trace model's field (no request_uri)
    if reading.kind == "port":
        raw_port = response.get("port")
        port: dict[str, Any] = raw_port if isinstance(raw_port, dict) else {}
        raw_asked = request.get("port")
        asked: dict[str, Any] = raw_asked if isinstance(raw_asked, dict) else {}
        in_path = re.search(_PORT_IN_PATH, path)
        reading.port_id = _first_uuid(
            resource_id, in_path.group(1) if in_path else None, port.get("id"), asked.get("id"), request.get("port_id")
        )
        reading.server_id = _first_uuid(port.get("device_id"))
        if reading.port_id is None:
            reading.skip_reason = "the trace names no port"
    elif reading.kind == "server":
        in_path = re.search(_SERVER_IN_PATH, path)
        reading.server_id = _first_uuid(resource_id, in_path.group(1) if in_path else None)
        if reading.server_id is None:
            reading.skip_reason = "the trace names no server"
    else:
        reading.group_id = _rule_group(request, response)
        if reading.group_id is None:
            reading.skip_reason = "the trace names no security group (a deleted rule's group is not in the trace)"
    return reading

"""CTS traces of the VPC changes made through localcloud's API, announced to the runtime.

A successful port update (v1 ``updatePort``, v3 insert / remove security groups) or rule creation /
deletion publishes ``cloud.trace`` on the backend with the trace as CTS records it: ``service_type``
``VPC``, ``resource_type`` and ``trace_name`` from VPC's "Key Operations Recorded by CTS" table
(``ports`` / ``updatePort``, ``security-group-rules`` / ``createSecurity-group-rule`` and
``deleteSecurity-group-rule``; the v3 insert / remove names ``addSecurityGroups`` /
``removeSecurityGroups`` are assumed: docs/fidelity.md), ``request`` / ``response`` as JSON strings,
``resource_url`` (the CTS trace model's field; there is no ``request_uri``), ``domain_id`` and
``project_id`` (the account, from the directory, and the project: CTS "Example Traces"), and ``user`` naming
who called: the project's user, or a temporary credential's agency session in the form the
``agency_trace_form`` setting picks — 0: the SDK model's (``type`` ``AssumedAgency``,
``principal_urn`` ``sts::<domain>:assumed-agency:<agency>/<session>``, ``access_key_id``); 1: the
older example traces' (``name`` ``<domain>/<agency>``, no ``type``); 2: the bare form one real
delivery shows (``{domain{name,id}, name, id}``, ``name`` the agency). The runtime
(:mod:`localcloud.runtime.triggers`) delivers it to CTS triggers listing the operation.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

__all__ = ["emit", "trace_user", "account_of"]


def account_of(project: Any) -> str:
    """The project's account (domain id) as the directory says; a project no account registered:
    its id (the single-project seeds of the past)."""
    return project.backend.directory.owner_of(project.project_id) or project.project_id[:32]


def trace_user(ctx: Any) -> dict:
    credential = ctx.backend.credential(ctx.ak) if ctx.ak else None
    domain = account_of(ctx.project)
    agency = getattr(credential, "agency", None)
    if credential is not None and agency:
        session = ctx.ak[-12:].lower()
        form = ctx.backend.settings.agency_trace_form
        if form == 1:
            return {"name": f"{ctx.project.name}/{agency}", "domain": {"name": ctx.project.name, "id": domain}}
        if form == 2:
            return {"domain": {"name": ctx.project.name, "id": domain}, "name": agency, "id": domain}
        return {
            "type": "AssumedAgency",
            "id": domain,
            "name": f"{agency}/{session}",
            "domain": {"name": ctx.project.name, "id": domain},
            "access_key_id": ctx.ak,
            "principal_id": f"{domain[:16]}:{session}",
            "principal_urn": f"sts::{domain}:assumed-agency:{agency}/{session}",
            "principal_is_root_user": "false",
        }
    return {
        "type": "User",
        "id": domain,
        "name": "localcloud",
        "domain": {"name": ctx.project.name, "id": domain},
        "access_key_id": ctx.ak,
        "principal_id": domain,
        "principal_urn": f"iam::{domain}:user:localcloud",
        "principal_is_root_user": "true",
    }


def emit(ctx: Any, trace_name: str, resource_type: str, resource_id: str, response: dict | None) -> None:
    """Publish the trace of a change that succeeded (never for a dry run)."""
    now = time.time()
    trace = {
        "trace_id": str(uuid.uuid4()),
        "trace_name": trace_name,
        "trace_type": "ApiCall",
        "trace_rating": "normal",
        "tracker_name": "system",
        "service_type": "VPC",
        "resource_type": resource_type,
        "resource_id": resource_id,
        "code": "200",
        "api_version": ctx.path.split("/")[1] if ctx.path.count("/") > 1 else "",
        "source_ip": "127.0.0.1",
        "resource_url": ctx.path,
        # the account and project the trace belongs to (CTS "Trace Structure", "Example Traces")
        "domain_id": account_of(ctx.project),
        "project_id": ctx.project.project_id,
        "time": int(now * 1000),
        "record_time": int(now * 1000),
        "user": trace_user(ctx),
        "request": ctx.raw_body.decode("utf-8", "replace") if ctx.raw_body else "",
        "response": json.dumps(response) if response is not None else "",
    }
    ctx.backend.publish("cloud.trace", project=ctx.project, trace=trace)

"""Events of an organisation's accounts (tests/support/organisation.py) and the handlers that get them.

:func:`creation_trace` / :func:`port_trace` are CTS traces as the documented "Example Traces" carry
them (``domain_id``, ``project_id``, ``user.domain.id``, ``user.account_id``); :func:`invoke` runs
ecs_created or sg_drift with the home function's agency credentials only, TARGETS set.
"""

from __future__ import annotations

import io
import json
import uuid
from contextlib import redirect_stdout

from localcloud.runtime import FunctionContext
from tests.support.ecs import eventgrid_event
from tests.support.functions import load_handler
from tests.support.organisation import ACCOUNTS, HOME, PORT, REGIONS, SERVER, project_id, targets_setting

__all__ = ["creation_trace", "port_trace", "eventgrid", "invoke", "calls", "home_user_data", "fresh_servers"]


def fresh_servers(org) -> None:
    """The seeded server of every project just created (a creation event is about a new server)."""
    for cloud in org.clouds.values():
        with cloud.backend.lock:
            for domain_id in ACCOUNTS:
                project = cloud.backend.project(project_id(domain_id, cloud.backend.region))
                project.service("ecs").servers[SERVER]["created"] = cloud.backend.clock()


def _user(domain_id: str | None) -> dict:
    if domain_id is None:
        return {"name": "someone", "type": "User"}
    return {"type": "User", "name": "ops", "domain": {"name": "acct", "id": domain_id}, "account_id": domain_id}


def creation_trace(domain_id: str | None, project: str | None, server: str = SERVER, **fields) -> dict:
    trace = {
        "trace_id": str(uuid.uuid4()),
        "trace_name": "createServer",
        "trace_type": "ApiCall",
        "service_type": "ECS",
        "resource_type": "ecs",
        "resource_id": server,
        "code": "200",
        "user": _user(domain_id),
        "response": json.dumps({"job_id": None, "status": "SUCCESS", "entities": {"server_id": server}}),
    }
    if domain_id is not None:
        trace["domain_id"] = domain_id
    if project is not None:
        trace["project_id"] = project
    trace.update(fields)
    return trace


def port_trace(domain_id: str | None, project: str | None, port: str = PORT, **fields) -> dict:
    trace = {
        "trace_id": str(uuid.uuid4()),
        "trace_name": "updatePort",
        "trace_type": "ApiCall",
        "service_type": "VPC",
        "resource_type": "ports",
        "resource_id": port,
        "code": "200",
        "user": _user(domain_id),
        "request": json.dumps({"port": {"security_groups": []}}),
        "response": json.dumps({"port": {"id": port, "device_id": SERVER}}),
    }
    if domain_id is not None:
        trace["domain_id"] = domain_id
    if project is not None:
        trace["project_id"] = project
    trace.update(fields)
    return trace


def eventgrid(*traces: dict) -> list[dict]:
    """The traces as EventGrid's cloud service events (``source`` ``HC.<service>``)."""
    events = []
    for trace in traces:
        service = trace["service_type"]
        event = eventgrid_event({"resource_id": None, **trace})
        event.update(source=f"HC.{service}", type=f"{service}:CloudTrace:{trace['trace_type']}", data=trace)
        events.append(event)
    return events


def home_user_data(org) -> dict:
    return {
        "REGION": REGIONS[0],
        "PROJECT_ID": project_id(HOME, REGIONS[0]),
        "ECS_ENDPOINT": org.home.url,
        "VPC_ENDPOINT": org.home.url,
        "CONNECT_TIMEOUT_S": "1",
        "READ_TIMEOUT_S": "2",
        "BACKOFF_BASE_S": "0.01",
        "BACKOFF_MAX_S": "0.05",
        "GROUP_CACHE_TTL_S": "0",
        "READINESS_POLL_S": "0.01",
        "TARGETS": targets_setting(home={"domain_id": HOME, "name": "security"}),
    }


def invoke(org, function: str, event, *, request_id: str = "req-org-events", **user_data) -> tuple[list[dict], str]:
    """Run ``function`` on ``event``; ``user_data`` None removes a setting. Results' data and the log."""
    home = project_id(HOME, REGIONS[0])
    credential = org.home.backend.issue_temporary_credential(home)
    data = home_user_data(org)
    data.update({k: v for k, v in user_data.items() if v is not None})
    for key in [k for k, v in user_data.items() if v is None]:
        data.pop(key)
    context = FunctionContext(
        user_data=data,
        ak=credential.ak,
        sk=credential.sk,
        security_token=credential.security_token,
        function_name=function,
        request_id=request_id,
    )
    out = io.StringIO()
    with redirect_stdout(out):
        response = load_handler(function)(event, context)
    return [result["data"] for result in response["results"]], out.getvalue()


def calls(org, since: dict[str, int]) -> list[dict]:
    """Every request any region's server answered since ``since`` (``{region: seq}``)."""
    return [entry for region, cloud in org.clouds.items() for entry in cloud.requests(since[region])]

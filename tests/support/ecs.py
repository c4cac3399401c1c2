"""Servers created through the official ECS SDK, and the CTS traces that announce them."""

from __future__ import annotations

import json
import uuid

from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    PostPaidServer,
    PostPaidServerNic,
    PostPaidServerTag,
)

VPC_ID = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50"
SUBNET_WEB = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01"
SUBNET_APP = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d02"
SUBNET_MGMT = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"


def create_servers(ecs, name: str, *, tags=None, subnets=(SUBNET_WEB,), count=None) -> tuple[str, list[str]]:
    """Create server(s) through the SDK; returns (job_id, server ids)."""
    server = PostPaidServer(
        name=name,
        flavor_ref="s6.large.2",
        image_ref="img-0001",
        vpcid=VPC_ID,
        nics=[PostPaidServerNic(subnet_id=s) for s in subnets],
        count=count,
        server_tags=[PostPaidServerTag(key=k, value=v) for k, v in (tags or {}).items()] or None,
    )
    response = ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=server))
    )
    return response.job_id, list(response.server_ids)


def cts_trace(
    server_ids,
    job_id,
    *,
    trace_name="createServer",
    as_strings=False,
    code=200,
    status="SUCCESS",
    trace_id=None,
    style="entities",
) -> dict:
    if style == "entities":
        response = {
            "job_id": job_id,
            "job_type": "createSingleServer",
            "status": status,
            "entities": {"server_id": server_ids[0]},
        }
    elif style == "sub_jobs":
        response = {
            "job_id": job_id,
            "job_type": "createServer",
            "status": status,
            "entities": {"sub_jobs": [{"status": status, "entities": {"server_id": s}} for s in server_ids]},
        }
    else:  # the API's own answer
        response = {"job_id": job_id, "serverIds": list(server_ids)}
    request = {"server": {"name": "x", "flavorRef": "s6.large.2"}}
    trace = {
        "trace_id": trace_id or str(uuid.uuid4()),
        "trace_name": trace_name,
        "trace_type": "ApiCall",
        "service_type": "ECS",
        "resource_type": "ecs",
        "resource_id": server_ids[0] if server_ids else "",
        "resource_name": "x",
        "code": str(code),
        "time": 1764363600000,
        "record_time": 1764363600100,
        "user": {"name": "alice", "domain": {"name": "example"}},
        "request": json.dumps(request) if as_strings else request,
        "response": json.dumps(response) if as_strings else response,
    }
    return trace


def cts_event(trace) -> dict:
    return {"cts": trace}


def eventgrid_event(trace) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "HC.ECS",
        "type": "ECS:CloudTrace:ApiCall",
        "subject": trace["resource_id"],
        "time": "2026-11-28T21:00:00Z",
        "datacontenttype": "application/json",
        "data": trace,
    }

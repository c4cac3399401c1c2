"""ECS creation: from the CTS trace of a new server to its groups attached, minus the build time.

A server is created through the official ECS SDK against localcloud (which keeps it in BUILD for
``build_delay_ms``); its creation trace is handed to the real ``ecs_created`` handler right away,
as CTS would deliver it at the earliest. The handler polls until the server is ACTIVE with its
interfaces, applies the policy and returns. What the function adds on top of the build is
``done - created - build_delay``: mostly the readiness poll's granularity (``READINESS_POLL_S``,
default 1 s, x1.5 per poll) plus the calls after the server became ready.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid

from .support import LocalCloudProcess, median

__all__ = ["run_ecs_creation", "cts_event", "cts_trace", "create_server", "load_handler", "invoke", "make_context"]


def load_handler(function: str):
    """``functions/<function>/index.py:handler``, loaded by file as FunctionGraph does."""
    from .support import load_handler as load

    return load(function)


VPC_ID = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50"
SUBNET_WEB = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01"
SUBNET_APP = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d02"
SUBNET_MGMT = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"


def create_servers(ecs, name: str, *, tags=None, subnets=(SUBNET_WEB,), count=None) -> tuple[str, list[str]]:
    """Create server(s) through the SDK; returns (job_id, server ids)."""
    from huaweicloudsdkecs.v2 import (
        CreatePostPaidServersRequest,
        CreatePostPaidServersRequestBody,
        PostPaidServer,
        PostPaidServerNic,
        PostPaidServerTag,
    )

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


def creation_trace(
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


def create_server(ecs, name: str, **kwargs) -> tuple[str, list[str]]:
    """Server(s) created through the ECS SDK: (job id, server ids)."""
    return create_servers(ecs, name, **kwargs)


def cts_trace(server_ids: list[str], job_id: str, *, trace_id: str | None = None) -> dict:
    """The creation trace CTS would deliver, one sub-job per server."""
    return creation_trace(server_ids, job_id, trace_id=trace_id, style="sub_jobs")


def cts_event(trace: dict) -> dict:
    return {"cts": trace}


def ecs_client(url: str, ak: str, sk: str, project_id: str):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkecs.v2 import EcsClient

    config = HttpConfig.get_default_config()
    config.timeout = (2, 10)
    config.retry_times = 0
    return (
        EcsClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([url])
        .with_http_config(config)
        .build()
    )


def invoke(handler, event, context) -> tuple[list[dict], str | None]:
    """Results (from the return value, or from the log lines when the handler raised to be retried)."""
    import json

    out = io.StringIO()
    raised = None
    with contextlib.redirect_stdout(out):
        try:
            response = handler(event, context)
        except Exception as error:  # noqa: BLE001 - ecs_created raises to ask for a retry
            response, raised = None, f"{type(error).__name__}: {error}"
    if response is not None:
        return response["results"], None
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if isinstance(line, dict) and "data" in line and "specversion" in line], raised


def make_context(cloud, function: str, user_data: dict, timeout_s: float = 120.0):
    from localcloud.runtime import FunctionContext

    credentials = cloud.control.temporary_credentials(cloud.project_id)
    return FunctionContext(
        user_data={"PROJECT_ID": cloud.project_id, **user_data},
        ak=credentials["ak"],
        sk=credentials["sk"],
        security_token=credentials["security_token"],
        timeout_s=timeout_s,
        function_name=function,
    )


def run_ecs_creation(
    cloud: LocalCloudProcess, *, runs: int = 3, build_delays_ms=(300, 2000), polls=(None, "0.2")
) -> list[dict]:
    from .support import user_data

    cloud.control.reset()
    ecs = ecs_client(cloud.url, cloud.info["ak"], cloud.info["sk"], cloud.project_id)
    handler = load_handler("ecs_created")
    rows = []
    # a warm instance: policy parsed, clients built, group catalog listed
    data = user_data(cloud.url, cloud.region, READINESS_MAX_WAIT_S="30")
    warm = {"server_id": "c0000000-0000-4000-8000-000000000001", "backfill": True}  # a seeded server: not new
    invoke(handler, warm, make_context(cloud, "ecs_created", data))
    for build_ms in build_delays_ms:
        cloud.control.settings(build_delay_ms=build_ms)
        for poll in polls:
            extra = {"READINESS_MAX_WAIT_S": "30", **({"READINESS_POLL_S": poll} if poll else {})}
            data = user_data(cloud.url, cloud.region, **extra)
            added: list[float] = []
            calls: list[int] = []
            outcomes: set[str] = set()
            for i in range(runs):
                context = make_context(cloud, "ecs_created", data)
                job, servers = create_server(ecs, f"bench-new-{build_ms}-{poll}-{i}")
                created = time.perf_counter()
                results, raised = invoke(handler, cts_event(cts_trace(servers, job)), context)
                done = time.perf_counter()
                added.append(done - created - build_ms / 1000)
                outcomes.update(r["data"]["outcome"] for r in results)
                calls.append(sum(r["data"]["api_calls"]["total"] for r in results))
            rows.append(
                {
                    "build_delay_ms": build_ms,
                    "readiness_poll_s": float(poll or 0.5),
                    "runs": runs,
                    "latency_ms": cloud.latency_ms,
                    "added_ms": round(median(added) * 1000, 1),
                    "added_ms_all": [round(a * 1000, 1) for a in added],
                    "api_calls": median(calls),
                    "outcomes": sorted(outcomes),
                }
            )
    return rows

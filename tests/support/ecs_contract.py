"""Helpers of the ECS contract tests (official SDK over HTTP against localcloud)."""

from __future__ import annotations

import time

from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    PostPaidServer,
    PostPaidServerNic,
    PostPaidServerSecurityGroup,
    PostPaidServerTag,
    ShowJobRequest,
    ShowServerRequest,
)

VPC_ID = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50"
SUBNET_WEB = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01"
SUBNET_APP = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d02"
SUBNET_MGMT = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"
SG_BASELINE = "a0000000-0000-4000-8000-000000000001"
SG_WEB = "a0000000-0000-4000-8000-000000000002"
SG_APP = "a0000000-0000-4000-8000-000000000003"
LEGACY_APP = "c0000000-0000-4000-8000-000000000001"
DB_01 = "c0000000-0000-4000-8000-000000000002"
OTHER_PROJECT = "1f2e3d4c5b6a47988776655443322110"


def server_body(
    name: str = "web",
    *,
    subnets=(SUBNET_WEB,),
    security_groups=None,
    count=None,
    tags=None,
    metadata=None,
    availability_zone=None,
    ip_address=None,
    vpcid=VPC_ID,
    flavor="s6.large.2",
    image="img-0001",
) -> PostPaidServer:
    nics = [PostPaidServerNic(subnet_id=subnet) for subnet in subnets]
    if ip_address:
        nics[0].ip_address = ip_address
    return PostPaidServer(
        name=name,
        flavor_ref=flavor,
        image_ref=image,
        vpcid=vpcid,
        nics=nics,
        count=count,
        security_groups=[PostPaidServerSecurityGroup(id=sg) for sg in security_groups] if security_groups else None,
        server_tags=[PostPaidServerTag(key=k, value=v) for k, v in (tags or {}).items()] or None,
        metadata=metadata,
        availability_zone=availability_zone,
    )


def create(ecs, name: str = "web", dry_run=None, **kwargs):
    body = CreatePostPaidServersRequestBody(server=server_body(name, **kwargs), dry_run=dry_run)
    return ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=body))


def show(ecs, server_id: str):
    return ecs.show_server(ShowServerRequest(server_id=server_id)).server


def job(ecs, job_id: str):
    return ecs.show_job(ShowJobRequest(job_id=job_id))


def wait_for(predicate, timeout: float = 3.0, interval: float = 0.02):
    """Poll ``predicate`` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def wait_status(ecs, server_id: str, status: str, timeout: float = 3.0):
    return wait_for(lambda: (server := show(ecs, server_id)).status == status and server, timeout)


def wait_job(ecs, job_id: str, statuses=("SUCCESS", "FAIL"), timeout: float = 3.0):
    return wait_for(lambda: (current := job(ecs, job_id)).status in statuses and current, timeout)


def force_status(cloud, server_id: str, status: str, **extra) -> dict:
    return cloud._call("POST", f"ecs/servers/{server_id}/status", {"status": status, **extra})

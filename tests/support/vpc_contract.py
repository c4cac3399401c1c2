"""Helpers of the VPC contract tests: seeded ports of our own, error assertions, state reads.

The VPC tests seed their own compute ports (through the seed's ``ports`` list) so that they do
not depend on the ECS service; ids are fixed so that failures are readable.
"""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServiceResponseException

PROJECT = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
OTHER_PROJECT = "1f2e3d4c5b6a47988776655443322110"
OTHER_AK = "LOCALCLOUDAKOTHER00000"
OTHER_SK = "localcloud-other-secret-key-000000000000"
VPC_ID = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50"
SUBNET_WEB = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01"
SUBNET_APP = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d02"
SG = {
    name: f"a0000000-0000-4000-8000-00000000000{i}"
    for i, name in enumerate(
        ["baseline", "web", "app", "db", "mgmt-ssh", "ssh-open", "rdp-open", "monitoring", "dup-name"], start=1
    )
}
DUP_B = "a0000000-0000-4000-8000-00000000000a"
VIP_PORT = "d0000000-0000-4000-8000-0000000000f1"
MISSING = "99999999-9999-4999-8999-999999999999"

DEVICE_A = "e0000000-0000-4000-8000-00000000000a"
DEVICE_B = "e0000000-0000-4000-8000-00000000000b"
PORT_A1 = "e1000000-0000-4000-8000-000000000001"  # DEVICE_A, subnet-web, [default, web]
PORT_A2 = "e1000000-0000-4000-8000-000000000002"  # DEVICE_A, subnet-app, [baseline]
PORT_B1 = "e1000000-0000-4000-8000-000000000003"  # DEVICE_B, subnet-web, port security disabled
OWNER = "compute:cn-north-4a"


def seed_ports(cloud, extra: list[dict] | None = None) -> dict:
    ports = [
        {
            "id": PORT_A1,
            "name": "a-eth0",
            "subnet": "subnet-web",
            "device_id": DEVICE_A,
            "device_owner": OWNER,
            "security_groups": ["default", "web"],
        },
        {
            "id": PORT_A2,
            "name": "a-eth1",
            "subnet": "subnet-app",
            "ip_address": "10.0.2.50",
            "device_id": DEVICE_A,
            "device_owner": OWNER,
            "security_groups": ["baseline"],
        },
        {
            "id": PORT_B1,
            "name": "b-eth0",
            "subnet": "subnet-web",
            "device_id": DEVICE_B,
            "device_owner": OWNER,
            "security_groups": ["default"],
            "port_security_enabled": False,
        },
    ] + list(extra or [])
    return cloud.seed({"projects": [{"id": PROJECT, "ports": ports}]})["projects"][PROJECT]


def expect_error(
    call, status: int, code: str, message: str | None = None, exc_type=ClientRequestException, request_id: bool = True
) -> ServiceResponseException:
    with pytest.raises(exc_type) as caught:
        call()
    error = caught.value
    assert (error.status_code, error.error_code) == (status, code), error
    if message is not None:
        assert message in error.error_msg, error.error_msg
    if request_id:
        assert error.request_id, "every error carries the X-Request-Id header"
    return error


def state_vpc(cloud, project: str = PROJECT) -> dict:
    return cloud.state()["projects"][project]["vpc"]


def state_port(cloud, port_id: str) -> dict:
    return next(port for port in state_vpc(cloud)["ports"] if port["id"] == port_id)


def state_groups(cloud, port_id: str) -> list[str]:
    return state_port(cloud, port_id)["security_groups"]


def default_sg(cloud, project: str = PROJECT) -> str:
    return next(g["id"] for g in state_vpc(cloud, project)["security_groups"] if g["name"] == "default")


def last_entry(cloud, method: str, path_fragment: str) -> dict:
    entries = [e for e in cloud.requests() if e["method"] == method and path_fragment in e["path"]]
    assert entries, f"no {method} {path_fragment} in the request log"
    return entries[-1]

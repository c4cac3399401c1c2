"""An estate for ``sgguard report`` tests: one compliant server, one with drift and an exposure
through a group whose name is an XSS attempt - all made through the official VPC SDK."""

from __future__ import annotations

import io
import os

from huaweicloudsdkvpc.v3.model import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    InsertSecurityGroupOption,
)

from sgguard_cli.main import main
from tests.support.requests import DB, LEGACY, LEGACY_PORTS, SG

__all__ = ["XSS_NAME", "DB_PORT", "make_estate", "run_report", "report_environ"]

XSS_NAME = "<img src=x onerror=alert(1)>"
DB_PORT = "d0000000-0000-4000-8000-000000000003"


def insert(vpc_v3, port: str, group: str, index: int | None = None) -> None:
    option = InsertSecurityGroupOption(security_groups=[group], index=index)
    vpc_v3.add_security_groups(AddSecurityGroupsRequest(port, AddSecurityGroupsRequestBody(port=option)))


def make_estate(cloud, vpc_v3) -> dict:
    """legacy-app-01 compliant with policy.yaml; db-01 missing the baseline and exposing SSH to the
    world through a group named like an XSS attack. Returns the ids.

    The VPC API refuses such a name (1-64 letters, digits, ``_-.``), and so does localcloud: the
    group is created as ``xss-probe`` through the SDK, then renamed in the emulator's state - a
    name the report reads from the cloud must never be trusted, whatever path it came by."""
    for port in LEGACY_PORTS:
        insert(vpc_v3, port, SG["baseline"], 0)
    insert(vpc_v3, LEGACY_PORTS[1], SG["mgmt-ssh"])
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name="xss-probe"))
    group = vpc_v3.create_security_group(CreateSecurityGroupRequest(body=body)).security_group.id
    rule = CreateSecurityGroupRuleOption(
        security_group_id=group,
        direction="ingress",
        protocol="tcp",
        multiport="22",
        remote_ip_prefix="0.0.0.0/0",
        priority=1,  # ahead of db's deny-all (priority 100) when rules are pooled by priority (issue 19)
    )
    vpc_v3.create_security_group_rule(
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=rule))
    )
    insert(vpc_v3, DB_PORT, group)
    with cloud.backend.lock:
        cloud.backend.project(cloud.project_id).service("vpc")._groups[group]["name"] = XSS_NAME
    return {"compliant": LEGACY, "drifted": DB, "xss_group": group}


def report_environ(cloud, **extra: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")}
    environ.update(
        HUAWEICLOUD_SDK_AK=cloud.ak,
        HUAWEICLOUD_SDK_SK=cloud.sk,
        HUAWEICLOUD_SDK_PROJECT_ID=cloud.project_id,
        PROTECTED_GROUPS="baseline",
        **extra,
    )
    return environ


def run_report(cloud, out_dir, *argv: str, **extra: str) -> tuple[int, str, str]:
    lines: list[str] = []
    err = io.StringIO()
    code = main(
        ["report", "--endpoint", cloud.url, "--out", str(out_dir), *argv],
        report_environ(cloud, **extra),
        out=lines.append,
        err=err,
    )
    return code, "\n".join(lines), err.getvalue()

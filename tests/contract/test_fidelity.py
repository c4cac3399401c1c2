"""docs/fidelity.md is the one place that marks each cloud call as documented, SDK model or
assumed. This checks that it covers every SDK call the code makes, and pins the localcloud
behaviours that page calls documented, through the official SDK over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkvpc.v3.model import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    InsertSecurityGroupOption,
)

from sgguard_cli.permissions import sdk_methods
from tests.support.vpc_contract import PORT_A2, SG

ROOT = Path(__file__).resolve().parents[2]
FIDELITY = ROOT / "docs" / "fidelity.md"
SCANNED = ("shared/cloud", "shared/sinks", "sgguard_cli/deployer")
_CALL = re.compile(r"client\.([a-z_][a-z0-9_]*)\(")
_STATUS = ("documented", "SDK model", "assumed")


def _sdk_calls() -> dict[str, str]:
    methods = sdk_methods()
    calls = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in _CALL.findall(path.read_text(encoding="utf-8")):
                if name in methods:
                    calls.setdefault(name, str(path.relative_to(ROOT)))
    return calls


def _rows() -> list[str]:
    return [line for line in FIDELITY.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]


def test_the_scan_finds_the_calls_we_know():
    calls = _sdk_calls()
    assert {
        "list_security_groups",
        "add_security_groups",
        "show_server",
        "create_function_trigger",
        "update_function_config",
        "publish_message",
    } <= set(calls)


@pytest.mark.parametrize("method", sorted(_sdk_calls()))
def test_every_sdk_call_has_a_row_with_a_status(method):
    rows = [row for row in _rows() if f"`{method}`" in row.split("|")[1]]
    assert rows, f"{method} ({_sdk_calls()[method]}) has no row in docs/fidelity.md"
    assert all(any(status in row for status in _STATUS) for row in rows), rows


def test_throttling_answers_the_documented_code(cloud):
    from huaweicloudsdkvpc.v3.model import (
        CreateSecurityGroupOption,
        CreateSecurityGroupRequest,
        CreateSecurityGroupRequestBody,
    )

    from tests.support.sdk import vpc_v3_client

    cloud.add_fault(kind="throttle", method="POST", path="/v3/*/vpc/security-groups", count=1)
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name="t"))
    with pytest.raises(ClientRequestException) as raised:
        vpc_v3_client(cloud).create_security_group(CreateSecurityGroupRequest(body=body))
    assert (raised.value.status_code, raised.value.error_code) == (429, "APIG.0308")


def test_a_v3_rule_created_without_priority_gets_100(vpc_v3):
    option = CreateSecurityGroupRuleOption(
        security_group_id=SG["web"],
        direction="ingress",
        protocol="tcp",
        multiport="8443",
        remote_ip_prefix="10.0.0.0/8",
    )
    rule = vpc_v3.create_security_group_rule(
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option))
    ).security_group_rule
    assert rule.priority == 100


def test_a_denied_action_answers_iams_403_body(cloud, vpc_v3, ports):
    port = PORT_A2
    cloud.add_fault(kind="deny", method="PUT", path="/v3/*/ports/*/insert-security-groups", action="vpc:ports:update")
    body = AddSecurityGroupsRequestBody(port=InsertSecurityGroupOption(security_groups=[SG["web"]]), dry_run=True)
    with pytest.raises(ClientRequestException) as raised:
        vpc_v3.add_security_groups(AddSecurityGroupsRequest(port, body))
    error = raised.value
    assert (error.status_code, error.error_code) == (403, "IAM.0003")
    assert error.error_msg == "Policy doesn't allow vpc:ports:update to be performed."
    entry = [r for r in cloud.requests() if r["method"] == "PUT"][-1]
    assert (entry["status"], entry["fault"], entry["error_code"]) == (403, "deny", "IAM.0003")

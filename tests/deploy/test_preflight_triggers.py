"""Preflight's trigger checks against localcloud (issue 20, item 5): every trace name the template's
CTS triggers subscribe to is listed by CTS ListOperations (both spellings of operations), the
region is one the documentation lists for CTS triggers (else a warning), function VPC access
without a NAT route is a warning with its fix, and a dry-run write is not called a permission."""

from __future__ import annotations

import json
import re

import pytest

from sgguard_cli.deployer.preflight_triggers import CTS_TRIGGER_REGIONS, parse_operations
from sgguard_cli.main import main as sgguard
from tests.support.deploy import ROOT, create_system_tracker
from tests.support.requests import LEGACY

ECS_OPERATIONS = ["createServer", "createServerV2", "createServerV21", "createSingleServer"]


@pytest.fixture
def preflight(cloud, tmp_path):
    create_system_tracker(cloud)

    class Preflight:
        env = {
            "HUAWEICLOUD_SDK_AK": cloud.ak,
            "HUAWEICLOUD_SDK_SK": cloud.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
            "REGION": cloud.region,
            "PROTECTED_GROUPS": "baseline",
        }
        template = ROOT / "template.yaml"
        lines: list[str] = []

        def __call__(self, *args: str, table: bool = False, **env: str) -> tuple[int, dict]:
            self.since = cloud.last_seq()
            self.lines = []
            argv = ["preflight", "--endpoint", cloud.url, "--server", LEGACY]
            argv += ["--template", str(self.template), "--policy", str(ROOT / "policy.yaml"), *args]
            code = sgguard(argv + ([] if table else ["--json"]), {**self.env, **env}, out=self.lines.append)
            if table:
                return code, {}
            report = json.loads("\n".join(self.lines))
            return code, {check["name"]: check for check in report["checks"]}

        def with_operations(self, pattern: str, replacement: str) -> None:
            """A copy of template.yaml with the first match of ``pattern`` replaced."""
            text = (ROOT / "template.yaml").read_text(encoding="utf-8")
            changed, count = re.subn(pattern, replacement, text, count=1)
            assert count == 1, pattern
            self.template = tmp_path / "template.yaml"
            self.template.write_text(changed, encoding="utf-8")

    return Preflight()


def test_every_subscribed_trace_name_is_listed(cloud, preflight):
    code, checks = preflight()
    assert code == 0, checks
    assert checks["CTS trace names"]["ok"] and "listed by CTS ListOperations" in checks["CTS trace names"]["detail"]
    cts = [r for r in cloud.requests(preflight.since) if r["path"].endswith("/operations")]
    assert cts and all(r["method"] == "GET" and "service_type=" in r["query"] for r in cts)
    assert {re.search(r"service_type=(\w+)", r["query"]).group(1) for r in cts} == {"ECS", "VPC"}


def test_a_trace_name_cts_does_not_list_is_a_cross(cloud, preflight):
    cloud.cts_operations(
        [
            {"service_type": "ECS", "resource_type": "ecs", "operation_list": ["createServer", "createServerV2"]},
            {"service_type": "ECS", "resource_type": "server", "operation_list": ["operateServer"]},
            {"service_type": "VPC", "resource_type": "ports", "operation_list": ["updatePort"]},
        ]
    )
    code, checks = preflight()
    check = checks["CTS trace names"]
    assert code == 1 and not check["ok"]
    assert (
        "ecs_created: ECS:ecs:createServerV21 is not listed (CTS lists: createServer, createServerV2)"
        in check["detail"]
    )
    assert "sg_drift: VPC:ports:addSecurityGroups is not listed" in check["detail"]
    assert "no resource type 'security-group-rules' of VPC (it lists: ports)" in check["detail"]
    assert "template.yaml" in check["fix"]


def test_the_semicolon_spelling_is_read_as_several_traces(cloud, preflight):
    preflight.with_operations(
        r'operations:\n(?:\s+- "ECS:ecs:[^"]+"\n)+',
        'operations: ["ECS:ecs:createServer;createServerV2;createServerV21;createSingleServer"]\n',
    )
    code, checks = preflight()
    assert code == 0 and checks["CTS trace names"]["ok"], checks["CTS trace names"]
    preflight.with_operations(r'createServerV21"', 'createServerV21;notATrace"')
    code, checks = preflight()
    assert code == 1
    assert "ecs_created: ECS:ecs:notATrace is not listed" in checks["CTS trace names"]["detail"]
    assert "createServerV21 is not" not in checks["CTS trace names"]["detail"]


def test_both_spellings_parse_alike():
    listed = parse_operations(["ECS:ecs:createServer", "ECS:ecs:createServerV2"])
    joined = parse_operations(["ECS:ecs:createServer;createServerV2"])
    assert listed == joined == [("ECS", "ecs", "createServer"), ("ECS", "ecs", "createServerV2")]
    assert parse_operations(["VPC:security-group-rules:createSecurity-group-rule; deleteSecurity-group-rule;"]) == [
        ("VPC", "security-group-rules", "createSecurity-group-rule"),
        ("VPC", "security-group-rules", "deleteSecurity-group-rule"),
    ]
    assert parse_operations(["createServer"]) == [("", "", "createServer")]


def test_cts_denied_is_a_cross_with_its_fix(cloud, preflight):
    cloud.add_fault(kind="deny", method="GET", path="/v3/*/operations", action="cts:operation:list")
    code, checks = preflight()
    assert code == 1 and not checks["CTS trace names"]["ok"]
    assert "403" in checks["CTS trace names"]["detail"] and "CTS" in checks["CTS trace names"]["fix"]


def test_a_region_the_documentation_does_not_list_is_a_warning(preflight):
    assert "ap-southeast-3" not in CTS_TRIGGER_REGIONS
    code, checks = preflight(REGION="ap-southeast-3")
    check = checks["CTS triggers"]
    assert code == 0 and check["ok"] and check["warning"]
    assert "functiongraph_06_0122" in check["detail"] and "EG_CHANNEL_ID" in check["fix"]
    code, _ = preflight(table=True, REGION="ap-southeast-3")
    table = "\n".join(preflight.lines).splitlines()
    mark = next(i for i, line in enumerate(table) if line.startswith("! CTS triggers"))
    assert "fix: check that the FunctionGraph console" in table[mark + 1]
    assert "with a warning" in table[-1] and code == 0


def test_a_listed_region_is_a_tick(preflight):
    code, checks = preflight()
    assert checks["CTS triggers"] == {
        "name": "CTS triggers",
        "ok": True,
        "detail": "cn-north-4 (CN North-Beijing4) is listed for CTS triggers",
        "fix": "",
        "warning": False,
    }


def _seeded_subnet(cloud) -> tuple[str, str]:
    from huaweicloudsdkvpc.v2.model import ListSubnetsRequest

    from tests.support.sdk import vpc_v2_client

    subnet = vpc_v2_client(cloud).list_subnets(ListSubnetsRequest()).to_json_object()["subnets"][0]
    return subnet["vpc_id"], subnet["id"]


def test_function_vpc_access_without_a_nat_route_is_a_warning(cloud, preflight):
    vpc_id, subnet_id = _seeded_subnet(cloud)
    code, checks = preflight(FUNC_VPC_ID=vpc_id, FUNC_SUBNET_ID=subnet_id)
    check = checks["function VPC access"]
    assert code == 0 and check["ok"] and check["warning"]
    assert check["detail"].startswith("change_request, ecs_created, sg_drift run in a VPC")
    assert f"VPC {vpc_id} (subnet {subnet_id}): route table " in check["detail"]
    assert "has no 0.0.0.0/0 route to a NAT gateway" in check["detail"]
    assert f"SNAT rule for subnet {subnet_id}" in check["fix"] and "FUNC_VPC_ID" in check["fix"]
    reads = [r for r in cloud.requests(preflight.since) if "/routetables" in r["path"]]
    assert reads and all(r["method"] == "GET" for r in reads)
    _, without = preflight()
    assert "function VPC access" not in without


def test_function_vpc_access_with_a_nat_route_is_a_tick(cloud, preflight):
    vpc_id, subnet_id = _seeded_subnet(cloud)
    table = cloud.add_route(vpc_id, "0.0.0.0/0", "nat", "nat-gw-1")
    code, checks = preflight(FUNC_VPC_ID=vpc_id, FUNC_SUBNET_ID=subnet_id)
    check = checks["function VPC access"]
    assert code == 0 and check["ok"] and not check["warning"]
    assert f"route table {table['id']} sends 0.0.0.0/0 to NAT gateway nat-gw-1" in check["detail"]
    assert "SNAT rule for the subnet is not checked" in check["detail"]


def test_function_vpc_access_to_an_unknown_vpc_is_a_warning(preflight):
    code, checks = preflight(FUNC_VPC_ID="vpc-0001", FUNC_SUBNET_ID="subnet-0001")
    check = checks["function VPC access"]
    assert code == 0 and check["warning"] and "vpc-0001" in check["detail"]


def test_the_dry_run_is_not_called_a_permission(preflight):
    code, checks = preflight()
    detail = checks["dry-run write"]["detail"]
    assert code == 0 and "write permission" not in checks
    assert "does not prove vpc:ports:update is granted" in detail and "parameters, format and limits" in detail

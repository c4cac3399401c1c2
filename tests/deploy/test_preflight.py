"""sgguard preflight against localcloud: every check, a second enterprise project, a permission
answered 403, and proof from localcloud's request log that it never writes (the dry-run insert
aside)."""

from __future__ import annotations

import json

import pytest

from sgguard_cli.deployer.api import FunctionGraphApi, build_client
from sgguard_cli.main import main as sgguard
from tests.support.deploy import create_system_tracker, kafka_instance
from tests.support.enterprise import EP2, EP2_SERVER, seed_second_enterprise_project
from tests.support.requests import LEGACY, LEGACY_PORTS


def main(argv: list[str], environ: dict, out=print) -> int:
    """``sgguard preflight ARGV`` with this environment."""
    return sgguard(["preflight", *argv], environ, out=out)


INSERT = "/v3/*/ports/*/insert-security-groups"


@pytest.fixture
def preflight(cloud):
    seed_second_enterprise_project(cloud)
    create_system_tracker(cloud)

    class Preflight:
        lines: list[str] = []
        requests: list[dict] = []
        env = {
            "HUAWEICLOUD_SDK_AK": cloud.ak,
            "HUAWEICLOUD_SDK_SK": cloud.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
            "REGION": cloud.region,
            "PROTECTED_GROUPS": "baseline,ep2-baseline",
        }

        def __call__(self, *args: str, **env: str) -> tuple[int, dict]:
            since = cloud.last_seq()
            self.lines = []
            code = main(["--endpoint", cloud.url, "--json", *args], {**self.env, **env}, out=self.lines.append)
            self.requests = cloud.requests(since)
            report = json.loads("\n".join(self.lines))
            return code, {check["name"]: check for check in report["checks"]}

    return Preflight()


def _failed(checks: dict) -> list[str]:
    return [name for name, check in checks.items() if not check["ok"]]


def test_every_check_passes_and_nothing_is_written(cloud, preflight):
    before = cloud.state()["projects"][cloud.project_id]["vpc"]["ports"]
    code, checks = preflight("--server", LEGACY)
    assert code == 0 and _failed(checks) == []
    assert list(checks) == [
        "endpoints",
        "security groups",
        "policy group names",
        "PROTECTED_GROUPS",
        "ALLOWED_GROUPS",
        "policy exposures",
        "server",
        "dry-run write",
        "CTS triggers",
        "CTS trace names",
        "function ecs_created",
        "function change_request",
        "function sg_drift",
        "CTS tracker",
    ]
    assert EP2 in checks["security groups"]["detail"] and "'ep2-baseline'" in checks["PROTECTED_GROUPS"]["detail"]
    assert LEGACY_PORTS[0] in checks["dry-run write"]["detail"]
    writes = [r for r in preflight.requests if r["method"] != "GET"]
    assert [(w["method"], w["route"], json.loads(w["body"])["dry_run"], w["status"]) for w in writes] == [
        ("PUT", "PUT /v3/{project_id}/ports/{port_id}/insert-security-groups", True, 202)
    ]
    assert cloud.state()["projects"][cloud.project_id]["vpc"]["ports"] == before
    listing = [r for r in preflight.requests if r["path"].endswith("/security-groups") and r["method"] == "GET"]
    assert listing and all("enterprise_project_id=all_granted_eps" in r["query"] for r in listing)


def test_a_server_of_a_second_enterprise_project(preflight):
    code, checks = preflight("--server", EP2_SERVER)
    assert code == 0, checks
    assert f"enterprise project {EP2}" in checks["server"]["detail"]


def test_a_missing_write_permission_is_a_cross_with_its_fix(cloud, preflight):
    cloud.add_fault(kind="deny", method="PUT", path=INSERT, action="vpc:ports:update")
    code, checks = preflight("--server", LEGACY)
    assert code == 1 and _failed(checks) == ["dry-run write"]
    check = checks["dry-run write"]
    assert "403 IAM.0003" in check["detail"] and "vpc:ports:update" in check["fix"]


def test_a_missing_read_permission_on_groups(cloud, preflight):
    cloud.add_fault(kind="deny", method="GET", path="/v3/*/vpc/security-groups", action="vpc:securityGroups:get")
    code, checks = preflight("--server", LEGACY)
    assert code == 1 and "security groups" in _failed(checks)
    assert "vpc:securityGroups:get" in checks["security groups"]["fix"]


def test_unknown_ambiguous_and_risky_groups_of_the_policy(preflight, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {name: ssh, security_groups: [{name: ssh-open}]}\n"
        "  - {name: approved, security_groups: [{name: rdp-open}], approved_by: secteam@example.com}\n"
        "  - {name: broken, security_groups: [{name: nope}, {name: dup-name}]}\n"
    )
    code, checks = preflight(
        "--server", LEGACY, "--policy", str(policy), PROTECTED_GROUPS="gone", ALLOWED_GROUPS="web,zz-*"
    )
    assert code == 1
    assert _failed(checks) == ["policy group names", "PROTECTED_GROUPS", "ALLOWED_GROUPS", "policy exposures"]
    assert checks["policy group names"]["detail"] == "'nope' not found; 'dup-name' names 2 groups"
    assert "'zz-*' matches no group" in checks["ALLOWED_GROUPS"]["detail"]
    exposures = checks["policy exposures"]["detail"]
    assert "'ssh-open': tcp/22 open to everyone (IPv4)" in exposures and "rdp-open" not in exposures


def test_no_server_named_is_a_cross(preflight):
    code, checks = preflight()
    assert code == 1 and _failed(checks) == ["server", "dry-run write"]
    assert "--server" in checks["server"]["fix"]


def test_deployed_functions_their_triggers_and_user_data(cloud, deployer, preflight):  # noqa: F811
    deployer()
    code, checks = preflight("--server", LEGACY)
    assert code == 0, checks
    assert "PROJECT_ID set" in checks["function ecs_created"]["detail"]
    # a function whose user data lacks PROJECT_ID (deployed by an older version)
    api = FunctionGraphApi(
        build_client(cloud.ak, cloud.sk, cloud.project_id, cloud.url), cloud.region, cloud.project_id
    )
    urn = api.urn("default", "change_request")
    config = api.show_config(urn)
    user_data = {k: v for k, v in json.loads(config["user_data"]).items() if k != "PROJECT_ID"}
    api.update_config(
        urn,
        {
            "func_name": "change_request",
            "runtime": config["runtime"],
            "handler": config["handler"],
            "memory_size": config["memory_size"],
            "timeout": config["timeout"],
            "xrole": config["xrole"],
            "user_data": json.dumps(user_data),
        },
    )
    code, checks = preflight("--server", LEGACY)
    assert code == 1 and _failed(checks) == ["function change_request"]
    assert "PROJECT_ID" in checks["function change_request"]["detail"]
    assert "deploy" in checks["function change_request"]["fix"]


def test_cts_triggers_answered_in_the_joined_form_pass(cloud, deployer, preflight):  # noqa: F811
    deployer()
    cloud.settings(cts_operations_joined=1)  # "ECS:ecs:createServer;createServerV2;..." (Terraform's form)
    code, checks = preflight("--server", LEGACY)
    assert code == 0, checks
    assert "lacks" not in checks["function ecs_created"]["detail"]


def test_the_table_shows_a_fix_under_each_cross(cloud, preflight):
    cloud.add_fault(kind="deny", method="PUT", path=INSERT, action="vpc:ports:update")
    lines: list[str] = []
    code = main(["--endpoint", cloud.url, "--server", LEGACY], preflight.env, out=lines.append)
    table = "\n".join(lines).splitlines()
    assert code == 1 and table[-1] == "13/14 checks passed, 1 failed"
    cross = next(i for i, line in enumerate(table) if line.startswith("✗ dry-run write"))
    assert "fix: grant vpc:ports:update" in table[cross + 1]
    assert sum(line.startswith("✓ ") for line in table) == 13


def test_a_wrong_secret_key_is_one_cross_and_exit_3(cloud, preflight):
    code, checks = preflight("--server", LEGACY, HUAWEICLOUD_SDK_SK="not-the-secret-key-0000000000000000000000")
    assert code == 3, checks
    assert _failed(checks) == ["credentials"], checks  # no follow-on crosses advising to grant read access
    assert "HUAWEICLOUD_SDK_AK / _SK" in checks["credentials"]["fix"]
    assert not [r for r in preflight.requests if r.get("write")]


def test_made_up_resources_fail_and_real_ones_pass(cloud, preflight):
    """issue 22: `11/11 checks passed` with KAFKA_INSTANCE_ID=x and a made-up ALERT_TOPIC_URN."""
    made_up = {
        "KAFKA_INSTANCE_ID": "9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8",
        "ALERT_TOPIC_URN": f"urn:smn:{cloud.region}:{cloud.project_id}:sgguard-alerts",
    }
    code, checks = preflight("--server", LEGACY, **made_up)
    assert code == 1 and _failed(checks) == ["KAFKA_INSTANCE_ID", "ALERT_TOPIC_URN"]
    assert "no DMS for Kafka instance" in checks["KAFKA_INSTANCE_ID"]["detail"]
    assert "no SMN topic 'sgguard-alerts'" in checks["ALERT_TOPIC_URN"]["detail"]
    code, checks = preflight("--server", LEGACY, KAFKA_INSTANCE_ID="x", ALERT_TOPIC_URN="urn:smn:x")
    assert "is not an instance id" in checks["KAFKA_INSTANCE_ID"]["detail"]
    assert "is not an SMN topic URN" in checks["ALERT_TOPIC_URN"]["detail"]
    assert not [r for r in preflight.requests if "/instances/x" in r["path"]]  # validated before any URL

    instance = kafka_instance(cloud)
    code, checks = preflight("--server", LEGACY, **{**made_up, "KAFKA_INSTANCE_ID": instance})
    assert _failed(checks) == ["KAFKA_INSTANCE_ID", "ALERT_TOPIC_URN"]
    assert "has no topic 'sg-change-requests'" in checks["KAFKA_INSTANCE_ID"]["detail"]


def test_a_missing_cts_tracker_is_a_cross(cloud):
    env = {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
        "REGION": cloud.region,
    }
    lines: list[str] = []
    main(["--endpoint", cloud.url, "--json", "--server", LEGACY], env, out=lines.append)
    tracker = next(c for c in json.loads("\n".join(lines))["checks"] if c["name"] == "CTS tracker")
    assert not tracker["ok"] and "sgguard bootstrap" in tracker["fix"]

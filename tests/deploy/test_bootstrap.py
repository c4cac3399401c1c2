"""sgguard bootstrap against localcloud (issue 22, item 1): the first run creates every prerequisite
through the official SDKs (agency, its least-privilege policy granted on the project, SMN topics,
the CTS tracker, the Kafka topic on an existing instance, the package), deploys and runs
preflight; the second run plans 0 changes and writes nothing."""

from __future__ import annotations

import json

import pytest

from sgguard_cli.cloudargs import cloud_target
from sgguard_cli.deployer.prereq_api import PrerequisiteApi
from sgguard_cli.main import build_parser
from sgguard_cli.main import main as sgguard
from sgguard_cli.permissions import required_actions
from tests.support.deploy import functions_of, kafka_instance


@pytest.fixture
def bootstrap(cloud, source_tree, tmp_path):
    deps = source_tree / "build" / "sgguard-deps.zip"

    class Bootstrap:
        instance = kafka_instance(cloud)
        params = tmp_path / "bootstrap.yaml"
        env = {
            "HUAWEICLOUD_SDK_AK": cloud.ak,
            "HUAWEICLOUD_SDK_SK": cloud.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
            "SIGNING_KEYS_JSON": '{"ticketing-1": "s3cret-signing-key-for-tests-0001"}',
            "ECS_ENDPOINT": cloud.url,
            "VPC_ENDPOINT": cloud.url,
            "PROTECTED_GROUPS": "baseline",
        }
        lines: list[str] = []

        def __call__(self, *extra: str, **env: str) -> tuple[int, list[dict]]:
            since = cloud.last_seq()
            self.lines = []
            argv = ["bootstrap", "--params", str(self.params), "--endpoint", cloud.url]
            argv += ["--template", str(source_tree / "template.yaml"), "--build-dir", str(tmp_path / "build"), *extra]
            code = sgguard(argv, {**self.env, **env}, out=self.lines.append)
            return code, [r for r in cloud.requests(since) if r.get("write")]

    boot = Bootstrap()
    boot.params.write_text(
        f"region: {cloud.region}\nkafka_instance_id: {boot.instance}\nkafka_topic: sg-change-requests\n"
        "result_topic: sgguard-results\nalert_topic: sgguard-alerts\n"
    )
    assert not deps.exists()
    return boot


def test_first_run_creates_everything_the_second_plans_0_changes(cloud, bootstrap):
    code, writes = bootstrap("--yes")
    assert code == 0, "\n".join(bootstrap.lines)
    state = cloud.state()["projects"][cloud.project_id]
    agency = state["iam"]["agencies"]["sgguard-functions"]
    assert agency["trust_domain_name"] == "op_svc_cff"
    policy = state["iam"]["roles"]["sgguard-functions-policy"]
    assert policy["type"] == "XA"
    assert set(policy["policy"]["Statement"][0]["Action"]) == set(required_actions())  # least privilege
    assert [cloud.project_id, agency["id"], policy["id"]] in state["iam"]["grants"]
    assert sorted(t["name"] for t in state["smn"]["topics"]) == ["sgguard-alerts", "sgguard-results"]
    assert [t["tracker_name"] for t in state["cts"]["trackers"]] == ["system"]
    assert state["dms"]["topics"][bootstrap.instance] == ["sg-change-requests"]
    functions = functions_of(cloud)
    assert set(functions) == {"ecs_created", "change_request", "sg_drift"}
    sinks = json.loads(functions["change_request"]["user_data"]["RESULT_SINKS"])
    assert sinks[1]["topic_urn"] == f"urn:smn:{cloud.region}:{cloud.project_id}:sgguard-results"
    kafka = next(t for t in functions["change_request"]["triggers"] if t["trigger_type_code"] == "KAFKA")
    assert kafka["event_data"]["instance_id"] == bootstrap.instance
    assert bootstrap.lines[-1].endswith("checks passed"), bootstrap.lines
    routes = {w["route"] for w in writes}
    assert {"POST /v3.0/OS-AGENCY/agencies", "POST /v3.0/OS-ROLE/roles", "POST /v3/{project_id}/tracker"} <= routes

    code, writes = bootstrap("--yes")
    assert code == 0 and writes == [], writes
    assert "bootstrap: 0 change(s) planned" in bootstrap.lines
    assert "prerequisites: 0 to create, 0 to update, 9 in place, 0 missing" in bootstrap.lines, "\n".join(
        bootstrap.lines
    )


def test_plan_writes_nothing_and_a_changed_policy_is_an_update(cloud, bootstrap):
    code, writes = bootstrap("--plan")
    assert code == 0 and writes == []
    assert any(line.startswith("+ create   iam agency") for line in bootstrap.lines)
    assert bootstrap("--yes")[0] == 0
    role = cloud.state()["projects"][cloud.project_id]["iam"]["roles"]["sgguard-functions-policy"]
    args = build_parser().parse_args(["bootstrap", "--endpoint", cloud.url])
    api = PrerequisiteApi(cloud_target(args, bootstrap.env))
    wider = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:cloudServers:get", "iam:users:list"]}]}
    api.update_custom_policy(role["id"], role["display_name"], "widened by hand", wider)
    code, writes = bootstrap("--plan")
    assert code == 0 and writes == []
    assert any(line.startswith("~ update   iam custom policy") for line in bootstrap.lines), bootstrap.lines


def test_an_unknown_kafka_instance_is_explained_and_nothing_is_written(cloud, bootstrap):
    unknown = "00000000-0000-4000-8000-000000000000"
    code, writes = bootstrap("--yes", "--kafka-instance-id", unknown)
    assert code == 1 and writes == []
    text = "\n".join(bootstrap.lines)
    assert f"! missing  dms kafka instance {unknown}" in text and "bootstrap never creates one" in text


def test_bad_parameters_name_the_field_before_any_call(cloud, bootstrap, capsys):
    bootstrap.params.write_text("kafka_instance_id: 12\nresult_topic: 'réѕults'\nkafka_topik: x\n")
    since = cloud.last_seq()
    code, _ = bootstrap("--yes")
    err = capsys.readouterr().err
    assert code == 2
    assert "$.kafka_instance_id: must be a string" in err
    assert "$.result_topic: 'réѕults' is not valid" in err
    assert "$.kafka_topik: unknown parameter" in err
    assert cloud.requests(since) == []


def test_a_missing_secret_is_named_before_any_write(cloud, bootstrap, capsys):
    env = {k: v for k, v in bootstrap.env.items() if k != "SIGNING_KEYS_JSON"}
    bootstrap.env = env
    code, writes = bootstrap("--yes")
    assert code == 3 and writes == []
    assert "SIGNING_KEYS_JSON [secret]" in capsys.readouterr().err


def test_without_yes_and_without_a_terminal_it_refuses_and_writes_nothing(cloud, bootstrap, capsys):
    code, writes = bootstrap()
    assert code == 2 and writes == []
    assert "needs a confirmation: run it in a terminal, or pass --yes" in capsys.readouterr().err


MEMBERS = ("20" * 16, "3c" * 16)


def test_the_central_channel_of_member_events_is_created_and_feeds_the_triggers(cloud, bootstrap):
    members = ",".join(MEMBERS)
    code, writes = bootstrap("--yes", ORG_MEMBER_ACCOUNTS=members)
    assert code == 0, "\n".join(bootstrap.lines)
    eg = cloud.state()["projects"][cloud.project_id]["eg"]
    [channel] = [c for c in eg["channels"] if c["name"] == "sgguard-org-events"]
    assert channel["cross_account"] is True
    [statement] = channel["policy"].values()
    assert statement["Effect"] == "Allow" and statement["Action"] == "eg:channels:putEvents"
    assert statement["Principal"]["members"]["IAM"] == sorted(MEMBERS)
    assert statement["Resource"].endswith(":channel:sgguard-org-events")
    # the triggers on it: ecs_created (HC.ECS), sg_drift (HC.VPC, HC.ECS); least privilege unchanged
    functions = functions_of(cloud)
    on_channel = {
        (name, t["event_data"]["source_name"])
        for name, f in functions.items()
        for t in f["triggers"]
        if t["trigger_type_code"] == "EVENTGRID" and t["event_data"].get("channel_id") == channel["id"]
    }
    assert on_channel == {("ecs_created", "HC.ECS"), ("sg_drift", "HC.VPC"), ("sg_drift", "HC.ECS")}
    role = cloud.state()["projects"][cloud.project_id]["iam"]["roles"]["sgguard-functions-policy"]
    assert set(role["policy"]["Statement"][0]["Action"]) == set(required_actions())

    code, writes = bootstrap("--yes", ORG_MEMBER_ACCOUNTS=members)
    assert code == 0 and writes == [], writes
    # another member: the policy is updated in place (same channel id), the triggers stay
    code, writes = bootstrap("--yes", ORG_MEMBER_ACCOUNTS=members + "," + "4d" * 16)
    assert code == 0, "\n".join(bootstrap.lines)
    assert [w["route"] for w in writes] == ["PUT /v1/{project_id}/channels/{channel_id}"]
    [channel] = [
        c for c in cloud.state()["projects"][cloud.project_id]["eg"]["channels"] if c["name"] == "sgguard-org-events"
    ]
    assert len(next(iter(channel["policy"].values()))["Principal"]["members"]["IAM"]) == 3


def test_a_malformed_member_account_is_explained_and_nothing_is_written(cloud, bootstrap):
    code, writes = bootstrap("--yes", ORG_MEMBER_ACCOUNTS="2020,ABABABABABABABABABABABABABABABAB")
    assert code == 1 and writes == []
    assert any(line.startswith("! missing  eg channel") for line in bootstrap.lines), bootstrap.lines

"""sgguard deploy against localcloud's FunctionGraph API, through the official SDK."""

from __future__ import annotations

import hashlib
import json

from sgguard_cli.deployer.packaging import write_zip
from tests.support.deploy import functions_of, run_deploy

main = run_deploy


def _routes(writes) -> list[str]:
    return [w["route"] for w in writes]


def test_first_deploy_creates_functions_triggers_async_config_and_dependency(cloud, deployer, tmp_path):
    writes = deployer()
    assert all(w["status"] in (200, 201) for w in writes), writes
    functions = functions_of(cloud)
    assert set(functions) == {"ecs_created", "change_request", "sg_drift"}
    created, change = functions["ecs_created"], functions["change_request"]
    assert created["runtime"] == "Python3.12" and created["handler"] == "index.handler"
    assert created["memory_size"] == 256 and created["timeout"] == 300 and created["xrole"] == "sgguard-functions"
    assert created["strategy_config"] == {"concurrency": 10, "concurrent_num": 1}
    zipped = (tmp_path / "build" / "ecs_created.zip").read_bytes()
    assert created["sha256"] == hashlib.sha256(zipped).hexdigest()
    assert created["digest"] == hashlib.sha512(zipped).hexdigest()
    assert created["user_data"]["POLICY_FILE"] == "policy.yaml" and created["user_data"]["REGION"] == cloud.region
    assert change["user_data"]["REQUIRE_SIGNED_REQUESTS"] == "true"
    assert change["encrypted_user_data_keys"] == ["IDEMPOTENCY_STORE", "REQUEST_SIGNING_KEYS", "WEBHOOK_SIGNING_KEYS"]
    assert created["func_vpc"] is None and change["func_vpc"] is None  # no VPC access unless asked for
    assert sorted(t["trigger_type_code"] for t in created["triggers"]) == ["CTS", "EVENTGRID"]
    assert sorted(t["trigger_type_code"] for t in change["triggers"]) == [
        "APIG",
        "EVENTGRID",
        "KAFKA",
        "RABBITMQ",
        "SMN",
    ]
    kafka = next(t for t in change["triggers"] if t["trigger_type_code"] == "KAFKA")
    assert kafka["trigger_status"] == "ACTIVE" and kafka["event_data"]["kafka_password"] == "kafka-secret-0001"
    for function in (created, change):
        config = function["async_invoke_config"]
        age = 300 if function is change else 3600  # a lane within REPLAY_WINDOW_S (docs/retries.md)
        assert config["max_async_retry_attempts"] == 3 and config["max_async_event_age_in_seconds"] == age
        on_failure = config["destination_config"]["on_failure"]  # the dead letters come back to the function
        assert on_failure["destination"] == "FunctionGraph"
        assert json.loads(on_failure["param"]) == {"func_urn": function["func_urn"]}
        assert len(function["depend_version_list"]) == 1
    assert list(cloud.state()["projects"][cloud.project_id]["functiongraph"]["dependencies"]) == ["sgguard-deps"]
    assert deployer.lines[-1].startswith(f"{len(writes)} change(s) applied; {len(writes)} write call(s)")


def test_second_deploy_makes_no_write_call(cloud, deployer):
    deployer()
    writes = deployer()
    assert writes == []
    assert "no changes" in deployer.lines


def test_plan_changes_nothing(cloud, deployer):
    writes = deployer("--plan")
    assert writes == []
    assert functions_of(cloud) == {}
    assert any(line.startswith("+   add      create_function") and "ecs_created" in line for line in deployer.lines)
    deployer()
    assert deployer("--plan", ALLOWED_GROUPS="web,app") == []
    assert any("update_config" in line and "user_data.ALLOWED_GROUPS" in line for line in deployer.lines)


def test_one_user_data_value_changed_is_one_config_update(cloud, deployer):
    deployer()
    writes = deployer(ALLOWED_GROUPS="web,app")  # only change_request reads ALLOWED_GROUPS
    assert _routes(writes) == ["PUT /v2/{project_id}/fgs/functions/{function_urn}/config"]
    assert "change_request" in writes[0]["path"].replace("%3A", ":")
    assert functions_of(cloud)["change_request"]["user_data"]["ALLOWED_GROUPS"] == "web,app"


def test_a_changed_secret_is_one_config_update_without_reading_it_back(cloud, deployer):
    deployer()
    writes = deployer(SIGNING_KEYS_JSON='{"ticketing-1": "a-rotated-signing-key-000000002"}')
    assert _routes(writes) == ["PUT /v2/{project_id}/fgs/functions/{function_urn}/config"]
    assert "a-rotated-signing-key" not in json.dumps(functions_of(cloud)["change_request"]["user_data"])


def test_changed_code_is_one_code_update(cloud, deployer, source_tree):
    deployer()
    index = source_tree / "functions" / "change_request" / "index.py"
    index.write_text(index.read_text() + "\n# a change\n")
    writes = deployer()
    assert _routes(writes) == ["PUT /v2/{project_id}/fgs/functions/{function_urn}/code"]
    assert "change_request" in writes[0]["path"].replace("%3A", ":")


def test_a_trigger_removed_from_the_template_is_deleted(cloud, deployer):
    deployer()
    writes = deployer(SMN_TOPIC_URN=None)
    assert _routes(writes) == ["DELETE /v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}"]
    assert "/SMN/" in writes[0]["path"]
    kinds = sorted(t["trigger_type_code"] for t in functions_of(cloud)["change_request"]["triggers"])
    assert kinds == ["APIG", "EVENTGRID", "KAFKA", "RABBITMQ"]


def test_a_changed_trigger_is_replaced(cloud, deployer):
    deployer()
    writes = deployer(KAFKA_TOPIC="other-topic")
    assert _routes(writes) == [
        "DELETE /v2/{project_id}/fgs/triggers/{function_urn}/{trigger_type_code}/{trigger_id}",
        "POST /v2/{project_id}/fgs/triggers/{function_urn}",
    ]


def test_a_new_dependency_package_is_a_new_version_and_code_updates(cloud, deployer, tmp_path):
    deployer()
    other = write_zip({"placeholder/__init__.py": b"V = 2\n"}, tmp_path / "deps2.zip").path
    writes = deployer(DEPENDENCY_ZIP=str(other))
    assert _routes(writes) == [
        "POST /v2/{project_id}/fgs/dependencies/version",
        "PUT /v2/{project_id}/fgs/functions/{function_urn}/code",
        "PUT /v2/{project_id}/fgs/functions/{function_urn}/code",
        "PUT /v2/{project_id}/fgs/functions/{function_urn}/code",
    ]
    assert deployer(DEPENDENCY_ZIP=str(other)) == []


def test_deploy_needs_credentials_and_a_valid_template(cloud, deployer, capsys):
    env = {k: v for k, v in deployer.env.items() if k != "HUAWEICLOUD_SDK_SK"}
    assert main(["--endpoint", cloud.url], env, out=lambda line: None) == 3  # a configuration error
    assert "sgguard: error: set HUAWEICLOUD_SDK_SK" in capsys.readouterr().err
    assert main(["--endpoint", cloud.url], {}, out=lambda line: None) == 3
    assert "parameter(s) without a value" in capsys.readouterr().err


def test_wrong_credentials_fail_cleanly(cloud, deployer, capsys):
    assert (
        main(
            ["--endpoint", cloud.url, "--build-dir", str(deployer.env["DEPENDENCY_ZIP"]) + ".build"],
            {**deployer.env, "HUAWEICLOUD_SDK_SK": "wrong-secret-key-000000000000000000"},
            out=lambda line: None,
        )
        == 3
    )
    assert "APIGW.0301" in capsys.readouterr().err


def test_print_agency_policy(deployer):
    lines = []
    assert main(["--print-agency-policy"], deployer.env, out=lines.append) == 0
    policy = json.loads(lines[0])
    assert policy["policy"]["Version"] == "1.1" and "vpc:ports:update" in policy["policy"]["Statement"][0]["Action"]


def test_the_localcloud_stub_dependency_never_goes_to_a_real_region(cloud, deployer, tmp_path, capsys):
    from sgguard_cli.deployer.packaging import stub_dependency_zip
    from tests.support.deploy import ROOT

    stub = stub_dependency_zip(ROOT, tmp_path / "deps-local.zip", "sgguard-deps").path
    env = {**deployer.env, "DEPENDENCY_ZIP": str(stub)}
    assert main(["--plan", "--build-dir", str(tmp_path / "b")], env, out=lambda line: None) == 3
    assert "sgguard: error: build/sgguard-deps-local.zip is the localcloud stub" in capsys.readouterr().err.replace(
        str(stub), "build/sgguard-deps-local.zip"
    )
    assert deployer(DEPENDENCY_ZIP=str(stub))  # into localcloud it is fine


def test_vpc_access_and_the_shared_store_are_optional_parameters(cloud, deployer):
    """FUNC_VPC_ID/FUNC_SUBNET_ID give both functions VPC access (to reach DCS); the store's URL goes
    to encrypted user data only (it may hold a password), never to plain user data or the plan."""
    url = "redis://:dcs-pa55word@192.0.2.10:6379/0"
    deployer(FUNC_VPC_ID="vpc-0001", FUNC_SUBNET_ID="subnet-0001", IDEMPOTENCY_STORE_URL=url)
    functions = functions_of(cloud)
    for function in functions.values():
        assert function["func_vpc"] == {"vpc_id": "vpc-0001", "subnet_id": "subnet-0001"}
        assert "IDEMPOTENCY_STORE" in function["encrypted_user_data_keys"]
        assert "IDEMPOTENCY_STORE" not in function["user_data"]
    assert not any("dcs-pa55word" in line for line in deployer.lines)
    # a second deploy with the same values changes nothing; dropping the subnet alone is refused
    deployer(FUNC_VPC_ID="vpc-0001", FUNC_SUBNET_ID="subnet-0001", IDEMPOTENCY_STORE_URL=url)
    assert not any("func_vpc" in line for line in deployer.lines), deployer.lines

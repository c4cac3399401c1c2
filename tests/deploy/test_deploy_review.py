"""A deploy you can review (issue 22, item 2): values shown with secrets masked, add / change /
replace / destroy with totals, a trigger status change as an in-place update, a confirmation
unless --yes, --plan without a prebuilt dependency package, and each missing parameter named."""

from __future__ import annotations

import io

import pytest

from sgguard_cli.deployer.review import confirm
from sgguard_cli.errors import UsageError
from tests.support.deploy import functions_of, run_deploy

KAFKA_SECRET = "kafka-secret-0001"


def _kafka(cloud) -> dict:
    return next(t for t in functions_of(cloud)["change_request"]["triggers"] if t["trigger_type_code"] == "KAFKA")


def test_first_plan_shows_values_masks_secrets_and_totals(cloud, deployer):
    assert deployer("--plan") == []
    text = "\n".join(deployer.lines)
    assert '        user_data.REGION: "' + cloud.region + '"' in deployer.lines
    assert (
        "        encrypted_user_data: IDEMPOTENCY_STORE, REQUEST_SIGNING_KEYS, WEBHOOK_SIGNING_KEYS (sensitive)" in text
    )
    assert '        event_data.kafka_password: "(sensitive)"' in deployer.lines
    assert KAFKA_SECRET not in text and "s3cret-signing-key" not in text  # no secret is ever printed
    totals = next(line for line in deployer.lines if line.startswith("Plan: "))
    adds = sum(1 for line in deployer.lines if line.startswith("+   add "))
    # each of the 3 functions: strategy_config and async invoke config are updates after the create
    assert totals == f"Plan: {adds} to add, 6 to change, 0 to replace, 0 to destroy."


def test_a_changed_value_shows_old_and_new_and_a_changed_secret_only_that_it_changed(cloud, deployer):
    deployer()
    rotated = "a-rotated-signing-key-000000000000002"
    assert deployer("--plan", ALLOWED_GROUPS="web,app", SIGNING_KEYS_JSON=f'{{"ticketing-1": "{rotated}"}}') == []
    text = "\n".join(deployer.lines)
    assert '        user_data.ALLOWED_GROUPS: "*" -> "web,app"' in deployer.lines
    assert "        encrypted_user_data: (sensitive) -> (sensitive) (a secret changed)" in deployer.lines
    assert rotated not in text and "s3cret-signing-key" not in text
    assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy." in deployer.lines


def test_a_trigger_status_change_is_an_update_in_place(cloud, deployer, source_tree):
    deployer()
    before = _kafka(cloud)
    template = source_tree / "template.yaml"
    text = template.read_text()
    kafka = text.index("- trigger_type_code: KAFKA")
    template.write_text(text[:kafka] + text[kafka:].replace("trigger_status: ACTIVE", "trigger_status: DISABLED", 1))
    writes = deployer()
    assert [w["method"] for w in writes] == ["PUT"] and "/fgs/triggers/" in writes[0]["path"]
    assert any(line.startswith("~   change   update_trigger") for line in deployer.lines), deployer.lines
    assert "        trigger_status: ACTIVE -> DISABLED" in deployer.lines
    after = _kafka(cloud)
    assert after["trigger_id"] == before["trigger_id"] and after["trigger_status"] == "DISABLED"
    assert deployer() == []


def test_another_event_data_is_one_replacement_not_a_delete_and_an_unrelated_create(cloud, deployer, source_tree):
    deployer()
    template = source_tree / "template.yaml"
    template.write_text(template.read_text().replace("batch_size: 100", "batch_size: 50", 1))
    assert deployer("--plan") == []
    assert any(line.startswith("-/+ replace  replace_trigger") and "KAFKA" in line for line in deployer.lines)
    assert "        event_data.batch_size: 100 -> 50" in deployer.lines
    assert "Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy." in deployer.lines
    assert not any("delete_trigger" in line or "create_trigger" in line for line in deployer.lines)
    deployer()
    assert _kafka(cloud)["event_data"]["batch_size"] == 50


def test_apply_without_yes_and_without_a_terminal_refuses_and_writes_nothing(cloud, deployer, tmp_path, capsys):
    argv = ["--template", str(deployer.template), "--endpoint", cloud.url, "--build-dir", str(tmp_path / "b")]
    since = cloud.last_seq()
    assert run_deploy(argv, deployer.env, out=lambda line: None) == 2
    assert "needs a confirmation: run it in a terminal, or pass --yes" in capsys.readouterr().err
    assert [r for r in cloud.requests(since) if r.get("write")] == []


def test_confirm_accepts_only_yes():
    assert confirm("Apply?", yes=False, ask=lambda prompt: "yes") is True
    assert confirm("Apply?", yes=False, ask=lambda prompt: "y") is False
    assert confirm("Apply?", yes=True, stdin=io.StringIO()) is True
    with pytest.raises(UsageError):
        confirm("Apply?", yes=False, stdin=io.StringIO())


def test_plan_works_before_the_dependency_package_is_built_and_apply_says_how(cloud, deployer, tmp_path, capsys):
    absent = str(tmp_path / "not-built" / "sgguard-deps.zip")
    assert deployer("--plan", DEPENDENCY_ZIP=absent) == []
    assert any("create_dependency_version" in line and "(not built yet)" in line for line in deployer.lines)
    argv = ["--template", str(deployer.template), "--endpoint", cloud.url, "--build-dir", str(tmp_path / "b"), "--yes"]
    assert run_deploy(argv, {**deployer.env, "DEPENDENCY_ZIP": absent}, out=lambda line: None) == 3
    assert "not found: build it with sgguard package --dependencies" in capsys.readouterr().err


def test_each_missing_parameter_is_named_with_its_description(cloud, deployer, capsys):
    env = {k: v for k, v in deployer.env.items() if k not in ("ALERT_TOPIC_URN", "SIGNING_KEYS_JSON")}
    assert run_deploy(["--template", str(deployer.template), "--plan"], env, out=lambda line: None) == 3
    err = capsys.readouterr().err
    assert "2 parameter(s) without a value (set them in the environment):" in err
    assert (
        "  ALERT_TOPIC_URN: SMN dead-letter topic: each message FunctionGraph's async retry policy gave up on, "
        "in full (docs/retries.md)" in err
    )
    assert "  SIGNING_KEYS_JSON [secret]: JSON object key_id -> HMAC secret of the ticketing system" in err

"""template.yaml against its schema, parameter substitution, and the errors a broken template gives."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from sgguard_cli.template import SCHEMA_PATH, TemplateError, load_template, parse_template, references
from tests.support.deploy import ROOT, sample_env

TEMPLATE = ROOT / "template.yaml"


def _document() -> dict:
    return yaml.safe_load(TEMPLATE.read_text())


def _errors(document, env=None) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        parse_template(document, sample_env() if env is None else env, root=ROOT)
    return caught.value.errors


def _function(document, name) -> dict:
    return next(f for f in document["functions"] if f["func_name"] == name)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_repository_template_validates_and_every_reference_resolves():
    env = sample_env()
    template = load_template(TEMPLATE, env)
    assert [f.func_name for f in template.functions] == ["ecs_created", "change_request", "sg_drift"]
    rendered = json.dumps([vars(f) for f in template.functions], default=str)
    assert "${" not in rendered  # nothing left unresolved
    for name, _path in references({k: v for k, v in _document().items() if k != "parameters"}):
        assert name in template.values
    change = template.function("change_request")
    assert change.encrypted_user_data["REQUEST_SIGNING_KEYS"] == env["SIGNING_KEYS_JSON"]
    assert change.user_data["REQUIRE_SIGNED_REQUESTS"] == "true"
    kafka = next(t for t in change.triggers if t.trigger_type_code == "KAFKA")
    assert kafka.event_data["instance_id"] == env["KAFKA_INSTANCE_ID"] and kafka.event_data["topic_ids"] == [
        "sg-change-requests"
    ]
    assert 1 <= kafka.event_data["batch_size"] <= 1000
    assert {t.trigger_type_code for t in change.triggers} == {"KAFKA", "RABBITMQ", "SMN", "APIG", "EVENTGRID"}
    created = template.function("ecs_created")
    assert created.handler == "index.handler" and created.runtime in ("Python3.10", "Python3.12")
    assert created.include == ("policy.yaml",) and created.user_data["POLICY_FILE"] == "policy.yaml"
    cts = next(t for t in created.triggers if t.trigger_type_code == "CTS")
    assert {"ECS:ecs:createServer", "ECS:ecs:createServerV2", "ECS:ecs:createServerV21"} <= set(
        cts.event_data["operations"]
    )
    for function in template.functions:
        config = function.async_invoke_config
        assert config["max_async_retry_attempts"] == 3
        # the dead letters come back to the function ("self": deploy writes its URN), which publishes
        # each message to DEAD_LETTER_TOPIC_URN (docs/retries.md)
        assert json.loads(config["destination_config"]["on_failure"]["param"]) == {"func_urn": "self"}
        assert function.user_data["DEAD_LETTER_TOPIC_URN"] == env["ALERT_TOPIC_URN"]


# read by the SDK itself (huaweicloudsdkcore.region.cache.ProfileRegionCache), never by sgguard's code
SDK_VARIABLES = {"HUAWEICLOUD_SDK_REGIONS_FILE"}


def test_user_data_names_are_settings_the_code_reads():
    """Exactly the names shared/config.py (load_settings, where every setting is parsed) reads, and
    the SDK's own regions file variable: a typo would be ignored."""
    read = set(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", (ROOT / "shared" / "config.py").read_text()))
    read |= SDK_VARIABLES
    template = load_template(TEMPLATE, sample_env())
    for function in template.functions:
        unknown = (set(function.user_data) | set(function.encrypted_user_data)) - read
        assert not unknown, f"{function.func_name}: user data the code never reads: {sorted(unknown)}"


def test_every_setting_is_read_in_config_only():
    """No module of shared/ but config.py reads user data or the environment (one way to read a setting).
    The transport reads what the HTTP library itself would read (proxy, CA bundle), not a setting."""
    readers = []
    for path in sorted((ROOT / "shared").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() in ("shared/config.py", "shared/cloud/transport.py"):
            continue
        text = path.read_text()
        for needle in ("read_setting(", "getUserData(", "os.environ", "os.getenv("):
            if needle in text:
                readers.append(f"{path.relative_to(ROOT)}: {needle}")
    assert readers == [], readers


def test_optional_triggers_follow_their_when_parameter():
    env = sample_env()
    for name in ("RABBITMQ_INSTANCE_ID", "SMN_TOPIC_URN", "APIG_GROUP_ID", "EG_CHANNEL_ID"):
        env.pop(name)
    template = load_template(TEMPLATE, env)
    assert [t.trigger_type_code for t in template.function("change_request").triggers] == ["KAFKA"]
    assert [t.trigger_type_code for t in template.function("ecs_created").triggers] == ["CTS"]


def test_missing_parameters_are_all_named_at_once():
    with pytest.raises(TemplateError) as caught:
        load_template(TEMPLATE, {})
    assert caught.value.missing == ["ALERT_TOPIC_URN", "KAFKA_INSTANCE_ID", "REGION", "SIGNING_KEYS_JSON"]
    assert "ALERT_TOPIC_URN, KAFKA_INSTANCE_ID, REGION, SIGNING_KEYS_JSON" in str(caught.value)


def _without_handler(d):
    del _function(d, "ecs_created")["handler"]


def _bad_runtime(d):
    _function(d, "ecs_created")["runtime"] = "Python3.11"


def _literal_secret(d):
    _function(d, "change_request")["encrypted_user_data"]["REQUEST_SIGNING_KEYS"] = '{"k": "literal-secret-0000001"}'


def _unknown_trigger(d):
    _function(d, "ecs_created")["triggers"][0]["trigger_type_code"] = "S3"


def _bad_memory(d):
    _function(d, "change_request")["memory_size"] = 300


def _bad_handler(d):
    _function(d, "change_request")["handler"] = "index"


def _bad_cts_operation(d):
    _function(d, "ecs_created")["triggers"][0]["event_data"]["operations"] = ["createServer"]


def _literal_kafka_password(d):
    _function(d, "change_request")["triggers"][0]["event_data"]["kafka_password"] = "hunter2"


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (_without_handler, "$.functions[0]", "missing required property 'handler'"),
        (_bad_runtime, "$.functions[0].runtime", "Python3.11"),
        (_literal_secret, "$.functions[1].encrypted_user_data.REQUEST_SIGNING_KEYS", "a literal value is refused"),
        (_unknown_trigger, "$.functions[0].triggers[0].trigger_type_code", ", got 'S3'"),
        (_bad_memory, "$.functions[1].memory_size", ", got 300"),
        (_bad_handler, "$.functions[1].handler", "must be module.function, like index.handler, got"),
        (
            _bad_cts_operation,
            "$.functions[0].triggers[0].event_data.operations[0]",
            "must be service:resource:operation",
        ),
        (_literal_kafka_password, "$.functions[1].triggers[0].event_data.kafka_password", "a literal value is refused"),
    ],
)
def test_an_invalid_template_reports_each_problem_with_its_path(mutate, path, words):
    document = copy.deepcopy(_document())
    mutate(document)
    errors = _errors(document)
    assert any(e.startswith(path + ":") and words in e for e in errors), errors
    assert not any("literal-secret" in e or "hunter2" in e for e in errors)  # secrets are never echoed


def test_a_parameter_resolving_to_an_invalid_runtime_is_caught_after_substitution():
    errors = _errors(_document(), sample_env(RUNTIME="Python2.7"))
    assert any(e.startswith("$.functions[0].runtime:") and "after substituting" in e for e in errors), errors


def test_secret_rules():
    document = copy.deepcopy(_document())
    _function(document, "ecs_created")["user_data"]["RESULT_SINKS"] = "${SIGNING_KEYS_JSON}"
    errors = _errors(document)
    assert any(
        "$.functions[0].user_data.RESULT_SINKS" in e and "secret parameter SIGNING_KEYS_JSON" in e for e in errors
    ), errors

    document = copy.deepcopy(_document())
    _function(document, "change_request")["encrypted_user_data"]["REQUEST_SIGNING_KEYS"] = "${REGION}"
    assert any("must reference a parameter declared secret" in e for e in _errors(document))

    document = copy.deepcopy(_document())
    document["parameters"]["SIGNING_KEYS_JSON"]["default"] = '{"k": "0123456789abcdef"}'
    assert any(e.startswith("$.parameters.SIGNING_KEYS_JSON:") for e in _errors(document))


def test_undeclared_parameters_and_unknown_keys_are_refused():
    document = copy.deepcopy(_document())
    _function(document, "ecs_created")["user_data"]["REGION"] = "${NOT_DECLARED}"
    assert any("$.functions[0].user_data.REGION" in e and "not declared" in e for e in _errors(document))

    document = copy.deepcopy(_document())
    _function(document, "ecs_created")["memory"] = 256
    assert any("$.functions[0]" in e and "unknown property 'memory' is not allowed" in e for e in _errors(document))


def test_a_broken_yaml_file_is_a_template_error(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("functions: [\n")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template(path, sample_env())


def _apig(template) -> list[dict]:
    triggers = template.function("change_request").triggers
    return [(t.event_data["group_id"], t.event_data["auth"]) for t in triggers if t.trigger_type_code == "APIG"]


def test_an_apig_trigger_whose_only_authentication_is_the_request_signature():
    """APIG_OPEN_GROUP_ID: no Huawei AK/SK on the ticketing side (docs/ticketing.md, the trade-off)."""
    env = sample_env()
    assert _apig(load_template(TEMPLATE, env)) == [(env["APIG_GROUP_ID"], "IAM")]
    env = sample_env(APIG_OPEN_GROUP_ID="0c0a1c10ca1c10c0a1c10ca1c10c0a1d")
    env.pop("APIG_GROUP_ID")
    assert _apig(load_template(TEMPLATE, env)) == [("0c0a1c10ca1c10c0a1c10ca1c10c0a1d", "NONE")]


def test_an_open_apig_trigger_needs_signed_requests():
    """With auth NONE the signature is the only authentication: a function that would accept an
    unsigned request behind it is refused before anything is deployed."""
    document = copy.deepcopy(_document())
    _function(document, "change_request")["user_data"]["REQUIRE_SIGNED_REQUESTS"] = "false"
    env = sample_env(APIG_OPEN_GROUP_ID="0c0a1c10ca1c10c0a1c10ca1c10c0a1d")
    assert _errors(document, env) == [
        '$.functions[1].triggers[4].event_data.auth: NONE needs REQUIRE_SIGNED_REQUESTS "true"'
    ]
    parse_template(document, sample_env(), root=ROOT)  # behind IAM only it stays the operator's choice


TARGETS_JSON = json.dumps({"accounts": [{"domain_id": "5b0b" * 8, "name": "shop", "projects": ["5b0c" * 8]}]})


def test_targets_reach_the_user_data_of_all_three_functions():
    """TARGETS / TARGETS_FILE / STS_ENDPOINT / SDK_REGIONS_FILE are template parameters: empty by
    default (the home project only, the SDK's own endpoints; an empty value is unset), set once for
    every function."""
    default = load_template(TEMPLATE, sample_env())
    for function in default.functions:
        names = ("TARGETS", "TARGETS_FILE", "STS_ENDPOINT", "HUAWEICLOUD_SDK_REGIONS_FILE")
        assert {function.user_data[k] for k in names} == {""}
    regions = "/opt/function/code/regions.yaml"
    env = sample_env(TARGETS=TARGETS_JSON, STS_ENDPOINT="https://sts.example", SDK_REGIONS_FILE=regions)
    for function in load_template(TEMPLATE, env).functions:
        assert function.user_data["TARGETS"] == TARGETS_JSON, function.func_name
        assert function.user_data["STS_ENDPOINT"] == "https://sts.example"
        assert function.user_data["HUAWEICLOUD_SDK_REGIONS_FILE"] == regions


def test_targets_and_targets_file_together_are_refused_for_each_function():
    errors = _errors(_document(), sample_env(TARGETS=TARGETS_JSON, TARGETS_FILE="targets.yaml"))
    assert errors == [f"$.functions[{i}].user_data: set TARGETS or TARGETS_FILE, not both" for i in range(3)]


def test_a_targets_file_must_be_in_the_package():
    """The function reads TARGETS_FILE from its code package: a file deploy would not pack is refused
    before anything is deployed, and once in every function's build.include it is accepted."""
    errors = _errors(_document(), sample_env(TARGETS_FILE="targets.yaml"))
    assert errors == [
        f"$.functions[{i}].build.include: TARGETS_FILE targets.yaml is not in the package: list it there"
        for i in range(3)
    ]
    document = copy.deepcopy(_document())
    for function in document["functions"]:
        function["build"]["include"] = [*function["build"].get("include", []), "targets.yaml"]
    template = parse_template(document, sample_env(TARGETS_FILE="targets.yaml"), root=ROOT)
    assert {f.user_data["TARGETS_FILE"] for f in template.functions} == {"targets.yaml"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("{not json", ["user_data.TARGETS: is not valid JSON"]),
        (" ", ["user_data.TARGETS: is not valid JSON"]),
        (json.dumps({"accounts": [{"domain_id": "0A1B" * 8}]}), ["user_data.TARGETS: $.accounts[0].domain_id: "]),
        (  # a look-alike letter in the key: not the schema's "accounts"
            json.dumps({"аccounts": []}),
            ["user_data.TARGETS: $['аccounts']: unknown property"],
        ),
        (
            json.dumps({"accounts": [{"domain_id": "5b0b" * 8, "regions": ["cn-north-4"], "exclude_regions": ["x"]}]}),
            ["user_data.TARGETS: $.accounts[0]"],
        ),
    ],
)
def test_a_malformed_targets_is_refused_before_deploying_with_its_json_path(value, expected):
    """The functions' own parser (shared/targets.py), run by deploy: what would fail every
    invocation is refused before any call, per function, naming TARGETS and the JSON path."""
    errors = _errors(_document(), sample_env(TARGETS=value))
    assert len(errors) == 3 * len(expected), errors
    for index, error in enumerate(errors):
        assert error.startswith(f"$.functions[{index // len(expected)}].{expected[index % len(expected)]}"), error


def test_a_targets_file_is_compared_as_a_package_path():
    """./targets.yaml is the zip's targets.yaml; Targets.yaml is another file (zip names are exact)."""
    document = copy.deepcopy(_document())
    for function in document["functions"]:
        function["build"]["include"] = [*function["build"].get("include", []), "targets.yaml"]
    parse_template(document, sample_env(TARGETS_FILE="./targets.yaml"), root=ROOT)
    assert len(_errors(document, sample_env(TARGETS_FILE="Targets.yaml"))) == 3


def test_targets_too_long_for_the_user_data_are_refused_once_resolved():
    """FunctionGraph's 4096 characters of user data, counted after substitution (a TARGETS listing
    many accounts belongs in TARGETS_FILE)."""
    accounts = [{"domain_id": f"{i:032x}", "name": f"account-{i}"} for i in range(60)]
    errors = _errors(_document(), sample_env(TARGETS=json.dumps({"accounts": accounts})))
    assert len(errors) == 3 and all(re.search(r"user_data: \d+ bytes once resolved", e) for e in errors), errors

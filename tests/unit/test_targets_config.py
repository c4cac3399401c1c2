"""TARGETS / TARGETS_FILE: parsed and schema-checked once in shared/config.py, errors naming the
setting and the JSON path; the targets a request may name (shared/targets.py, pure)."""

from __future__ import annotations

import json

import pytest

from shared.config import ConfigError, load_settings
from shared.errors import ErrorCode
from shared.targets import Target

MEMBER = "2a" * 16
OTHER = "3b" * 16
HOME_ACCOUNT = "10" * 16
HOME = Target(None, "cn-north-4", "ab" * 16, home=True)


def settings(document, **environ):
    raw = document if isinstance(document, str) else json.dumps(document)
    return load_settings(environ={"TARGETS": raw, **environ})


def problem(document) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(document)
    assert caught.value.name == "TARGETS"
    return caught.value.message


def test_without_targets_there_are_none():
    assert load_settings(environ={}).targets is None


def test_accounts_inherit_defaults_and_override_them():
    targets = settings(
        {
            "defaults": {"agency": "org-member", "regions": ["cn-north-4", "ap-southeast-1"], "projects": "all"},
            "accounts": [
                {"domain_id": MEMBER, "name": "prod", "external_id": "ext-1"},
                {"domain_id": OTHER, "exclude_regions": ["ap-southeast-1"], "agency": "own", "projects": ["cd" * 16]},
            ],
        }
    ).targets
    member, other = targets.member(MEMBER), targets.member(OTHER)
    assert (member.agency, member.regions, member.projects, member.external_id) == (
        "org-member",
        ("cn-north-4", "ap-southeast-1"),
        None,
        "ext-1",
    )
    assert member.agency_urn == f"iam::{MEMBER}:agency:org-member"
    assert (other.agency, other.regions, other.projects) == ("own", ("cn-north-4",), ("cd" * 16,))
    assert "ext-1" not in repr(member)  # the external id is a shared secret of sorts: not in reprs


def test_regions_default_to_the_home_region():
    targets = settings({"accounts": [{"domain_id": MEMBER}]}, REGION="eu-west-101").targets
    assert targets.member(MEMBER).regions == ("eu-west-101",)


def test_overrides_layer_defaults_account_region_project():
    targets = settings(
        {
            "defaults": {"overrides": {"drift_mode": "report", "protected_groups": ["baseline"]}},
            "accounts": [
                {
                    "domain_id": MEMBER,
                    "regions": ["cn-north-4", "ap-southeast-1"],
                    "overrides": {"drift_mode": "enforce", "allowed_groups": ["web*"]},
                    "region_overrides": {"ap-southeast-1": {"allowed_groups": ["app*"]}},
                    "project_overrides": {"cd" * 16: {"protected_groups": []}},
                }
            ],
        }
    ).targets
    north = targets.overrides(Target(MEMBER, "cn-north-4", "ef" * 16))
    assert north == {"drift_mode": "enforce", "protected_groups": ["baseline"], "allowed_groups": ["web*"]}
    south = targets.overrides(Target(MEMBER, "ap-southeast-1", "cd" * 16))
    assert south == {"drift_mode": "enforce", "protected_groups": [], "allowed_groups": ["app*"]}
    assert targets.overrides(HOME) == {}  # the home project keeps its own settings
    assert targets.overrides(Target(OTHER, "cn-north-4", "ef" * 16)) == {}  # not a member


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"accounts": [{"domain_id": MEMBER.upper()}]}, "$.accounts[0].domain_id"),  # case: ids are lowercase hex
        ({"accounts": [{"domain_id": "２a" * 16}]}, "$.accounts[0].domain_id"),  # full-width digits
        ({"accounts": [{"domain_id": 2020}]}, "$.accounts[0].domain_id"),  # a number for an id
        (
            {"accounts": [{"domain_id": MEMBER, "regions": ["cn-north-4"], "exclude_regions": ["xy-z"]}]},
            "$.accounts[0].exclude_regions: give regions or exclude_regions, not both",
        ),
        ({"accounts": [{"domain_id": MEMBER, "projects": "all", "exclude_projects": ["cd" * 16]}]}, "not both"),
        ({"accounts": [{"domain_id": MEMBER, "projects": "some"}]}, "$.accounts[0].projects"),
        ({"accounts": [{"domain_id": MEMBER, "overrides": {"drift_mode": "ENFORCE"}}]}, "$.accounts[0].overrides"),
        (
            {"accounts": [{"domain_id": MEMBER, "overrides": {"policy_file": "a/../../etc/passwd"}}]},
            "$.accounts[0].overrides.policy_file",
        ),
        ({"accounts": [{"domain_id": MEMBER + "\n"}]}, "$.accounts[0].domain_id"),  # a trailing newline is not an id
        ({"accounts": [{"domain_id": MEMBER, "colour": "red"}]}, "$.accounts[0]"),
        ({"defaults": {"duration_s": 7200}}, "$.defaults.duration_s"),
        ({"discover": {"organizations": True}}, "$.home.domain_id"),  # discovery needs the home account's id
        ({"accounts": [{"domain_id": MEMBER}, {"domain_id": MEMBER}]}, "$.accounts[1].domain_id"),
        ({"home": {"domain_id": MEMBER}, "accounts": [{"domain_id": MEMBER}]}, "$.accounts[0].domain_id"),
        (
            {
                "defaults": {"regions": ["cn-north-4"]},
                "accounts": [{"domain_id": MEMBER, "exclude_regions": ["cn-north-4"]}],
            },
            "$.accounts[0].exclude_regions",
        ),
        ([], "$"),
    ],
)
def test_malformed_targets_name_the_setting_and_the_path(document, path):
    message = problem(document)
    assert path in message, message


def test_not_json_and_both_forms_are_refused():
    assert "not valid JSON" in problem("{accounts: [")
    with pytest.raises(ConfigError) as caught:
        settings({"accounts": []}, TARGETS_FILE="targets.yaml")
    assert "not both" in caught.value.message


def test_targets_file_is_yaml_in_the_code_package(tmp_path):
    (tmp_path / "targets.yaml").write_text(
        f"defaults: {{agency: sgguard-member, regions: [cn-north-4], projects: all}}\n"
        f"accounts:\n  - domain_id: '{MEMBER}'\n    name: prod\n"
    )
    targets = load_settings(environ={"TARGETS_FILE": "targets.yaml", "RUNTIME_CODE_ROOT": str(tmp_path)}).targets
    assert targets.member(MEMBER).name == "prod"
    (tmp_path / "bad.yaml").write_text("accounts: [{domain_id: nope}]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"TARGETS_FILE": "bad.yaml", "RUNTIME_CODE_ROOT": str(tmp_path)})
    assert caught.value.name == "TARGETS_FILE" and "$.accounts[0].domain_id" in caught.value.message
    (tmp_path / "broken.yaml").write_text("accounts: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(environ={"TARGETS_FILE": "broken.yaml", "RUNTIME_CODE_ROOT": str(tmp_path)})
    for outside in ("/etc/passwd", "../targets.yaml", "missing.yaml"):
        with pytest.raises(ConfigError) as caught:
            load_settings(environ={"TARGETS_FILE": outside, "RUNTIME_CODE_ROOT": str(tmp_path)})
        assert caught.value.name == "TARGETS_FILE"


TARGETS = {
    "home": {"domain_id": HOME_ACCOUNT, "name": "home"},
    "defaults": {"regions": ["cn-north-4", "ap-southeast-1"]},
    "accounts": [
        {"domain_id": MEMBER, "name": "prod", "exclude_projects": ["ee" * 16]},
        {"domain_id": OTHER, "regions": ["cn-north-4"], "projects": ["cd" * 16]},
    ],
}


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        ({}, HOME),
        ({"account": HOME_ACCOUNT}, HOME),
        ({"region": "cn-north-4", "project_id": "ab" * 16}, HOME),
        (
            {"account": MEMBER, "region": "ap-southeast-1", "project_id": "cd" * 16},
            Target(MEMBER, "ap-southeast-1", "cd" * 16, account_name="prod"),
        ),
        ({"account": OTHER, "region": "cn-north-4", "project_id": "cd" * 16}, Target(OTHER, "cn-north-4", "cd" * 16)),
    ],
)
def test_requests_may_name_the_home_project_or_a_listed_target(named, expected):
    targets = settings(TARGETS).targets
    assert targets.resolve(named, HOME) == (expected, None)


@pytest.mark.parametrize(
    ("named", "path"),
    [
        ({"account": "50" * 16, "region": "cn-north-4", "project_id": "cd" * 16}, "$.target.account"),
        ({"account": MEMBER}, "$.target.region"),
        ({"account": MEMBER, "region": "cn-north-4"}, "$.target.project_id"),
        ({"account": MEMBER, "region": "eu-west-101", "project_id": "cd" * 16}, "$.target.region"),
        ({"account": MEMBER, "region": "cn-north-4", "project_id": "ee" * 16}, "$.target.project_id"),  # excluded
        ({"account": OTHER, "region": "ap-southeast-1", "project_id": "cd" * 16}, "$.target.region"),
        ({"account": OTHER, "region": "cn-north-4", "project_id": "ef" * 16}, "$.target.project_id"),  # not listed
        ({"region": "ap-southeast-1"}, "$.target.region"),  # the home account's other region
        ({"account": HOME_ACCOUNT, "project_id": "cd" * 16}, "$.target.project_id"),
    ],
)
def test_anything_else_is_not_allowed(named, path):
    target, refusal = settings(TARGETS).targets.resolve(named, HOME)
    assert target is None
    assert (refusal.code, refusal.path) == (ErrorCode.TARGET_NOT_ALLOWED, path)


def test_without_targets_only_the_home_project(monkeypatch):
    from shared.targets import resolve_target

    assert resolve_target(None, {}, HOME) == (HOME, None)
    _, refusal = resolve_target(None, {"account": MEMBER, "region": "cn-north-4", "project_id": "cd" * 16}, HOME)
    assert refusal.code == ErrorCode.TARGET_NOT_ALLOWED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", MEMBER.upper()),  # case
        ("account", MEMBER + "\n"),  # a trailing newline ($ would let it through)
        ("account", "２a" * 16),  # full-width digit
        ("account", 2020),  # a number for an id
        ("region", "CN-NORTH-4"),
        ("region", "cn-north-4\n"),
        ("project_id", "ab" * 15),
    ],
)
def test_a_request_target_is_schema_checked(field, value):
    from shared.validation import validate_change_request
    from tests.support.requests import change_request

    request = change_request(sign=False)
    request["target"][field] = value
    errors = validate_change_request(request)
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.SCHEMA_VIOLATION, f"$.target.{field}")]
    assert "[0-9" not in errors[0].message  # in words, not a regex

"""The policy: schema (valid and invalid documents with the error path), evaluation, list folding."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from shared.flows.policy import PolicyError, evaluate, interface_in_scope, next_list, parse_policy
from shared.model import Port, Server

ROOT = Path(__file__).resolve().parents[2]
RULE = {"name": "r", "security_groups": [{"name": "baseline"}]}


def test_repository_policy_is_valid():
    policy = parse_policy((ROOT / "policy.yaml").read_text())
    assert [r.name for r in policy.rules][:2] == ["baseline-everywhere", "prod-web"]
    assert policy.exclude_tags == {"sg-automation": "skip"}


@pytest.mark.parametrize(
    "document",
    [
        {"rules": [RULE]},
        {
            "version": 1,
            "rules": [
                {
                    **RULE,
                    "mode": "replace",
                    "position": 3,
                    "nics": "primary",
                    "stop": True,
                    "match": {"tags": {"env": ["prod", "stage"]}, "name": "web-*"},
                }
            ],
        },
        {
            "rules": [RULE],
            "exclude": {
                "tags": {"skip": "yes"},
                "servers": [{"id": "c0000000-0000-4000-8000-000000000001", "until": "2027-01-31", "ticket": "CHG1"}],
            },
        },
    ],
)
def test_valid_policies(document):
    assert parse_policy(json.dumps(document)).rules


INVALID = [
    ({}, "$.rules"),
    ({"rules": []}, "$.rules"),
    ({"rules": [RULE], "extra": 1}, "$.extra"),
    ({"rules": [{"security_groups": [{"name": "x"}]}]}, "$.rules[0].name"),
    ({"rules": [{**RULE, "security_groups": []}]}, "$.rules[0].security_groups"),
    ({"rules": [{**RULE, "security_groups": [{"name": "a", "id": "b"}]}]}, "$.rules[0].security_groups[0]"),
    ({"rules": [{**RULE, "security_groups": [{"id": "../etc"}]}]}, "$.rules[0].security_groups[0]"),
    ({"rules": [{**RULE, "mode": "sometimes"}]}, "$.rules[0].mode"),
    ({"rules": [{**RULE, "position": "middle"}]}, "$.rules[0].position"),
    ({"rules": [{**RULE, "nics": "some"}]}, "$.rules[0].nics"),
    ({"rules": [{**RULE, "match": {"colour": "red"}}]}, "$.rules[0].match.colour"),
    ({"rules": [{**RULE, "match": {"tags": {"env": 5}}}]}, "$.rules[0].match.tags.env"),
    (
        {
            "rules": [RULE],
            "exclude": {"servers": [{"id": "c0000000-0000-4000-8000-000000000001", "until": "31/01/2027"}]},
        },
        "$.exclude.servers[0].until",
    ),
    ({"rules": [RULE], "exclude": {"servers": [{"until": "2027-01-31"}]}}, "$.exclude.servers[0].id"),
]


@pytest.mark.parametrize("document,path", INVALID)
def test_invalid_policies_name_the_path(document, path):
    with pytest.raises(PolicyError) as raised:
        parse_policy(json.dumps(document))
    assert path in {error.path for error in raised.value.errors}


def test_yaml_syntax_error_is_a_policy_error():
    with pytest.raises(PolicyError) as raised:
        parse_policy("rules: [unclosed")
    assert raised.value.errors[0].path == "$"


def test_yaml_dates_stay_strings_and_are_checked():
    text = (
        "rules: [{name: r, security_groups: [{name: x}]}]\nexclude:\n  servers:\n"
        "    - {id: c0000000-0000-4000-8000-000000000001, until: 2027-01-31}\n"
    )
    assert parse_policy(text).exempt_servers[0]["until"] == "2027-01-31"


def server(**kw):
    base = dict(
        id="c0000000-0000-4000-8000-000000000001",
        name="web-01",
        status="ACTIVE",
        tags={"env": "prod", "role": "web-frontend"},
        vpc_id="vpc-1",
        availability_zone="az1",
        flavor="s6.large.2",
        enterprise_project_id="0",
    )
    base.update(kw)
    return Server(**base)


PORT = Port("p1", "c0000000-0000-4000-8000-000000000001", "compute:az1", "net-1", [("sub-1", "10.0.0.5")], ["d"])


@pytest.mark.parametrize(
    "match,hit",
    [
        ({}, True),
        ({"tags": {"env": "prod", "role": "web*"}}, True),
        ({"tags": {"env": "dev"}}, False),
        ({"tags": {"owner": "*"}}, False),
        ({"name": ["db-*", "web-*"]}, True),
        ({"vpc_id": "vpc-2"}, False),
        ({"availability_zone": "az*", "flavor": "s6.*", "enterprise_project_id": "0"}, True),
        ({"subnet_id": "net-1"}, True),
        ({"subnet_id": "sub-1"}, True),
        ({"subnet_id": "net-9"}, False),
    ],
)
def test_match_conditions(match, hit):
    policy = parse_policy(json.dumps({"rules": [{**RULE, "match": match}]}))
    assert bool(evaluate(policy, server(), [PORT], date(2026, 11, 28)).rules) is hit


def test_first_match_with_stop_wins():
    policy = parse_policy(
        json.dumps({"rules": [{**RULE, "name": "a"}, {**RULE, "name": "b", "stop": True}, {**RULE, "name": "c"}]})
    )
    assert [r.name for r in evaluate(policy, server(), [PORT], date(2026, 11, 28)).rules] == ["a", "b"]


def test_exclusions_and_expiry():
    document = {"rules": [RULE], "exclude": {"servers": [{"id": server().id, "until": "2026-12-01"}]}}
    policy = parse_policy(json.dumps(document))
    assert evaluate(policy, server(), [PORT], date(2026, 12, 1)).excluded
    late = evaluate(policy, server(), [PORT], date(2026, 12, 2))
    assert late.excluded is None and late.rules and late.warnings[0].code == "EXEMPTION_EXPIRED"
    tagged = parse_policy(json.dumps({"rules": [RULE], "exclude": {"tags": {"sg-automation": "skip"}}}))
    assert evaluate(tagged, server(tags={"sg-automation": "skip"}), [PORT], date(2026, 1, 1)).excluded


@pytest.mark.parametrize(
    "current,groups,mode,position,after",
    [
        (["d"], ["b"], "ensure", "first", ["b", "d"]),
        (["d"], ["b"], "ensure", "last", ["d", "b"]),
        (["d", "x"], ["b"], "ensure", 1, ["d", "b", "x"]),
        (["b", "d"], ["b"], "ensure", "first", ["b", "d"]),
        (["d", "x"], ["b", "c"], "replace", "last", ["b", "c"]),
        (["d", "x"], ["b"], "replace_default", "last", ["x", "b"]),
        (["d"], ["b"], "replace_default", "first", ["b"]),
    ],
)
def test_next_list(current, groups, mode, position, after):
    assert next_list(current, groups, mode, position, "d") == after


def test_subnet_condition_narrows_interfaces():
    policy = parse_policy(json.dumps({"rules": [{**RULE, "match": {"subnet_id": "net-2"}}]}))
    assert not interface_in_scope(policy.rules[0], PORT)
    assert interface_in_scope(parse_policy(json.dumps({"rules": [RULE]})).rules[0], PORT)


def test_validate_policy_script(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: r, security_groups: [], mode: x}]\n")
    run = subprocess.run(
        [sys.executable, "-m", "sgguard_cli", "validate-policy", str(ROOT / "policy.yaml"), str(bad)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "policy.yaml: valid (4 rules" in run.stdout
    assert f"{bad}:1: $.rules[0].mode:" in run.stdout and f"{bad}:1: $.rules[0].security_groups:" in run.stdout


@pytest.mark.parametrize("text", ["\x00version: 1\n", "version: 1\nrules: []\n\x07", "\ufffe"])
def test_control_characters_are_a_policy_error_with_a_path_not_a_crash(text):
    """YAML's reader refuses them when the loader is made: found by the byte fuzzer."""
    from shared.flows.policy import PolicyError, parse_policy

    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.errors and all(e.path.startswith("$") for e in caught.value.errors)

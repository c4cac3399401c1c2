"""Issue 22 item 9: ``sgguard validate-policy`` with line numbers, valid values, duplicates and expired exemptions."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from sgguard_cli.commands.validate_policy import validate
from sgguard_cli.main import main
from shared.errors import ErrorCode
from shared.flows.policy import PolicyError, parse_policy
from shared.flows.policy_source import line_of, source_lines

SERVER_A = "c0000000-0000-4000-8000-0000000000e1"
SERVER_B = "c0000000-0000-4000-8000-0000000000e2"

BAD = """\
version: 1
rules:
  - name: baseline
    security_groups: [{name: baseline}]
    position: lst
  - name: baseline
    security_groups:
      - {id: ABC}
    nics: both
"""
EXPIRING = f"""\
rules:
  - name: baseline
    security_groups: [{{name: baseline}}]
exclude:
  servers:
    - {{id: {SERVER_A}, until: "2020-01-31", ticket: CHG1}}
    - {{id: {SERVER_B}, until: "2999-01-31"}}
"""


def run(argv):
    lines: list[str] = []
    code = main(argv, {}, out=lines.append, err=io.StringIO())
    return code, lines


def write(tmp_path, text, name="policy.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_problem_has_its_line_the_valid_values_and_the_duplicate_name(tmp_path):
    name = write(tmp_path, BAD)
    code, lines = run(["validate-policy", name])
    assert code == 1
    assert lines == [
        f"{name}:5: $.rules[0].position: must be 'first', 'last' or an integer from 0 to 99, got 'lst'",
        f"{name}:6: $.rules[1].name: rule name 'baseline' is already used by $.rules[0]; results name rules by "
        "name, so each needs its own",
        f"{name}:8: $.rules[1].security_groups[0]: id: must be a UUID (8-4-4-4-12 lowercase hex digits, like "
        "3f2b8c1e-0a4d-4e5f-9a7b-1c2d3e4f5a6b), got 'ABC'",
        f"{name}:9: $.rules[1].nics: must be 'primary' or 'all', got 'both'",
    ]


def test_json_carries_code_path_line_and_message(tmp_path):
    name = write(tmp_path, BAD)
    code, lines = run(["validate-policy", name, "--json"])
    [report] = json.loads("\n".join(lines))
    assert code == 1 and report["valid"] is False and report["warnings"] == []
    assert {(e["code"], e["path"], e["line"]) for e in report["errors"]} == {
        (ErrorCode.POLICY_INVALID, "$.rules[0].position", 5),
        (ErrorCode.POLICY_INVALID, "$.rules[1].name", 6),
        (ErrorCode.POLICY_INVALID, "$.rules[1].security_groups[0]", 8),
        (ErrorCode.POLICY_INVALID, "$.rules[1].nics", 9),
    }


def test_a_missing_property_points_at_its_object(tmp_path):
    name = write(tmp_path, "rules:\n  - name: a\n\n    nics: all\n")
    [error] = validate(name)["errors"]
    assert (error["path"], error["line"], error["message"]) == (
        "$.rules[0].security_groups",
        2,
        "missing required property 'security_groups'",
    )


def test_yaml_syntax_errors_keep_their_line_and_column(tmp_path):
    name = write(tmp_path, "rules:\n  - name: a\n    security_groups: [{name: x}\n  - name: b\n")
    code, lines = run(["validate-policy", name])
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"{name}:4: $: YAML syntax error at line 4, column 3: while parsing a flow sequence")


@pytest.mark.parametrize(
    "text, path, line",
    [
        ("rules:\n  - name: a\n    mode: ensure\n    mode: replace\n    security_groups: [{name: x}]\n",
         "$.rules[0].mode", 4),
        ("rules: []\nrules:\n  - {name: a, security_groups: [{name: x}]}\n", "$.rules", 2),
        ('{"rules": [{"name": "a", "security_groups": [{"name": "x"}], "stop": false, "stop": true}]}', "$", None),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_refused_not_silently_overwritten(tmp_path, text, path, line):
    name = write(tmp_path, text)
    [error] = validate(name)["errors"]
    assert (error["path"], error["line"]) == (path, line)
    assert "is given twice" in error["message"] and "silently use the last" in error["message"]
    with pytest.raises(PolicyError):  # the functions refuse it too, not only the CLI
        parse_policy(text)


def test_duplicate_names_differing_only_in_case_are_distinct_but_exact_duplicates_are_not():
    ok = "rules:\n  - {name: Web, security_groups: [{name: x}]}\n  - {name: web, security_groups: [{name: x}]}\n"
    assert [r.name for r in parse_policy(ok).rules] == ["Web", "web"]
    with pytest.raises(PolicyError) as info:
        parse_policy(ok.replace("Web", "web"))
    assert [(e.code, e.path) for e in info.value.errors] == [(ErrorCode.POLICY_INVALID, "$.rules[1].name")]


def test_an_expired_exemption_is_a_warning_with_its_line(tmp_path):
    name = write(tmp_path, EXPIRING)
    report = validate(name, today=date(2026, 12, 2))
    assert report["valid"] is True and report["errors"] == []
    assert report["warnings"] == [
        {
            "code": ErrorCode.EXEMPTION_EXPIRED,
            "path": "$.exclude.servers[0].until",
            "line": 6,
            "message": f"the exemption of server {SERVER_A} expired on 2020-01-31 (2497 days ago), so the policy "
            "applies to it again; remove the entry or give a new until date",
        }
    ]
    assert validate(name, today=date(2020, 1, 31))["warnings"] == []  # the last day still counts


def test_strict_fails_on_an_expired_exemption(tmp_path):
    name = write(tmp_path, EXPIRING)
    code, lines = run(["validate-policy", name])
    assert code == 0 and lines[0] == f"{name}: valid (1 rule: baseline)"
    assert lines[1].startswith(f"{name}:6: warning: $.exclude.servers[0].until: the exemption of server {SERVER_A}")
    assert run(["validate-policy", "--strict", name])[0] == 1


def test_lines_of_nested_paths_and_quoted_members():
    lines = source_lines('rules:\n  - name: a\n    match:\n      tags: {"my key": x}\n')
    assert line_of(lines, "$.rules[0].match.tags['my key']") == 4
    assert line_of(lines, "$.rules[0].match.absent") == 3 and line_of(lines, "$.nothing") == 1
    assert source_lines("rules: [") == {}

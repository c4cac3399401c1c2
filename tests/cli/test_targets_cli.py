"""``sgguard targets``: a TARGETS document checked by the functions' own parser, its targets listed."""

from __future__ import annotations

import io
import json

from sgguard_cli.main import main

PROD = "0a1b2c3d4e5f40718293a4b5c6d7e8f0"
DOC = f"""\
defaults: {{agency: sgguard-member, regions: [cn-north-4], projects: all}}
accounts:
  - domain_id: {PROD}
    name: prod
    regions: [cn-north-4, ap-southeast-1]
    external_id: never-print-this-9f
    overrides: {{drift_mode: enforce}}
"""


def run(argv, environ=None):
    lines: list[str] = []
    err = io.StringIO()
    code = main(["targets", *argv], environ=environ or {}, out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


def test_a_valid_document_lists_its_accounts_regions_and_agency(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(DOC, encoding="utf-8")
    code, out, _ = run([str(path)])
    assert code == 0, out
    assert "valid, 1 member account(s)" in out
    assert f"iam::{PROD}:agency:sgguard-member" in out
    assert "regions cn-north-4, ap-southeast-1; projects all" in out
    assert "overrides drift_mode" in out
    assert "never-print-this-9f" not in out  # the external id is a shared secret: only "set"


def test_json_from_the_environment_as_the_functions_read_it():
    document = {"accounts": [{"domain_id": PROD, "regions": ["ap-southeast-1"], "projects": [PROD]}]}
    code, out, _ = run(["--json"], {"TARGETS": json.dumps(document), "REGION": "cn-north-4"})
    report = json.loads(out)
    assert code == 0 and report["valid"] and report["source"] == "TARGETS"
    [account] = report["accounts"]
    assert account["projects"] == [PROD] and account["regions"] == ["ap-southeast-1"]
    assert account["external_id"] is False


def test_every_problem_is_named_by_its_json_path_and_exits_1(tmp_path):
    path = tmp_path / "targets.json"
    bad = {"accounts": [{"domain_id": "0A1B2C3D4E5F40718293A4B5C6D7E8F0", "regions": ["cn-north-4"]}]}
    path.write_text(json.dumps(bad), encoding="utf-8")  # upper-case hex: not how the API spells ids
    code, out, _ = run([str(path)])
    assert code == 1
    assert "$.accounts[0].domain_id" in out


def test_an_account_listed_twice_is_refused(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(DOC + f"  - {{domain_id: {PROD}}}\n", encoding="utf-8")
    code, out, _ = run([str(path)])
    assert code == 1 and "listed twice" in out


def test_nothing_to_check_and_unreadable_yaml_are_told_apart(tmp_path):
    code, out, _ = run([])
    assert code == 1 and "no TARGETS document" in out
    path = tmp_path / "broken.yaml"
    path.write_text("accounts: [\n", encoding="utf-8")
    code, _, err = run([str(path)])
    assert code == 2 and "not valid YAML" in err

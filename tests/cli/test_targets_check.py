"""``sgguard targets --check`` against the localcloud organisation (4 accounts x 2 regions): which
targets the home account can reach, and the code a function would report for the others."""

from __future__ import annotations

import io
import json

from sgguard_cli.main import main
from tests.support.organisation import (
    GOOD,
    HOME,
    HOME_AK,
    HOME_SK,
    NO_AGENCY,
    REGIONS,
    WRONG_EXT,
    project_id,
    targets_setting,
)


def run(org, *argv, targets=None):
    lines: list[str] = []
    environ = {
        "HUAWEICLOUD_SDK_AK": HOME_AK,
        "HUAWEICLOUD_SDK_SK": HOME_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": project_id(HOME, REGIONS[0]),
        "REGION": REGIONS[0],
        "TARGETS": targets or targets_setting(),
    }
    code = main(
        ["targets", "--check", "--endpoint", org.home.url, *argv], environ=environ, out=lines.append, err=io.StringIO()
    )
    return code, "\n".join(lines)


def assume_calls(org):
    return [e for e in org.home.requests() if e.get("route") == "POST /v5/agencies/assume"]


def test_check_lists_each_reachable_target_and_the_code_of_the_others(org):
    code, out = run(org)
    assert code == 1, out
    lines = out.splitlines()
    for region in REGIONS:
        assert any(line.startswith(f"✓ prod {GOOD}") and project_id(GOOD, region) in line for line in lines), out
    assert any(line.startswith(f"✗ legacy {NO_AGENCY}") and "AGENCY_MISSING" in line for line in lines), out
    assert any(line.startswith(f"✗ sandbox {WRONG_EXT}") and "ACCESS_DENIED" in line for line in lines), out
    assert lines[-1] == "3/5 reachable"
    assert len(assume_calls(org)) == 3  # one per member account, shared by its regions
    assert not [e for c in org.clouds.values() for e in c.requests() if e.get("write") and "assume" not in e["path"]]


def test_check_json_and_exit_0_when_every_target_is_reachable(org):
    only_good = json.loads(targets_setting())
    only_good["accounts"] = only_good["accounts"][:1]
    code, out = run(org, "--json", targets=json.dumps(only_good))
    report = json.loads(out)
    assert code == 0 and report["valid"], out
    rows = report["check"]["targets"]
    assert [(r["account"], r["region"], r["project_id"], r["ok"]) for r in rows[1:]] == [
        (GOOD, region, project_id(GOOD, region), True) for region in REGIONS
    ]
    assert "ext-good-0001" not in out  # the external id is never printed


def test_check_with_discovery_lists_the_organisation_first(org):
    document = json.loads(targets_setting())
    document["home"] = {"domain_id": HOME, "name": "home"}
    document["discover"] = {"organizations": True, "exclude_accounts": [NO_AGENCY]}
    document["accounts"] = document["accounts"][:1]
    code, out = run(org, targets=json.dumps(document))
    assert out.splitlines()[0].startswith("✓ discovery"), out
    assert "1 member(s) discovered" in out  # WRONG_EXT; home, NO_AGENCY (excluded), suspended ones left out
    assert f"✗ sandbox {WRONG_EXT}" in out and NO_AGENCY not in out
    assert code == 1


def test_check_reports_a_refused_discovery_with_its_code(org):
    org.home.backend.directory.organization.management_account = GOOD
    document = json.loads(targets_setting())
    document["home"] = {"domain_id": HOME}
    document["discover"] = {"organizations": True}
    code, out = run(org, targets=json.dumps(document))
    assert code == 1
    assert out.splitlines()[0].startswith("✗ discovery      DISCOVERY_FAILED: Organizations ListAccounts was refused")


def test_preflight_runs_its_member_checks_per_target(org):
    lines: list[str] = []
    environ = {
        "HUAWEICLOUD_SDK_AK": HOME_AK,
        "HUAWEICLOUD_SDK_SK": HOME_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": project_id(HOME, REGIONS[0]),
        "REGION": REGIONS[0],
        "TARGETS": targets_setting(),
    }
    main(["preflight", "--json", "--endpoint", org.home.url], environ=environ, out=lines.append, err=io.StringIO())
    document = json.loads("\n".join(lines))
    checks = {c["name"]: c for c in (document["checks"] if isinstance(document, dict) else document)}
    for region in REGIONS:
        assert (
            checks[f"target prod {region}"]["ok"]
            and project_id(GOOD, region) in checks[f"target prod {region}"]["detail"]
        )
    assert not checks["target legacy"]["ok"] and "AGENCY_MISSING" in checks["target legacy"]["detail"]
    assert "create the member agency" in checks["target legacy"]["fix"]
    assert not checks["target sandbox"]["ok"] and "ACCESS_DENIED" in checks["target sandbox"]["detail"]

"""``sgguard report`` with TARGETS over the localcloud organisation (4 accounts x 2 regions, one
without the member agency, one with a wrong external id, Organizations discovery on): a section
per account / region / project, each compliant, non-compliant or not evaluated with its code; an
organisation summary; names from Organizations are untrusted (escaped); the page in chromium."""

from __future__ import annotations

import csv
import io
import json

import pytest

from sgguard_cli.main import main
from tests.support.organisation import (
    GOOD,
    GOOD_EXTERNAL_ID,
    HOME,
    HOME_AK,
    HOME_SK,
    MEMBER_AGENCY,
    NO_AGENCY,
    REGIONS,
    SERVER,
    WRONG_EXT,
    project_id,
)

NORTH, SOUTH = REGIONS
XSS_ACCOUNT = '<img src=x onerror="alert(1)">'


def targets() -> str:
    return json.dumps(
        {
            "home": {"domain_id": HOME, "name": "security"},
            "defaults": {"agency": MEMBER_AGENCY, "regions": list(REGIONS), "projects": "all"},
            "discover": {"organizations": True},
            "accounts": [{"domain_id": GOOD, "name": "prod", "external_id": GOOD_EXTERNAL_ID}],
        }
    )


def report(org, out_dir, *argv):
    org.home.backend.directory.accounts[NO_AGENCY].name = XSS_ACCOUNT  # as Organizations names it
    environ = {
        "HUAWEICLOUD_SDK_AK": HOME_AK,
        "HUAWEICLOUD_SDK_SK": HOME_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": project_id(HOME, NORTH),
        "REGION": NORTH,
        "PROTECTED_GROUPS": "baseline",
        "TARGETS": targets(),
    }
    lines: list[str] = []
    argv = ["report", "--config", "env", "--endpoint", org.home.url, "--out", str(out_dir), *argv]
    code = main(argv, environ, out=lines.append, err=io.StringIO())
    return code, "\n".join(lines)


def sections(document):
    return {(s["account"], s["region"]): s for s in document["targets"]}


def test_every_target_has_its_section_and_the_broken_ones_their_codes(org, tmp_path):
    code, out = report(org, tmp_path)
    assert code == 0, out
    document = json.loads((tmp_path / "report.json").read_text())
    found = sections(document)
    assert set(found) == {(HOME, NORTH), (GOOD, NORTH), (GOOD, SOUTH), (NO_AGENCY, None), (WRONG_EXT, None)}
    assert found[(HOME, NORTH)]["home"] and found[(HOME, NORTH)]["project_id"] == project_id(HOME, NORTH)
    for region in REGIONS:
        good = found[(GOOD, region)]
        assert good["status"] in ("compliant", "non_compliant") and good["summary"]["servers"] == 1
        assert good["project_id"] == project_id(GOOD, region)
    assert (found[(NO_AGENCY, None)]["status"], found[(NO_AGENCY, None)]["code"]) == ("not_evaluated", "AGENCY_MISSING")
    assert found[(NO_AGENCY, None)]["account_name"] == XSS_ACCOUNT  # discovered: its Organizations name
    assert (found[(WRONG_EXT, None)]["status"], found[(WRONG_EXT, None)]["code"]) == ("not_evaluated", "ACCESS_DENIED")

    organisation = document["organisation"]
    assert organisation["targets"] == 5 and organisation["accounts"] == 4 and organisation["not_evaluated"] == 2
    assert organisation["compliant"] + organisation["non_compliant"] == 3
    assert organisation["discovery"]["ok"]
    # every server names its target; the member servers were read in their own projects
    assert sorted((s["target"]["account"], s["target"]["region"]) for s in document["servers"]) == sorted(
        [(HOME, NORTH), (GOOD, NORTH), (GOOD, SOUTH)]
    )
    assert document["summary"]["servers"] == 3
    assert "5 targets in 4 accounts" in out and "not evaluated: sandbox" in out
    # read only: nothing written in any account
    assert not [e for c in org.clouds.values() for e in c.requests() if e.get("write") and "assume" not in e["path"]]


def test_the_member_servers_are_the_members_own(org, tmp_path):
    org.clouds[SOUTH].backend.project(project_id(GOOD, SOUTH)).service("ecs").to_dict()  # seeded
    assert report(org, tmp_path)[0] == 0
    document = json.loads((tmp_path / "report.json").read_text())
    south = [s for s in document["servers"] if s["target"]["region"] == SOUTH]
    assert [s["id"] for s in south] == [SERVER]


def test_fail_on_any_counts_the_targets_not_evaluated(org, tmp_path):
    code, _ = report(org, tmp_path, "--fail-on", "any")
    assert code == 1


def test_names_from_organizations_are_escaped_and_the_csv_names_each_target(org, tmp_path):
    assert report(org, tmp_path)[0] == 0
    page = (tmp_path / "report.html").read_text()
    assert XSS_ACCOUNT not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert 'id="organisation"' in page and "not evaluated" in page
    rows = list(csv.DictReader((tmp_path / "report.csv").open(newline="")))
    assert {(r["account"], r["region"]) for r in rows} == {(HOME, NORTH), (GOOD, NORTH), (GOOD, SOUTH)}
    assert all(r["project_id"] for r in rows)


@pytest.mark.slow
def test_the_organisation_sections_in_headless_chromium(org, tmp_path, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    assert report(org, tmp_path)[0] == 0
    browser.get((tmp_path / "report.html").as_uri())
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    section = browser.find_element(By.ID, "organisation")
    accounts = section.find_elements(By.CSS_SELECTOR, "section.account")
    assert [a.get_attribute("data-account") for a in accounts] == [HOME, GOOD, NO_AGENCY, WRONG_EXT]
    assert XSS_ACCOUNT in accounts[2].text and "AGENCY_MISSING" in accounts[2].text  # shown as text
    assert "ACCESS_DENIED" in accounts[3].text
    assert len(accounts[1].find_elements(By.CSS_SELECTOR, "tr.target")) == 2  # prod: one row per region
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    box = browser.find_element(By.ID, "filter")
    box.send_keys(SOUTH)  # the filter knows each server's target
    shown = [b for b in browser.find_elements(By.CSS_SELECTOR, "tbody.server") if b.is_displayed()]
    assert len(shown) == 1 and SOUTH in shown[0].text
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe


def test_a_terminal_escape_in_an_account_name_is_not_printed_raw(org, tmp_path):
    org.home.backend.directory.accounts[WRONG_EXT].name = "sandbox\x1b[2J"
    document = json.loads(targets())
    document["accounts"] = []  # WRONG_EXT discovered: its Organizations name
    lines: list[str] = []
    environ = {
        "HUAWEICLOUD_SDK_AK": HOME_AK,
        "HUAWEICLOUD_SDK_SK": HOME_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": project_id(HOME, NORTH),
        "REGION": NORTH,
        "TARGETS": json.dumps(document),
    }
    main(["targets", "--check", "--endpoint", org.home.url], environ, out=lines.append, err=io.StringIO())
    text = "\n".join(lines)
    assert "\x1b" not in text and "sandbox\\x1b[2J" in text


def test_sweep_results_apply_to_their_own_target_only(org, tmp_path):
    # the same server id in every account: a result counts only where its target says
    target = {"account": GOOD, "region": SOUTH, "project_id": project_id(GOOD, SOUTH), "home": False}
    event = {
        "specversion": "1.0",
        "data": {"outcome": "repaired", "server_id": SERVER, "findings": [], "target": target},
    }
    results = tmp_path / "sweep.jsonl"
    results.write_text(json.dumps(event) + "\n")
    assert report(org, tmp_path / "out", "--from-results", str(results))[0] == 0
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    sources = {
        (s["target"]["account"], s["target"]["region"]): (s["source"], s["verdict"]) for s in document["servers"]
    }
    assert sources[(GOOD, SOUTH)] == ("sweep results", "repaired")
    assert sources[(GOOD, NORTH)][0] == "computed" and sources[(HOME, NORTH)][0] == "computed"

"""``sgguard report`` against localcloud: the same verdicts and findings as sg_drift, every value
escaped, the three files agreeing (the browser side: test_report_browser.py)."""

from __future__ import annotations

import csv
import json
from urllib.parse import unquote

from tests.support.functions import Invoker
from tests.support.report import DB_PORT, XSS_NAME, make_estate, run_report


def test_the_report_has_the_verdicts_and_findings_the_sweep_emits(cloud, vpc_v3, tmp_path):
    ids = make_estate(cloud, vpc_v3)
    seq = cloud.requests()[-1]["seq"]
    code, out, err = run_report(cloud, tmp_path)
    assert code == 0, err
    calls = cloud.requests(seq)
    assert [r["method"] for r in calls] == ["GET"] * 5  # sg_drift's config, groups, rules, ports, servers
    assert unquote(calls[0]["path"]).endswith(":function:default:sg_drift:latest/config")  # not deployed: 404
    report = json.loads((tmp_path / "report.json").read_text())
    by_id = {s["id"]: s for s in report["servers"]}
    assert by_id[ids["compliant"]]["verdict"] == "compliant"
    assert by_id[ids["drifted"]]["verdict"] == "drift_detected" and by_id[ids["drifted"]]["exposed"]

    *results, _summary = Invoker(cloud, "sg_drift")({"sweep": {}}, PROTECTED_GROUPS="baseline")["results"]
    swept = {r["data"]["server_id"]: r["data"] for r in results}
    for server_id, server in by_id.items():  # the sweep's findings, with names and fixes added
        assert server["verdict"] == swept[server_id]["outcome"]
        judged = [f for f in server["findings"] if f["source"] != "report"]
        assert [strip(f) for f in judged] == swept[server_id]["findings"]
        assert all(f["fix"] and len(f["group_names"]) == len(f["groups"]) for f in server["findings"])

    summary = report["summary"]
    assert summary["servers"] == 2 and summary["interfaces"] == 4 and summary["compliant_percent"] == 50.0
    # db-01's management interface has port security off: a finding of the report's own
    assert summary["findings_by_kind"] == {"exposure": 1, "missing_group": 1, "port_security_disabled": 1}
    assert f"{summary['servers']} servers, 4 interfaces, 50.0% compliant" in out
    nic = next(n for n in by_id[ids["drifted"]]["interfaces"] if n["port_id"] == DB_PORT)
    assert [g["name"] for g in nic["groups"]] == ["db", XSS_NAME]  # priority order
    assert nic["groups"][1]["exposes"] and nic["groups"][1]["inbound"][0]["ports"] == "22"
    legacy = by_id[ids["compliant"]]["interfaces"]
    assert legacy[0]["primary"] and legacy[0]["groups"][0]["protected"]  # baseline first, protected


def strip(finding: dict) -> dict:
    return {k: v for k, v in finding.items() if k not in ("fix", "group_names")}


def test_every_value_from_the_cloud_is_escaped_in_the_html(cloud, vpc_v3, tmp_path):
    make_estate(cloud, vpc_v3)
    assert run_report(cloud, tmp_path)[0] == 0
    page = (tmp_path / "report.html").read_text()
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing to fetch
    assert "<script src" not in page and '<link rel="stylesheet"' not in page


def test_the_csv_has_one_row_per_interface(cloud, vpc_v3, tmp_path):
    ids = make_estate(cloud, vpc_v3)
    assert run_report(cloud, tmp_path)[0] == 0
    rows = list(csv.DictReader((tmp_path / "report.csv").open(newline="")))
    assert len(rows) == 4 and {r["server_id"] for r in rows} == {ids["compliant"], ids["drifted"]}
    exposed = next(r for r in rows if r["port_id"] == DB_PORT)
    assert exposed["exposed"] == "yes" and exposed["groups"] == f"db > {XSS_NAME}"
    assert exposed["finding_kinds"] == "exposure missing_group"


def test_verdicts_can_come_from_a_sweeps_results(cloud, vpc_v3, tmp_path):
    ids = make_estate(cloud, vpc_v3)
    results = tmp_path / "sweep.jsonl"
    event = {"specversion": "1.0", "data": {"outcome": "repaired", "server_id": ids["drifted"], "findings": []}}
    results.write_text(json.dumps(event) + "\n")
    assert run_report(cloud, tmp_path / "out", "--from-results", str(results))[0] == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_id = {s["id"]: s for s in report["servers"]}
    assert by_id[ids["drifted"]]["verdict"] == "repaired" and by_id[ids["drifted"]]["source"] == "sweep results"
    assert by_id[ids["compliant"]]["source"] == "computed"


def test_a_missing_policy_is_a_usage_error(cloud, tmp_path):
    code, _, err = run_report(cloud, tmp_path, "--policy", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err


def test_fail_on_makes_the_report_a_ci_gate(cloud, vpc_v3, tmp_path):
    make_estate(cloud, vpc_v3)  # one compliant server, one drifted with an exposure
    for fail_on, code_wanted, phrase in [
        ("drift", 1, "1 server(s) drifted"),
        ("exposure", 1, "interface(s) exposed"),
        ("any", 1, "1 server(s) drifted; "),
    ]:
        code, out, err = run_report(cloud, tmp_path / fail_on, "--fail-on", fail_on)
        assert code == code_wanted and phrase in err, (fail_on, code, err)
        assert (tmp_path / fail_on / "report.json").is_file()  # written first, then the verdict
    code, out, err = run_report(cloud, tmp_path / "plain")
    assert code == 0, err


def test_fail_on_passes_a_compliant_project():
    from sgguard_cli.commands.report import failures

    assert failures({"verdicts": {"compliant": 3}, "exposed_interfaces": 0}, "any") == ""
    assert failures({"verdicts": {"failed": 1}, "exposed_interfaces": 0}, "drift") == ""
    assert failures({"verdicts": {"failed": 1}, "exposed_interfaces": 0}, "any") == "1 server(s) could not be judged"
    assert failures({"verdicts": {"drift_detected": 2}}, None) == ""

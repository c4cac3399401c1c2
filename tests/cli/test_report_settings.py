"""``sgguard report`` judges with the deployed settings: the sg_drift function's user data read
through FunctionGraph's ShowFunctionConfig (never its encrypted user data), or ``--config FILE``;
an interface with port security off is a finding; each finding has its fix and the group names;
printed, the page expands every detail."""

from __future__ import annotations

import io
import json
import os

import pytest

from sgguard_cli.localenv import LocalEnv
from sgguard_cli.main import main
from sgguard_cli.report.render import render_html
from tests.support.report import DB_PORT, run_report

CANARY = "webhook-secret-CANARY-never-read-0001"  # in sg_drift's encrypted user data only
DB_MGMT_PORT = "d0000000-0000-4000-8000-000000000004"  # the default seed: port security disabled


@pytest.fixture(scope="module")
def deployed():
    env = LocalEnv.start(build_delay_ms=0)
    env.deploy(
        PROTECTED_GROUPS="baseline", RISKY_PORTS="22,3389,6379", WEBHOOK_SIGNING_KEYS_JSON=json.dumps({"w1": CANARY})
    )
    yield env
    env.stop()


def report(env, out_dir, *argv: str, **environ: str) -> tuple[int, str, str]:
    lines: list[str] = []
    err = io.StringIO()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_SDK_", "LOCALCLOUD_URL"))}
    base.update(
        HUAWEICLOUD_SDK_AK=env.cloud.ak,
        HUAWEICLOUD_SDK_SK=env.cloud.sk,
        HUAWEICLOUD_SDK_PROJECT_ID=env.cloud.project_id,
        LOCALCLOUD_URL=env.cloud.url,
        **environ,
    )
    code = main(["report", "--out", str(out_dir), *argv], base, out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


def test_the_report_judges_with_the_deployed_functions_settings(deployed, tmp_path):
    # the environment says otherwise: the deployed function's user data wins
    code, out, err = report(deployed, tmp_path, PROTECTED_GROUPS="web", RISKY_PORTS="1")
    assert code == 0, err
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["settings"]["protected_groups"] == ["baseline"]
    assert data["settings"]["risky_ports"] == [22, 3389, 6379]
    assert data["settings_source"].startswith("the deployed sg_drift's user data (urn:fss:")
    assert "settings: the deployed sg_drift's user data" in out
    page = (tmp_path / "report.html").read_text()
    assert "protected groups: baseline - risky ports: 22, 3389, 6379" in page
    written = "".join(p.read_text() for p in tmp_path.iterdir()) + out + err
    assert CANARY not in written and "WEBHOOK_SIGNING_KEYS" not in written


def test_config_file_settings_and_the_environment_on_request(deployed, tmp_path):
    settings = tmp_path / "settings.env"
    settings.write_text("# the guard rails as deployed elsewhere\nPROTECTED_GROUPS=mgmt-ssh\n\nRISKY_PORTS=22\n")
    code, out, err = report(deployed, tmp_path / "file", "--config", str(settings))
    assert code == 0, err
    data = json.loads((tmp_path / "file" / "report.json").read_text())
    assert data["settings"]["protected_groups"] == ["mgmt-ssh"] and data["settings_source"] == f"--config {settings}"
    code, _, err = report(deployed, tmp_path / "env", "--config", "env", PROTECTED_GROUPS="web")
    assert code == 0, err
    assert json.loads((tmp_path / "env" / "report.json").read_text())["settings"]["protected_groups"] == ["web"]
    settings.write_text('{"PROTECTED_GROUPS": ["not", "a string"]}')
    code, _, err = report(deployed, tmp_path / "bad", "--config", str(settings))
    assert code == 2 and "every value must be a string" in err and "PROTECTED_GROUPS" in err
    settings.write_text("PROTECTED_GROUPS baseline\n")
    code, _, err = report(deployed, tmp_path / "bad", "--config", str(settings))
    assert code == 2 and f"{settings}:1: write KEY=VALUE" in err


def test_without_a_deployed_function_the_environment_is_used_and_said(cloud, tmp_path):
    code, out, err = run_report(cloud, tmp_path)
    assert code == 0, err
    assert "note: sg_drift is not deployed in cn-north-4" in err
    assert "settings: the environment (sg_drift is not deployed)" in out


def test_port_security_off_is_a_finding_with_its_fix_and_names_beside_ids(cloud, tmp_path):
    code, _, err = run_report(cloud, tmp_path)
    assert code == 0, err
    data = json.loads((tmp_path / "report.json").read_text())
    db = next(s for s in data["servers"] if s["name"] == "db-01")
    assert db["verdict"] == "drift_detected"  # never a green "compliant" while its groups filter nothing
    [off] = [f for f in db["findings"] if f["kind"] == "port_security_disabled"]
    assert off["port_id"] == DB_MGMT_PORT and off["source"] == "report" and "port security on" in off["fix"]
    [missing] = [f for f in db["findings"] if f["kind"] == "missing_group" and f["port_id"] == DB_PORT]
    assert missing["group_names"] == ["baseline (a0000000-0000-4000-8000-000000000001)"]
    assert f"sgguard submit --server {db['id']} --nics port:{DB_PORT} --action add --groups baseline" in missing["fix"]
    nic = next(n for n in db["interfaces"] if n["port_id"] == DB_MGMT_PORT)
    assert nic["verdict"] == "drift_detected"
    page = (tmp_path / "report.html").read_text()
    assert "<b>fix:</b> turn port security on" in page and "groups:</span> baseline (a0000000" in page


def test_printed_the_page_expands_every_detail_and_drops_the_controls():
    page = render_html(
        {
            "summary": {
                "servers": 0,
                "interfaces": 0,
                "compliant_percent": 100.0,
                "verdicts": {},
                "exposed_interfaces": 0,
                "findings_by_kind": {},
            },
            "servers": [],
        }
    )
    print_css = page.split("@media print {", 1)[1].split("\n}\n", 1)[0]
    assert "tr.detail[hidden] { display: table-row !important; }" in print_css
    assert ".controls, #empty { display: none !important; }" in print_css


def test_the_function_name_is_checked_before_it_goes_into_a_urn(cloud, tmp_path):
    seq = cloud.requests()[-1]["seq"] if cloud.requests() else 0
    code, _, err = run_report(cloud, tmp_path, "--function", "../sg_drift")
    assert code == 2 and "--function '../sg_drift': a FunctionGraph function name" in err
    assert cloud.requests(seq) == []

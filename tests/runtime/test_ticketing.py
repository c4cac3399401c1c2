"""Ticketing recipes end to end against localcloud (docs/ticketing.md): the ServiceNow business rule's
body, ``sgguard submit --url`` on an APIG API with auth NONE, ``--via dms`` (DMS for Kafka's message
API) and ``--via smn``, all through the deployed change_request function."""

from __future__ import annotations

import json

import pytest

from sgguard_cli.localenv import KAFKA_INSTANCE_ID
from sgguard_cli.main import main as sgguard
from tests.support.node import run_node
from tests.support.runtime import dry_run_request

OPEN_GROUP = "0c0a1c10ca1c10c0a1c10ca1c10c0a1d"
LEGACY = "c0000000-0000-4000-8000-000000000001"  # default seed: NICs default+app / default

# The platform's objects are stand-ins (ServiceNow does not run here): the record, the approvals
# query, the properties, and a RESTMessageV2 that records what it would send.
SERVICENOW = r"""
const fs = require("fs"), vm = require("vm");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const sent = {};
const record = {
  number: "CHG0040001", sys_mod_count: "7", u_sgguard_server: input.server, u_sgguard_action: "add",
  u_sgguard_groups: " monitoring , ", u_sgguard_position: "", "requested_by.email": "zoë@example.com",
};
const current = {
  getValue: (name) => record[name] === undefined ? null : record[name],
  getDisplayValue: (name) => record[name] || "",
  getLink: () => "change_request.do?sys_id=0123abcd",
  getUniqueValue: () => "0123abcd",
  update() { sent.notes = this.work_notes; },
};
function GlideRecord(table) {
  this.rows = table === "sysapproval_approver" ? [{ email: "bob@example.com" }] : [];
}
GlideRecord.prototype = {
  addQuery() {}, orderBy() {}, query() {},
  next() { this.approver = this.rows.shift(); return !!this.approver; },
};
const gs = { getProperty: (name) => input.properties[name] };
function RESTMessageV2() { this.headers = {}; }
RESTMessageV2.prototype = {
  setEndpoint(url) { sent.url = url; }, setHttpMethod(m) { sent.method = m; },
  setRequestHeader(k, v) { this.headers[k] = v; }, setRequestBody(b) { sent.body = b; sent.headers = this.headers; },
  execute() { return { getStatusCode: () => 200, getBody: () => "{}" }; },
};
const context = vm.createContext({ current, previous: null, GlideRecord, gs, sn_ws: { RESTMessageV2 } });
vm.runInContext(fs.readFileSync("javascript/sgguard-sign.js", "utf8"), context);
vm.runInContext(fs.readFileSync("servicenow/business_rule.js", "utf8"), context);
process.stdout.write(JSON.stringify(sent));
"""


def _credentials(env) -> dict:
    cloud = env.cloud
    return {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
        "LOCALCLOUD_URL": cloud.url,
    }


def _signing(env) -> list[str]:
    key_id, secret = next(iter(env.signing_keys.items()))
    return ["--key-id", key_id, "--secret", secret]


def _submit(argv: list[str], environ: dict, capsys) -> tuple[int, str, str]:
    code = sgguard(["submit", *argv], environ=environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_servicenow_business_rule_sends_a_request_the_open_api_applies(env, capsys):
    import urllib.request

    env.deploy(APIG_OPEN_GROUP_ID=OPEN_GROUP)
    key_id, secret = next(iter(env.signing_keys.items()))
    url = f"{env.cloud.url}/_apig/sgguard/change-requests"
    properties = {
        "x_sgguard.url": url,
        "x_sgguard.key_id": key_id,
        "x_sgguard.signing_secret": secret,
        "glide.servlet.uri": "https://example.service-now.com/",
    }
    sent = run_node(SERVICENOW, {"server": LEGACY, "properties": properties})
    assert sent["url"] == url and sent["method"] == "post" and sent["headers"] == {"Content-Type": "application/json"}
    request = json.loads(sent["body"])
    assert request["ticket"] == {
        "system": "servicenow",
        "id": "CHG0040001",
        "requested_by": "zoë@example.com",
        "approved_by": "bob@example.com",
        "url": "https://example.service-now.com/change_request.do?sys_id=0123abcd",
    }
    assert secret not in sent["body"]
    # The HTTP leg the platform would do, with no Huawei credentials: the signature is the authentication.
    post = urllib.request.Request(url, data=sent["body"].encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(post, timeout=60) as response:
        answer = json.loads(response.read())
    assert [r["data"]["outcome"] for r in answer["results"]] == ["succeeded"], answer
    assert env.port_groups(LEGACY)[0] == ["default", "app", "monitoring"]


def test_the_business_rule_writes_a_work_note_instead_of_sending_with_a_short_secret():
    properties = {"x_sgguard.url": "https://x", "x_sgguard.key_id": "k", "x_sgguard.signing_secret": "short"}
    sent = run_node(SERVICENOW, {"server": LEGACY, "properties": {**properties, "glide.servlet.uri": "https://i/"}})
    assert "body" not in sent
    assert sent["notes"].startswith("sgguard: not sent: secret must be a string of at least 16 characters")


def test_submit_url_posts_to_an_open_api_without_huawei_credentials(env, tmp_path, capsys):
    env.deploy(APIG_OPEN_GROUP_ID=OPEN_GROUP)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(71)))
    url = f"{env.cloud.url}/_apig/sgguard/change-requests"
    code, out, err = _submit([*_signing(env), "--url", url, str(path)], {}, capsys)  # no AK/SK anywhere
    assert code == 0, err
    assert out.startswith("APIG answered 200") and '"outcome": "planned"' in out
    (apig,) = [t for t in env.functions()["change_request"]["triggers"] if t["trigger_type_code"] == "APIG"]
    assert apig["event_data"]["auth"] == "NONE" and apig["event_data"]["group_id"] == OPEN_GROUP


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://apig.example.com/sgguard/change-requests", "https only"),
        ("ftp://127.0.0.1/x", "an absolute https:// URL"),
        ("https://user:pw@apig.example.com/x", "credentials in the URL are refused"),
    ],
)
def test_submit_url_refuses_what_would_leak_the_request(tmp_path, capsys, url, words):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(72)))
    code, _, err = _submit(
        ["--key-id", "k", "--secret", "local-demo-signing-key-0001", "--url", url, str(path)], {}, capsys
    )
    assert code == 2 and words in err


def test_submit_via_dms_produces_through_the_kafka_api_and_waits_for_the_result(env, tmp_path, capsys):
    env.deploy()
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(73)))
    argv = [*_signing(env), "--via", "dms", "--instance-id", KAFKA_INSTANCE_ID, "--wait", "30", str(path)]
    code, out, err = _submit(argv, _credentials(env), capsys)
    assert code == 0, err
    assert f"produced CHG-TEST-0073 to DMS instance {KAFKA_INSTANCE_ID} topic sg-change-requests" in out
    assert "result: planned" in out
    (invocation,) = env.invocations("change_request")
    assert invocation["payload"]["trigger_type"] == "KAFKA"


def test_submit_via_dms_names_what_is_wrong(env, tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(74)))
    code, _, err = _submit([*_signing(env), "--via", "dms", "--instance-id", "x", str(path)], _credentials(env), capsys)
    assert code == 2 and "--instance-id 'x': a DMS instance id (a UUID) is needed" in err
    environ = {k: v for k, v in _credentials(env).items() if k != "HUAWEICLOUD_SDK_SK"}
    code, _, err = _submit(
        [*_signing(env), "--via", "dms", "--instance-id", KAFKA_INSTANCE_ID, str(path)], environ, capsys
    )
    assert code == 3 and "HUAWEICLOUD_SDK_SK" in err


def test_submit_via_smn_publishes_to_the_request_topic(env, tmp_path, capsys):
    values = env.deploy(smn=True)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(75)))
    argv = [*_signing(env), "--via", "smn", "--topic-urn", values["SMN_TOPIC_URN"], "--wait", "30", str(path)]
    code, out, err = _submit(argv, _credentials(env), capsys)
    assert code == 0, err
    assert f"published CHG-TEST-0075 to SMN topic {values['SMN_TOPIC_URN']}" in out and "result: planned" in out


def test_submit_wait_on_an_account_is_refused(tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(dry_run_request(76)))
    argv = ["--key-id", "k", "--secret", "local-demo-signing-key-0001", "--via", "smn", "--topic-urn", "urn:smn:x"]
    code, _, err = _submit([*argv, "--wait", "5", str(path)], {}, capsys)
    assert code == 2 and "--wait reads localcloud's executions" in err

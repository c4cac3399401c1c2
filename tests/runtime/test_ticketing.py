"""Ticketing recipes end to end against localcloud (docs/ticketing.md): the ServiceNow business rule's
body, ``sgguard submit --url`` on an APIG API with auth NONE, ``--via dms`` (DMS for Kafka's message
API) and ``--via smn``, all through the deployed change_request function."""

from __future__ import annotations

import json
import os

import pytest

from sgguard_cli.localenv import KAFKA_INSTANCE_ID
from sgguard_cli.main import main as sgguard
from tests.support.node import RECIPES, run_node
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
const gs = { getProperty: (name, fallback) => name in input.properties ? input.properties[name] : fallback };
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


@pytest.fixture
def relay(env, tmp_path):
    """recipes/jira/relay.js under node, forwarding to localcloud's open APIG API; stopped after the test."""
    import subprocess

    from tests.support.node import node_binary

    key_id, secret = next(iter(env.signing_keys.items()))
    (tmp_path / "secret").write_text(secret + "\n")
    (tmp_path / "token").write_text("jira-relay-token-0123456789abcdef\n")
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "SGGUARD_URL": f"{env.cloud.url}/_apig/sgguard/change-requests",
        "SGGUARD_KEY_ID": key_id,
        "SGGUARD_SECRET_FILE": str(tmp_path / "secret"),
        "RELAY_TOKEN_FILE": str(tmp_path / "token"),
        "RELAY_PORT": "0",
    }
    process = subprocess.Popen(
        [node_binary(), str(RECIPES / "jira" / "relay.js")], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        line = process.stdout.readline().decode()  # blocks until it listens (or exits: then empty)
        assert line.startswith("relay listening on"), process.stderr.read().decode()
        yield f"http://127.0.0.1:{line.rsplit(':', 1)[1].strip()}/change-requests"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _post(url: str, body: bytes, token: str | None) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _jira_body(number: int) -> dict:
    """recipes/jira/web-request-body.json as Jira renders it for an issue (smart values filled in)."""
    request = dry_run_request(number)
    request["ticket"] = {
        "system": "jira",
        "id": f"OPS-{number}",
        "requested_by": "alice@example.com",
        "approved_by": "bob@example.com",
        "url": f"https://example.atlassian.net/browse/OPS-{number}",
    }
    return request


def test_the_jira_relay_signs_what_jira_sends_and_answers_with_sgguard(env, relay):
    env.deploy(APIG_OPEN_GROUP_ID=OPEN_GROUP)
    token = "jira-relay-token-0123456789abcdef"
    status, answer = _post(relay, json.dumps(_jira_body(81)).encode(), token)
    assert status == 200 and [r["data"]["outcome"] for r in answer["results"]] == ["planned"], answer
    assert _post(relay, json.dumps(_jira_body(82)).encode(), "wrong-token-0123456789abcdef")[0] == 401
    assert _post(relay, json.dumps(_jira_body(83)).encode(), None)[0] == 401
    status, answer = _post(relay, json.dumps(dry_run_request(84)).encode(), token)  # a servicenow ticket
    assert status == 403 and answer["error"]["path"] == "$.ticket.system"
    status, answer = _post(relay, json.dumps({**_jira_body(85), "signature": {}}).encode(), token)
    assert status == 400 and answer["error"]["code"] == "SIGNATURE_NOT_ALLOWED"
    assert _post(relay, b"{" + b" " * 70000 + b"}", token)[0] == 413
    assert _post(relay, b"not json", token)[0] == 400
    # only the first request reached the function: the refusals cost no invocation
    assert len(env.invocations("change_request")) == 1


def test_the_jira_body_template_renders_to_a_valid_request():
    """The smart values of recipes/jira/web-request-body.json filled in as Jira would: a request the
    schema accepts (the template is what the docs tell users to paste)."""
    import re

    from shared.validation import validate_change_request

    template = (RECIPES / "jira" / "web-request-body.json").read_text(encoding="utf-8")
    groups = '{"name": "web"}, {"name": "monitoring"}'  # the split/trim loop over "web, monitoring"
    rendered = re.sub(r"\{\{#issue\.customfield_10072.*?\{\{/\}\}\{\{/\}\}", groups, template)
    values = {
        "issue.key": "OPS-17",
        'now.format(\\"yyyyMMddHHmmss\\")': "20261128210000",
        "issue.reporter.emailAddress": "alice@example.com",
        "initiator.emailAddress": "bob@example.com",
        "issue.url": "https://example.atlassian.net/browse/OPS-17",
        "issue.customfield_10070": LEGACY,
        "issue.customfield_10071.value": "add",
    }
    rendered = re.sub(r"\{\{(.*?)\}\}", lambda m: values[m.group(1)], rendered)
    request = json.loads(rendered)
    assert validate_change_request(request) == []
    assert request["change"]["security_groups"] == [{"name": "web"}, {"name": "monitoring"}]


def test_the_business_rule_refuses_to_send_without_its_properties():
    sent = run_node(SERVICENOW, {"server": LEGACY, "properties": {}})
    assert "body" not in sent and sent["notes"].startswith("sgguard: not sent: keyId must match")


def test_both_apig_apis_deploy_side_by_side_and_a_second_deploy_keeps_them(env):
    def apig_triggers() -> dict:
        triggers = env.functions()["change_request"]["triggers"]
        return {t["event_data"]["auth"]: t["trigger_id"] for t in triggers if t["trigger_type_code"] == "APIG"}

    env.deploy(apig=True, APIG_OPEN_GROUP_ID=OPEN_GROUP)
    first = apig_triggers()
    env.deploy(apig=True, APIG_OPEN_GROUP_ID=OPEN_GROUP)
    assert set(first) == {"IAM", "NONE"} and apig_triggers() == first  # matched, not replaced

"""sg_drift end to end: console-style changes made through the official SDK against localcloud, the
CTS traces localcloud records for them, and the real handler judging (and repairing) the servers."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkvpc.v3.model import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    InsertSecurityGroupOption,
    RemoveSecurityGroupOption,
    RemoveSecurityGroupsRequest,
    RemoveSecurityGroupsRequestBody,
)

from shared.validation import validate_result_event
from tests.support.functions import Invoker
from tests.support.requests import DB, LEGACY, LEGACY_PORTS, SG
from tests.support.state import port_groups, writes_since

DB_PORT = "d0000000-0000-4000-8000-000000000003"


@pytest.fixture
def traces(cloud):
    """Every CTS trace localcloud records from now on (port and rule changes made through its API)."""
    seen: list[dict] = []
    cloud.backend.subscribe("cloud.trace", lambda **payload: seen.append(payload["trace"]))
    return seen


@pytest.fixture
def drift(cloud):
    invoker = Invoker(cloud, "sg_drift")

    def invoke(event, **settings):
        response = invoker(event, **settings)
        for result in response["results"]:
            assert validate_result_event(result) == [], result
        return [result["data"] for result in response["results"]]

    return invoke


def console_insert(vpc_v3, port, group, index=None):
    option = InsertSecurityGroupOption(security_groups=[group], index=index)
    vpc_v3.add_security_groups(AddSecurityGroupsRequest(port, AddSecurityGroupsRequestBody(port=option)))


def console_remove(vpc_v3, port, group):
    body = RemoveSecurityGroupsRequestBody(port=RemoveSecurityGroupOption(security_groups=[group]))
    vpc_v3.remove_security_groups(RemoveSecurityGroupsRequest(port, body))


def open_ssh(vpc_v3, group):
    option = CreateSecurityGroupRuleOption(
        security_group_id=group, direction="ingress", protocol="tcp", multiport="22", remote_ip_prefix="0.0.0.0/0"
    )
    body = CreateSecurityGroupRuleRequestBody(security_group_rule=option)
    return vpc_v3.create_security_group_rule(CreateSecurityGroupRuleRequest(body=body)).security_group_rule.id


@pytest.fixture
def baselined(cloud, vpc_v3):
    """The seeded legacy server as sgguard leaves it: the baseline first on both interfaces, mgmt-ssh on the
    one in the management subnet (policy.yaml)."""
    for port in LEGACY_PORTS:
        console_insert(vpc_v3, port, SG["baseline"], 0)
    console_insert(vpc_v3, LEGACY_PORTS[1], SG["mgmt-ssh"])
    return LEGACY_PORTS


def test_manual_detach_of_the_baseline_is_detected_then_repaired_with_one_write(
    cloud, vpc_v3, drift, traces, baselined
):
    assert drift({"server_id": LEGACY})[0]["outcome"] == "compliant"
    console_remove(vpc_v3, LEGACY_PORTS[0], SG["baseline"])
    [trace] = [t for t in traces if t["trace_name"] == "removeSecurityGroups"]
    assert trace["user"]["type"] == "User" and trace["resource_id"] == LEGACY_PORTS[0]

    seq = cloud.requests()[-1]["seq"]
    [data] = drift({"cts": trace})
    assert data["outcome"] == "drift_detected" and data["mode"] == "report"
    [finding] = data["findings"]
    assert (finding["kind"], finding["source"], finding["port_id"]) == (
        "missing_group",
        "rule:baseline-everywhere",
        LEGACY_PORTS[0],
    )
    assert finding["expected"][0] == SG["baseline"] and SG["baseline"] not in finding["actual"]
    assert writes_since(cloud, seq) == []

    seq = cloud.requests()[-1]["seq"]
    [data] = drift({"cts": trace}, DRIFT_MODE="enforce")
    assert data["outcome"] == "repaired", data
    assert data["findings"][0]["repaired"] is True
    writes = writes_since(cloud, seq)
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes] == [("PUT", "insert-security-groups")]
    assert json.loads(writes[0]["body"])["port"] == {"security_groups": [SG["baseline"]], "index": 0}
    assert port_groups(cloud, LEGACY_PORTS[0])[0] == SG["baseline"]
    assert data["api_calls"]["writes"] == 1 and data["api_calls"]["reads"] <= 6


def test_sgguards_own_changes_are_recognised_and_skipped(cloud, vpc_v3, drift, traces, baselined):
    console_remove(vpc_v3, LEGACY_PORTS[0], SG["baseline"])
    [data] = drift({"server_id": LEGACY}, DRIFT_MODE="enforce")
    assert data["outcome"] == "repaired"
    own = [t for t in traces if t["user"].get("type") == "AssumedAgency"]
    assert own and ":assumed-agency:sgguard-functions/" in own[-1]["user"]["principal_urn"]
    seq = cloud.requests()[-1]["seq"]
    [data] = drift({"cts": own[-1]}, DRIFT_MODE="enforce")
    assert data["outcome"] == "skipped" and "own agency" in data["reason"]
    assert cloud.requests(seq) == []  # not a single call


def test_a_group_a_ticket_added_is_left_alone(cloud, vpc_v3, drift, traces, baselined):
    console_insert(vpc_v3, LEGACY_PORTS[1], SG["web"])  # e.g. by a change request, after the baseline
    seq = cloud.requests()[-1]["seq"]
    [data] = drift({"cts": traces[-1]}, DRIFT_MODE="enforce")
    assert data["outcome"] == "compliant", data
    assert writes_since(cloud, seq) == []
    assert port_groups(cloud, LEGACY_PORTS[1])[-1] == SG["web"]


def test_ssh_opened_on_an_attached_group_is_an_exposure_on_every_interface_carrying_it(
    cloud, vpc_v3, drift, traces, baselined
):
    console_insert(vpc_v3, LEGACY_PORTS[1], SG["app"])
    console_insert(vpc_v3, DB_PORT, SG["app"])
    rule_id = open_ssh(vpc_v3, SG["app"])
    [trace] = [t for t in traces if t["trace_name"] == "createSecurity-group-rule"]
    seq = cloud.requests()[-1]["seq"]
    results = drift({"cts": trace}, DRIFT_MODE="enforce")  # alert only: DRIFT_REMOVE_RISKY is false
    by_server = {data["server_id"]: data for data in results}
    assert set(by_server) == {LEGACY, DB}
    exposed = {
        f["port_id"]
        for data in results
        for f in data["findings"]
        if f["kind"] == "exposure" and SG["app"] in f["groups"]
    }
    # Issue 19 (effective access): on the db server's port the db group stands first with a deny of
    # everything at priority 100, which the new rule (priority 100, the v3 default) cannot beat under
    # either reading: port 22 stays closed there.
    assert exposed == {LEGACY_PORTS[0], LEGACY_PORTS[1]}
    assert all(rule_id in f["message"] for d in results for f in d["findings"] if f["kind"] == "exposure")
    assert by_server[LEGACY]["outcome"] == "drift_detected"
    assert not any(w["path"].endswith("remove-security-groups") for w in writes_since(cloud, seq))


def test_exposure_is_removed_only_with_drift_remove_risky(cloud, vpc_v3, drift, baselined):
    console_insert(vpc_v3, LEGACY_PORTS[1], SG["ssh-open"])
    [data] = drift({"server_id": LEGACY}, DRIFT_MODE="enforce", DRIFT_REMOVE_RISKY="true")
    assert data["outcome"] == "repaired", data
    assert SG["ssh-open"] not in port_groups(cloud, LEGACY_PORTS[1])


def test_an_exempted_server_is_compliant_with_the_exemption_noted(cloud, drift):
    policy = json.dumps(
        {
            "version": 1,
            "rules": [{"name": "baseline", "security_groups": [{"name": "baseline"}], "position": "first"}],
            "exclude": {"servers": [{"id": LEGACY, "until": "2099-12-31", "ticket": "CHG-1"}]},
        }
    )
    [data] = drift({"server_id": LEGACY}, POLICY=policy)
    assert data["outcome"] == "compliant" and "exempted until 2099-12-31, ticket CHG-1" in data["reason"]
    [data] = drift({"server_id": DB}, POLICY=policy)
    assert data["outcome"] == "drift_detected"


def test_the_sweep_judges_every_server_and_emits_a_summary(cloud, drift):
    seq = cloud.requests()[-1]["seq"] if cloud.requests() else 0
    results = drift({"sweep": {}})
    *servers, summary = results
    assert {d["server_id"] for d in servers} == {LEGACY, DB}
    assert summary["outcome"] == "summary" and summary["summary"]["servers"] == 2
    assert summary["summary"]["findings_by_kind"]["missing_group"] >= 3
    assert summary["summary"]["complete"] is True
    calls = [r for r in cloud.requests(seq) if r["method"] == "GET"]
    assert len(calls) == summary["summary"]["api_calls"]["listing"] == 4  # groups, rules, ports, servers


@pytest.mark.parametrize("request_id", ["CHG-1\n", "../x", "a" * 200, 5])
def test_a_direct_request_id_of_an_unsafe_form_is_rejected_before_any_call(cloud, drift, request_id):
    seq = cloud.last_seq()
    [data] = drift({"server_id": LEGACY, "request_id": request_id})
    assert data["outcome"] == "rejected"
    assert [(e["code"], e["path"]) for e in data["errors"]] == [("SCHEMA_VIOLATION", "$.request_id")]
    assert cloud.requests(seq) == []

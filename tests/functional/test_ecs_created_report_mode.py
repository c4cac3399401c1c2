"""ecs_created observe-only (``ECS_CREATED_MODE=report``): the real handler against localcloud plans
what it would attach, names the groups in priority order, and no write reaches the cloud."""

from __future__ import annotations

import json

import pytest

from shared.config import ConfigError, load_settings
from shared.errors import ErrorCode
from shared.validation import validate_result_event
from tests.support.ecs import SUBNET_APP, SUBNET_MGMT, create_servers, cts_event, cts_trace
from tests.support.functions import Invoker
from tests.support.requests import SG
from tests.support.state import writes_since

FAST = {"READINESS_POLL_S": "0.05", "READINESS_MAX_WAIT_S": "10"}
REPORT = {**FAST, "ECS_CREATED_MODE": "report"}


@pytest.fixture
def invoker(cloud):
    cloud.settings(build_delay_ms=300)
    return Invoker(cloud, "ecs_created")


def ports_of(cloud, server_id):
    ports = cloud.state()["projects"][cloud.project_id]["vpc"]["ports"]
    return [p for p in ports if p["device_id"] == server_id]


def only_data(response):
    [result] = response["results"]
    assert validate_result_event(result) == [], result
    return result["data"]


def test_report_mode_plans_the_groups_in_order_and_writes_nothing(cloud, ecs, invoker):
    job, [server] = create_servers(ecs, "web-01", tags={"env": "prod", "role": "web-frontend"})
    [before] = [p["security_groups"] for p in ports_of(cloud, server)]
    seq = cloud.last_seq()
    data = only_data(invoker(cts_event(cts_trace([server], job)), **REPORT))
    assert (data["outcome"], data["mode"]) == ("planned", "report"), data
    assert data["rules_matched"] == ["baseline-everywhere", "prod-web"]
    [nic] = data["nics"]
    assert (nic["before"], nic["status"]) == (before, "planned")
    assert nic["after"] == [SG["baseline"], SG["web"], SG["monitoring"]]
    [plan] = data["plan"]
    assert [(g["priority"], g["name"]) for g in plan["groups"]] == [(1, "baseline"), (2, "web"), (3, "monitoring")]
    assert [c["call"] for c in plan["calls"]] == [
        "vpc.insert_security_groups",
        "vpc.remove_security_groups",
    ]  # what enforce would send
    assert data["api_calls"]["writes"] == 0
    assert writes_since(cloud, seq) == []  # not even a dry run reached the cloud
    assert [p["security_groups"] for p in ports_of(cloud, server)] == [before]


def test_switching_to_enforce_attaches_the_creation_report_mode_saw(cloud, ecs, invoker):
    """The report-mode run does not mark the creation as done: the same trace, redelivered after
    the switch to enforce, is applied once."""
    job, [server] = create_servers(ecs, "web-02", tags={"env": "prod", "role": "web-frontend"})
    event = cts_event(cts_trace([server], job))
    assert only_data(invoker(event, **REPORT))["outcome"] == "planned"
    assert only_data(invoker(event, **REPORT))["outcome"] == "no_change"  # a redelivery in report mode
    data = only_data(invoker(event, **FAST))
    assert data["outcome"] == "succeeded" and "mode" not in data, data
    [port] = ports_of(cloud, server)
    assert port["security_groups"] == [SG["baseline"], SG["web"], SG["monitoring"]]


def test_report_mode_shows_untouched_interfaces_and_each_ones_plan(cloud, ecs, invoker):
    job, [server] = create_servers(ecs, "two-nics", subnets=(SUBNET_APP, SUBNET_MGMT))
    policy = {
        "rules": [{"name": "mgmt", "match": {"subnet_id": SUBNET_MGMT}, "security_groups": [{"name": "mgmt-ssh"}]}]
    }
    seq = cloud.last_seq()
    data = only_data(invoker(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy), **REPORT))
    assert [n["status"] for n in data["nics"]] == ["unchanged", "planned"]
    assert [p["port_id"] for p in data["plan"]] == [data["nics"][1]["port_id"]]
    assert data["plan"][0]["groups"][-1]["name"] == "mgmt-ssh"
    assert writes_since(cloud, seq) == []


def test_report_mode_still_judges_the_guard_rails(cloud, ecs, invoker):
    job, [server] = create_servers(ecs, "risky")
    policy = {"rules": [{"name": "open-ssh", "security_groups": [{"name": "ssh-open"}]}]}
    seq = cloud.last_seq()
    data = only_data(invoker(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy), **REPORT))
    assert (data["outcome"], data["mode"], data["errors"][0]["code"]) == ("rejected", "report", ErrorCode.RISKY_RULE)
    assert writes_since(cloud, seq) == []


def test_nothing_to_attach_is_no_change_in_report_mode(cloud, ecs, invoker):
    job, [server] = create_servers(ecs, "already-right")
    policy = {"rules": [{"name": "keep-default", "security_groups": [{"name": "default"}]}]}
    data = only_data(invoker(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy), **REPORT))
    assert (data["outcome"], data["mode"], data["plan"]) == ("no_change", "report", []), data


@pytest.mark.parametrize("value", ["observe", "dry-run", "1", "report enforce"])
def test_an_unknown_mode_fails_loudly_with_its_name(value):
    with pytest.raises(ConfigError) as raised:
        load_settings(None, {"ECS_CREATED_MODE": value})
    assert raised.value.name == "ECS_CREATED_MODE"


def test_enforce_is_the_default_and_case_is_ignored():
    assert load_settings(None, {}).ecs_created_mode == "enforce"
    assert load_settings(None, {"ECS_CREATED_MODE": " Report "}).ecs_created_mode == "report"

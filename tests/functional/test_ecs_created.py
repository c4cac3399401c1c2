"""The ecs_created handler end to end: servers created through the ECS SDK, kept in BUILD by
localcloud for a while, announced by CTS traces; the real handler attaches the policy's groups."""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from shared.flows.policy import PolicyError
from shared.runtime.handler import RetryableFailure
from shared.validation import validate_result_event
from tests.support.ecs import SUBNET_APP, SUBNET_MGMT, SUBNET_WEB, create_servers, cts_event, cts_trace, eventgrid_event
from tests.support.functions import Invoker
from tests.support.requests import SG
from tests.support.state import port_groups, writes_since

FAST = {"READINESS_POLL_S": "0.05", "READINESS_MAX_WAIT_S": "10"}


@pytest.fixture
def created(cloud):
    cloud.settings(build_delay_ms=300)
    invoker = Invoker(cloud, "ecs_created")

    def invoke(event, **settings):
        response = invoker(event, **{**FAST, **settings})
        return [result["data"] for result in response["results"]]

    invoke.invoker = invoker
    return invoke


def default_sg(cloud):
    groups = cloud.state()["projects"][cloud.project_id]["vpc"]["security_groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


def ports_of(cloud, server_id):
    ports = cloud.state()["projects"][cloud.project_id]["vpc"]["ports"]
    return [p for p in ports if p["device_id"] == server_id]


def test_prod_web_server_gets_baseline_web_and_monitoring(cloud, ecs, created):
    job, [server] = create_servers(ecs, "web-01", tags={"env": "prod", "role": "web-frontend"})
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "succeeded", data
    assert data["rules_matched"] == ["baseline-everywhere", "prod-web"]
    [port] = ports_of(cloud, server)
    assert port["security_groups"] == [SG["baseline"], SG["web"], SG["monitoring"]]
    assert data["nics"][0]["before"] == [default_sg(cloud)]
    assert data["nics"][0]["after"] == [SG["baseline"], SG["web"], SG["monitoring"]]
    assert data["api_calls"]["writes"] == 2  # v3 insert of the three, then v3 remove of default


def test_every_interface_is_planned_separately(cloud, ecs, created):
    job, [server] = create_servers(ecs, "batch-worker", subnets=(SUBNET_APP, SUBNET_MGMT))
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "succeeded", data
    first, second = ports_of(cloud, server)
    assert first["security_groups"] == [SG["baseline"], default_sg(cloud)]
    assert second["security_groups"] == [SG["baseline"], default_sg(cloud), SG["mgmt-ssh"]]
    assert data["rules_matched"] == ["baseline-everywhere", "management-interfaces"]


def test_result_shows_every_interface_even_untouched_ones(cloud, ecs, created):
    job, [server] = create_servers(ecs, "two-nics", subnets=(SUBNET_APP, SUBNET_MGMT))
    policy = {
        "rules": [{"name": "mgmt", "match": {"subnet_id": SUBNET_MGMT}, "security_groups": [{"name": "mgmt-ssh"}]}]
    }
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert [n["status"] for n in data["nics"]] == ["unchanged", "changed"]
    assert data["nics"][0]["before"] == data["nics"][0]["after"] == [default_sg(cloud)]


@pytest.mark.parametrize("trace_name", ["createServer", "createServerV2", "createServerV21", "createSingleServer"])
@pytest.mark.parametrize("as_strings", [False, True], ids=["objects", "strings"])
def test_each_trace_variant(cloud, ecs, created, trace_name, as_strings):
    job, [server] = create_servers(ecs, "plain")
    [data] = created(cts_event(cts_trace([server], job, trace_name=trace_name, as_strings=as_strings)))
    assert data["outcome"] == "succeeded" and data["server_id"] == server


@pytest.mark.parametrize("trace_type", ["ConsoleAction", "ApiCall", "SystemAction"])
def test_every_trace_type_of_a_creation_is_read(cloud, ecs, created, trace_type):
    job, [server] = create_servers(ecs, "typed")
    trace = dict(cts_trace([server], job, trace_name="createSingleServer"), trace_type=trace_type)
    [data] = created(eventgrid_event(trace) | {"type": f"ECS:CloudTrace:{trace_type}"})
    assert data["outcome"] == "succeeded" and data["server_id"] == server


def test_several_traces_of_one_creation_attach_the_groups_once(cloud, ecs, created):
    """createServer (ApiCall) and createSingleServer (SystemAction), by CTS and by EventGrid, and a
    redelivery: one creation, so one change; the others answer no_change without writing."""
    job, [server] = create_servers(ecs, "described-four-times", tags={"env": "prod", "role": "web-frontend"})
    api_call = cts_trace([server], job)
    system_action = dict(cts_trace([server], job, trace_name="createSingleServer"), trace_type="SystemAction")
    seq = cloud.last_seq()
    results = []
    for event in (cts_event(api_call), cts_event(system_action), eventgrid_event(system_action), cts_event(api_call)):
        [data] = created(event)
        results.append(data)
    assert [d["outcome"] for d in results] == ["succeeded", "no_change", "no_change", "no_change"], results
    for later in results[1:]:  # known as the same creation: not even read again
        codes = {e["code"] for e in later["errors"] + later["warnings"]}
        assert ErrorCode.DUPLICATE_REQUEST in codes, later
    calls = [r for r in cloud.requests(seq) if r.get("service")]
    writes = writes_since(cloud, seq)  # one change: the v3 insert of the policy's groups, the remove of default
    assert [w["path"].rsplit("/", 1)[-1] for w in writes] == ["insert-security-groups", "remove-security-groups"]
    after_first = [r for r in calls if r["seq"] > writes[-1]["seq"]]
    assert after_first == [], after_first
    [port] = ports_of(cloud, server)
    assert port["security_groups"] == [SG["baseline"], SG["web"], SG["monitoring"]]


@pytest.mark.parametrize("style", ["sub_jobs", "api"])
def test_batch_creation_gives_one_result_per_server(cloud, ecs, created, style):
    job, servers = create_servers(ecs, "fleet", count=3)
    trace = cts_trace(servers, job, style=style)
    results = created(cts_event(trace))
    assert [r["server_id"] for r in results] == servers
    assert {r["outcome"] for r in results} == {"succeeded"}
    assert {r["request_id"] for r in results} == {trace["trace_id"]}
    for server in servers:
        assert ports_of(cloud, server)[0]["security_groups"][0] == SG["baseline"]


def test_eventgrid_cloudevent(cloud, ecs, created):
    job, [server] = create_servers(ecs, "eg-server")
    [data] = created(eventgrid_event(cts_trace([server], job)))
    assert data["outcome"] == "succeeded" and data["trigger"] == "eventgrid"


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"code": 400, "status": "FAIL"}, "the creation failed"),
        ({"trace_name": "deleteServer"}, "is not a server creation"),
    ],
)
def test_failed_creation_and_other_traces_are_skipped(cloud, ecs, created, change, reason):
    job, [server] = create_servers(ecs, "whatever")
    seq = cloud.last_seq()
    [data] = created(cts_event(cts_trace([server], job, **change)))
    assert data["outcome"] == "skipped" and reason in data["reason"]
    assert cloud.requests(seq) == []


def test_non_ecs_trace_is_skipped(cloud, created):
    trace = cts_trace(["c0000000-0000-4000-8000-000000000001"], "job")
    trace["service_type"] = "OBS"
    [data] = created(cts_event(trace))
    assert data["outcome"] == "skipped" and "not an ECS trace" in data["reason"]


def test_direct_invocation_backfills_an_existing_server(cloud, created):
    legacy = "c0000000-0000-4000-8000-000000000001"  # seeded: created 2025-03-01, long before now
    [data] = created({"server_id": legacy, "request_id": "backfill-1", "backfill": True})
    assert data["outcome"] == "succeeded" and data["request_id"] == "backfill-1"
    assert port_groups(cloud, "d0000000-0000-4000-8000-000000000001") == [SG["baseline"], default_sg(cloud), SG["app"]]
    assert port_groups(cloud, "d0000000-0000-4000-8000-000000000002") == [
        SG["baseline"],
        default_sg(cloud),
        SG["mgmt-ssh"],
    ]
    [again] = created({"server_id": legacy, "backfill": True})
    assert again["outcome"] == "no_change" and again["api_calls"]["writes"] == 0


@pytest.mark.parametrize(
    "body,path",
    [
        ({"server_id": "../etc"}, "$.server_id"),
        ({"server_id": 5}, "$.server_id"),
        ({"server_id": "c0000000-0000-4000-8000-000000000001", "x": 1}, "$.x"),
        ({"server_id": "c0000000-0000-4000-8000-000000000001", "backfill": "true"}, "$.backfill"),
        ({"server_id": "c0000000-0000-4000-8000-000000000001", "backfill": 1}, "$.backfill"),
        ({"server_id": "c0000000-0000-4000-8000-000000000001", "backfill": None}, "$.backfill"),
    ],
)
def test_bad_direct_invocation_is_rejected_without_cloud_calls(cloud, created, body, path):
    seq = cloud.last_seq()
    [data] = created(body)
    assert data["outcome"] == "rejected" and data["errors"][0]["path"] == path
    assert cloud.requests(seq) == []


def test_excluded_by_tag(cloud, ecs, created):
    job, [server] = create_servers(ecs, "appliance", tags={"sg-automation": "skip", "env": "prod", "role": "web"})
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "skipped" and "excluded by tag" in data["reason"]
    assert ports_of(cloud, server)[0]["security_groups"] == [default_sg(cloud)]


@pytest.mark.parametrize("until,outcome", [("2999-01-01", "skipped"), ("2001-01-01", "succeeded")])
def test_exemptions_expire(cloud, ecs, created, until, outcome):
    job, [server] = create_servers(ecs, "exempt")
    policy = {
        "rules": [{"name": "base", "security_groups": [{"name": "baseline"}]}],
        "exclude": {"servers": [{"id": server, "until": until, "ticket": "CHG1"}]},
    }
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert data["outcome"] == outcome
    if outcome == "succeeded":
        assert [w["code"] for w in data["warnings"]] == [ErrorCode.EXEMPTION_EXPIRED]


def test_no_matching_rule_is_skipped(cloud, ecs, created):
    job, [server] = create_servers(ecs, "nomatch")
    policy = {
        "rules": [{"name": "only-prod", "match": {"tags": {"env": "prod"}}, "security_groups": [{"name": "web"}]}]
    }
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert data["outcome"] == "skipped" and data["reason"] == "no policy rule matches this server"


@pytest.mark.parametrize(
    "rule,expected",
    [
        ({"mode": "replace", "security_groups": [{"name": "app"}, {"name": "baseline"}]}, ["app", "baseline"]),
        ({"mode": "ensure", "position": 0, "security_groups": [{"name": "app"}]}, ["app", "default"]),
        ({"mode": "ensure", "position": "last", "security_groups": [{"name": "app"}]}, ["default", "app"]),
        ({"mode": "replace_default", "security_groups": [{"name": "app"}]}, ["app"]),
        ({"mode": "ensure", "match": {"name": "web-*"}, "security_groups": [{"name": "app"}]}, ["default"]),
        (
            {
                "mode": "ensure",
                "match": {"name": "match-*", "availability_zone": "*", "flavor": "s6.*", "vpc_id": "9d2f1c3a-*"},
                "security_groups": [{"name": "app"}],
            },
            ["default", "app"],
        ),
        (
            {"mode": "ensure", "match": {"subnet_id": SUBNET_WEB}, "security_groups": [{"name": "app"}]},
            ["default", "app"],
        ),
        ({"mode": "ensure", "match": {"subnet_id": SUBNET_APP}, "security_groups": [{"name": "app"}]}, ["default"]),
    ],
)
def test_policy_modes_and_conditions(cloud, ecs, created, rule, expected):
    job, [server] = create_servers(ecs, "match-me")
    policy = {"rules": [{"name": "r", **rule}]}
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    names = {v: k for k, v in SG.items()} | {default_sg(cloud): "default"}
    assert [names[g] for g in ports_of(cloud, server)[0]["security_groups"]] == expected, data


def test_server_that_never_becomes_ready_fails_retryably_and_raises(cloud, ecs, created):
    cloud.settings(build_delay_ms=600_000)
    job, [server] = create_servers(ecs, "slow")
    with pytest.raises(RetryableFailure):
        created(cts_event(cts_trace([server], job)), READINESS_MAX_WAIT_S="0.5")
    [line] = created.invoker.log_lines
    assert line["data"]["outcome"] == "failed" and line["data"]["retryable"] is True
    assert line["data"]["errors"][0]["code"] == ErrorCode.NOT_READY


def test_server_deleted_before_ready_is_skipped(cloud, ecs, created):
    from huaweicloudsdkecs.v2 import DeleteServersRequest, DeleteServersRequestBody, ServerId

    cloud.settings(build_delay_ms=600_000)
    job, [server] = create_servers(ecs, "doomed")
    ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=[ServerId(id=server)])))
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "skipped", data


def test_server_that_fails_to_build_is_skipped(cloud, ecs, created):
    job, [server] = create_servers(ecs, "fail-build-1")
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "skipped"


def test_duplicate_trace_is_not_applied_twice(cloud, ecs, created):
    job, [server] = create_servers(ecs, "dup")
    event = cts_event(cts_trace([server], job))
    assert created(event)[0]["outcome"] == "succeeded"
    seq = cloud.last_seq()
    [data] = created(event)
    assert data["outcome"] == "no_change"
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.DUPLICATE_REQUEST]
    assert cloud.requests(seq) == []


def test_throttled_api_during_apply_is_retried(cloud, ecs, created):
    job, [server] = create_servers(ecs, "throttled", tags={"env": "prod", "role": "web"})
    cloud.add_fault(kind="throttle", method="PUT", path="/v3/*/ports/*/insert-security-groups", count=2)
    seq = cloud.last_seq()
    [data] = created(cts_event(cts_trace([server], job)))
    assert data["outcome"] == "succeeded", data
    assert [r["status"] for r in writes_since(cloud, seq)] == [429, 429, 200, 200]  # insert x3, then remove


def test_risky_group_in_policy_needs_approval(cloud, ecs, created):
    job, [server] = create_servers(ecs, "risky")
    policy = {"rules": [{"name": "open-ssh", "security_groups": [{"name": "ssh-open"}]}]}
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert data["outcome"] == "rejected"
    assert (data["errors"][0]["code"], data["errors"][0]["path"]) == (
        ErrorCode.RISKY_RULE,
        "$.rules[0].security_groups[0]",
    )
    policy["rules"][0]["approved_by"] = "security-team"
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert data["outcome"] == "succeeded"


def test_unknown_group_in_policy_names_the_rule(cloud, ecs, created):
    job, [server] = create_servers(ecs, "unknown")
    policy = {"rules": [{"name": "r", "security_groups": [{"name": "baseline"}, {"name": "ghost"}]}]}
    [data] = created(cts_event(cts_trace([server], job)), POLICY=json.dumps(policy))
    assert data["outcome"] == "rejected"
    assert data["errors"][0]["path"] == "$.rules[0].security_groups[1].name"


def test_invalid_policy_fails_the_invocation_loudly(cloud, created):
    with pytest.raises(PolicyError) as raised:
        created(
            {"server_id": "c0000000-0000-4000-8000-000000000001"},
            POLICY=json.dumps({"rules": [{"name": "r", "security_groups": [], "mode": "sometimes"}]}),
        )
    assert {e.path for e in raised.value.errors} == {"$.rules[0].security_groups", "$.rules[0].mode"}
    [line] = created.invoker.log_lines
    assert line["data"]["errors"][0]["code"] == ErrorCode.CONFIG_INVALID


def test_results_are_valid_events(cloud, ecs, created):
    job, servers = create_servers(ecs, "fleet", count=2)
    created(cts_event(cts_trace(servers, job, style="api")))
    for line in created.invoker.log_lines:
        assert validate_result_event(line) == []


def test_a_kafka_batch_is_not_for_ecs_created(cloud, created):
    from tests.support.requests import kafka

    results = created(kafka({"server_id": "c0000000-0000-4000-8000-000000000001"}, "x"))
    assert [(r["outcome"], r["errors"][0]["code"]) for r in results] == [
        ("rejected", ErrorCode.UNSUPPORTED_TRIGGER)
    ] * 2


def test_every_sample_event_is_understood(cloud, created):
    from tests.support.events import sample_events

    for name, event in sample_events("ecs_created").items():
        results = created(event, READINESS_MAX_WAIT_S="0.2")
        assert results, name
        for data in results:
            assert data["outcome"] in ("skipped", "succeeded", "no_change"), (name, data)

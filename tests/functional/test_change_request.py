"""The change_request handler end to end: real handler, official SDK, localcloud over HTTP."""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from shared.validation import validate_result_event
from tests.support.requests import DB, LEGACY_PORTS, SG, apig, change_request, eventgrid, kafka, rabbitmq, smn
from tests.support.state import port_groups, writes_since

P1, P2 = LEGACY_PORTS
DEFAULT = "default"


def default_sg(cloud):
    groups = cloud.state()["projects"][cloud.project_id]["vpc"]["security_groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


def results_of(response):
    if "statusCode" in response:
        return json.loads(response["body"])["results"]
    return response["results"]


def only(response):
    results = results_of(response)
    assert len(results) == 1
    return results[0]["data"]


# ---- every envelope -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrap",
    [
        lambda r: kafka(r),
        lambda r: rabbitmq(r),
        lambda r: smn(r),
        lambda r: apig(r),
        lambda r: apig(r, b64=True),
        lambda r: eventgrid(r),
        lambda r: r,
        lambda r: [r],
    ],
    ids=["kafka", "rabbitmq", "smn", "apig", "apig_base64", "eventgrid", "direct", "direct_list"],
)
def test_each_envelope_applies_the_change(cloud, change, wrap):
    request = change_request("add", [{"name": "web"}])
    response = change(wrap(request))
    data = only(response)
    assert data["outcome"] == "succeeded", data
    assert data["request_id"] == request["request_id"]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], SG["web"]]
    assert data["nics"] == [
        {
            "port_id": P1,
            "ip": "10.0.2.10",
            "before": [default_sg(cloud), SG["app"]],
            "after": [default_sg(cloud), SG["app"], SG["web"]],
            "status": "changed",
            "port_security_enabled": True,
        }
    ]
    assert data["api_calls"]["writes"] == 1


def test_apig_answers_200_with_results_and_400_for_a_rejected_request(cloud, change):
    ok = change(apig(change_request("add", [{"name": "web"}])))
    assert ok["statusCode"] == 200 and ok["headers"]["Content-Type"] == "application/json"
    bad = change(apig("{not json"))
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"])["results"][0]["data"]["errors"][0]["code"] == ErrorCode.INVALID_JSON


def test_unknown_envelope_is_one_rejected_result(cloud, change):
    response = change(42)
    data = only(response)
    assert data["outcome"] == "rejected" and data["errors"][0]["code"] == ErrorCode.UNKNOWN_ENVELOPE


# ---- actions and interface selection ------------------------------------------------------------
def test_add_at_position_zero_takes_highest_priority(cloud, change):
    data = only(change(change_request("add", [{"id": SG["monitoring"]}], position=0)))
    assert data["outcome"] == "succeeded"
    assert port_groups(cloud, P1) == [SG["monitoring"], default_sg(cloud), SG["app"]]


def test_replace_on_all_interfaces(cloud, change):
    data = only(change(change_request("replace", [{"name": "baseline"}, {"name": "app"}], nics="all")))
    assert data["outcome"] == "succeeded", data
    assert port_groups(cloud, P1) == [SG["baseline"], SG["app"]]
    assert port_groups(cloud, P2) == [SG["baseline"], SG["app"]]
    # cold catalog: group listing + port listing + the fresh facts for the rails (the groups involved, by
    # id, and their rules: two listings whatever the count); then per interface the v3 deltas (insert the
    # new groups, remove the dropped one): the facts were read after the ports, so no list is fresh enough
    # for a whole-list write (tests/functional/test_facts_per_batch.py has the batch where one is)
    assert data["api_calls"] == {"total": 8, "reads": 4, "writes": 4, "facts": 2}


def test_warm_catalog_costs_three_reads_and_one_write(cloud, change):
    change(change_request("add", [{"name": "web"}], dry_run=True), GROUP_CACHE_TTL_S="60")  # warms the catalog
    data = only(change(change_request("add", [{"name": "web"}], nics=[{"port_id": P1}]), GROUP_CACHE_TTL_S="60"))
    assert data["outcome"] == "succeeded"
    # the port listing, the fresh facts the rails decide on (groups by id, their rules), the write
    assert data["api_calls"] == {"total": 4, "reads": 3, "writes": 1, "facts": 2}
    # "primary" on a server with several NICs also asks ECS which one is primary
    data = only(change(change_request("add", [{"name": "web"}], nics="primary", server_id=DB), GROUP_CACHE_TTL_S="60"))
    assert data["api_calls"] == {"total": 5, "reads": 4, "writes": 1, "facts": 2}


def test_remove(cloud, change):
    data = only(change(change_request("remove", [{"name": "app"}])))
    assert data["outcome"] == "succeeded"
    assert port_groups(cloud, P1) == [default_sg(cloud)]


def test_reorder(cloud, change):
    data = only(change(change_request("reorder", [{"name": "app"}, {"name": "default"}])))
    assert data["outcome"] == "succeeded"
    assert port_groups(cloud, P1) == [SG["app"], default_sg(cloud)]


@pytest.mark.parametrize(
    "selector,port",
    [({"ip": "10.0.9.10"}, P2), ({"port_id": P2}, P2), ({"subnet_id": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"}, P2)],
)
def test_select_interface_by_ip_port_or_subnet(cloud, change, selector, port):
    data = only(change(change_request("add", [{"name": "mgmt-ssh"}], nics=[selector])))
    assert data["outcome"] == "succeeded", data
    assert port_groups(cloud, port)[-1] == SG["mgmt-ssh"]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"]]


def test_already_in_place_is_no_change_without_writes(cloud, change):
    seq = cloud.last_seq()
    data = only(change(change_request("add", [{"name": "app"}])))
    assert data["outcome"] == "no_change"
    assert writes_since(cloud, seq) == []
    assert data["api_calls"]["writes"] == 0


def test_dry_run_plans_and_shows_effective_rules_without_writing(cloud, change):
    seq = cloud.last_seq()
    data = only(change(change_request("add", [{"name": "web"}], position=0, dry_run=True)))
    assert data["outcome"] == "planned" and data["dry_run"] is True
    assert writes_since(cloud, seq) == []
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"]]
    assert data["plan"] == [
        {"port_id": P1, "calls": [{"call": "vpc.insert_security_groups", "security_groups": [SG["web"]], "index": 0}]}
    ]
    groups = data["effective_rules"][0]["groups"]
    assert [(g["priority"], g["name"]) for g in groups] == [(1, "web"), (2, "default"), (3, "app")]
    assert {r["ports"] for r in groups[0]["rules"]} == {"80,443"}


# ---- guard rails --------------------------------------------------------------------------------
def test_protected_group_is_never_removed(cloud, change):
    data = only(change(change_request("remove", [{"name": "default"}]), PROTECTED_GROUPS="default,baseline"))
    assert data["outcome"] == "rejected"
    assert [(e["code"], e["path"]) for e in data["errors"]] == [
        (ErrorCode.PROTECTED_GROUP, "$.change.security_groups[0]")
    ]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"]]


def test_only_allowed_groups_may_be_attached(cloud, change):
    data = only(change(change_request("add", [{"name": "web"}, {"name": "db"}]), ALLOWED_GROUPS="web,mon*"))
    assert data["outcome"] == "rejected"
    assert [(e["code"], e["path"]) for e in data["errors"]] == [
        (ErrorCode.GROUP_NOT_ALLOWED, "$.change.security_groups[1]")
    ]


def test_soft_limit_warns_and_hard_limit_rejects(cloud, change):
    request = change_request("add", [{"name": "web"}, {"name": "monitoring"}])
    data = only(change(request, MAX_GROUPS_PER_NIC="3", MAX_GROUPS_PER_NIC_HARD="3"))
    assert data["outcome"] == "rejected" and data["errors"][0]["code"] == ErrorCode.TOO_MANY_GROUPS
    data = only(change(change_request("add", [{"name": "web"}, {"name": "monitoring"}]), MAX_GROUPS_PER_NIC="3"))
    assert data["outcome"] == "succeeded"
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.SOFT_LIMIT_EXCEEDED]


@pytest.mark.parametrize(
    "approver,extra,outcome",
    [
        (None, {}, "rejected"),
        ("alice@example.com", {}, "rejected"),  # four eyes: the requester cannot approve
        ("bob@example.com", {}, "succeeded"),
        ("bob@example.com", {"ALLOW_APPROVED_RISKY": "false"}, "rejected"),
    ],
)
def test_risky_group_needs_an_independent_approval(cloud, change, approver, extra, outcome):
    data = only(change(change_request("add", [{"name": "ssh-open"}], approved_by=approver), **extra))
    assert data["outcome"] == outcome
    codes = [e["code"] for e in data["errors"] + data["warnings"]]
    assert codes == [ErrorCode.RISKY_RULE]


def test_rdp_range_covering_3389_is_risky(cloud, change):
    data = only(change(change_request("add", [{"name": "rdp-open"}])))
    assert data["outcome"] == "rejected" and data["errors"][0]["code"] == ErrorCode.RISKY_RULE


# ---- resolution errors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "groups,code,path",
    [
        ([{"name": "web"}, {"name": "nope"}], ErrorCode.SECURITY_GROUP_NOT_FOUND, "$.change.security_groups[1].name"),
        ([{"name": "dup-name"}], ErrorCode.SECURITY_GROUP_AMBIGUOUS, "$.change.security_groups[0].name"),
        (
            [{"id": "a0000000-0000-4000-8000-0000000000ff"}],
            ErrorCode.SECURITY_GROUP_NOT_FOUND,
            "$.change.security_groups[0]",
        ),
    ],
)
def test_group_resolution_errors(cloud, change, groups, code, path):
    seq = cloud.last_seq()
    data = only(change(change_request("add", groups)))
    assert data["outcome"] == "rejected"
    assert [(e["code"], e["path"]) for e in data["errors"]] == [(code, path)]
    assert writes_since(cloud, seq) == []


def test_unknown_server_and_interface(cloud, change):
    data = only(change(change_request("add", [{"name": "web"}], server_id="c0000000-0000-4000-8000-0000000000ff")))
    assert data["errors"][0]["code"] == ErrorCode.SERVER_NOT_FOUND
    data = only(change(change_request("add", [{"name": "web"}], nics=[{"ip": "10.0.2.99"}])))
    assert (data["errors"][0]["code"], data["errors"][0]["path"]) == (ErrorCode.NIC_NOT_FOUND, "$.target.nics[0]")


def test_port_security_disabled_is_reported(cloud, change):
    db_mgmt = "d0000000-0000-4000-8000-000000000004"
    data = only(change(change_request("add", [{"name": "mgmt-ssh"}], server_id=DB, nics=[{"port_id": db_mgmt}])))
    assert data["outcome"] == "rejected" and data["errors"][0]["code"] == ErrorCode.PORT_SECURITY_DISABLED
    data = only(change(change_request("add", [{"name": "mgmt-ssh"}], server_id=DB, nics="all")))
    assert data["outcome"] == "succeeded"
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.PORT_SECURITY_DISABLED]
    assert [(n["port_id"], n["status"]) for n in data["nics"]] == [
        ("d0000000-0000-4000-8000-000000000003", "changed"),
        (db_mgmt, "skipped"),
    ]


# ---- faults, retries, rollback ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["throttle", "error500", "error503", "timeout", "reset"])
def test_transient_faults_are_retried_and_the_write_lands_once(cloud, change, kind):
    cloud.add_fault(kind=kind, method="PUT", path="/v3/*/ports/*/insert-security-groups", count=2, hold_ms=1500)
    seq = cloud.last_seq()
    data = only(change(change_request("add", [{"name": "web"}])))
    assert data["outcome"] == "succeeded", data
    inserts = [r for r in writes_since(cloud, seq) if r["path"].endswith("insert-security-groups")]
    assert [r["status"] for r in inserts if r["status"] == 200] == [200]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], SG["web"]]


def test_a_write_that_landed_behind_a_timeout_is_not_sent_again(cloud, change):
    cloud.add_fault(
        kind="timeout", phase="after", method="PUT", path="/v3/*/ports/*/insert-security-groups", count=1, hold_ms=1500
    )
    seq = cloud.last_seq()
    data = only(change(change_request("add", [{"name": "web"}])))
    assert data["outcome"] == "succeeded", data
    inserts = [r for r in writes_since(cloud, seq) if r["path"].endswith("insert-security-groups")]
    assert len(inserts) == 1 and inserts[0]["fault"] == "timeout_after"
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], SG["web"]]


def test_throttled_reads_are_retried(cloud, change):
    cloud.add_fault(kind="throttle", method="GET", path="/v1/*/ports", count=2)
    data = only(change(change_request("add", [{"name": "web"}])))
    assert data["outcome"] == "succeeded"
    assert data["api_calls"]["reads"] >= 4


def test_failure_on_second_interface_rolls_back_the_first(cloud, change):
    cloud.add_fault(kind="error503", method="PUT", path=f"/v3/*/ports/{P2}/*")
    data = only(change(change_request("replace", [{"name": "baseline"}], nics="all"), MAX_ATTEMPTS="2"))
    assert data["outcome"] == "rolled_back", data
    assert [n["status"] for n in data["nics"]] == ["rolled_back", "failed"]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"]]
    assert port_groups(cloud, P2) == [default_sg(cloud)]
    assert data["retryable"] is True
    assert data["errors"][0]["code"] == ErrorCode.CLOUD_ERROR


def test_out_of_time_fails_cleanly(cloud, change):
    cloud.add_fault(kind="error503", method="PUT", path="/v3/*/ports/*/insert-security-groups")
    data = only(
        change(
            change_request("add", [{"name": "web"}]),
            timeout_s=2.0,
            BACKOFF_BASE_S="0.5",
            BACKOFF_MAX_S="2",
            MAX_ATTEMPTS="10",
        )
    )
    assert data["outcome"] in ("failed", "rolled_back")
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"]]


# ---- batches, ordering, duplicates --------------------------------------------------------------
def test_poison_message_costs_only_itself(cloud, change):
    good1 = change_request("add", [{"name": "web"}])
    good2 = change_request("add", [{"name": "monitoring"}], server_id=DB, nics=[{"ip": "10.0.2.20"}])
    response = change(kafka(good1, "{not json", {"request_id": 5}, good2))
    outcomes = [r["data"]["outcome"] for r in results_of(response)]
    assert outcomes == ["succeeded", "rejected", "rejected", "succeeded"]
    assert [r["data"]["message_index"] for r in results_of(response)] == [0, 1, 2, 3]


def test_requests_for_one_server_keep_queue_order(cloud, change):
    batch = [
        change_request("add", [{"name": "web"}]),
        change_request("remove", [{"name": "web"}]),
        change_request("add", [{"name": "monitoring"}], position=0),
    ]
    response = change(kafka(*batch), CONCURRENCY="8")
    assert [r["data"]["outcome"] for r in results_of(response)] == ["succeeded"] * 3
    assert port_groups(cloud, P1) == [SG["monitoring"], default_sg(cloud), SG["app"]]


def test_duplicate_delivery_is_not_applied_twice(cloud, change):
    event = kafka(change_request("add", [{"name": "web"}]))
    assert only(change(event))["outcome"] == "succeeded"
    cloud.seed({"projects": [{"id": cloud.project_id}]})  # no-op seed: state unchanged
    seq = cloud.last_seq()
    data = only(change(event))
    assert data["outcome"] == "no_change"
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.DUPLICATE_REQUEST]
    assert cloud.requests(seq) == []


def test_every_result_is_a_valid_cloudevent_and_logged_once(cloud, change):
    response = change(kafka(change_request("add", [{"name": "web"}]), "oops", change_request("remove", [])))
    results = results_of(response)
    for event in results:
        assert validate_result_event(event) == []
    assert [line["id"] for line in change.log_lines] == [event["id"] for event in results]
    assert all("signature" not in json.dumps(line["data"]) for line in change.log_lines)


def test_a_cts_trace_is_not_a_change_request(cloud, change):
    data = only(change({"cts": {"trace_id": "t", "service_type": "ECS"}}))
    assert data["outcome"] == "rejected" and data["errors"][0]["code"] == ErrorCode.UNSUPPORTED_TRIGGER

"""Change requests across an organisation: 4 accounts x 2 regions in localcloud (one region per
server, endpoints through the SDK's ``HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION>``), the real
change_request handler, the home function's agency credentials only.

A request per target is applied in that account's project and nowhere else (every project holds
the same server and groups, same ids); the member without the agency gets ``AGENCY_MISSING``, the
one with a wrong external id ``ACCESS_DENIED``; the home project is unaffected; a target outside
TARGETS is refused before any call.
"""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from shared.validation import validate_result_event
from tests.support.functions import SIGNING_KEYS
from tests.support.org_events import invoke as invoke_function
from tests.support.organisation import (
    ACCOUNTS,
    GOOD,
    GROUPS,
    HOME,
    NO_AGENCY,
    REGIONS,
    SERVER,
    WRONG_EXT,
    project_id,
    targets_setting,
)
from tests.support.requests import change_request, kafka

NORTH, SOUTH = REGIONS
DEFAULT_ONLY = "default"


def invoke(org, event, *, request_id="req-org-0001", **user_data):
    """change_request on ``event`` with the home project's settings and the request signing keys
    (``user_data`` None removes a setting): the results' data and the log."""
    settings = {
        "REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS),
        "READINESS_POLL_S": None,
        "TARGETS": targets_setting(),
    }
    return invoke_function(org, "change_request", event, request_id=request_id, **{**settings, **user_data})


def request_for(domain_id=None, region=None, project=None, **extra):
    target = {"server_id": SERVER}
    if domain_id:
        target["account"] = domain_id
    if region:
        target["region"] = region
    if project:
        target["project_id"] = project
    return change_request("add", [{"name": "web"}], target=target, **extra)


def member_request(domain_id, region, **extra):
    return request_for(domain_id, region, project_id(domain_id, region), **extra)


def default_group(org, domain_id, region):
    vpc = org.clouds[region].backend.project(project_id(domain_id, region)).service("vpc")
    return next(g["id"] for g in vpc.to_dict()["security_groups"] if g["name"] == "default")


def expected_groups(org, changed):
    """Every account x region's port groups: ``changed`` ones with web added, the rest as seeded."""
    expected = {}
    for domain_id in ACCOUNTS:
        for region in REGIONS:
            groups = [default_group(org, domain_id, region)]
            if (domain_id, region) in changed:
                groups.append(GROUPS["web"])
            expected[(domain_id, region)] = groups
    return expected


def actual_groups(org):
    return {(d, r): org.groups_of(d, r) for d in ACCOUNTS for r in REGIONS}


def assume_calls(org):
    return [e for e in org.home.requests() if e.get("route") == "POST /v5/agencies/assume"]


def writes(org):
    return [
        e for cloud in org.clouds.values() for e in cloud.requests() if e.get("write") and "assume" not in e["path"]
    ]


def test_a_request_per_target_lands_in_its_account_and_nowhere_else(org):
    requests = [
        request_for(),  # the home project (target defaults)
        member_request(GOOD, NORTH),
        member_request(GOOD, SOUTH),
        member_request(NO_AGENCY, NORTH),
        member_request(NO_AGENCY, SOUTH),
        member_request(WRONG_EXT, SOUTH),
    ]
    results, log = invoke(org, kafka(*requests))
    outcomes = [(r["outcome"], r["errors"][0]["code"] if r["errors"] else None) for r in results]
    assert outcomes == [
        ("succeeded", None),
        ("succeeded", None),
        ("succeeded", None),
        ("failed", ErrorCode.AGENCY_MISSING),
        ("failed", ErrorCode.AGENCY_MISSING),
        ("failed", ErrorCode.ACCESS_DENIED),
    ]
    assert all(r["errors"][0]["path"] == "$.target.account" for r in results[3:])
    assert [r["retryable"] for r in results[3:]] == [False, False, False]
    # every result names its account, region and project
    assert [(r["target"]["account"], r["target"]["region"], r["target"]["project_id"]) for r in results] == [
        (None, NORTH, project_id(HOME, NORTH)),
        *[(d, reg, project_id(d, reg)) for d, reg in [(GOOD, NORTH), (GOOD, SOUTH), (NO_AGENCY, NORTH)]],
        (NO_AGENCY, SOUTH, project_id(NO_AGENCY, SOUTH)),
        (WRONG_EXT, SOUTH, project_id(WRONG_EXT, SOUTH)),
    ]
    assert results[0]["target"]["home"] is True and results[1]["target"]["account_name"] == "prod"
    assert actual_groups(org) == expected_groups(org, {(HOME, NORTH), (GOOD, NORTH), (GOOD, SOUTH)})
    # one assume per (account, agency): shared by the account's regions, a refusal remembered
    assert len(assume_calls(org)) == 3
    for event in [{"data": r, **_event_frame()} for r in results]:
        assert validate_result_event(event) == [], event
    # the member's credentials never reach the log
    for credential in org.home.backend.credentials.values():
        if credential.domain_id == GOOD:
            assert credential.sk not in log and credential.security_token not in log


def _event_frame():
    return {
        "specversion": "1.0",
        "id": "x",
        "source": "urn:sgguard:function:change_request",
        "type": "com.sgguard.change_request.x",
        "time": "2026-12-02T12:00:00Z",
        "datacontenttype": "application/json",
    }


def test_the_member_session_names_the_function_and_request(org):
    results, _ = invoke(org, kafka(member_request(GOOD, SOUTH)), request_id="fgs-req-42")
    assert results[0]["outcome"] == "succeeded", results
    sessions = [c for c in org.home.backend.credentials.values() if c.domain_id == GOOD]
    assert [c.session_name for c in sessions] == ["sgguard-change_request-fgs-req-42"]
    assert [c.agency for c in sessions] == ["sgguard-member"]
    # the next invocation of the instance reuses the session: no second assume
    invoke(org, kafka(member_request(GOOD, NORTH)), request_id="fgs-req-43")
    assert len(assume_calls(org)) == 1


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ({"domain_id": "50" * 16, "region": NORTH, "project": project_id(GOOD, NORTH)}, "$.target.account"),
        ({"domain_id": GOOD, "region": "eu-west-101", "project": project_id(GOOD, NORTH)}, "$.target.region"),
        ({"domain_id": GOOD, "region": NORTH}, "$.target.project_id"),
        ({"region": SOUTH}, "$.target.region"),  # the home account's other region is not a target
        ({"project": project_id(GOOD, NORTH)}, "$.target.project_id"),  # a member's project, home account
    ],
)
def test_a_target_outside_targets_is_refused_before_any_call(org, target, path):
    seq = {region: cloud.last_seq() for region, cloud in org.clouds.items()}
    results, _ = invoke(org, kafka(request_for(**target)))
    assert results[0]["outcome"] == "rejected"
    assert [(e["code"], e["path"]) for e in results[0]["errors"]] == [(ErrorCode.TARGET_NOT_ALLOWED, path)]
    for region, cloud in org.clouds.items():
        assert cloud.requests(seq[region]) == [], "no call at all"


def test_projects_all_refuses_another_accounts_project_after_its_own_listing(org):
    # GOOD's account, WRONG_EXT's project: the member's project listing does not have it
    results, _ = invoke(org, kafka(request_for(GOOD, NORTH, project_id(WRONG_EXT, NORTH))))
    assert results[0]["outcome"] == "rejected", results
    assert results[0]["errors"][0]["code"] == ErrorCode.TARGET_NOT_ALLOWED
    # GOOD's south project named as its north one: the listing says which region it is in
    results, _ = invoke(org, kafka(request_for(GOOD, NORTH, project_id(GOOD, SOUTH))))
    assert results[0]["errors"][0]["code"] == ErrorCode.TARGET_NOT_ALLOWED
    assert writes(org) == []
    assert actual_groups(org) == expected_groups(org, set())


def test_listed_projects_skip_the_listing_and_exclusions_are_refused(org):
    targets = targets_setting(
        accounts=[
            {"domain_id": GOOD, "external_id": "ext-good-0001", "projects": [project_id(GOOD, SOUTH)]},
        ]
    )
    results, _ = invoke(org, kafka(member_request(GOOD, SOUTH), member_request(GOOD, NORTH)), TARGETS=targets)
    assert [r["outcome"] for r in results] == ["succeeded", "rejected"]
    assert not [e for e in org.clouds[SOUTH].requests() if e.get("service") == "iam"]
    assert actual_groups(org) == expected_groups(org, {(GOOD, SOUTH)})


def test_without_targets_a_member_target_is_refused_and_nothing_is_called(org):
    seq = org.home.last_seq()
    results, _ = invoke(org, kafka(member_request(GOOD, NORTH)), TARGETS=None)
    assert results[0]["outcome"] == "rejected"
    assert results[0]["errors"][0]["code"] == ErrorCode.TARGET_NOT_ALLOWED
    assert "target" not in results[0]  # without TARGETS results look as before
    assert org.home.requests(seq) == []


def test_idempotency_is_per_target(org):
    request = member_request(GOOD, NORTH)
    first, _ = invoke(org, kafka(request))
    again, _ = invoke(org, kafka(request))
    assert first[0]["outcome"] == "succeeded"
    assert again[0]["outcome"] == "no_change"
    assert [w["code"] for w in again[0]["warnings"]] == [ErrorCode.DUPLICATE_REQUEST]
    assert again[0]["target"]["account"] == GOOD
    # the key carries the target: the same ticket's request for the other region is its own request
    other, _ = invoke(org, kafka(member_request(GOOD, SOUTH, request_id=request["request_id"])))
    assert other[0]["outcome"] == "succeeded", other
    assert actual_groups(org) == expected_groups(org, {(GOOD, NORTH), (GOOD, SOUTH)})


def test_overrides_of_the_target_apply_to_its_rails(org):
    targets = targets_setting(
        accounts=[
            {
                "domain_id": GOOD,
                "external_id": "ext-good-0001",
                "overrides": {"allowed_groups": ["web"]},
                "region_overrides": {SOUTH: {"allowed_groups": ["baseline"]}},
            }
        ]
    )
    results, _ = invoke(org, kafka(member_request(GOOD, NORTH), member_request(GOOD, SOUTH)), TARGETS=targets)
    assert results[0]["outcome"] == "succeeded", results[0]
    assert results[1]["outcome"] == "rejected"
    assert results[1]["errors"][0]["code"] == ErrorCode.GROUP_NOT_ALLOWED
    assert actual_groups(org) == expected_groups(org, {(GOOD, NORTH)})


def test_sts_endpoint_from_the_sdks_region_variable(org, monkeypatch):
    # without HUAWEICLOUD_SDK_STS_ENDPOINT: StsRegion.value_of reads HUAWEICLOUD_SDK_REGION_STS_CN_NORTH_4
    monkeypatch.delenv("HUAWEICLOUD_SDK_STS_ENDPOINT")
    results, _ = invoke(org, kafka(member_request(GOOD, SOUTH)))
    assert results[0]["outcome"] == "succeeded", results
    assert len(assume_calls(org)) == 1


def test_sts_unavailable_is_a_retryable_failure_of_that_target_only(org):
    org.home.add_fault(kind="error503", method="POST", path="/v5/agencies/assume", count=100)
    results, _ = invoke(org, kafka(member_request(GOOD, NORTH), request_for()), MAX_ATTEMPTS="2")
    assert results[0]["outcome"] == "failed"
    assert (results[0]["errors"][0]["code"], results[0]["retryable"]) == (ErrorCode.ASSUME_FAILED, True)
    assert results[1]["outcome"] == "succeeded"  # the home project carries on
    assert len(assume_calls(org)) == 2  # retried like a read, not remembered as a refusal
    org.home.clear_faults()
    again, _ = invoke(org, kafka(member_request(GOOD, NORTH)))
    assert again[0]["outcome"] == "succeeded"


def test_a_dry_run_and_a_locked_replace_in_a_member_account(org):
    dry = member_request(GOOD, SOUTH, dry_run=True)
    replace = change_request(
        "replace",
        [{"name": "default"}, {"name": "baseline"}],
        target={"server_id": SERVER, "account": GOOD, "region": NORTH, "project_id": project_id(GOOD, NORTH)},
    )
    results, _ = invoke(org, kafka(dry, replace))
    assert [r["outcome"] for r in results] == ["planned", "succeeded"], results
    assert results[0]["nics"][0]["after"] == [default_group(org, GOOD, SOUTH), GROUPS["web"]]
    assert org.groups_of(GOOD, SOUTH) == [default_group(org, GOOD, SOUTH)]  # a dry run writes nothing
    assert org.groups_of(GOOD, NORTH) == [default_group(org, GOOD, NORTH), GROUPS["baseline"]]
    assert org.groups_of(HOME, NORTH) == [default_group(org, HOME, NORTH)]

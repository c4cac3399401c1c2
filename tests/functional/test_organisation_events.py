"""Events from member accounts: 4 accounts x 2 regions in localcloud, the real ecs_created and
sg_drift handlers, the home function's agency credentials only (tests/support/organisation.py).

Every project holds the same server, port and groups (same ids): a creation or drift handled in
the wrong account or project would show up there. The member without the agency gets
``AGENCY_MISSING``, the one with a wrong external id ``ACCESS_DENIED``, each on its own result;
an event outside TARGETS, or whose account is spelt otherwise, is skipped with no call at all.
"""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from shared.validation import validate_result_event
from tests.support.org_events import calls, creation_trace, eventgrid, fresh_servers, invoke, port_trace
from tests.support.organisation import ACCOUNTS, GOOD, GROUPS, HOME, NO_AGENCY, REGIONS, WRONG_EXT, project_id

NORTH, SOUTH = REGIONS
BASELINE, WEB = GROUPS["baseline"], GROUPS["web"]


@pytest.fixture(autouse=True)
def _new_servers(org):
    from shared.flows.ecs_created.steps import REPLAY_GUARD

    REPLAY_GUARD.clear()  # a fresh instance: the creations of an earlier test are not remembered
    fresh_servers(org)


EVENT_FRAME = {
    "specversion": "1.0",
    "id": "x",
    "source": "urn:sgguard:function:ecs_created",
    "type": "com.sgguard.ecs_created.x",
    "time": "2026-12-02T12:00:00Z",
    "datacontenttype": "application/json",
}


def default_group(org, domain_id, region):
    vpc = org.clouds[region].backend.project(project_id(domain_id, region)).service("vpc")
    return next(g["id"] for g in vpc.to_dict()["security_groups"] if g["name"] == "default")


def estate(org):
    return {(d, r): org.groups_of(d, r) for d in ACCOUNTS for r in REGIONS}


def expected(org, changed: dict) -> dict:
    """Every account x region's port groups: ``changed`` ones as given, the rest as seeded."""
    return {(d, r): changed.get((d, r), [default_group(org, d, r)]) for d in ACCOUNTS for r in REGIONS}


def since(org):
    return {region: cloud.last_seq() for region, cloud in org.clouds.items()}


def codes(data):
    return [e["code"] for e in data["errors"]] + [w["code"] for w in data["warnings"]]


def test_creation_events_of_every_account_each_handled_in_its_own_project(org):
    traces = [
        creation_trace(HOME, project_id(HOME, NORTH)),
        creation_trace(GOOD, project_id(GOOD, SOUTH)),
        creation_trace(NO_AGENCY, project_id(NO_AGENCY, NORTH)),
        creation_trace(WRONG_EXT, project_id(WRONG_EXT, SOUTH)),
        creation_trace(GOOD, project_id(GOOD, NORTH)),
    ]
    results, log = invoke(org, "ecs_created", eventgrid(*traces))
    outcomes = [(r["outcome"], r["errors"][0]["code"] if r["errors"] else None) for r in results]
    assert outcomes == [
        ("succeeded", None),
        ("succeeded", None),
        ("failed", ErrorCode.AGENCY_MISSING),
        ("failed", ErrorCode.ACCESS_DENIED),
        ("succeeded", None),
    ], results
    assert [r["retryable"] for r in results[2:4]] == [False, False]
    # every result names its target; an unreachable member's region is unread (it comes from its listing)
    assert [(r["target"]["account"], r["target"]["region"], r["target"]["project_id"]) for r in results] == [
        (HOME, NORTH, project_id(HOME, NORTH)),
        (GOOD, SOUTH, project_id(GOOD, SOUTH)),
        (NO_AGENCY, None, project_id(NO_AGENCY, NORTH)),
        (WRONG_EXT, None, project_id(WRONG_EXT, SOUTH)),
        (GOOD, NORTH, project_id(GOOD, NORTH)),
    ]
    for data in results:
        assert validate_result_event({"data": data, **EVENT_FRAME}) == [], data
    assert results[0]["target"]["home"] is True and results[1]["target"]["account_name"] == "prod"
    # the baseline only where the creation was, nowhere else (same server id everywhere)
    changed = {(d, r): [BASELINE, default_group(org, d, r)] for d, r in [(HOME, NORTH), (GOOD, SOUTH), (GOOD, NORTH)]}
    assert estate(org) == expected(org, changed)
    # one assume per account, shared by its regions; one project listing per account
    assumes = [e for e in org.home.requests() if e.get("route") == "POST /v5/agencies/assume"]
    assert len(assumes) == 3
    for credential in org.home.backend.credentials.values():
        if credential.domain_id == GOOD:
            assert credential.sk not in log and credential.security_token not in log


def test_a_creation_is_handled_once_per_target(org):
    trace = creation_trace(GOOD, project_id(GOOD, SOUTH))
    first, _ = invoke(org, "ecs_created", {"cts": trace})
    again, _ = invoke(org, "ecs_created", eventgrid(trace))  # the same creation through EventGrid
    assert first[0]["outcome"] == "succeeded", first
    assert again[0]["outcome"] == "no_change" and ErrorCode.DUPLICATE_REQUEST in codes(again[0])
    # the same server id in another project is another server: its own creation
    other, _ = invoke(org, "ecs_created", eventgrid(creation_trace(GOOD, project_id(GOOD, NORTH))))
    assert other[0]["outcome"] == "succeeded", other


@pytest.mark.parametrize(
    ("trace", "code"),
    [
        (creation_trace("50" * 16, "5001" + "ab" * 14), ErrorCode.TARGET_NOT_ALLOWED),  # not in TARGETS
        (creation_trace(HOME, project_id(HOME, SOUTH)), ErrorCode.TARGET_NOT_ALLOWED),  # home account, other region
        (creation_trace(GOOD, project_id(HOME, NORTH)), ErrorCode.TARGET_NOT_ALLOWED),  # a member naming home's
        (creation_trace("2A" * 16, project_id(GOOD, NORTH)), ErrorCode.EVENT_TARGET_UNKNOWN),
        (creation_trace(" " + GOOD[1:], project_id(GOOD, NORTH)), ErrorCode.EVENT_TARGET_UNKNOWN),
        (creation_trace(GOOD[:-1] + "\u0660", project_id(GOOD, NORTH)), ErrorCode.EVENT_TARGET_UNKNOWN),
        (creation_trace(HOME[:-1] + "\uff10", project_id(HOME, NORTH)), ErrorCode.EVENT_TARGET_UNKNOWN),
        (creation_trace(None, project_id(GOOD, NORTH)), ErrorCode.EVENT_TARGET_UNKNOWN),  # no account
        (creation_trace(None, None), ErrorCode.EVENT_TARGET_UNKNOWN),  # nothing at all
        (creation_trace(HOME, None), ErrorCode.EVENT_TARGET_UNKNOWN),  # EventGrid: the project is needed
    ],
)
def test_an_event_outside_targets_or_misspelt_is_skipped_with_no_call(org, trace, code):
    before = since(org)
    results, _ = invoke(org, "ecs_created", eventgrid(trace))
    assert results[0]["outcome"] == "skipped", results
    assert codes(results[0]) == [code]
    assert results[0]["api_calls"]["reads"] == 0 and results[0]["api_calls"]["writes"] == 0
    assert calls(org, before) == [], "no call at all, in any region"
    assert estate(org) == expected(org, {})


def test_the_cts_trigger_delivers_the_home_projects_traces_as_before(org):
    # a CTS trigger is the project's own: its trace naming the home account without a project is home's
    results, _ = invoke(org, "ecs_created", {"cts": creation_trace(HOME, None)})
    assert results[0]["outcome"] == "succeeded", results
    assert results[0]["target"]["home"] is True
    assert estate(org) == expected(org, {(HOME, NORTH): [BASELINE, default_group(org, HOME, NORTH)]})


def test_a_project_that_is_not_the_accounts_is_skipped_after_its_listing(org):
    # GOOD's account naming WRONG_EXT's project: GOOD's own project listing does not have it
    results, _ = invoke(org, "ecs_created", eventgrid(creation_trace(GOOD, project_id(WRONG_EXT, NORTH))))
    assert results[0]["outcome"] == "skipped"
    assert codes(results[0]) == [ErrorCode.TARGET_NOT_ALLOWED]
    assert estate(org) == expected(org, {})
    # a region outside the account's in TARGETS
    targets = json.dumps(
        {"defaults": {"regions": [NORTH]}, "accounts": [{"domain_id": GOOD, "external_id": "ext-good-0001"}]}
    )
    results, _ = invoke(org, "ecs_created", eventgrid(creation_trace(GOOD, project_id(GOOD, SOUTH))), TARGETS=targets)
    assert results[0]["outcome"] == "skipped" and codes(results[0]) == [ErrorCode.TARGET_NOT_ALLOWED]
    assert estate(org) == expected(org, {})


def test_a_members_overrides_apply_to_its_events(org, tmp_path):
    targets = json.dumps(
        {
            "home": {"domain_id": HOME},
            "defaults": {"regions": list(REGIONS)},
            "accounts": [
                {
                    "domain_id": GOOD,
                    "external_id": "ext-good-0001",
                    "overrides": {"policy_file": "tests/fixtures/policy-member.yaml"},
                    "region_overrides": {NORTH: {"ecs_created_mode": "report"}},
                }
            ],
        }
    )
    traces = [creation_trace(HOME, project_id(HOME, NORTH))]
    traces += [creation_trace(GOOD, project_id(GOOD, SOUTH)), creation_trace(GOOD, project_id(GOOD, NORTH))]
    results, _ = invoke(org, "ecs_created", eventgrid(*traces), TARGETS=targets)
    assert [r["outcome"] for r in results] == ["succeeded", "succeeded", "planned"], results
    assert results[0]["rules_matched"] == ["baseline-everywhere"]  # the home project: policy.yaml
    assert results[1]["rules_matched"] == ["member-web"]  # the member: its own policy file
    assert results[2]["mode"] == "report" and "mode" not in results[1]
    changed = {(HOME, NORTH): [BASELINE, default_group(org, HOME, NORTH)]}
    changed[(GOOD, SOUTH)] = [WEB, default_group(org, GOOD, SOUTH)]
    assert estate(org) == expected(org, changed)


def test_a_members_missing_policy_file_fails_that_event_only(org):
    targets = json.dumps(
        {
            "defaults": {"regions": list(REGIONS)},
            "accounts": [
                {"domain_id": GOOD, "external_id": "ext-good-0001", "overrides": {"policy_file": "no-such.yaml"}}
            ],
        }
    )
    traces = [creation_trace(GOOD, project_id(GOOD, SOUTH)), creation_trace(HOME, project_id(HOME, NORTH))]
    results, _ = invoke(org, "ecs_created", eventgrid(*traces), TARGETS=targets)
    assert [r["outcome"] for r in results] == ["failed", "succeeded"], results
    assert codes(results[0]) == [ErrorCode.POLICY_INVALID]


def test_a_drift_event_from_a_member_is_repaired_there_only_in_enforce_mode(org):
    targets = json.dumps(
        {
            "home": {"domain_id": HOME},
            "defaults": {"regions": list(REGIONS)},
            "accounts": [
                {"domain_id": GOOD, "external_id": "ext-good-0001", "overrides": {"drift_mode": "enforce"}},
                {"domain_id": NO_AGENCY},
            ],
        }
    )
    traces = [
        port_trace(GOOD, project_id(GOOD, SOUTH)),
        port_trace(HOME, project_id(HOME, NORTH)),  # the home project: DRIFT_MODE report
        port_trace(NO_AGENCY, project_id(NO_AGENCY, NORTH)),
        port_trace(WRONG_EXT, project_id(WRONG_EXT, NORTH)),  # not in these TARGETS
    ]
    results, _ = invoke(org, "sg_drift", eventgrid(*traces), TARGETS=targets)
    outcomes = [(r["outcome"], codes(r)[:1]) for r in results]
    assert outcomes == [
        ("repaired", []),
        ("drift_detected", []),
        ("failed", [ErrorCode.AGENCY_MISSING]),
        ("skipped", [ErrorCode.TARGET_NOT_ALLOWED]),
    ], results
    assert results[0]["mode"] == "enforce" and results[1]["mode"] == "report"
    assert results[0]["target"]["account"] == GOOD and results[0]["target"]["region"] == SOUTH
    assert estate(org) == expected(org, {(GOOD, SOUTH): [BASELINE, default_group(org, GOOD, SOUTH)]})


def test_sgguards_own_change_in_a_member_account_is_not_drift(org):
    session = "sts::" + GOOD + ":assumed-agency:sgguard-member/sgguard-ecs_created-req-1"
    trace = port_trace(GOOD, project_id(GOOD, SOUTH))
    trace["user"] = {"type": "AssumedAgency", "principal_urn": session, "domain": {"id": GOOD, "name": "prod"}}
    before = since(org)
    results, _ = invoke(org, "sg_drift", eventgrid(trace))
    assert results[0]["outcome"] == "skipped" and codes(results[0]) == [ErrorCode.OWN_CHANGE]
    assert calls(org, before) == []


def test_a_flood_of_events_costs_one_assume_per_account_and_nothing_outside_targets(org):
    before = since(org)
    flood = [creation_trace(GOOD, project_id(GOOD, SOUTH)) for _ in range(8)]
    flood += [creation_trace(NO_AGENCY, project_id(NO_AGENCY, SOUTH)) for _ in range(8)]
    flood += [creation_trace("50" * 16, "5001" + "ab" * 14) for _ in range(8)]
    results, _ = invoke(org, "ecs_created", eventgrid(*flood[:20]), CONCURRENCY="8")
    results += invoke(org, "ecs_created", eventgrid(*flood[20:]), CONCURRENCY="8")[0]
    good, broken, outside = results[:8], results[8:16], results[16:]
    # one creation, however many events describe it: handled once, the rest are duplicates
    assert sorted(r["outcome"] for r in good) == ["no_change"] * 7 + ["succeeded"], good
    assert {(r["outcome"], codes(r)[0]) for r in broken} == {("failed", ErrorCode.AGENCY_MISSING)}
    assert {(r["outcome"], codes(r)[0]) for r in outside} == {("skipped", ErrorCode.TARGET_NOT_ALLOWED)}
    made = calls(org, before)
    assert len([c for c in made if c.get("route") == "POST /v5/agencies/assume"]) == 2  # GOOD once, NO_AGENCY once
    assert len([c for c in made if c.get("service") == "iam"]) == 1  # GOOD's project listing, once
    assert estate(org) == expected(org, {(GOOD, SOUTH): [BASELINE, default_group(org, GOOD, SOUTH)]})


def test_a_rule_change_in_a_member_account_rechecks_that_projects_servers_only(org):
    targets = json.dumps(
        {
            "home": {"domain_id": HOME},
            "defaults": {"regions": list(REGIONS)},
            "accounts": [{"domain_id": GOOD, "external_id": "ext-good-0001", "overrides": {"drift_mode": "enforce"}}],
        }
    )
    group = default_group(org, GOOD, NORTH)
    trace = port_trace(
        GOOD, project_id(GOOD, NORTH), trace_name="createSecurity-group-rule", resource_type="security-group-rules"
    )
    trace["resource_id"] = "e1000000-0000-4000-8000-000000000001"  # the rule's id
    trace["response"] = json.dumps({"security_group_rule": {"security_group_id": group}})
    results, _ = invoke(org, "sg_drift", eventgrid(trace), TARGETS=targets)
    assert [(r["outcome"], r["target"]["account"], r["target"]["region"]) for r in results] == [
        ("repaired", GOOD, NORTH)
    ], results
    assert estate(org) == expected(org, {(GOOD, NORTH): [BASELINE, default_group(org, GOOD, NORTH)]})


def test_a_trace_made_with_this_instances_member_session_is_not_drift(org):
    from shared.cloud.agencies import SESSIONS

    created, _ = invoke(org, "ecs_created", eventgrid(creation_trace(GOOD, project_id(GOOD, SOUTH))))
    assert created[0]["outcome"] == "succeeded", created
    session_key = SESSIONS.access_key(GOOD, "sgguard-member")
    assert session_key
    trace = port_trace(GOOD, project_id(GOOD, SOUTH))
    trace["user"] = {"domain": {"id": GOOD, "name": "prod"}, "name": "someone", "access_key_id": session_key}
    before = since(org)
    results, _ = invoke(org, "sg_drift", eventgrid(trace))
    assert results[0]["outcome"] == "skipped" and codes(results[0]) == [ErrorCode.OWN_CHANGE]
    assert calls(org, before) == []
    # the same key in another account's trace is not a session of that account's agency
    other = port_trace(WRONG_EXT, project_id(WRONG_EXT, SOUTH))
    other["user"] = {"domain": {"id": WRONG_EXT, "name": "x"}, "name": "someone", "access_key_id": session_key}
    results, _ = invoke(org, "sg_drift", eventgrid(other))
    assert codes(results[0]) != [ErrorCode.OWN_CHANGE]

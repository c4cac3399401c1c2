"""The sweep across an organisation: 4 accounts x 2 regions in localcloud (one region per server),
the real sg_drift handler, the shared Redis store, and FunctionGraph's async invocations recorded
by localcloud and run once each (``tests.support.fanout.Platform``).

The timer plans the targets (home project, then each member x region x project, ``projects: all``
from the member's own IAM listing) and invokes sg_drift once per target; each target's invocation
sweeps that project with that account's credentials; the member without the agency and the one
with a wrong external id are reported with their codes; the last target to finish emits the
organisation summary naming the failed targets. A redelivered plan or target invocation does no
work (no cloud call), and a target outside TARGETS is refused with no call.
"""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from shared.validation import validate_result_event
from tests.support.fanout import HOME_PROJECT, Platform, timer_event
from tests.support.organisation import GOOD, NO_AGENCY, REGIONS, SERVER, WRONG_EXT, project_id, targets_setting

NORTH, SOUTH = REGIONS
pytestmark = pytest.mark.usefixtures("redis_server")


def _store(redis_server) -> dict:
    return {"IDEMPOTENCY_STORE": redis_server.url}


def calls(org) -> int:
    return sum(len(cloud.requests()) for cloud in org.clouds.values())


def summaries(results, kind):
    return [r for r in results if (r.get("summary") or {}).get("kind") == kind]


def key(domain_id, region, project=None):
    return f"{domain_id}/{region}/{project or project_id(domain_id, region)}"


def test_the_timer_fans_out_one_invocation_per_target_and_the_last_one_sums_up(org, redis_server):
    platform = Platform(org, **_store(redis_server))
    plan_results = platform.invoke(timer_event(), "plan-0001")
    (plan,) = summaries(plan_results, "plan")
    assert plan["outcome"] == "summary" and plan["request_id"] == "sweep:20261202T100000Z"
    invoked = {entry["target"] for entry in plan["summary"]["invoked"]}
    assert invoked == {f"home/{NORTH}/{HOME_PROJECT}", key(GOOD, NORTH), key(GOOD, SOUTH)}
    assert plan["summary"]["targets"] == 7  # + the two broken accounts x two regions, failed at planning
    failed = {f["target"]: f["code"] for f in plan["summary"]["failed"]}
    assert failed == {
        f"{NO_AGENCY}/{NORTH}/*": ErrorCode.AGENCY_MISSING,
        f"{NO_AGENCY}/{SOUTH}/*": ErrorCode.AGENCY_MISSING,
        f"{WRONG_EXT}/{NORTH}/*": ErrorCode.ACCESS_DENIED,
        f"{WRONG_EXT}/{SOUTH}/*": ErrorCode.ACCESS_DENIED,
    }
    broken = [r for r in plan_results if r["outcome"] == "failed"]
    assert {(r["target"]["account"], r["target"]["region"], r["errors"][0]["code"]) for r in broken} == {
        (NO_AGENCY, NORTH, ErrorCode.AGENCY_MISSING),
        (NO_AGENCY, SOUTH, ErrorCode.AGENCY_MISSING),
        (WRONG_EXT, NORTH, ErrorCode.ACCESS_DENIED),
        (WRONG_EXT, SOUTH, ErrorCode.ACCESS_DENIED),
    }
    assert len(platform.recorded()) == 3  # one async invocation per reachable target, none yet run

    ran = platform.drain()
    per_target = summaries(ran, "target")
    assert len(per_target) == 3 and all(r["summary"]["complete"] for r in per_target)
    assert {(r["target"]["account"], r["target"]["region"]) for r in per_target} == {
        (None, NORTH),  # the home project (TARGETS gives no home domain id)
        (GOOD, NORTH),
        (GOOD, SOUTH),
    }
    for result in per_target:
        assert result["summary"]["servers"] == 1 and result["request_id"] == plan["request_id"]
    judged = [r for r in ran if r.get("server_id") == SERVER]
    assert len(judged) == 3 and all(r["target"] for r in judged)  # one per project, each naming its target
    (organisation,) = summaries(platform.results, "organisation")
    assert organisation["summary"]["targets"] == 7
    assert sorted(organisation["summary"]["complete"]) == sorted(invoked)
    assert {f["target"]: f["code"] for f in organisation["summary"]["failed"]} == failed
    assert all(validate_result_event(event) == [] for event in platform.events)  # every result schema-valid


def test_a_redelivered_plan_or_target_invocation_does_no_work(org, redis_server):
    platform = Platform(org, **_store(redis_server))
    platform.invoke(timer_event(), "plan-0001")
    platform.drain()
    before, invocations = calls(org), len(platform.recorded())
    again = platform.invoke(timer_event(), "plan-0001-redelivered")
    (plan,) = summaries(again, "plan")
    assert plan["summary"]["duplicate"] is True and len(again) == 1
    first_target = platform.recorded()[0]["request_id"]
    (duplicate,) = platform.redeliver(first_target)
    assert duplicate["summary"]["duplicate"] is True and duplicate["outcome"] == "summary"
    assert calls(org) == before  # neither made a single cloud call
    assert len(platform.recorded()) == invocations  # nor invoked anything
    assert len(summaries(platform.results, "organisation")) == 1  # and the organisation summary came once


def test_an_assume_refused_in_the_targets_own_invocation_is_its_failure(org, redis_server):
    """Projects listed in TARGETS: no listing at planning, every target is invoked, and the broken
    accounts fail in their own invocations, with their codes; the others complete."""
    accounts = [
        {"domain_id": GOOD, "external_id": "ext-good-0001", "projects": [project_id(GOOD, NORTH)], "regions": [NORTH]},
        {"domain_id": NO_AGENCY, "projects": [project_id(NO_AGENCY, SOUTH)], "regions": [SOUTH]},
        {"domain_id": WRONG_EXT, "external_id": "nope-000001", "projects": [project_id(WRONG_EXT, NORTH)]},
    ]
    platform = Platform(org, TARGETS=targets_setting(accounts=accounts), **_store(redis_server))
    (plan,) = summaries(platform.invoke({"sweep": {}}, "plan-0002"), "plan")
    assert plan["summary"]["failed"] == [] and len(plan["summary"]["invoked"]) == 5  # home + 1 + 1 + 2 regions
    assert plan["api_calls"]["total"] == 0  # nothing to list
    ran = platform.drain()
    failures = [r for r in ran if r["outcome"] == "failed"]
    failed = {(r["target"]["account"], r["target"]["region"]): r["errors"][0]["code"] for r in failures}
    assert failed == {
        (NO_AGENCY, SOUTH): ErrorCode.AGENCY_MISSING,
        (WRONG_EXT, NORTH): ErrorCode.ACCESS_DENIED,
        (WRONG_EXT, SOUTH): ErrorCode.ACCESS_DENIED,
    }
    complete = [r for r in summaries(ran, "target") if r["outcome"] == "summary"]
    assert {(r["target"]["account"], r["target"]["region"]) for r in complete} == {(None, NORTH), (GOOD, NORTH)}
    (organisation,) = summaries(ran, "organisation")
    assert {f["target"]: f["code"] for f in organisation["summary"]["failed"]} == {
        key(NO_AGENCY, SOUTH): ErrorCode.AGENCY_MISSING,
        key(WRONG_EXT, NORTH, project_id(WRONG_EXT, NORTH)): ErrorCode.ACCESS_DENIED,
        key(WRONG_EXT, SOUTH, project_id(WRONG_EXT, NORTH)): ErrorCode.ACCESS_DENIED,
    }
    assert len(organisation["summary"]["complete"]) == 2


@pytest.mark.parametrize(
    "target",
    [
        {"account": "50" * 16, "region": NORTH, "project_id": "50" * 16},  # not one of TARGETS
        {"account": GOOD, "region": "eu-west-101", "project_id": project_id(GOOD, NORTH)},  # not its region
        {"account": GOOD, "region": NORTH, "project_id": project_id(GOOD, NORTH).upper()},  # case variant
        {"account": GOOD, "region": "CN-north-4", "project_id": project_id(GOOD, NORTH)},
        {"account": GOOD, "region": NORTH, "project_id": project_id(GOOD, NORTH).replace("a", "\u0430")},  # Cyrillic
        {"account": GOOD, "region": NORTH, "project_id": project_id(GOOD, NORTH), "extra": 1},
        {"region": NORTH, "project_id": "ff" * 16},  # the home account, another project
    ],
)
def test_a_target_outside_targets_is_refused_with_no_call(org, redis_server, target):
    platform = Platform(org, **_store(redis_server))
    before = calls(org)
    (result,) = platform.invoke({"sweep": {"target": target, "sweep_id": "sweep:20261202T100000Z"}}, "t-1")
    assert result["outcome"] == "rejected"
    assert result["errors"][0]["code"] in (ErrorCode.TARGET_NOT_ALLOWED, ErrorCode.SCHEMA_VIOLATION)
    assert calls(org) == before and platform.recorded() == []


def test_without_targets_the_sweep_is_todays_one_in_process(org, redis_server):
    platform = Platform(org, TARGETS=None, **_store(redis_server))
    platform.user_data.pop("TARGETS")
    results = platform.invoke(timer_event(), "plan-0003")
    assert platform.recorded() == []  # nothing invoked
    summary = results[-1]
    assert summary["outcome"] == "summary" and "kind" not in summary["summary"] and "target" not in summary
    assert summary["summary"]["servers"] == 1 and summary["summary"]["complete"]
    assert json.dumps(results).count(GOOD) == 0


def test_a_targets_continuations_carry_the_target_and_the_summary_waits_for_the_last_hop(org, redis_server):
    """One server per page, one page per invocation: each target hands its second page on to a
    continuation naming the target; its record is written by the last hop only; a redelivered
    continuation does nothing."""
    accounts = [{"domain_id": GOOD, "external_id": "ext-good-0001", "regions": [SOUTH]}]
    budget = {"DRIFT_SWEEP_PAGE": "1", "DRIFT_SWEEP_PAGES_PER_INVOCATION": "1"}
    platform = Platform(org, TARGETS=targets_setting(accounts=accounts), **budget, **_store(redis_server))
    platform.invoke(timer_event(), "plan-0004")
    ran = platform.drain()
    hops = summaries(ran, "target")
    seen = sorted((r["target"]["account"] or "home", r["summary"]["hop"]) for r in hops)
    assert seen == sorted([("home", 0), ("home", 1), (GOOD, 0), (GOOD, 1)])
    for first in (r for r in hops if r["summary"]["hop"] == 0):
        assert first["summary"]["continuation"]["invoked"] and not first["summary"]["complete"]
        assert first["summary"]["continuation"]["event"]["sweep"]["target"]["region"] == first["target"]["region"]
    (organisation,) = summaries(ran, "organisation")
    assert len(organisation["summary"]["complete"]) == 2 and organisation["summary"]["failed"] == []
    assert ran.index(organisation) == len(ran) - 1  # after both last hops
    continuation = next(r for r in platform.recorded() if r["payload"]["sweep"].get("hop") == 1)
    before = calls(org)
    (duplicate,) = platform.redeliver(continuation["request_id"])
    assert duplicate["summary"]["duplicate"] is True and calls(org) == before


def test_a_store_that_does_not_answer_fails_the_plan_closed(org, redis_server):
    platform = Platform(org, IDEMPOTENCY_STORE="redis://127.0.0.1:1/0")
    before = calls(org)
    (result,) = platform.invoke(timer_event(), "plan-0005")
    assert result["outcome"] == "failed" and result["errors"][0]["code"] == ErrorCode.STORE_UNAVAILABLE
    assert result["retryable"] is True and platform.recorded() == [] and calls(org) == before


def test_discovered_members_are_planned_and_a_refused_listing_leaves_the_listed_ones(org, redis_server):
    from tests.functional.test_organisation_discovery import discovering, listings

    platform = Platform(org, TARGETS=discovering(), **_store(redis_server))
    (plan,) = summaries(platform.invoke(timer_event(), "plan-0006"), "plan")
    assert {f["target"]: f["code"] for f in plan["summary"]["failed"]} == {
        f"{NO_AGENCY}/{NORTH}/*": ErrorCode.AGENCY_MISSING,  # discovered, then its (missing) agency
        f"{NO_AGENCY}/{SOUTH}/*": ErrorCode.AGENCY_MISSING,
        f"{WRONG_EXT}/{NORTH}/*": ErrorCode.ACCESS_DENIED,  # discovered: no external id given
        f"{WRONG_EXT}/{SOUTH}/*": ErrorCode.ACCESS_DENIED,
    }
    assert len(plan["summary"]["invoked"]) == 3 and len(listings(org)) == 1
    platform.drain()
    (organisation,) = summaries(platform.results, "organisation")
    assert organisation["summary"]["targets"] == 7 and len(organisation["summary"]["complete"]) == 3

    from shared.cloud.discovery import DISCOVERY

    org.home.backend.directory.organization.management_account = "50" * 16  # the home account may not list
    DISCOVERY.clear()  # the next hour, a fresh instance: no listing cached
    (plan,) = summaries(platform.invoke(timer_event("2026-12-02T11:00:00+00:00"), "plan-0007"), "plan")
    assert plan["summary"]["discovery"]["code"] == ErrorCode.DISCOVERY_FAILED
    assert plan["warnings"][0]["code"] == ErrorCode.DISCOVERY_FAILED
    assert {e["target"] for e in plan["summary"]["invoked"]} == {
        f"home/{NORTH}/{HOME_PROJECT}",
        key(GOOD, NORTH),
        key(GOOD, SOUTH),
    }  # the accounts TARGETS lists are swept all the same

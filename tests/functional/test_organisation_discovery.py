"""TARGETS ``discover: {organizations: true}`` end to end: the real change_request handler, the
home function's agency credentials, Organizations ListAccounts in localcloud (4 accounts x 2
regions, a suspended and a closing account, one OU; ``tests/support/organisation.py``).

A member found by ListAccounts is a target with the defaults (``NO_AGENCY``'s assume then fails
``AGENCY_MISSING``: it was planned); a suspended / closing / excluded account, or one outside the
listed OUs, is ``TARGET_NOT_ALLOWED`` with no call into it; the listing pages until
``next_marker`` is null and is made once per batch; a home account that is not an administrator
makes only the requests that need discovery fail, ``DISCOVERY_FAILED``.
"""

from __future__ import annotations

import json

from shared.errors import ErrorCode
from tests.functional.test_organisation import invoke, member_request, writes
from tests.support.organisation import (
    CLOSED,
    CLOSING,
    GOOD,
    GOOD_EXTERNAL_ID,
    HOME,
    MEMBER_AGENCY,
    NO_AGENCY,
    OU_PROD,
    REGIONS,
    WRONG_EXT,
    project_id,
)
from tests.support.requests import kafka

NORTH, SOUTH = REGIONS
LIST_ACCOUNTS = "GET /v1/organizations/accounts"


def discovering(**discover) -> str:
    return json.dumps(
        {
            "home": {"domain_id": HOME, "name": "home"},
            "defaults": {"agency": MEMBER_AGENCY, "regions": list(REGIONS), "projects": "all"},
            "discover": {"organizations": True, **discover},
            "accounts": [{"domain_id": GOOD, "name": "prod", "external_id": GOOD_EXTERNAL_ID}],
        }
    )


def listings(org):
    return [e for e in org.home.requests() if e.get("route") == LIST_ACCOUNTS]


def outcomes(results):
    return [(r["outcome"], r["errors"][0]["code"] if r["errors"] else None) for r in results]


def untouched(org, *domain_ids):
    return not [e for e in writes(org) if any(project_id(d, r) in e["path"] for d in domain_ids for r in REGIONS)]


def test_discovered_members_are_targets_and_suspended_ones_are_not(org):
    requests = [
        member_request(GOOD, SOUTH),  # explicit entry: its external id
        member_request(NO_AGENCY, NORTH),  # discovered: planned, then its (missing) agency
        member_request(WRONG_EXT, NORTH),  # discovered: no external id given -> refused by the agency
        member_request(CLOSED, NORTH),
        member_request(CLOSING, NORTH),
    ]
    results, _ = invoke(org, kafka(*requests), TARGETS=discovering())
    assert outcomes(results) == [
        ("succeeded", None),
        ("failed", ErrorCode.AGENCY_MISSING),
        ("failed", ErrorCode.ACCESS_DENIED),
        ("rejected", ErrorCode.TARGET_NOT_ALLOWED),
        ("rejected", ErrorCode.TARGET_NOT_ALLOWED),
    ]
    assert results[3]["errors"][0]["path"] == "$.target.account"
    assert len(listings(org)) == 1  # one listing for the batch, not one per message
    assert untouched(org, CLOSED, CLOSING, NO_AGENCY, WRONG_EXT)


def test_the_listing_pages_until_next_marker_is_null(org, monkeypatch):
    import shared.cloud.discovery as discovery

    monkeypatch.setattr(discovery, "PAGE_LIMIT", 2)
    results, _ = invoke(org, kafka(member_request(NO_AGENCY, SOUTH)), TARGETS=discovering())
    assert outcomes(results) == [("failed", ErrorCode.AGENCY_MISSING)]
    pages = listings(org)
    assert len(pages) == 3 and all("limit=2" in e["query"] for e in pages), pages
    assert [("marker=" in e["query"]) for e in pages] == [False, True, True]


def test_ou_ids_limit_discovery_to_the_accounts_directly_under_them(org):
    requests = [member_request(WRONG_EXT, NORTH), member_request(NO_AGENCY, NORTH)]
    results, _ = invoke(org, kafka(*requests), TARGETS=discovering(ou_ids=[OU_PROD]))
    assert outcomes(results) == [("failed", ErrorCode.ACCESS_DENIED), ("rejected", ErrorCode.TARGET_NOT_ALLOWED)]
    assert [f"parent_id={OU_PROD}" in e["query"] for e in listings(org)] == [True]


def test_excluded_accounts_are_refused_before_any_call_into_them(org):
    results, _ = invoke(org, kafka(member_request(NO_AGENCY, NORTH)), TARGETS=discovering(exclude_accounts=[NO_AGENCY]))
    assert outcomes(results) == [("rejected", ErrorCode.TARGET_NOT_ALLOWED)]
    assert not [e for e in org.home.requests() if e.get("route") == "POST /v5/agencies/assume"]


def test_a_home_account_that_may_not_list_fails_only_what_needs_discovery(org):
    org.home.backend.directory.organization.management_account = CLOSED
    requests = [member_request(GOOD, NORTH), member_request(NO_AGENCY, NORTH)]
    results, _ = invoke(org, kafka(*requests), TARGETS=discovering())
    assert outcomes(results) == [("succeeded", None), ("failed", ErrorCode.DISCOVERY_FAILED)]
    error = results[1]["errors"][0]
    assert error["path"] == "$.target.account" and "management account or a delegated administrator" in error["message"]
    assert results[1]["retryable"] is False
    assert len(listings(org)) == 1  # the refusal is remembered: no second listing for the batch

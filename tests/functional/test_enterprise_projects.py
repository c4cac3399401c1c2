"""Groups and servers outside the default enterprise project: found by name and by id, and the
guard rails hold there (the catalog lists with ``enterprise_project_id=all_granted_eps``)."""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from tests.support.enterprise import EP2, EP2_BASELINE, EP2_PORT, EP2_SERVER, EP2_WEB, seed_second_enterprise_project
from tests.support.functions import Invoker
from tests.support.requests import LEGACY, LEGACY_PORTS, change_request
from tests.support.state import port_groups


@pytest.fixture
def ep2(cloud):
    seed_second_enterprise_project(cloud)
    return cloud


def _only(response):
    (result,) = response["results"]
    return result["data"]


def test_a_group_of_another_enterprise_project_is_found_by_name(ep2, change):
    data = _only(change(change_request("add", [{"name": "ep2-web"}], server_id=LEGACY, position=0)))
    assert data["outcome"] == "succeeded", data
    assert port_groups(ep2, LEGACY_PORTS[0])[0] == EP2_WEB


def test_a_group_of_another_enterprise_project_is_found_by_id(ep2, change):
    data = _only(change(change_request("add", [{"id": EP2_WEB}], server_id=LEGACY)))
    assert data["outcome"] == "succeeded", data
    assert port_groups(ep2, LEGACY_PORTS[0])[-1] == EP2_WEB


def test_a_server_of_another_enterprise_project_is_changed(ep2, change):
    data = _only(change(change_request("add", [{"name": "ep2-web"}], server_id=EP2_SERVER)))
    assert data["outcome"] == "succeeded", data
    assert [n["port_id"] for n in data["nics"]] == [EP2_PORT]
    assert port_groups(ep2, EP2_PORT)[-1] == EP2_WEB


def test_a_protected_group_of_another_enterprise_project_is_protected_by_name(ep2, change):
    before = port_groups(ep2, EP2_PORT)
    data = _only(
        change(change_request("remove", [{"id": EP2_BASELINE}], server_id=EP2_SERVER), PROTECTED_GROUPS="ep2-baseline")
    )
    assert data["outcome"] == "rejected"
    assert [e["code"] for e in data["errors"]] == [ErrorCode.PROTECTED_GROUP]
    assert port_groups(ep2, EP2_PORT) == before


def test_the_allow_list_sees_groups_of_another_enterprise_project(ep2, change):
    data = _only(change(change_request("add", [{"name": "ep2-web"}], server_id=EP2_SERVER), ALLOWED_GROUPS="ep2-*"))
    assert data["outcome"] == "succeeded", data


def test_ecs_created_applies_a_policy_in_another_enterprise_project(ep2):
    policy = {
        "rules": [
            {
                "name": "ep2",
                "match": {"enterprise_project_id": EP2},
                "security_groups": [{"name": "ep2-web"}],
                "position": "first",
            }
        ]
    }
    created = Invoker(ep2, "ecs_created")
    response = created({"server_id": EP2_SERVER, "backfill": True}, POLICY=json.dumps(policy))  # a seeded server
    (result,) = response["results"]
    assert result["data"]["outcome"] == "succeeded", result["data"]
    assert port_groups(ep2, EP2_PORT)[0] == EP2_WEB


def test_the_catalog_lists_across_enterprise_projects(ep2, change):
    seq = ep2.last_seq()
    change(change_request("add", [{"name": "ep2-web"}], server_id=LEGACY, dry_run=True))
    listings = [r for r in ep2.requests(seq) if r["method"] == "GET" and r["path"].endswith("/security-groups")]
    assert listings and all("enterprise_project_id=all_granted_eps" in r["query"] for r in listings)

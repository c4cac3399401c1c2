"""Issue 19, self-approval in disguise, round two: end to end against localcloud, no write.

The requester approves her own ticket under another spelling of her name, to attach a group that
opens SSH to the world (which needs a second person's approval). Every spelling is either refused
by the schema, naming ``$.ticket.approved_by``, or judged to be the requester: the change is
``rejected`` and nothing is written. Real second people still approve.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.errors import ErrorCode
from shared.signing import sign_request
from shared.timestamps import format_timestamp
from tests.support.functions import SIGNING_KEYS
from tests.support.identities import (
    DISTINCT_PEOPLE,
    EQUAL_DISGUISES,
    IDN_DISGUISES,
    IDN_REQUESTER,
    REFUSED_DISGUISES,
    REQUESTER,
)
from tests.support.requests import LEGACY_PORTS, SG, change_request
from tests.support.state import port_groups, writes_since

P1 = LEGACY_PORTS[0]


def _ticket(requested_by: str, approved_by: str) -> dict:
    request = change_request("add", [{"name": "ssh-open"}], approved_by=approved_by, sign=False)
    request["ticket"]["requested_by"] = requested_by
    timestamp = format_timestamp(datetime.now(timezone.utc))
    return sign_request(request, key_id="ticketing-1", secret=SIGNING_KEYS["ticketing-1"], timestamp=timestamp)


def _only(response: dict) -> dict:
    [result] = response["results"]
    return result["data"]


@pytest.mark.parametrize("approver", REFUSED_DISGUISES.values(), ids=REFUSED_DISGUISES.keys())
def test_a_dressed_up_approver_is_refused_by_the_schema(cloud, change, approver):
    seq = cloud.last_seq()
    data = _only(change(_ticket(REQUESTER, approver)))
    assert data["outcome"] == "rejected", data
    assert [(e["code"], e["path"]) for e in data["errors"]] == [(ErrorCode.SCHEMA_VIOLATION, "$.ticket.approved_by")]
    assert "is not a valid identity" in data["errors"][0]["message"]
    assert cloud.requests(seq) == []  # refused before any cloud call, not only before a write


@pytest.mark.parametrize(
    "requester, approver",
    [(REQUESTER, a) for a in EQUAL_DISGUISES.values()] + [(IDN_REQUESTER, a) for a in IDN_DISGUISES.values()],
    ids=[*EQUAL_DISGUISES, *IDN_DISGUISES],
)
def test_the_requester_under_another_spelling_is_no_second_person(cloud, change, requester, approver):
    seq = cloud.last_seq()
    data = _only(change(_ticket(requester, approver)))
    assert data["outcome"] == "rejected", data
    assert [e["code"] for e in data["errors"]] == [ErrorCode.RISKY_RULE], data["errors"]
    assert "not approved by a second person" in data["errors"][0]["message"]
    assert writes_since(cloud, seq) == []


@pytest.mark.parametrize("requester, approver", DISTINCT_PEOPLE, ids=[f"{a}|{b}" for a, b in DISTINCT_PEOPLE])
def test_a_different_person_may_approve(cloud, change, requester, approver):
    data = _only(change(_ticket(requester, approver)))
    assert data["outcome"] == "succeeded", data
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.RISKY_RULE]
    assert SG["ssh-open"] in port_groups(cloud, P1)

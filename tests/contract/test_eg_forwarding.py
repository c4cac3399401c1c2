"""localcloud's EventGrid across accounts, through the official EG SDK: CreateChannel with
``cross_account`` and its putEvents policy, CreateSubscription with an ``HC.EG`` target, and who a
channel admits (localcloud/services/eg/subscriptions.py)."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from localcloud.services.eg.subscriptions import matches, may_put
from tests.support.org_forwarding import client_for, create_central_channel, member_credentials
from tests.support.organisation import GOOD, HOME, NO_AGENCY, REGIONS, project_id

NORTH = REGIONS[0]
CHANNEL = {"name": "central", "cross_account": True}


def statement(**changes):
    base = {
        "Sid": "s",
        "Effect": "Allow",
        "Principal": {"members": {"IAM": [GOOD]}},
        "Action": "eg:channels:putEvents",
        "Resource": f"urn:eg:{NORTH}:{HOME}:channel:central",
    }
    base.update(changes)
    return {"policy": {"s": base}}


def test_a_channel_admits_its_own_account_and_the_ones_its_policy_names():
    assert may_put({**CHANNEL, "cross_account": False}, HOME, HOME)
    assert may_put({**CHANNEL, **statement()}, HOME, GOOD)
    assert not may_put({**CHANNEL, **statement()}, HOME, NO_AGENCY)
    assert not may_put({**CHANNEL, **statement(), "cross_account": False}, HOME, GOOD)
    assert not may_put({**CHANNEL, **statement(Effect="Deny")}, HOME, GOOD)
    assert not may_put({**CHANNEL, **statement(Action="eg:channels:get")}, HOME, GOOD)
    assert not may_put({**CHANNEL, **statement(Resource=f"urn:eg:{NORTH}:{HOME}:channel:other")}, HOME, GOOD)
    assert may_put({**CHANNEL, **statement(Resource="*", Principal={"IAM": [GOOD]})}, HOME, GOOD)
    lettered = "ab" * 16
    assert not may_put({**CHANNEL, **statement(Principal={"IAM": [lettered.upper()]})}, HOME, lettered)
    assert not may_put({**CHANNEL, **statement()}, HOME, None)  # an unowned project's caller


def test_filters():
    event = {"source": "HC.ECS", "type": "ECS:CloudTrace:ApiCall"}
    assert matches({}, event) and matches(None, event)
    assert matches({"type": [{"op": "StringIn", "values": ["ECS:CloudTrace:ApiCall"]}]}, event)
    assert not matches({"type": [{"op": "StringIn", "values": ["ECS:CloudTrace:SystemAction"]}]}, event)


def test_create_channel_and_subscription_through_the_sdk(org):
    from huaweicloudsdkeg.v1 import (
        CreateSubscriptionRequest,
        EgClient,
        EgTargetDetail,
        SubscriptionCreateReq,
        SubscriptionSource,
        SubscriptionTarget,
    )

    channel_id = create_central_channel(org, admitted=[GOOD])
    home = org.home.backend.project(project_id(HOME, NORTH)).service("eg").channel(channel_id)
    assert home["cross_account"] is True
    assert home["policy"]["members"]["Principal"]["members"]["IAM"] == [GOOD]
    assert home["policy"]["members"]["Action"] == "eg:channels:putEvents"

    client = client_for(EgClient, org.home, member_credentials(org, GOOD, NORTH))
    source = SubscriptionSource(name="HC.ECS", provider_type="OFFICIAL")
    detail = EgTargetDetail(
        target_project_id=project_id(HOME, NORTH), target_channel_id=channel_id, target_region=NORTH
    )
    target = SubscriptionTarget(name="HC.EG", provider_type="OFFICIAL", eg_detail=detail)
    body = SubscriptionCreateReq(name="fwd", channel_id="default", sources=[source], targets=[target])
    created = client.create_subscription(CreateSubscriptionRequest(body=body))
    assert created.status == "ENABLED" and created.channel_id == "default"

    # only channels as targets are emulated; an unknown filter operator is refused, not ignored
    other = SubscriptionTarget(name="HC.FunctionGraph", provider_type="OFFICIAL", detail={"urn": "x"})
    for bad in (
        SubscriptionCreateReq(name="fwd2", channel_id="default", sources=[source], targets=[other]),
        SubscriptionCreateReq(
            name="fwd3",
            channel_id="default",
            sources=[SubscriptionSource(name="HC.ECS", filter={"type": [{"op": "StringNotIn", "values": []}]})],
            targets=[target],
        ),
        SubscriptionCreateReq(name="fwd", channel_id="default", sources=[source], targets=[target]),  # name taken
    ):
        with pytest.raises(ClientRequestException) as refused:
            client.create_subscription(CreateSubscriptionRequest(body=bad))
        assert refused.value.status_code == 400

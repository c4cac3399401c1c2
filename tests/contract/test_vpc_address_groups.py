"""Contract of the emulated VPC v3 IP address groups, driven by the official SDK (huaweicloudsdkvpc.v3),
and the gateway's read of an address group's ip_set."""

from __future__ import annotations

import pytest
from huaweicloudsdkvpc.v3 import (
    CreateAddressGroupOption,
    CreateAddressGroupRequest,
    CreateAddressGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    DeleteAddressGroupRequest,
    DeleteSecurityGroupRuleRequest,
    IpExtraSetOption,
    ListAddressGroupRequest,
    ShowAddressGroupRequest,
)

from shared.clock import Clock, Deadline
from shared.cloud.clients import AgencyCredentials, ClientFactory
from shared.cloud.exceptions import InvalidIdentifier
from shared.cloud.gateway import CallCounter, NetworkGateway
from shared.cloud.retry import RetryPolicy
from shared.config import load_settings
from shared.model import Rule
from shared.rails.exposure import risky_exposures
from tests.support.sdk import credentials_for, vpc_v3_client
from tests.support.vpc_contract import (
    MISSING,
    OTHER_AK,
    OTHER_PROJECT,
    OTHER_SK,
    PROJECT,
    default_sg,
    expect_error,
    last_entry,
)


def create(client, name="office", ip_version=4, ip_set=None, dry_run=None, **extra):
    option = CreateAddressGroupOption(name=name, ip_version=ip_version, ip_set=ip_set, **extra)
    return client.create_address_group(
        CreateAddressGroupRequest(body=CreateAddressGroupRequestBody(address_group=option, dry_run=dry_run))
    )


def names(client, **query):
    return [group.name for group in client.list_address_group(ListAddressGroupRequest(**query)).address_groups]


def test_create_show_list_delete(cloud, vpc_v3):
    entries = ["192.168.3.2", "192.168.3.20-192.168.3.100", "192.168.5.0/24"]
    created = create(vpc_v3, ip_set=entries, description="office ranges")
    group = created.address_group
    assert (group.name, group.ip_version, group.ip_set, group.max_capacity) == ("office", 4, entries, 20)
    assert [(item.ip, item.remarks) for item in group.ip_extra_set] == [(entry, None) for entry in entries]
    assert (group.tenant_id, group.enterprise_project_id, group.status, group.description) == (
        PROJECT,
        "0",
        "NORMAL",
        "office ranges",
    )
    assert group.created_at.tzinfo is not None
    assert created.request_id == last_entry(cloud, "POST", "/vpc/address-groups")["request_id"]
    assert last_entry(cloud, "POST", "/vpc/address-groups")["status"] == 201

    shown = vpc_v3.show_address_group(ShowAddressGroupRequest(address_group_id=group.id))
    assert (shown.address_group.id, shown.address_group.ip_set) == (group.id, entries)
    assert shown.request_id

    create(vpc_v3, name="v6-partners", ip_version=6, ip_set=["2001:db8::/32", "2001:db8:1::1-2001:db8:1::ff"])
    assert names(vpc_v3) == ["office", "v6-partners"]
    assert names(vpc_v3, ip_version=6) == ["v6-partners"]
    assert names(vpc_v3, name=["office"]) == ["office"]
    assert names(vpc_v3, id=[group.id]) == ["office"]
    page = vpc_v3.list_address_group(ListAddressGroupRequest(limit=1))
    assert [g.name for g in page.address_groups] == ["office"] and page.page_info.next_marker == group.id
    assert names(vpc_v3, limit=1, marker=group.id) == ["v6-partners"]

    vpc_v3.delete_address_group(DeleteAddressGroupRequest(address_group_id=group.id))
    assert last_entry(cloud, "DELETE", group.id)["status"] == 204
    assert names(vpc_v3) == ["v6-partners"]


def test_show_missing_is_a_v3_404(cloud, vpc_v3):
    error = expect_error(
        lambda: vpc_v3.show_address_group(ShowAddressGroupRequest(address_group_id=MISSING)), 404, "VPC.1802", MISSING
    )
    entry = last_entry(cloud, "GET", MISSING)
    assert (entry["status"], entry["error_code"], entry["request_id"]) == (404, "VPC.1802", error.request_id)
    expect_error(
        lambda: vpc_v3.delete_address_group(DeleteAddressGroupRequest(address_group_id=MISSING)),
        404,
        "VPC.1802",
        MISSING,
    )


def test_ip_extra_set_and_dry_run(cloud, vpc_v3):
    extra = [IpExtraSetOption(ip="10.0.0.0/8", remarks="corp"), IpExtraSetOption(ip="172.16.0.1")]
    group = create(vpc_v3, name="extra", ip_extra_set=extra, max_capacity=5).address_group
    assert group.ip_set == ["10.0.0.0/8", "172.16.0.1"] and group.max_capacity == 5
    assert [(i.ip, i.remarks) for i in group.ip_extra_set] == [("10.0.0.0/8", "corp"), ("172.16.0.1", None)]
    create(vpc_v3, name="dry", ip_set=["1.2.3.4"], dry_run=True)
    assert last_entry(cloud, "POST", "/vpc/address-groups")["status"] == 202
    assert names(vpc_v3) == ["extra"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ip_version": 5}, "ip_version"),
        ({"ip_set": ["::/0"]}, "does not match ip_version 4"),
        ({"ip_set": ["10.0.0.300"]}, "not an IP address"),
        ({"ip_set": ["10.0.0.9-10.0.0.1"]}, "not an IP address"),
        ({"ip_set": ["10.0.0.1"] * 3, "max_capacity": 2}, "max_capacity"),
        ({"max_capacity": 21}, "max_capacity"),
        ({"name": "bad name!"}, "name"),
        ({"description": "<script>"}, "description"),
        ({"ip_set": ["1.1.1.1"], "ip_extra_set": [IpExtraSetOption(ip="1.1.1.1")]}, "mutually exclusive"),
    ],
)
def test_invalid_creations_are_400(cloud, vpc_v3, kwargs, message):
    expect_error(lambda: create(vpc_v3, **kwargs), 400, "VPC.1801", message)
    assert names(vpc_v3) == []


def test_project_isolation(cloud, vpc_v3):
    group = create(vpc_v3, ip_set=["8.8.8.8"]).address_group
    other = vpc_v3_client(cloud, credentials_for(cloud, ak=OTHER_AK, sk=OTHER_SK, project_id=OTHER_PROJECT))
    assert names(other) == []
    expect_error(lambda: other.show_address_group(ShowAddressGroupRequest(address_group_id=group.id)), 404, "VPC.1802")


def test_rules_reference_an_address_group_which_is_then_in_use(cloud, vpc_v3):
    group = create(vpc_v3, ip_set=["0.0.0.0/1", "128.0.0.0-255.255.255.255"]).address_group
    option = CreateSecurityGroupRuleOption(
        security_group_id=default_sg(cloud),
        direction="ingress",
        protocol="tcp",
        multiport="22",
        remote_address_group_id=group.id,
    )
    rule = vpc_v3.create_security_group_rule(
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option))
    ).security_group_rule
    assert rule.remote_address_group_id == group.id and rule.remote_ip_prefix in (None, "")
    expect_error(
        lambda: vpc_v3.delete_address_group(DeleteAddressGroupRequest(address_group_id=group.id)),
        409,
        "VPC.1804",
        rule.id,
    )
    vpc_v3.delete_security_group_rule(DeleteSecurityGroupRuleRequest(security_group_rule_id=rule.id))
    vpc_v3.delete_address_group(DeleteAddressGroupRequest(address_group_id=group.id))


# ---- the gateway ------------------------------------------------------------------------------


@pytest.fixture
def network(cloud):
    clock = Clock(monotonic=lambda: 0.0, sleep=lambda seconds: None)
    settings = load_settings(None, {"ECS_ENDPOINT": cloud.url, "VPC_ENDPOINT": cloud.url})
    factory = ClientFactory(AgencyCredentials(cloud.ak, cloud.sk, None, cloud.project_id), settings)
    return NetworkGateway(
        factory, clock=clock, deadline=Deadline(clock, 600), policy=RetryPolicy(3, 0.0, 0.0), counter=CallCounter()
    )


def test_gateway_reads_the_ip_set_and_feeds_the_exposure_check(cloud, vpc_v3, network):
    group = create(vpc_v3, ip_set=["0.0.0.0/1", "128.0.0.0-255.255.255.255"]).address_group
    ip_set = network.show_address_group(group.id)
    assert ip_set == ["0.0.0.0/1", "128.0.0.0-255.255.255.255"]
    assert (network.counter.reads, network.counter.log) == (1, ["vpc.show_address_group"])
    rules = [Rule("r1", "ingress", protocol="tcp", multiport="22", remote_address_group_id=group.id)]
    [exposure] = risky_exposures(rules, [22], address_groups={group.id: ip_set})
    assert exposure.everyone and exposure.rule_ids == ("r1",)


def test_gateway_missing_group_is_none(cloud, network):
    assert network.show_address_group(MISSING) is None
    assert network.counter.reads == 1  # a 404 is not retried


def test_gateway_checks_the_id_before_the_url(cloud, network):
    for bad in ("../security-groups", "not-a-uuid", "", MISSING + "/force"):
        with pytest.raises(InvalidIdentifier):
            network.show_address_group(bad)
    assert network.counter.reads == 0


def test_gateway_retries_then_gives_none_when_unreadable(cloud, vpc_v3, network):
    group = create(vpc_v3, ip_set=["10.0.0.0/8"]).address_group
    try:
        cloud.add_fault(kind="error503", method="GET", path="/v3/*/vpc/address-groups/*", count=1)
        assert network.show_address_group(group.id) == ["10.0.0.0/8"]  # one transient failure, retried
        assert network.counter.reads == 2
        cloud.add_fault(kind="error500", method="GET", path="/v3/*/vpc/address-groups/*")
        assert network.show_address_group(group.id) is None  # still failing after the retries: unreadable
        assert network.counter.reads > 3
    finally:
        cloud.clear_faults()

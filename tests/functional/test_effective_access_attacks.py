"""Issue 19: the exposure rail judges effective access, end to end against localcloud.

The attacker has read the rails: "almost everyone" instead of everyone, laundering an exposure
through the groups that stay, stripping or demoting a deny guard. Each is a signed change request
(or a creation event) through the real handler, with the groups created through the VPC v3 SDK as
someone with console access would; each is refused with no write. The safe controls succeed.
"""

from __future__ import annotations

import ipaddress
import json

import pytest
from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    PostPaidServer,
    PostPaidServerNic,
    PostPaidServerSecurityGroup,
)
from huaweicloudsdkvpc.v3 import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateAddressGroupOption,
    CreateAddressGroupRequest,
    CreateAddressGroupRequestBody,
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    InsertSecurityGroupOption,
)

from shared.errors import ErrorCode
from tests.support.ecs import SUBNET_WEB, VPC_ID, cts_event, cts_trace
from tests.support.functions import Invoker
from tests.support.requests import LEGACY_PORTS, SG, change_request
from tests.support.state import port_groups, writes_since

P1 = LEGACY_PORTS[0]  # default seed: [default, app]
SSH_WORLD = {"protocol": "tcp", "multiport": "22", "remote_ip_prefix": "0.0.0.0/0"}


def make_group(vpc_v3, name, *rules):
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name=name))
    group = vpc_v3.create_security_group(CreateSecurityGroupRequest(body=body)).security_group
    for fields in rules:
        fields = {"action": "allow", "priority": 1, "ethertype": "IPv4", **fields}
        if ":" in str(fields.get("remote_ip_prefix", "")):
            fields["ethertype"] = "IPv6"
        option = CreateSecurityGroupRuleOption(security_group_id=group.id, direction="ingress", **fields)
        vpc_v3.create_security_group_rule(
            CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option))
        )
    return group.id


def address_group(vpc_v3, name, ip_set, version=4):
    option = CreateAddressGroupOption(name=name, ip_version=version, ip_set=ip_set)
    body = CreateAddressGroupRequestBody(address_group=option)
    return vpc_v3.create_address_group(CreateAddressGroupRequest(body=body)).address_group.id


def console_insert(vpc_v3, port, group, index=None):
    option = InsertSecurityGroupOption(security_groups=[group], index=index)
    vpc_v3.add_security_groups(AddSecurityGroupsRequest(port, AddSecurityGroupsRequestBody(port=option)))


def excluding(whole, *holes):
    parts = [ipaddress.ip_network(whole)]
    for hole in map(ipaddress.ip_network, holes):
        parts = [q for p in parts for q in (p.address_exclude(hole) if hole.subnet_of(p) else [p])]
    return [str(p) for p in parts]


def only(response):
    [data] = [r["data"] for r in response["results"]]
    return data


def assert_refused(cloud, seq, data, *names):
    assert data["outcome"] == "rejected", data
    [error] = [e for e in data["errors"] if e["code"] == ErrorCode.RISKY_RULE]
    assert all(name in error["message"] for name in names), error["message"]
    assert writes_since(cloud, seq) == []


def assert_succeeded(data):
    assert data["outcome"] == "succeeded", data
    assert data["errors"] == [] and ErrorCode.RISKY_RULE not in [w["code"] for w in data["warnings"]]


# ---- almost everyone ----------------------------------------------------------------------------
ALMOST_EVERYONE = {
    "all-ipv4-but-one-slash32": [{**SSH_WORLD, "remote_ip_prefix": p} for p in excluding("0.0.0.0/0", "8.8.8.8/32")],
    "up-to-223.255.255.255": [
        {**SSH_WORLD, "remote_ip_prefix": p} for p in ("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3")
    ],
    "all-but-rfc1918": [
        {**SSH_WORLD, "remote_ip_prefix": p}
        for p in excluding("0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    ],
    "global-ipv6-unicast": [{**SSH_WORLD, "remote_ip_prefix": "2000::/3"}],
    "rdp-udp-global-ipv6": [{"protocol": "udp", "multiport": "3389", "remote_ip_prefix": "2000::/3"}],
}


@pytest.mark.parametrize("name", sorted(ALMOST_EVERYONE))
def test_almost_everyone_is_refused(cloud, vpc_v3, change, name):
    group = make_group(vpc_v3, name.replace(".", "-")[:60], *ALMOST_EVERYONE[name])
    seq = cloud.last_seq()
    assert_refused(cloud, seq, only(change(change_request("add", [{"id": group}]))), group, "Attaching")


@pytest.mark.parametrize("ip_set", [["0.0.0.1-255.255.255.254"], ["1.0.0.0-223.255.255.255"]])
def test_almost_everyone_in_an_address_group_is_refused(cloud, vpc_v3, change, ip_set):
    holder = address_group(vpc_v3, "almost-everyone", ip_set)
    group = make_group(
        vpc_v3, "by-address-group", {"protocol": "tcp", "multiport": "22", "remote_address_group_id": holder}
    )
    seq = cloud.last_seq()
    assert_refused(cloud, seq, only(change(change_request("add", [{"id": group}]))), group)


# ---- exposure laundering --------------------------------------------------------------------------
def test_laundering_an_exposure_through_the_groups_that_stay_is_refused(cloud, vpc_v3, change):
    world = make_group(vpc_v3, "world-ssh", SSH_WORLD)
    half_a = make_group(vpc_v3, "half-a", {**SSH_WORLD, "remote_ip_prefix": "0.0.0.0/1"})
    half_b = make_group(vpc_v3, "half-b", {**SSH_WORLD, "remote_ip_prefix": "128.0.0.0/1"})
    for group in (world, half_a):  # as an earlier, approved change left it
        console_insert(vpc_v3, P1, group)
    seq = cloud.last_seq()
    data = only(change(change_request("replace", [{"id": half_a}, {"id": half_b}])))
    assert_refused(cloud, seq, data, half_b, "Attaching")
    assert port_groups(cloud, P1)[-2:] == [world, half_a]


# ---- deny guards, group order, removal ------------------------------------------------------------
@pytest.fixture
def guarded(cloud, vpc_v3):
    """P1 as [deny22, open22, default, app]: a high-priority deny of SSH from everyone first."""
    deny = make_group(vpc_v3, "deny-ssh", {**SSH_WORLD, "action": "deny", "priority": 1})
    open_ = make_group(vpc_v3, "open-ssh", SSH_WORLD)
    console_insert(vpc_v3, P1, open_, 0)
    console_insert(vpc_v3, P1, deny, 0)
    return deny, open_


def test_removing_the_deny_guard_is_refused(cloud, change, guarded):
    deny, _ = guarded
    seq = cloud.last_seq()
    assert_refused(cloud, seq, only(change(change_request("remove", [{"id": deny}]))), deny, "Removing")


def test_reordering_the_open_group_ahead_of_the_deny_guard_is_refused(cloud, change, guarded):
    deny, open_ = guarded
    before = port_groups(cloud, P1)
    seq = cloud.last_seq()
    order = [open_, deny] + before[2:]
    assert_refused(cloud, seq, only(change(change_request("reorder", [{"id": g} for g in order]))), open_, "Moving")


def test_a_replace_without_the_deny_guard_is_refused(cloud, change, guarded):
    _, open_ = guarded
    seq = cloud.last_seq()
    assert_refused(cloud, seq, only(change(change_request("replace", [{"id": open_}, {"id": SG["app"]}]))))


def test_a_creation_policy_in_replace_mode_that_strips_the_deny_guard_is_refused(cloud, vpc_v3, ecs):
    deny = make_group(vpc_v3, "deny-ssh", {**SSH_WORLD, "action": "deny", "priority": 1})
    open_ = make_group(vpc_v3, "open-ssh", SSH_WORLD)
    cloud.settings(build_delay_ms=100)
    server = PostPaidServer(
        name="guarded-new",
        flavor_ref="s6.large.2",
        image_ref="img-0001",
        vpcid=VPC_ID,
        nics=[PostPaidServerNic(subnet_id=SUBNET_WEB)],
        security_groups=[PostPaidServerSecurityGroup(id=deny), PostPaidServerSecurityGroup(id=open_)],
    )
    created = ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=server))
    )
    [server_id] = created.server_ids
    policy = {"rules": [{"name": "strip", "mode": "replace", "security_groups": [{"id": open_}]}]}
    seq = cloud.last_seq()
    response = Invoker(cloud, "ecs_created")(
        cts_event(cts_trace([server_id], created.job_id)),
        POLICY=json.dumps(policy),
        READINESS_POLL_S="0.05",
        READINESS_MAX_WAIT_S="10",
    )
    [data] = [r["data"] for r in response["results"]]
    assert_refused(cloud, seq, data, deny, "Removing")


# ---- safe controls ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rules",
    [
        [{**SSH_WORLD, "remote_ip_prefix": "81.2.69.0/24"}],  # a partner's public /24
        [{**SSH_WORLD, "remote_ip_prefix": "141.20.0.0/16"}],  # a company's /16
        [{**SSH_WORLD, "remote_ip_prefix": p} for p in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")],
        [{**SSH_WORLD, "remote_ip_prefix": "fd12:3456:789a::/48"}],  # a ULA prefix
        [{"protocol": "tcp", "multiport": "22", "remote_group_id": SG["mgmt-ssh"]}],  # a remote group
        [{"protocol": "tcp", "multiport": "443", "remote_ip_prefix": "0.0.0.0/0"}],  # HTTPS from everyone
    ],
    ids=["public-24", "company-16", "rfc1918", "ula", "remote-group", "https-everyone"],
)
def test_safe_additions_succeed(cloud, vpc_v3, change, rules):
    group = make_group(vpc_v3, "safe", *rules)
    assert_succeeded(only(change(change_request("add", [{"id": group}]))))
    assert group in port_groups(cloud, P1)


def test_removing_the_group_that_exposes_succeeds(cloud, vpc_v3, change):
    console_insert(vpc_v3, P1, SG["ssh-open"])
    assert_succeeded(only(change(change_request("remove", [{"name": "ssh-open"}]))))
    assert SG["ssh-open"] not in port_groups(cloud, P1)


def test_adding_https_behind_a_deny_guard_succeeds(cloud, change, guarded):
    assert_succeeded(only(change(change_request("add", [{"name": "web"}]))))


def test_a_replace_keeping_an_existing_exposure_and_adding_https_succeeds(cloud, vpc_v3, change):
    console_insert(vpc_v3, P1, SG["ssh-open"])  # an approved exception from earlier
    keep = port_groups(cloud, P1)
    assert_succeeded(only(change(change_request("replace", [{"id": g} for g in keep] + [{"name": "web"}]))))
    assert port_groups(cloud, P1) == keep + [SG["web"]]

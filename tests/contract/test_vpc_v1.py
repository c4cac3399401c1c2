"""Contract of the emulated VPC API v1, driven by the official SDK (huaweicloudsdkvpc.v2)."""

from __future__ import annotations

import pytest
from huaweicloudsdkvpc.v2 import (
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    DeleteSecurityGroupRequest,
    DeleteSecurityGroupRuleRequest,
    ListPortsRequest,
    ListSecurityGroupRulesRequest,
    ListSecurityGroupsRequest,
    ListSubnetsRequest,
    ListVpcsRequest,
    ShowPortRequest,
    ShowSecurityGroupRequest,
    ShowSecurityGroupRuleRequest,
    ShowSubnetRequest,
    ShowVpcRequest,
    UpdatePortOption,
    UpdatePortRequest,
    UpdatePortRequestBody,
)

from tests.support.vpc_contract import (
    DEVICE_A,
    DUP_B,
    MISSING,
    OWNER,
    PORT_A1,
    PORT_A2,
    PORT_B1,
    SG,
    SUBNET_APP,
    SUBNET_WEB,
    VIP_PORT,
    VPC_ID,
    default_sg,  # noqa: F401  (ports is a fixture)
    expect_error,
    state_groups,
    state_vpc,
)


def update_groups(client, port_id, groups=None, name=None):
    body = UpdatePortRequestBody(port=UpdatePortOption(security_groups=groups, name=name))
    return client.update_port(UpdatePortRequest(port_id=port_id, body=body))


def create_rule(client, **fields):
    body = CreateSecurityGroupRuleRequestBody(security_group_rule=CreateSecurityGroupRuleOption(**fields))
    return client.create_security_group_rule(CreateSecurityGroupRuleRequest(body=body))


def create_group(client, name, **fields):
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name=name, **fields))
    return client.create_security_group(CreateSecurityGroupRequest(body=body))


# ---- VPCs and subnets ---------------------------------------------------------------------


def test_list_and_show_vpc(vpc_v2):
    vpcs = vpc_v2.list_vpcs(ListVpcsRequest()).vpcs
    assert [(v.id, v.name, v.cidr, v.status) for v in vpcs] == [(VPC_ID, "vpc-prod", "10.0.0.0/16", "OK")]
    shown = vpc_v2.show_vpc(ShowVpcRequest(vpc_id=VPC_ID)).vpc
    assert (shown.name, shown.tenant_id) == ("vpc-prod", "0a1b2c3d4e5f40718293a4b5c6d7e8f9")
    assert shown.created_at.year >= 2024


def test_show_vpc_not_found(vpc_v2):
    expect_error(lambda: vpc_v2.show_vpc(ShowVpcRequest(vpc_id=MISSING)), 404, "VPC.0003", "VPC does not exist")


def test_list_subnets_by_vpc_and_paging(vpc_v2):
    subnets = vpc_v2.list_subnets(ListSubnetsRequest(vpc_id=VPC_ID)).subnets
    assert [s.name for s in subnets] == ["subnet-web", "subnet-app", "subnet-mgmt"]
    assert all(s.vpc_id == VPC_ID and s.neutron_network_id == s.id for s in subnets)
    assert all(s.neutron_subnet_id not in (None, s.id) for s in subnets)
    page = vpc_v2.list_subnets(ListSubnetsRequest(vpc_id=VPC_ID, limit=1, marker=SUBNET_WEB)).subnets
    assert [s.id for s in page] == [SUBNET_APP]
    assert vpc_v2.list_subnets(ListSubnetsRequest(vpc_id=MISSING)).subnets == []
    expect_error(lambda: vpc_v2.list_subnets(ListSubnetsRequest(marker=MISSING)), 400, "VPC.0201")


def test_show_subnet_and_not_found(vpc_v2):
    subnet = vpc_v2.show_subnet(ShowSubnetRequest(subnet_id=SUBNET_WEB)).subnet
    assert (subnet.cidr, subnet.gateway_ip, subnet.status) == ("10.0.1.0/24", "10.0.1.1", "ACTIVE")
    assert subnet.available_ip_address_count == 256 - 3
    expect_error(lambda: vpc_v2.show_subnet(ShowSubnetRequest(subnet_id=MISSING)), 404, "VPC.0202")


# ---- ports ----------------------------------------------------------------------------------


def test_show_port_shape(vpc_v2, ports):
    port = vpc_v2.show_port(ShowPortRequest(port_id=PORT_A1)).port
    assert (port.device_id, port.device_owner, port.status, port.zone_id) == (DEVICE_A, OWNER, "ACTIVE", "cn-north-4a")
    assert port.network_id == SUBNET_WEB
    assert port.fixed_ips[0].ip_address == "10.0.1.2"  # first free address after the gateway
    subnet = vpc_v2.show_subnet(ShowSubnetRequest(subnet_id=SUBNET_WEB)).subnet
    assert port.fixed_ips[0].subnet_id == subnet.neutron_subnet_id
    assert port.mac_address.startswith("fa:16:3e:") and len(port.mac_address) == 17
    assert port.security_groups == [default_sg_id(vpc_v2), SG["web"]]
    assert port.port_security_enabled is True and port.bindingvif_details.primary_interface is True
    second = vpc_v2.show_port(ShowPortRequest(port_id=PORT_A2)).port
    assert (second.fixed_ips[0].ip_address, second.bindingvif_details.primary_interface) == ("10.0.2.50", False)


def default_sg_id(client) -> str:
    groups = client.list_security_groups(ListSecurityGroupsRequest()).security_groups
    return next(g.id for g in groups if g.name == "default")


def test_show_port_not_found(vpc_v2):
    expect_error(lambda: vpc_v2.show_port(ShowPortRequest(port_id=MISSING)), 404, "VPC.2504", MISSING)


def test_list_ports_filters(vpc_v2, ports):
    def ids(**query):
        return [p.id for p in vpc_v2.list_ports(ListPortsRequest(**query)).ports]

    assert ids(device_id=DEVICE_A) == [PORT_A1, PORT_A2]
    assert ids(device_owner="neutron:VIP_PORT") == [VIP_PORT]
    assert PORT_A2 in ids(network_id=SUBNET_APP) and PORT_A1 not in ids(network_id=SUBNET_APP)
    assert ids(fixed_ips=["ip_address=10.0.2.50"]) == [PORT_A2]
    assert ids(security_groups=[SG["baseline"]], device_owner=OWNER) == [PORT_A2]
    assert ids(id=[PORT_B1, PORT_A1]) == [PORT_A1, PORT_B1]
    assert ids(name="b-eth0") == [PORT_B1]
    assert ids(status="DOWN") == []
    mac = vpc_v2.show_port(ShowPortRequest(port_id=PORT_B1)).port.mac_address
    assert ids(mac_address=mac) == [PORT_B1]
    assert ids(device_id="no-such-device") == []


def test_list_ports_paging(vpc_v2, ports):
    everything = [p.id for p in vpc_v2.list_ports(ListPortsRequest()).ports]
    assert len(everything) >= 4
    first = [p.id for p in vpc_v2.list_ports(ListPortsRequest(limit=2)).ports]
    rest = [p.id for p in vpc_v2.list_ports(ListPortsRequest(limit=2000, marker=first[-1])).ports]
    assert first + rest == everything
    expect_error(lambda: vpc_v2.list_ports(ListPortsRequest(marker=MISSING)), 400, "VPC.2500", "marker")
    expect_error(lambda: vpc_v2.list_ports(ListPortsRequest(fixed_ips=["mac=1"])), 400, "VPC.2500", "fixed_ips")


# ---- update_port: the whole ordered list -----------------------------------------------------


def test_update_port_replaces_ordered_list_and_name(cloud, vpc_v2, ports):
    wanted = [SG["web"], SG["mgmt-ssh"], SG["baseline"]]
    port = update_groups(vpc_v2, PORT_A1, wanted, name="renamed").port
    assert (port.security_groups, port.name) == (wanted, "renamed")
    assert state_groups(cloud, PORT_A1) == wanted
    update_groups(vpc_v2, PORT_A1, name="only-name")
    assert state_groups(cloud, PORT_A1) == wanted


@pytest.mark.parametrize(
    "groups, status, code, message",
    [
        ([], 400, "VPC.0607", "at least one security group"),
        ([SG["web"], MISSING], 404, "VPC.0603", MISSING),
        ([SG["web"], SG["web"]], 400, "VPC.2500", "Duplicate"),
    ],
)
def test_update_port_refusals_leave_state(cloud, vpc_v2, ports, groups, status, code, message):
    before = state_groups(cloud, PORT_A1)
    expect_error(lambda: update_groups(vpc_v2, PORT_A1, groups), status, code, message)
    assert state_groups(cloud, PORT_A1) == before


def test_update_port_per_port_limit(cloud, vpc_v2, ports):
    cloud.settings(max_sgs_per_port=3)
    update_groups(vpc_v2, PORT_A1, [SG["web"], SG["app"], SG["db"]])
    expect_error(
        lambda: update_groups(vpc_v2, PORT_A1, [SG["web"], SG["app"], SG["db"], SG["baseline"]]),
        400,
        "VPC.2500",
        "at most 3",
    )
    assert state_groups(cloud, PORT_A1) == [SG["web"], SG["app"], SG["db"]]


def test_update_port_security_disabled_refused(cloud, vpc_v2, ports):
    port = vpc_v2.show_port(ShowPortRequest(port_id=PORT_B1)).port
    assert port.port_security_enabled is False
    assert port.security_groups == [default_sg(cloud)]  # kept, but not enforced
    expect_error(lambda: update_groups(vpc_v2, PORT_B1, [SG["web"]]), 400, "VPC.2500", "port security")
    assert update_groups(vpc_v2, PORT_B1, name="named-ok").port.name == "named-ok"


def test_update_port_not_found_and_bad_body(vpc_v2, ports):
    expect_error(lambda: update_groups(vpc_v2, MISSING, [SG["web"]]), 404, "VPC.2504")
    expect_error(
        lambda: vpc_v2.update_port(UpdatePortRequest(port_id=PORT_A1, body=UpdatePortRequestBody())),
        400,
        "VPC.2500",
        "'port'",
    )


# ---- security groups ----------------------------------------------------------------------------


def test_list_security_groups_with_rules_and_duplicates(vpc_v2):
    groups = vpc_v2.list_security_groups(ListSecurityGroupsRequest()).security_groups
    names = [g.name for g in groups]
    assert names[0] == "default" and names.count("dup-name") == 2 and len(groups) == 11
    default = groups[0]
    rules = {(r.direction, r.ethertype, r.remote_group_id, r.remote_ip_prefix) for r in default.security_group_rules}
    assert rules == {
        ("ingress", "IPv4", default.id, None),
        ("ingress", "IPv6", default.id, None),
        ("egress", "IPv4", None, "0.0.0.0/0"),
        ("egress", "IPv6", None, "::/0"),
    }
    app = next(g for g in groups if g.id == SG["app"])
    assert [(r.protocol, r.port_range_min, r.port_range_max, r.remote_group_id) for r in app.security_group_rules] == [
        ("tcp", 8080, 8080, SG["web"])
    ]
    dup_no_rules = next(g for g in groups if g.id == DUP_B)
    assert {r.direction for r in dup_no_rules.security_group_rules} == {"egress"}  # a fresh group's rules


def test_list_security_groups_paging_and_vpc_filter(vpc_v2):
    page = vpc_v2.list_security_groups(ListSecurityGroupsRequest(limit=3, marker=SG["baseline"])).security_groups
    assert [g.id for g in page] == [SG["web"], SG["app"], SG["db"]]
    expect_error(lambda: vpc_v2.list_security_groups(ListSecurityGroupsRequest(marker=MISSING)), 400, "VPC.0601")
    expect_error(
        lambda: vpc_v2.list_security_groups(ListSecurityGroupsRequest(vpc_id=MISSING)),
        400,
        "VPC.0601",
        "vpcId is invalid",
    )
    created = create_group(vpc_v2, "bound", vpc_id=VPC_ID).security_group
    assert [g.id for g in vpc_v2.list_security_groups(ListSecurityGroupsRequest(vpc_id=VPC_ID)).security_groups] == [
        created.id
    ]


def test_show_security_group(vpc_v2):
    group = vpc_v2.show_security_group(ShowSecurityGroupRequest(security_group_id=SG["rdp-open"])).security_group
    assert (group.name, group.enterprise_project_id) == ("rdp-open", "0")
    rule = group.security_group_rules[0]
    assert (rule.protocol, rule.port_range_min, rule.port_range_max, rule.remote_ip_prefix) == (
        "tcp",
        3380,
        3390,
        "0.0.0.0/0",
    )
    web = vpc_v2.show_security_group(ShowSecurityGroupRequest(security_group_id=SG["web"])).security_group
    assert [(r.port_range_min, r.port_range_max) for r in web.security_group_rules] == [(None, None), (None, None)]
    expect_error(
        lambda: vpc_v2.show_security_group(ShowSecurityGroupRequest(security_group_id=MISSING)), 404, "VPC.0603"
    )


def test_create_security_group_gets_egress_rules(cloud, vpc_v2):
    group = create_group(vpc_v2, "new-group").security_group
    assert group.name == "new-group" and group.id
    assert sorted((r.direction, r.ethertype, r.remote_ip_prefix) for r in group.security_group_rules) == [
        ("egress", "IPv4", "0.0.0.0/0"),
        ("egress", "IPv6", "::/0"),
    ]
    assert group.id in {g["id"] for g in state_vpc(cloud)["security_groups"]}


@pytest.mark.parametrize("name", ["", "bad name!", "x" * 65, "default"])
def test_create_security_group_bad_name(vpc_v2, name):
    expect_error(lambda: create_group(vpc_v2, name), 409 if name == "default" else 400, "VPC.0601")


def test_create_security_group_quota(cloud, vpc_v2):
    existing = len(state_vpc(cloud)["security_groups"])
    for number in range(100 - existing):
        create_group(vpc_v2, f"q-{number}")
    expect_error(lambda: create_group(vpc_v2, "one-too-many"), 409, "VPC.0604", "security_group")
    assert len(state_vpc(cloud)["security_groups"]) == 100


def test_delete_security_group(cloud, vpc_v2, ports):
    group = create_group(vpc_v2, "short-lived").security_group
    response = vpc_v2.delete_security_group(DeleteSecurityGroupRequest(security_group_id=group.id))
    assert response.status_code == 204
    expect_error(
        lambda: vpc_v2.delete_security_group(DeleteSecurityGroupRequest(security_group_id=group.id)), 404, "VPC.0603"
    )


def test_delete_security_group_in_use_and_default_refused(cloud, vpc_v2, ports):
    expect_error(
        lambda: vpc_v2.delete_security_group(DeleteSecurityGroupRequest(security_group_id=SG["baseline"])),
        409,
        "VPC.0602",
        PORT_A2,
    )
    referenced = create_group(vpc_v2, "referenced").security_group
    create_rule(vpc_v2, security_group_id=SG["mgmt-ssh"], direction="ingress", remote_group_id=referenced.id)
    expect_error(
        lambda: vpc_v2.delete_security_group(DeleteSecurityGroupRequest(security_group_id=referenced.id)),
        409,
        "VPC.0602",
        "remote group",
    )
    default = default_sg(cloud)
    update_groups(vpc_v2, PORT_A1, [SG["web"]])
    expect_error(
        lambda: vpc_v2.delete_security_group(DeleteSecurityGroupRequest(security_group_id=default)),
        409,
        "VPC.0602",
        "default",
    )
    assert {SG["baseline"], SG["web"], default} <= {g["id"] for g in state_vpc(cloud)["security_groups"]}


# ---- rules -------------------------------------------------------------------------------------------


def test_rules_list_show_create_delete(cloud, vpc_v2):
    rules = vpc_v2.list_security_group_rules(ListSecurityGroupRulesRequest(security_group_id=SG["db"]))
    assert [(r.protocol, r.port_range_min, r.remote_group_id) for r in rules.security_group_rules] == [
        ("tcp", 5432, SG["app"]),
        (None, None, None),
    ]
    created = create_rule(
        vpc_v2,
        security_group_id=SG["db"],
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=5432,
        port_range_max=5433,
        remote_ip_prefix="10.0.9.7",
        description="dba",
    ).security_group_rule
    assert (created.remote_ip_prefix, created.port_range_max, created.description) == ("10.0.9.7/32", 5433, "dba")
    shown = vpc_v2.show_security_group_rule(ShowSecurityGroupRuleRequest(security_group_rule_id=created.id))
    assert shown.security_group_rule.security_group_id == SG["db"]
    assert (
        vpc_v2.delete_security_group_rule(DeleteSecurityGroupRuleRequest(security_group_rule_id=created.id)).status_code
        == 204
    )
    expect_error(
        lambda: vpc_v2.show_security_group_rule(ShowSecurityGroupRuleRequest(security_group_rule_id=created.id)),
        404,
        "VPC.0605",
    )
    expect_error(
        lambda: vpc_v2.delete_security_group_rule(DeleteSecurityGroupRuleRequest(security_group_rule_id=created.id)),
        404,
        "VPC.0605",
    )


def test_rule_paging_and_filters(vpc_v2):
    every = vpc_v2.list_security_group_rules(ListSecurityGroupRulesRequest()).security_group_rules
    page = vpc_v2.list_security_group_rules(ListSecurityGroupRulesRequest(limit=2, marker=every[0].id))
    assert [r.id for r in page.security_group_rules] == [every[1].id, every[2].id]
    mgmt = vpc_v2.list_security_group_rules(ListSecurityGroupRulesRequest(remote_ip_prefix="10.0.9.0/24"))
    assert {r.security_group_id for r in mgmt.security_group_rules} == {
        SG["baseline"],
        SG["mgmt-ssh"],
        SG["monitoring"],
    }
    expect_error(
        lambda: vpc_v2.list_security_group_rules(ListSecurityGroupRulesRequest(security_group_id=MISSING)),
        404,
        "VPC.0603",
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"direction": "sideways"}, "direction"),
        ({"direction": "ingress", "ethertype": "IPv5"}, "ethertype"),
        ({"direction": "ingress", "protocol": "smtp"}, "protocol"),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, "port_range_min"),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 80}, "together"),
        ({"direction": "ingress", "port_range_min": 80, "port_range_max": 80}, "tcp, udp"),
        ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/33"}, "CIDR"),
        ({"direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, "ethertype"),
        ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": SG["web"]}, "exclusive"),
    ],
)
def test_create_rule_validation(cloud, vpc_v2, fields, message):
    before = len(state_vpc(cloud)["security_groups"][1]["rules"])
    expect_error(lambda: create_rule(vpc_v2, security_group_id=SG["baseline"], **fields), 400, "VPC.0601", message)
    assert len(state_vpc(cloud)["security_groups"][1]["rules"]) == before


def test_create_rule_unknown_group_or_remote_and_duplicate(vpc_v2):
    expect_error(lambda: create_rule(vpc_v2, security_group_id=MISSING, direction="ingress"), 404, "VPC.0603")
    expect_error(
        lambda: create_rule(vpc_v2, security_group_id=SG["web"], direction="ingress", remote_group_id=MISSING),
        404,
        "VPC.0603",
    )
    fields = dict(
        security_group_id=SG["web"],
        direction="ingress",
        protocol="udp",
        port_range_min=53,
        port_range_max=53,
        remote_ip_prefix="10.0.0.0/16",
    )
    first = create_rule(vpc_v2, **fields).security_group_rule
    expect_error(lambda: create_rule(vpc_v2, **fields), 409, "VPC.0610", first.id)


def test_create_group_bad_body(vpc_v2):
    expect_error(
        lambda: vpc_v2.create_security_group(CreateSecurityGroupRequest(body=CreateSecurityGroupRequestBody())),
        400,
        "VPC.0601",
        "'security_group'",
    )
    expect_error(
        lambda: vpc_v2.create_security_group_rule(
            CreateSecurityGroupRuleRequest(
                body=CreateSecurityGroupRuleRequestBody(
                    security_group_rule=CreateSecurityGroupRuleOption(direction="ingress")
                )
            )
        ),
        400,
        "VPC.0601",
        "security_group_id",
    )

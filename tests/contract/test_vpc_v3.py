"""Contract of the emulated VPC API v3, driven by the official SDK (huaweicloudsdkvpc.v3)."""

from __future__ import annotations

import pytest
from huaweicloudsdkvpc.v2 import ListSecurityGroupRulesRequest as V1ListRulesRequest
from huaweicloudsdkvpc.v3 import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    DeleteSecurityGroupRequest,
    DeleteSecurityGroupRuleRequest,
    InsertSecurityGroupOption,
    ListPortsRequest,
    ListSecurityGroupRulesRequest,
    ListSecurityGroupsRequest,
    RemoveSecurityGroupOption,
    RemoveSecurityGroupsRequest,
    RemoveSecurityGroupsRequestBody,
    ShowPortRequest,
    ShowSecurityGroupRequest,
    ShowSecurityGroupRuleRequest,
    UpdateSecurityGroupOption,
    UpdateSecurityGroupRequest,
    UpdateSecurityGroupRequestBody,
)

from tests.support.vpc_contract import (
    DEVICE_A,
    DEVICE_B,
    MISSING,
    OWNER,
    PORT_A1,
    PORT_A2,
    PORT_B1,
    PROJECT,
    SG,
    SUBNET_APP,
    SUBNET_WEB,
    VPC_ID,
    default_sg,  # noqa: F401
    expect_error,
    last_entry,
    seed_ports,
    state_groups,
    state_vpc,
)


def insert(client, port_id, groups, index=None, dry_run=None):
    body = AddSecurityGroupsRequestBody(
        port=InsertSecurityGroupOption(security_groups=groups, index=index), dry_run=dry_run
    )
    return client.add_security_groups(AddSecurityGroupsRequest(port_id=port_id, body=body))


def remove(client, port_id, groups, dry_run=None):
    body = RemoveSecurityGroupsRequestBody(port=RemoveSecurityGroupOption(security_groups=groups), dry_run=dry_run)
    return client.remove_security_groups(RemoveSecurityGroupsRequest(port_id=port_id, body=body))


def list_groups(client, **query):
    return client.list_security_groups(ListSecurityGroupsRequest(**query))


# ---- ports ----------------------------------------------------------------------------------


def test_show_port_v3_shape(cloud, vpc_v3, ports):
    response = vpc_v3.show_port(ShowPortRequest(port_id=PORT_A2))
    port = response.port
    assert (port.virsubnet_id, port.vpc_id, port.device_id, port.device_owner) == (SUBNET_APP, VPC_ID, DEVICE_A, OWNER)
    subnet = next(s for s in state_vpc(cloud)["subnets"] if s["id"] == SUBNET_APP)
    assert [(ip.subnet_cidr_id, ip.ip_address) for ip in port.private_ips] == [
        (subnet["neutron_subnet_id"], "10.0.2.50")
    ]
    assert port.security_groups == [SG["baseline"]] and port.port_security_enabled is True
    assert (port.project_id, port.status, port.zone_id) == (PROJECT, "ACTIVE", "cn-north-4a")
    assert port.created_at.tzinfo is not None
    assert response.request_id == last_entry(cloud, "GET", PORT_A2)["request_id"]


def test_show_port_not_found_v3_error_body(cloud, vpc_v3):
    error = expect_error(lambda: vpc_v3.show_port(ShowPortRequest(port_id=MISSING)), 404, "VPC.2504", MISSING)
    entry = last_entry(cloud, "GET", MISSING)
    assert (entry["status"], entry["error_code"], entry["request_id"]) == (404, "VPC.2504", error.request_id)


def test_list_ports_filters_and_page_info(vpc_v3, ports):
    def ids(**query):
        return [p.id for p in vpc_v3.list_ports(ListPortsRequest(**query)).ports]

    assert ids(device_id=[DEVICE_A]) == [PORT_A1, PORT_A2]
    assert ids(device_id=[DEVICE_A, DEVICE_B]) == [PORT_A1, PORT_A2, PORT_B1]
    assert ids(private_ips=["ip_address=10.0.2.50"]) == [PORT_A2]
    assert PORT_A1 in ids(virsubnet_id=[SUBNET_WEB], device_owner_prefixlike="compute")
    assert ids(device_owner_prefixlike="neutron") == ["d0000000-0000-4000-8000-0000000000f1"]
    assert ids(security_groups=[SG["web"]], device_id=[DEVICE_A]) == [PORT_A1]
    assert ids(name=["b-eth0"]) == [PORT_B1]
    first = vpc_v3.list_ports(ListPortsRequest(device_id=[DEVICE_A, DEVICE_B], limit=2))
    assert [p.id for p in first.ports] == [PORT_A1, PORT_A2]
    assert (first.page_info.current_count, first.page_info.previous_marker, first.page_info.next_marker) == (
        2,
        PORT_A1,
        PORT_A2,
    )
    last = vpc_v3.list_ports(ListPortsRequest(device_id=[DEVICE_A, DEVICE_B], limit=2, marker=PORT_A2))
    assert [p.id for p in last.ports] == [PORT_B1] and last.page_info.next_marker is None
    expect_error(lambda: vpc_v3.list_ports(ListPortsRequest(marker=MISSING)), 400, "VPC.2500", "marker")
    expect_error(lambda: vpc_v3.list_ports(ListPortsRequest(limit=5000)), 400, "VPC.2500", "limit")


# ---- insert-security-groups ---------------------------------------------------------------------


def test_insert_at_index_zero_and_append(cloud, vpc_v3, ports):
    default = default_sg(cloud)
    response = insert(vpc_v3, PORT_A1, [SG["mgmt-ssh"]], index=0)
    assert response.status_code == 200 and response.request_id
    assert response.port.security_groups == [SG["mgmt-ssh"], default, SG["web"]]
    insert(vpc_v3, PORT_A1, [SG["baseline"], SG["monitoring"]])  # index omitted: append
    assert state_groups(cloud, PORT_A1) == [SG["mgmt-ssh"], default, SG["web"], SG["baseline"], SG["monitoring"]]
    insert(vpc_v3, PORT_A1, [SG["app"]], index=1)
    assert state_groups(cloud, PORT_A1)[:3] == [SG["mgmt-ssh"], SG["app"], default]


def test_insert_index_past_the_end_appends(cloud, vpc_v3, ports):
    insert(vpc_v3, PORT_A2, [SG["web"]], index=99)
    assert state_groups(cloud, PORT_A2) == [SG["baseline"], SG["web"]]


@pytest.mark.parametrize(
    "groups, index, status, code, message",
    [
        (["web"], None, 404, "VPC.0603", "web"),  # names are not ids
        ([MISSING], 0, 404, "VPC.0603", MISSING),
        ([SG["web"]], 0, 400, "VPC.2500", "already associated"),
        ([SG["app"], SG["app"]], 0, 400, "VPC.2500", "Duplicate"),
        ([], 0, 400, "VPC.2500", "non-empty"),
        ([SG["app"]], -1, 400, "VPC.2500", "index"),
    ],
)
def test_insert_refusals_leave_state(cloud, vpc_v3, ports, groups, index, status, code, message):
    before = state_groups(cloud, PORT_A1)
    expect_error(lambda: insert(vpc_v3, PORT_A1, groups, index=index), status, code, message)
    assert state_groups(cloud, PORT_A1) == before


def test_insert_over_the_per_port_limit(cloud, vpc_v3, ports):
    cloud.settings(max_sgs_per_port=3)
    insert(vpc_v3, PORT_A1, [SG["app"]])
    expect_error(lambda: insert(vpc_v3, PORT_A1, [SG["db"]]), 400, "VPC.2500", "at most 3")
    assert len(state_groups(cloud, PORT_A1)) == 3


def test_insert_on_unknown_port_and_port_security_disabled(cloud, vpc_v3, ports):
    expect_error(lambda: insert(vpc_v3, MISSING, [SG["web"]]), 404, "VPC.2504")
    expect_error(lambda: insert(vpc_v3, PORT_B1, [SG["web"]]), 400, "VPC.2500", "port security")
    expect_error(lambda: remove(vpc_v3, PORT_B1, [default_sg(cloud)]), 400, "VPC.2500", "port security")


def test_insert_dry_run_is_202_and_changes_nothing(cloud, vpc_v3, ports):
    before = state_groups(cloud, PORT_A1)
    response = insert(vpc_v3, PORT_A1, [SG["app"]], index=0, dry_run=True)
    assert (response.status_code, response.port, response.raw_content) == (202, None, b"")
    assert state_groups(cloud, PORT_A1) == before
    expect_error(lambda: insert(vpc_v3, PORT_A1, [SG["web"]], dry_run=True), 400, "VPC.2500", "already")
    assert insert(vpc_v3, PORT_A1, [SG["app"]], index=0, dry_run=False).port.security_groups[0] == SG["app"]


# ---- remove-security-groups ----------------------------------------------------------------------


def test_remove_groups(cloud, vpc_v3, ports):
    default = default_sg(cloud)
    insert(vpc_v3, PORT_A1, [SG["app"], SG["db"]])
    response = remove(vpc_v3, PORT_A1, [SG["web"], SG["db"]])
    assert response.port.security_groups == [default, SG["app"]]
    assert state_groups(cloud, PORT_A1) == [default, SG["app"]]


def test_remove_refusals(cloud, vpc_v3, ports):
    before = state_groups(cloud, PORT_A1)
    expect_error(lambda: remove(vpc_v3, PORT_A1, before), 400, "VPC.0607", "at least one security group")
    expect_error(lambda: remove(vpc_v3, PORT_A1, [SG["db"]]), 400, "VPC.2500", "not associated")
    expect_error(lambda: remove(vpc_v3, PORT_A1, [MISSING]), 404, "VPC.0603")
    expect_error(lambda: remove(vpc_v3, PORT_A1, []), 400, "VPC.2500")
    expect_error(lambda: remove(vpc_v3, MISSING, [SG["web"]]), 404, "VPC.2504")
    expect_error(lambda: remove(vpc_v3, PORT_A2, [SG["baseline"]]), 400, "VPC.0607")  # its only group
    assert state_groups(cloud, PORT_A1) == before and state_groups(cloud, PORT_A2) == [SG["baseline"]]


def test_remove_dry_run(cloud, vpc_v3, ports):
    response = remove(vpc_v3, PORT_A1, [SG["web"]], dry_run=True)
    assert (response.status_code, response.port) == (202, None)
    assert SG["web"] in state_groups(cloud, PORT_A1)
    expect_error(lambda: remove(vpc_v3, PORT_A2, [SG["baseline"]], dry_run=True), 400, "VPC.0607")


def test_insert_body_errors(vpc_v3, ports):
    expect_error(
        lambda: vpc_v3.add_security_groups(
            AddSecurityGroupsRequest(port_id=PORT_A1, body=AddSecurityGroupsRequestBody(dry_run=True))
        ),
        400,
        "VPC.2500",
        "'port'",
    )
    expect_error(lambda: vpc_v3.add_security_groups(AddSecurityGroupsRequest(port_id=PORT_A1)), 400, "VPC.2500")


# ---- security groups -------------------------------------------------------------------------


def test_list_groups_filters(cloud, vpc_v3):
    response = list_groups(vpc_v3, name=["dup-name"])
    assert [g.id for g in response.security_groups] == [SG["dup-name"], "a0000000-0000-4000-8000-00000000000a"]
    assert response.page_info.current_count == 2 and response.request_id
    assert [g.name for g in list_groups(vpc_v3, name=["default"]).security_groups] == ["default"]
    assert [g.name for g in list_groups(vpc_v3, id=[SG["web"], SG["db"]]).security_groups] == ["web", "db"]
    described = list_groups(vpc_v3, description=["SSH from anywhere (risky)"]).security_groups
    assert [g.id for g in described] == [SG["ssh-open"]]
    assert list_groups(vpc_v3, name=["nope"]).security_groups == []


def test_list_groups_enterprise_projects(cloud, vpc_v3):
    cloud.seed(
        {
            "projects": [
                {
                    "id": PROJECT,
                    "security_groups": [
                        {"name": "ep-group", "enterprise_project_id": "5e1b9c6c-0000-4000-8000-000000000001"}
                    ],
                }
            ]
        }
    )
    assert [
        g.name
        for g in list_groups(vpc_v3, enterprise_project_id="5e1b9c6c-0000-4000-8000-000000000001").security_groups
    ] == ["ep-group"]
    assert "ep-group" not in [g.name for g in list_groups(vpc_v3, enterprise_project_id="0").security_groups]
    every = list_groups(vpc_v3, enterprise_project_id="all_granted_eps").security_groups
    assert len(every) == 12 and "ep-group" in [g.name for g in every]


def test_list_groups_paging_walk(vpc_v3):
    seen, marker = [], None
    while True:
        response = list_groups(vpc_v3, limit=4, marker=marker)
        seen.extend(g.id for g in response.security_groups)
        marker = response.page_info.next_marker
        if marker is None:
            break
    assert len(seen) == len(set(seen)) == 11
    assert seen == [g.id for g in list_groups(vpc_v3).security_groups]
    expect_error(lambda: list_groups(vpc_v3, marker=MISSING), 400, "VPC.0601")
    expect_error(lambda: list_groups(vpc_v3, limit=-1), 400, "VPC.0601")


def test_show_group_rules_v3_fields(vpc_v3):
    group = vpc_v3.show_security_group(ShowSecurityGroupRequest(security_group_id=SG["db"])).security_group
    rules = [
        (r.direction, r.protocol, r.multiport, r.action, r.priority, r.remote_group_id, r.remote_ip_prefix)
        for r in group.security_group_rules
    ]
    assert rules == [
        ("ingress", "tcp", "5432", "allow", 1, SG["app"], None),
        ("ingress", None, None, "deny", 100, None, "0.0.0.0/0"),
    ]
    assert all(r.ethertype == "IPv4" and r.security_group_id == SG["db"] for r in group.security_group_rules)
    web = vpc_v3.show_security_group(ShowSecurityGroupRequest(security_group_id=SG["web"])).security_group
    assert [r.multiport for r in web.security_group_rules] == ["80,443", "80,443"]
    expect_error(
        lambda: vpc_v3.show_security_group(ShowSecurityGroupRequest(security_group_id=MISSING)), 404, "VPC.0603"
    )


def test_create_update_delete_group_v3(cloud, vpc_v3):
    body = CreateSecurityGroupRequestBody(
        security_group=CreateSecurityGroupOption(name="v3-group", description="made in v3")
    )
    response = vpc_v3.create_security_group(CreateSecurityGroupRequest(body=body))
    group = response.security_group
    assert (response.status_code, group.name, group.description) == (201, "v3-group", "made in v3")
    assert {r.direction for r in group.security_group_rules} == {"egress"}
    renamed = vpc_v3.update_security_group(
        UpdateSecurityGroupRequest(
            security_group_id=group.id,
            body=UpdateSecurityGroupRequestBody(security_group=UpdateSecurityGroupOption(name="v3-renamed")),
        )
    )
    assert renamed.security_group.name == "v3-renamed"
    assert vpc_v3.delete_security_group(DeleteSecurityGroupRequest(security_group_id=group.id)).status_code == 204
    assert group.id not in {g["id"] for g in state_vpc(cloud)["security_groups"]}


def test_create_group_v3_dry_run_and_default_is_protected(cloud, vpc_v3):
    count = len(state_vpc(cloud)["security_groups"])
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name="dry"), dry_run=True)
    assert vpc_v3.create_security_group(CreateSecurityGroupRequest(body=body)).status_code == 202
    assert len(state_vpc(cloud)["security_groups"]) == count
    default = default_sg(cloud)
    expect_error(
        lambda: vpc_v3.update_security_group(
            UpdateSecurityGroupRequest(
                security_group_id=default,
                body=UpdateSecurityGroupRequestBody(security_group=UpdateSecurityGroupOption(name="not-default")),
            )
        ),
        409,
        "VPC.0602",
        "default",
    )
    expect_error(
        lambda: vpc_v3.delete_security_group(DeleteSecurityGroupRequest(security_group_id=default)), 409, "VPC.0602"
    )


# ---- rules ------------------------------------------------------------------------------------------


def create_rule(client, dry_run=None, **fields):
    body = CreateSecurityGroupRuleRequestBody(
        security_group_rule=CreateSecurityGroupRuleOption(**fields), dry_run=dry_run
    )
    return client.create_security_group_rule(CreateSecurityGroupRuleRequest(body=body))


def test_rule_lifecycle_v3_and_v1_view(cloud, vpc_v2, vpc_v3):
    response = create_rule(
        vpc_v3,
        security_group_id=SG["web"],
        direction="ingress",
        protocol="TCP",
        multiport="8443,8000-8080",
        remote_ip_prefix="192.168.0.0/16",
        action="deny",
        priority=5,
        description="blocked",
    )
    rule = response.security_group_rule
    assert response.status_code == 201
    assert (rule.protocol, rule.multiport, rule.action, rule.priority, rule.ethertype) == (
        "tcp",
        "8443,8000-8080",
        "deny",
        5,
        "IPv4",
    )
    shown = vpc_v3.show_security_group_rule(ShowSecurityGroupRuleRequest(security_group_rule_id=rule.id))
    assert shown.security_group_rule.description == "blocked"
    v1_rules = vpc_v2.list_security_group_rules(V1ListRulesRequest(security_group_id=SG["web"]))
    v1_rule = next(r for r in v1_rules.security_group_rules if r.id == rule.id)
    assert (v1_rule.port_range_min, v1_rule.port_range_max) == (None, None)  # v1 cannot show two ranges
    listed = vpc_v3.list_security_group_rules(
        ListSecurityGroupRulesRequest(security_group_id=[SG["web"]], action="deny")
    )
    assert [r.id for r in listed.security_group_rules] == [rule.id]
    expect_error(
        lambda: create_rule(
            vpc_v3,
            security_group_id=SG["web"],
            direction="ingress",
            protocol="tcp",
            multiport="8443,8000-8080",
            remote_ip_prefix="192.168.0.0/16",
            action="deny",
            priority=5,
        ),
        409,
        "VPC.0610",
        rule.id,
    )
    assert (
        vpc_v3.delete_security_group_rule(DeleteSecurityGroupRuleRequest(security_group_rule_id=rule.id)).status_code
        == 204
    )
    expect_error(
        lambda: vpc_v3.show_security_group_rule(ShowSecurityGroupRuleRequest(security_group_rule_id=rule.id)),
        404,
        "VPC.0605",
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"priority": 0}, "priority"),
        ({"priority": 101}, "priority"),
        ({"action": "reject"}, "action"),
        ({"protocol": "tcp", "multiport": "0-10"}, "multiport"),
        ({"protocol": "tcp", "multiport": "80,x"}, "multiport"),
        ({"protocol": "icmp", "multiport": "8"}, "ICMP"),
        ({"multiport": "22"}, "tcp, udp"),
    ],
)
def test_rule_validation_v3(vpc_v3, fields, message):
    expect_error(
        lambda: create_rule(vpc_v3, security_group_id=SG["web"], direction="ingress", **fields),
        400,
        "VPC.0601",
        message,
    )


def test_rule_dry_run_v3(cloud, vpc_v3):
    before = len(cloud.state()["projects"][PROJECT]["vpc"]["security_groups"][2]["rules"])
    response = create_rule(vpc_v3, dry_run=True, security_group_id=SG["web"], direction="egress", protocol="udp")
    assert response.status_code == 202
    assert len(cloud.state()["projects"][PROJECT]["vpc"]["security_groups"][2]["rules"]) == before


def test_seeded_ports_allocate_distinct_addresses(cloud, vpc_v3):
    extra = [
        {"name": f"x{n}", "subnet": "subnet-web", "device_id": f"dev-{n}", "device_owner": OWNER} for n in range(5)
    ]
    seed_ports(cloud, extra)
    addresses = [
        p.private_ips[0].ip_address for p in vpc_v3.list_ports(ListPortsRequest(virsubnet_id=[SUBNET_WEB])).ports
    ]
    assert len(addresses) == len(set(addresses)) == 7
    assert "10.0.1.1" not in addresses and "10.0.1.0" not in addresses

"""ECS reads: show_server (fields, addresses from the VPC ports, the security-group aggregate),
list_servers_details filters and paging, interfaces, server tags."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from huaweicloudsdkecs.v2 import (
    BatchAddServerTag,
    BatchCreateServerTagsRequest,
    BatchCreateServerTagsRequestBody,
    BatchDeleteServerTagsRequest,
    BatchDeleteServerTagsRequestBody,
    ListServerInterfacesRequest,
    ListServersDetailsRequest,
    ServerTag,
    ShowServerTagsRequest,
)
from huaweicloudsdkvpc.v2 import ListPortsRequest, UpdatePortOption, UpdatePortRequest, UpdatePortRequestBody
from huaweicloudsdkvpc.v3 import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    InsertSecurityGroupOption,
    RemoveSecurityGroupOption,
    RemoveSecurityGroupsRequest,
    RemoveSecurityGroupsRequestBody,
)

from tests.support.ecs_contract import (
    DB_01,
    LEGACY_APP,
    SG_APP,
    SG_WEB,
    SUBNET_APP,
    SUBNET_MGMT,
    SUBNET_WEB,
    VPC_ID,
    create,
    show,
    wait_job,
)


def _list(ecs, **query):
    return ecs.list_servers_details(ListServersDetailsRequest(**query))


def test_show_server_of_a_seeded_server(cloud, ecs, vpc_v2):
    server = show(ecs, LEGACY_APP)
    assert server.id == LEGACY_APP and server.name == "legacy-app-01"
    assert server.status == "ACTIVE" and server.os_ext_st_spower_state == 1
    assert server.os_ext_a_zavailability_zone == "cn-north-4a"
    assert sorted(server.tags) == ["env=prod", "role=app"]
    assert server.enterprise_project_id == "0"
    assert server.metadata["vpc_id"] == VPC_ID
    assert server.flavor.id == "s6.large.2"
    assert server.tenant_id == cloud.project_id
    assert server.image.id and server.created and server.updated and server.host_id
    assert server.os_ext_srv_att_rinstance_name.startswith("instance-")
    assert server.os_extended_volumesvolumes_attached[0].device == "/dev/vda"
    assert server.sys_tags[0].key == "_sys_enterprise_project_id"
    addresses = server.addresses[VPC_ID]
    assert [(a.addr, a.os_ext_ip_sport_id, a.primary, a.os_ext_ip_stype, a.version) for a in addresses] == [
        ("10.0.2.10", "d0000000-0000-4000-8000-000000000001", True, "fixed", "4"),
        ("10.0.9.10", "d0000000-0000-4000-8000-000000000002", False, "fixed", "4"),
    ]
    ports = {port.id: port for port in vpc_v2.list_ports(ListPortsRequest(device_id=LEGACY_APP)).ports}
    assert set(ports) == {a.os_ext_ip_sport_id for a in addresses}
    assert all(ports[a.os_ext_ip_sport_id].mac_address == a.os_ext_ips_ma_cmac_addr for a in addresses)
    # Aggregate of both NICs' groups, first seen first: [default, app] + [default].
    assert [g.name for g in server.security_groups] == ["default", "app"]
    assert show(ecs, DB_01).status == "SHUTOFF"


def test_security_group_aggregate_follows_the_ports(cloud, ecs, vpc_v2, vpc_v3):
    port_id = "d0000000-0000-4000-8000-000000000002"  # legacy-app-01's second NIC: [default]
    vpc_v3.add_security_groups(
        AddSecurityGroupsRequest(
            port_id=port_id,
            body=AddSecurityGroupsRequestBody(port=InsertSecurityGroupOption(security_groups=[SG_WEB], index=0)),
        )
    )
    assert [g.name for g in show(ecs, LEGACY_APP).security_groups] == ["default", "app", "web"]
    first = "d0000000-0000-4000-8000-000000000001"
    vpc_v2.update_port(
        UpdatePortRequest(port_id=first, body=UpdatePortRequestBody(port=UpdatePortOption(security_groups=[SG_APP])))
    )
    assert [g.name for g in show(ecs, LEGACY_APP).security_groups] == ["app", "web", "default"]
    vpc_v3.remove_security_groups(
        RemoveSecurityGroupsRequest(
            port_id=port_id,
            body=RemoveSecurityGroupsRequestBody(port=RemoveSecurityGroupOption(security_groups=[SG_WEB])),
        )
    )
    assert [g.name for g in show(ecs, LEGACY_APP).security_groups] == ["app", "default"]


def test_aggregate_is_the_union_of_what_the_vpc_ports_carry(cloud, ecs, vpc_v2):
    # db-01's second NIC has port security disabled: the aggregate shows what the VPC port lists.
    expected = []
    for port in vpc_v2.list_ports(ListPortsRequest(device_id=DB_01)).ports:
        expected += [sg for sg in port.security_groups if sg not in expected]
    assert [g.id for g in show(ecs, DB_01).security_groups] == expected
    assert show(ecs, DB_01).security_groups[0].name == "db"


def test_list_server_interfaces(cloud, ecs, vpc_v2):
    attachments = ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=LEGACY_APP)).interface_attachments
    ports = vpc_v2.list_ports(ListPortsRequest(device_id=LEGACY_APP)).ports
    assert [a.port_id for a in attachments] == [p.id for p in ports]
    first = attachments[0]
    assert first.net_id == SUBNET_APP
    assert first.fixed_ips[0].ip_address == "10.0.2.10"
    assert first.fixed_ips[0].subnet_id == ports[0].fixed_ips[0].subnet_id  # the neutron subnet id
    assert first.mac_addr == ports[0].mac_address and first.port_state == "ACTIVE"
    assert attachments[1].net_id == SUBNET_MGMT


def test_list_details_with_filters(cloud, ecs):
    cloud.settings(build_delay_ms=0)
    batch = create(ecs, "web-node", count=3, tags={"env": "dev"})
    single = create(ecs, "app-node", subnets=(SUBNET_APP,), ip_address="10.0.2.55", tags={"env": "prod"})
    everything = _list(ecs)
    assert everything.count == 6
    assert everything.servers[0].id == single.server_ids[0]  # newest first
    assert _list(ecs, name="web-node").count == 3
    assert {s.name for s in _list(ecs, name="^legacy").servers} == {"legacy-app-01"}
    assert _list(ecs, name="node-000[12]").count == 2
    assert {s.name for s in _list(ecs, status="SHUTOFF").servers} == {"db-01"}
    assert _list(ecs, tags="env=prod").count == 3
    assert _list(ecs, tags="env=dev").count == 3
    assert _list(ecs, not_tags="env=dev").count == 3
    assert [s.name for s in _list(ecs, ip="10.0.2.55").servers] == ["app-node"]
    assert {s.name for s in _list(ecs, ip="10.0.2.").servers} == {"app-node", "legacy-app-01", "db-01"}
    assert [s.name for s in _list(ecs, ip_eq="10.0.2.10").servers] == ["legacy-app-01"]
    assert _list(ecs, flavor="s6.xlarge.4").servers[0].name == "db-01"
    assert _list(ecs, enterprise_project_id="0").count == 6
    assert _list(ecs, enterprise_project_id="other-ep").count == 0
    assert _list(ecs, enterprise_project_id="all_granted_eps").count == 6
    reservation = show(ecs, batch.server_ids[0]).os_ext_srv_att_rreservation_id
    assert _list(ecs, reservation_id=reservation).count == 3


def test_list_details_paging(cloud, ecs):
    cloud.settings(build_delay_ms=0)
    create(ecs, "page", count=5)
    all_ids = [s.id for s in _list(ecs, limit=100).servers]
    assert len(all_ids) == 7
    first, second = _list(ecs, limit=3, offset=1), _list(ecs, limit=3, offset=2)
    assert first.count == 7 and [s.id for s in first.servers] == all_ids[:3]
    assert [s.id for s in second.servers] == all_ids[3:6]
    assert [s.id for s in _list(ecs, limit=3, offset=0).servers] == all_ids[:3]  # 0 is page 1
    assert [s.id for s in _list(ecs, limit=2, marker=all_ids[1]).servers] == all_ids[2:4]


def test_list_details_by_server_id(cloud, ecs):
    missing = "c0000000-0000-4000-8000-0000000000ff"
    result = _list(ecs, server_id=f"{LEGACY_APP},{missing}")
    assert [s.id for s in result.servers] == [LEGACY_APP, missing]
    assert result.servers[0].name == "legacy-app-01"
    assert result.servers[1].name is None and result.servers[1].fault["code"] == 404


def test_server_tags_create_and_delete(cloud, ecs):
    tags = ecs.show_server_tags(ShowServerTagsRequest(server_id=LEGACY_APP)).tags
    assert {(t.key, t.value) for t in tags} == {("env", "prod"), ("role", "app")}
    ecs.batch_create_server_tags(
        BatchCreateServerTagsRequest(
            server_id=LEGACY_APP,
            body=BatchCreateServerTagsRequestBody(
                action="create",
                tags=[BatchAddServerTag(key="owner", value="ops"), BatchAddServerTag(key="env", value="dr")],
            ),
        )
    )
    tags = ecs.show_server_tags(ShowServerTagsRequest(server_id=LEGACY_APP)).tags
    assert {(t.key, t.value) for t in tags} == {("env", "dr"), ("role", "app"), ("owner", "ops")}
    assert sorted(show(ecs, LEGACY_APP).tags) == ["env=dr", "owner=ops", "role=app"]
    ecs.batch_delete_server_tags(
        BatchDeleteServerTagsRequest(
            server_id=LEGACY_APP,
            body=BatchDeleteServerTagsRequestBody(
                action="delete", tags=[ServerTag(key="role", value="app"), ServerTag(key="nope", value="x")]
            ),
        )
    )
    tags = ecs.show_server_tags(ShowServerTagsRequest(server_id=LEGACY_APP)).tags
    assert {(t.key, t.value) for t in tags} == {("env", "dr"), ("owner", "ops")}


@pytest.mark.parametrize("subnet", [SUBNET_WEB])
def test_new_server_addresses_match_its_vpc_ports(cloud, ecs, vpc_v2, subnet):
    cloud.settings(build_delay_ms=0)
    response = create(ecs, "addr", subnets=(subnet, SUBNET_MGMT))
    wait_job(ecs, response.job_id)
    server = show(ecs, response.server_ids[0])
    ports = vpc_v2.list_ports(ListPortsRequest(device_id=server.id)).ports
    assert [a.os_ext_ip_sport_id for a in server.addresses[VPC_ID]] == [p.id for p in ports]
    assert [a.primary for a in server.addresses[VPC_ID]] == [True, False]
    assert all(p.device_owner == "compute:cn-north-4a" for p in ports)


def test_created_is_the_seeds_for_a_seeded_server_and_now_for_a_new_one(cloud, ecs):
    # issue 19: ecs_created acts only on new servers, so the emulator must tell old from new
    assert show(ecs, LEGACY_APP).created == "2025-03-01T10:00:00Z"  # the seed's default: long-running
    summary = cloud.seed(
        {
            "projects": [
                {
                    "id": cloud.project_id,
                    "servers": [
                        {
                            "name": "dated",
                            "created": "2026-01-02T03:04:05Z",
                            "nics": [{"subnet": "subnet-app"}],
                        }
                    ],
                }
            ]
        }
    )
    dated = summary["projects"][cloud.project_id]["servers"]["dated"]
    assert show(ecs, dated).created == "2026-01-02T03:04:05Z"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    [server_id] = create(ecs, "fresh").server_ids
    created = datetime.fromisoformat(show(ecs, server_id).created.replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc)


def test_a_seed_with_a_malformed_created_is_refused(cloud):
    server = {"name": "x", "created": "yesterday", "nics": [{"subnet": "subnet-app"}]}
    with pytest.raises(Exception, match=r"InvalidSeed.*created") as caught:
        cloud.seed({"projects": [{"id": cloud.project_id, "servers": [server]}]})
    assert "created" in str(caught.value)

"""localcloud lists like the VPC API across enterprise projects (docs/fidelity.md): without
``enterprise_project_id`` only the default enterprise project "0"; ``all_granted_eps`` every one;
an id exactly that one. Through the official SDK over HTTP."""

from __future__ import annotations

from huaweicloudsdkvpc.v2.model import ListPortsRequest
from huaweicloudsdkvpc.v2.model import ListSecurityGroupsRequest as V1ListSecurityGroupsRequest
from huaweicloudsdkvpc.v3.model import ListSecurityGroupsRequest

from tests.support.enterprise import EP2, EP2_BASELINE, EP2_PORT, EP2_SERVER, EP2_WEB, seed_second_enterprise_project

EP2_GROUPS = {EP2_WEB, EP2_BASELINE}


def _v3_ids(vpc_v3, **query) -> set[str]:
    return {g.id for g in vpc_v3.list_security_groups(ListSecurityGroupsRequest(limit=2000, **query)).security_groups}


def _v1_ids(vpc_v2, **query) -> set[str]:
    return {g.id for g in vpc_v2.list_security_groups(V1ListSecurityGroupsRequest(**query)).security_groups}


def test_v3_groups_without_the_parameter_are_the_default_enterprise_projects(cloud, vpc_v3):
    seed_second_enterprise_project(cloud)
    default_only = _v3_ids(vpc_v3)
    assert default_only and not default_only & EP2_GROUPS
    assert _v3_ids(vpc_v3, enterprise_project_id="0") == default_only
    assert _v3_ids(vpc_v3, enterprise_project_id=EP2) == EP2_GROUPS
    assert _v3_ids(vpc_v3, enterprise_project_id="all_granted_eps") == default_only | EP2_GROUPS


def test_v1_groups_filter_the_same_way(cloud, vpc_v2):
    seed_second_enterprise_project(cloud)
    default_only = _v1_ids(vpc_v2)
    assert default_only and not default_only & EP2_GROUPS
    assert _v1_ids(vpc_v2, enterprise_project_id=EP2) == EP2_GROUPS
    assert _v1_ids(vpc_v2, enterprise_project_id="all_granted_eps") == default_only | EP2_GROUPS


def test_v1_ports_of_a_server_in_another_enterprise_project(cloud, vpc_v2):
    seed_second_enterprise_project(cloud)

    def ports(**query):
        return [p.id for p in vpc_v2.list_ports(ListPortsRequest(device_id=EP2_SERVER, **query)).ports]

    assert ports() == []
    assert ports(enterprise_project_id="all_granted_eps") == [EP2_PORT]
    assert ports(enterprise_project_id=EP2) == [EP2_PORT]


def test_a_group_is_shown_by_id_whatever_its_enterprise_project(cloud, vpc_v3):
    from huaweicloudsdkvpc.v3.model import ShowSecurityGroupRequest

    seed_second_enterprise_project(cloud)
    group = vpc_v3.show_security_group(ShowSecurityGroupRequest(EP2_WEB)).security_group
    assert (group.name, group.enterprise_project_id) == ("ep2-web", EP2)

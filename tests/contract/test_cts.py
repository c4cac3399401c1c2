"""localcloud's CTS against the official SDK (huaweicloudsdkcts): ListOperations answers the
trace names per service and resource type as the API reference documents (cts_api_0332), and
ListTraces answers the traces localcloud's own changes produced, newest first, paged by marker."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3.model import ListOperationsRequest, ListTracesRequest

from tests.support.sdk import cts_client, vpc_v3_client
from tests.support.vpc_contract import PORT_A2, SG


def test_list_operations_by_service_and_resource(cloud):
    answer = cts_client(cloud).list_operations(ListOperationsRequest(service_type="ECS", resource_type="ecs"))
    body = answer.to_json_object()
    assert set(body) == {"operations"}
    [ecs] = body["operations"]
    assert (ecs["service_type"], ecs["resource_type"]) == ("ECS", "ecs")
    assert {"createServer", "createServerV2", "createServerV21"} <= set(ecs["operation_list"])
    # the SDK's model reads it too
    assert answer.operations[0].operation_list == ecs["operation_list"]


def test_list_operations_of_a_service_and_of_all(cloud):
    vpc = cts_client(cloud).list_operations(ListOperationsRequest(service_type="VPC")).to_json_object()
    assert {item["resource_type"] for item in vpc["operations"]} >= {"ports", "security-group-rules"}
    every = cts_client(cloud).list_operations(ListOperationsRequest()).to_json_object()
    assert {item["service_type"] for item in every["operations"]} >= {"ECS", "VPC"}


def test_resource_type_without_service_type_is_refused(cloud):
    with pytest.raises(ClientRequestException) as raised:
        cts_client(cloud).list_operations(ListOperationsRequest(resource_type="ecs"))
    assert raised.value.status_code == 400 and raised.value.error_code.startswith("CTS.")


def test_a_replaced_catalog(cloud):
    cloud.cts_operations([{"service_type": "ECS", "resource_type": "ecs", "operation_list": ["createServer"]}])
    body = cts_client(cloud).list_operations(ListOperationsRequest(service_type="ECS")).to_json_object()
    assert body == {"operations": [{"service_type": "ECS", "resource_type": "ecs", "operation_list": ["createServer"]}]}


def test_list_traces_answers_the_traces_of_changes_made(cloud, ports):
    from huaweicloudsdkvpc.v3.model import (
        AddSecurityGroupsRequest,
        AddSecurityGroupsRequestBody,
        InsertSecurityGroupOption,
    )

    body = AddSecurityGroupsRequestBody(port=InsertSecurityGroupOption(security_groups=[SG["web"]]))
    vpc_v3_client(cloud).add_security_groups(AddSecurityGroupsRequest(PORT_A2, body))
    answer = cts_client(cloud).list_traces(ListTracesRequest(trace_type="system", service_type="VPC", limit=10))
    raw = answer.to_json_object()
    assert raw["meta_data"]["count"] == len(raw["traces"]) >= 1
    trace = raw["traces"][0]
    assert (trace["service_type"], trace["resource_type"], trace["trace_name"]) == ("VPC", "ports", "addSecurityGroups")
    assert trace["resource_id"] == PORT_A2 and isinstance(trace["request"], str)


def test_list_traces_pages_by_marker_newest_first(cloud):
    cloud.cts_traces(
        [{"trace_id": f"t{n}", "service_type": "ECS", "trace_name": "createServer", "time": n} for n in range(5)]
    )
    client = cts_client(cloud)
    first = client.list_traces(ListTracesRequest(trace_type="system", service_type="ECS", limit=2)).to_json_object()
    assert [t["trace_id"] for t in first["traces"]] == ["t4", "t3"] and first["meta_data"]["marker"]
    second = client.list_traces(
        ListTracesRequest(trace_type="system", service_type="ECS", limit=2, next=first["meta_data"]["marker"])
    ).to_json_object()
    assert [t["trace_id"] for t in second["traces"]] == ["t2", "t1"]
    window = client.list_traces(
        ListTracesRequest(trace_type="system", service_type="ECS", _from=1, to=3, limit=10)
    ).to_json_object()
    assert [t["trace_id"] for t in window["traces"]] == ["t3", "t2"]
    assert json.dumps(window)  # plain JSON


def test_a_limit_out_of_range_is_refused(cloud):
    with pytest.raises(ClientRequestException) as raised:
        cts_client(cloud).list_traces(ListTracesRequest(trace_type="system", limit=500))
    assert raised.value.status_code == 400

"""CTS ListTraces' query filters through the official SDK ("Querying a Trace List", cts_api_0311):
``resource_id``, ``resource_name``, ``trace_id``, ``trace_rating`` compared as written, ``user`` by
the user's name; what ``sgguard history`` reads per interface."""

from __future__ import annotations

import pytest
from huaweicloudsdkcts.v3.model import ListTracesRequest

from tests.support.sdk import cts_client

TRACES = [
    {"trace_id": "t1", "service_type": "VPC", "resource_type": "ports", "resource_id": "p1", "resource_name": "a",
     "trace_name": "addSecurityGroups", "trace_rating": "normal", "user": {"name": "alice"}, "time": 1},
    {"trace_id": "t2", "service_type": "VPC", "resource_type": "ports", "resource_id": "p2", "resource_name": "b",
     "trace_name": "removeSecurityGroups", "trace_rating": "warning", "user": {"name": "bob"}, "time": 2},
    {"trace_id": "t3", "service_type": "VPC", "resource_type": "ports", "resource_id": "p1", "resource_name": "a",
     "trace_name": "updatePort", "trace_rating": "normal", "user": {"name": "bob"}, "time": 3},
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"resource_id": "p1"}, ["t3", "t1"]),
        ({"resource_id": "P1"}, []),  # ids as written
        ({"resource_name": "b"}, ["t2"]),
        ({"trace_id": "t1"}, ["t1"]),
        ({"trace_rating": "warning"}, ["t2"]),
        ({"user": "bob"}, ["t3", "t2"]),
        ({"user": "bob", "resource_id": "p1"}, ["t3"]),
        ({"trace_name": "updatePort", "resource_id": "p2"}, []),
    ],
)
def test_list_traces_filters(cloud, query, expected):
    cloud.cts_traces(TRACES)
    request = ListTracesRequest(trace_type="system", service_type="VPC", limit=10, **query)
    answer = cts_client(cloud).list_traces(request).to_json_object()
    assert [t["trace_id"] for t in answer["traces"]] == expected

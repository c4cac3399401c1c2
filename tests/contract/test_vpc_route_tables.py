"""localcloud's VPC route tables against the official SDK (huaweicloudsdkvpc v2): ListRouteTables
by subnet and by VPC (no routes in the listing: RouteTableListResp), ShowRouteTable with the routes
(RouteTableRoute), a route added through the control API, 404 for an unknown table."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkvpc.v2.model import ListRouteTablesRequest, ListSubnetsRequest, ShowRouteTableRequest

from tests.support.sdk import vpc_v2_client


def test_list_by_subnet_and_show_with_routes(cloud):
    client = vpc_v2_client(cloud)
    subnet = client.list_subnets(ListSubnetsRequest()).to_json_object()["subnets"][0]
    [listed] = client.list_route_tables(ListRouteTablesRequest(subnet_id=subnet["id"])).to_json_object()["routetables"]
    assert listed["vpc_id"] == subnet["vpc_id"] and listed["default"] is True and "routes" not in listed
    assert {"id": subnet["id"]} in listed["subnets"]
    by_vpc = client.list_route_tables(ListRouteTablesRequest(vpc_id=subnet["vpc_id"])).to_json_object()
    assert [t["id"] for t in by_vpc["routetables"]] == [listed["id"]]
    assert client.show_route_table(ShowRouteTableRequest(listed["id"])).to_json_object()["routetable"]["routes"] == []
    cloud.add_route(subnet["vpc_id"], "0.0.0.0/0", "nat", "nat-gw-1")
    shown = client.show_route_table(ShowRouteTableRequest(listed["id"]))
    assert [(r.type, r.destination, r.nexthop) for r in shown.routetable.routes] == [("nat", "0.0.0.0/0", "nat-gw-1")]


def test_an_unknown_subnet_lists_nothing_and_an_unknown_table_is_404(cloud):
    client = vpc_v2_client(cloud)
    assert client.list_route_tables(ListRouteTablesRequest(subnet_id="nope")).to_json_object() == {"routetables": []}
    with pytest.raises(ClientRequestException) as raised:
        client.show_route_table(ShowRouteTableRequest("0b0b0b0b-0000-4000-8000-000000000000"))
    assert raised.value.status_code == 404

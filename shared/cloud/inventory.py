"""The whole estate in few calls: servers, ports, security groups and rules, listed page by page.

The scheduled drift sweep (:mod:`shared.flows.sg_drift.sweep`) and ``sgguard report`` read a project with
these listings instead of one read per server, so the number of calls grows with the pages, not
with the servers: ECS ``ListServersDetails`` (up to 1000 servers a page, ``offset`` = page number),
VPC v1 ``ListPorts`` (up to 2000 a page, ``marker`` = the last port's id), VPC v3 security groups
and rules (up to 2000 a page, ``page_info.next_marker``). Every listing passes
``enterprise_project_id=all_granted_eps`` where the API has it. docs/fidelity.md has each call.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.cloud.gateway import (
    ALL_GRANTED_EPS,
    GROUP_PAGE,
    MAX_PAGES,
    NetworkGateway,
    check_id,
    port_from_sdk,
    server_from_sdk,
)
from shared.model import Port, SecurityGroup, Server

__all__ = ["InventoryGateway", "SERVER_PAGE", "PORT_PAGE", "GROUP_PAGE"]

SERVER_PAGE = 1000  # ListServersDetails: limit 1..1000 (documented)
PORT_PAGE = 2000  # VPC v1 ListPorts: limit up to 2000 (SDK model; localcloud's maximum)


class InventoryGateway(NetworkGateway):
    """Listings of the whole project, each followed page by page (reads with retry, counted)."""

    def server_pages(self, page_size: int = SERVER_PAGE, first_page: int = 1) -> Iterator[list[Server]]:
        """Every server of the project, a page at a time (newest first, as the API lists them)."""
        from huaweicloudsdkecs.v2.model import ListServersDetailsRequest

        client = self.factory.ecs()
        seen = (first_page - 1) * page_size
        for page_number in range(first_page, MAX_PAGES + 1):
            request = ListServersDetailsRequest(
                limit=page_size, offset=page_number, enterprise_project_id=ALL_GRANTED_EPS
            )
            response = self._read("ecs.list_servers_details", lambda: client.list_servers_details(request))
            servers = [server_from_sdk(server) for server in (response.servers or [])]
            seen += len(servers)
            if servers:
                yield servers
            if len(servers) < page_size or (response.count is not None and seen >= int(response.count)):
                return

    def list_servers(self, page_size: int = SERVER_PAGE) -> list[Server]:
        return [server for page in self.server_pages(page_size) for server in page]

    def list_ports(self, *, security_group: str | None = None, page_size: int = PORT_PAGE) -> list[Port]:
        """Every port of the project (or every port carrying ``security_group``), all pages."""
        from huaweicloudsdkvpc.v2.model import ListPortsRequest

        client = self.factory.vpc_v2()
        groups = [check_id("security group", security_group)] if security_group else None
        ports: list[Port] = []
        marker: str | None = None
        for _ in range(MAX_PAGES):
            request = ListPortsRequest(
                limit=page_size, marker=marker, security_groups=groups, enterprise_project_id=ALL_GRANTED_EPS
            )
            response = self._read("vpc.list_ports", lambda: client.list_ports(request))
            page = response.ports or []
            ports.extend(port_from_sdk(port) for port in page)
            if len(page) < page_size:
                break
            marker = page[-1].id
        return ports

    def list_groups_with_rules(self) -> dict[str, SecurityGroup]:
        """Every security group with its rules: the group listing and the rule listing, all pages."""
        return self.groups_with_rules()

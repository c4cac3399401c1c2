"""The whole estate in few calls: servers, ports, security groups and rules, listed page by page.

The scheduled drift sweep (:mod:`shared.drift_sweep`) and ``sgguard report`` read a project with
these listings instead of one read per server, so the number of calls grows with the pages, not
with the servers: ECS ``ListServersDetails`` (up to 1000 servers a page, ``offset`` = page number),
VPC v1 ``ListPorts`` (up to 2000 a page, ``marker`` = the last port's id), VPC v3 security groups
and rules (up to 2000 a page, ``page_info.next_marker``). Every listing passes
``enterprise_project_id=all_granted_eps`` where the API has it. docs/fidelity.md has each call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..model import Port, SecurityGroup, Server
from .gateway import ALL_GRANTED_EPS, _check_id, _Gateway, _rule_from_sdk, port_from_sdk, server_from_sdk

__all__ = ["InventoryGateway", "SERVER_PAGE", "PORT_PAGE", "GROUP_PAGE"]

SERVER_PAGE = 1000  # ListServersDetails: limit 1..1000 (documented)
PORT_PAGE = 2000  # VPC v1 ListPorts: limit up to 2000 (SDK model; localcloud's maximum)
GROUP_PAGE = 2000  # VPC v3 listings: limit 0-2000 (documented)
_MAX_PAGES = 1000  # a runaway marker must not loop for ever


class InventoryGateway(_Gateway):
    """Listings of the whole project, each followed page by page (reads with retry, counted)."""

    def server_pages(self, page_size: int = SERVER_PAGE, first_page: int = 1) -> Iterator[list[Server]]:
        """Every server of the project, a page at a time (newest first, as the API lists them)."""
        from huaweicloudsdkecs.v2.model import ListServersDetailsRequest

        client = self.factory.ecs()
        seen = (first_page - 1) * page_size
        for page_number in range(first_page, _MAX_PAGES + 1):
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
        groups = [_check_id("security group", security_group)] if security_group else None
        ports: list[Port] = []
        marker: str | None = None
        for _ in range(_MAX_PAGES):
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
        from huaweicloudsdkvpc.v3.model import ListSecurityGroupRulesRequest, ListSecurityGroupsRequest

        client = self.factory.vpc_v3()
        groups: dict[str, SecurityGroup] = {}
        for page in self._v3_pages(
            "vpc.list_security_groups",
            lambda marker: client.list_security_groups(
                ListSecurityGroupsRequest(limit=GROUP_PAGE, marker=marker, enterprise_project_id=ALL_GRANTED_EPS)
            ),
            "security_groups",
        ):
            for sg in page:
                groups[sg.id] = SecurityGroup(
                    id=sg.id,
                    name=sg.name,
                    description=sg.description or "",
                    enterprise_project_id=sg.enterprise_project_id,
                    rules=[],
                )
        for page in self._v3_pages(
            "vpc.list_security_group_rules",
            lambda marker: client.list_security_group_rules(
                ListSecurityGroupRulesRequest(limit=GROUP_PAGE, marker=marker)
            ),
            "security_group_rules",
        ):
            for rule in page:
                group = groups.get(rule.security_group_id)
                if group is not None and group.rules is not None:
                    group.rules.append(_rule_from_sdk(rule))
        return groups

    def _v3_pages(self, operation: str, fetch: Callable[[Any], Any], key: str) -> Iterator[list[Any]]:
        marker = None
        for _ in range(_MAX_PAGES):
            response = self._read(operation, lambda: fetch(marker))
            page = getattr(response, key) or []
            yield page
            marker = response.page_info.next_marker if response.page_info else None
            if not marker or not page:
                return

"""The pipeline's only door to the cloud: reads with retry, single-attempt writes, counted calls.

Writes are deliberately *not* retried here: after a transient failure the applier re-reads the
port and decides whether the write landed (see :mod:`shared.changes.apply`). Every id is checked before
it goes into a URL, even though the request schema already constrained it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from shared.clock import Clock, Deadline
from shared.cloud.clients import ClientFactory
from shared.cloud.counter import CallCounter
from shared.cloud.exceptions import CloudCallError, InvalidIdentifier
from shared.cloud.limiter import AimdLimiter, flow_call
from shared.cloud.retry import RetryPolicy, call_with_retry, translate
from shared.model import Port, Rule, SecurityGroup, Server, is_uuid
from shared.timestamps import parse_cloud_time

__all__ = [
    "CallCounter",
    "Gateway",
    "NetworkGateway",
    "ServerGateway",
    "check_id",
    "group_from_sdk",
    "port_from_sdk",
    "rule_from_sdk",
    "server_from_sdk",
]

_JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}\Z")
# Listings span every enterprise project the caller may see (documented value; without it only the
# default enterprise project is listed). docs/fidelity.md.
ALL_GRANTED_EPS = "all_granted_eps"
GROUP_PAGE = 2000  # VPC v3 listings: limit 0-2000 (documented)
MAX_PAGES = 1000  # a runaway marker must not loop for ever
ID_FILTER_MAX = 40  # ids in one listing's filter (~2 KB of query string), more: the whole listing


def check_id(kind: str, value: str) -> str:
    if not is_uuid(value):
        raise InvalidIdentifier(kind, value)
    return value


def port_from_sdk(port: Any) -> Port:
    """A port from the v1 model (``fixed_ips``, ``network_id``) or the v3 one (``private_ips``,
    ``virsubnet_id``)."""
    if hasattr(port, "fixed_ips"):
        fixed = [(ip.subnet_id, ip.ip_address) for ip in (port.fixed_ips or [])]
        network_id = port.network_id
    else:
        fixed = [(ip.subnet_cidr_id, ip.ip_address) for ip in (port.private_ips or [])]
        network_id = port.virsubnet_id
    enabled = getattr(port, "port_security_enabled", True)
    return Port(
        id=port.id,
        device_id=port.device_id or "",
        device_owner=port.device_owner or "",
        network_id=network_id or "",
        fixed_ips=fixed,
        security_groups=list(port.security_groups or []),
        port_security_enabled=True if enabled is None else bool(enabled),
        status=port.status or "",
    )


def rule_from_sdk(rule: Any) -> Rule:
    return Rule(
        id=rule.id,
        direction=rule.direction,
        ethertype=rule.ethertype or "IPv4",
        protocol=rule.protocol or None,
        multiport=rule.multiport or None,
        remote_ip_prefix=rule.remote_ip_prefix or None,
        remote_group_id=rule.remote_group_id or None,
        remote_address_group_id=getattr(rule, "remote_address_group_id", None) or None,
        action=rule.action or "allow",
        priority=int(rule.priority or 100),
        description=rule.description or "",
        enabled=getattr(rule, "enabled", None) is not False,
    )


def group_from_sdk(sg: Any, rules: list[Rule] | None = None) -> SecurityGroup:
    """A group from a v3 listing or show; ``rules`` None = not read (a name listing)."""
    return SecurityGroup(
        id=sg.id,
        name=sg.name,
        description=sg.description or "",
        enterprise_project_id=sg.enterprise_project_id,
        rules=rules,
    )


class Gateway:
    def __init__(
        self,
        factory: ClientFactory,
        *,
        clock: Clock,
        deadline: Deadline,
        policy: RetryPolicy,
        counter: CallCounter | None = None,
        limiter: AimdLimiter | None = None,
    ):
        self.factory = factory
        self.clock = clock
        self.deadline = deadline
        self.policy = policy
        self.counter = counter or CallCounter()
        self.limiter = limiter

    def _read(self, operation: str, call: Callable[[], Any]) -> Any:
        def count() -> None:
            self.counter.count(operation, write=False)

        if self.limiter is None:
            return call_with_retry(
                operation, call, clock=self.clock, deadline=self.deadline, policy=self.policy, on_attempt=count
            )
        return call_with_retry(
            operation,
            lambda: self._flow(operation, call, count),
            clock=self.clock,
            deadline=self.deadline,
            policy=self.policy,
        )

    def _write(self, operation: str, call: Callable[[], Any]) -> Any:
        def count() -> None:
            self.counter.count(operation, write=True)

        if self.limiter is not None:
            return self._flow(operation, call, count)
        count()
        try:
            return call()
        except Exception as raw:  # noqa: BLE001
            raise translate(operation, raw) from None

    def v3_pages(self, operation: str, fetch: Callable[[Any], Any], key: str) -> Iterator[list[Any]]:
        """Each page of a v3 listing (``fetch(marker)``), following ``page_info.next_marker``."""
        marker = None
        for _ in range(MAX_PAGES):  # a runaway marker must not loop for ever
            response = self._read(operation, lambda: fetch(marker))
            page = getattr(response, key) or []
            yield page
            marker = response.page_info.next_marker if response.page_info else None
            if not marker or not page:
                return

    def _flow(self, operation: str, call: Callable[[], Any], count: Callable[[], None]) -> Any:
        assert self.limiter is not None
        return flow_call(
            self.limiter, operation, call, count=count, clock=self.clock, deadline=self.deadline, policy=self.policy
        )


class NetworkGateway(Gateway):
    """Ports and security groups (VPC v1 through the SDK's v2 client, v3 for insert/remove)."""

    def list_server_ports(self, server_id: str) -> list[Port]:
        from huaweicloudsdkvpc.v2.model import ListPortsRequest

        check_id("server", server_id)
        client = self.factory.vpc_v2()
        response = self._read(
            "vpc.list_ports",
            lambda: client.list_ports(ListPortsRequest(device_id=server_id, enterprise_project_id=ALL_GRANTED_EPS)),
        )
        return [port_from_sdk(port) for port in (response.ports or [])]

    def show_port(self, port_id: str) -> Port:
        from huaweicloudsdkvpc.v2.model import ShowPortRequest

        check_id("port", port_id)
        client = self.factory.vpc_v2()
        return port_from_sdk(self._read("vpc.show_port", lambda: client.show_port(ShowPortRequest(port_id))).port)

    def list_security_groups(self) -> list[SecurityGroup]:
        """Every group of the project in every enterprise project the caller may see (ids, names),
        following the v3 marker paging."""
        from huaweicloudsdkvpc.v3.model import ListSecurityGroupsRequest

        client = self.factory.vpc_v3()
        groups: list[SecurityGroup] = []
        for page in self.v3_pages(
            "vpc.list_security_groups",
            lambda marker: client.list_security_groups(
                ListSecurityGroupsRequest(limit=GROUP_PAGE, marker=marker, enterprise_project_id=ALL_GRANTED_EPS)
            ),
            "security_groups",
        ):
            groups.extend(group_from_sdk(sg) for sg in page)  # names only: rules not read
        return groups

    def show_security_group(self, group_id: str) -> SecurityGroup:
        from huaweicloudsdkvpc.v3.model import ShowSecurityGroupRequest

        check_id("security group", group_id)
        client = self.factory.vpc_v3()
        sg = self._read(
            "vpc.show_security_group", lambda: client.show_security_group(ShowSecurityGroupRequest(group_id))
        ).security_group
        return group_from_sdk(sg, [rule_from_sdk(rule) for rule in (sg.security_group_rules or [])])

    def read_groups(self, group_ids: Iterable[str]) -> dict[str, SecurityGroup]:
        """The groups, fresh, with their rules: two listings filtered by id, whatever the count.

        Guard rails decide on these, never on the catalog's cache. A group missing from the answer
        does not exist (or is not visible to the agency).
        """
        ids = sorted({check_id("security group", group_id) for group_id in group_ids})
        if len(ids) > ID_FILTER_MAX:  # a query string that long may be refused: list them all, keep these
            wanted = set(ids)
            return {gid: group for gid, group in self.groups_with_rules().items() if gid in wanted}
        return self.groups_with_rules(ids) if ids else {}

    def groups_with_rules(self, ids: list[str] | None = None) -> dict[str, SecurityGroup]:
        """The groups (those of ``ids``, or every one) with their rules: the v3 group listing and the
        rule listing, each followed page by page."""
        from huaweicloudsdkvpc.v3.model import ListSecurityGroupRulesRequest, ListSecurityGroupsRequest

        client = self.factory.vpc_v3()
        groups: dict[str, SecurityGroup] = {}
        for page in self.v3_pages(
            "vpc.list_security_groups",
            lambda marker: client.list_security_groups(
                ListSecurityGroupsRequest(
                    limit=GROUP_PAGE, marker=marker, id=ids, enterprise_project_id=ALL_GRANTED_EPS
                )
            ),
            "security_groups",
        ):
            groups.update({sg.id: group_from_sdk(sg, []) for sg in page if ids is None or sg.id in ids})
        for page in self.v3_pages(
            "vpc.list_security_group_rules",
            lambda marker: client.list_security_group_rules(
                ListSecurityGroupRulesRequest(limit=GROUP_PAGE, marker=marker, security_group_id=ids)
            ),
            "security_group_rules",
        ):
            for rule in page:
                group = groups.get(rule.security_group_id)
                if group is not None and group.rules is not None:  # always: listed groups have rules=[]
                    group.rules.append(rule_from_sdk(rule))
        return groups

    def replace_groups(self, port_id: str, groups: list[str]) -> Port:
        from huaweicloudsdkvpc.v2.model import UpdatePortOption, UpdatePortRequest, UpdatePortRequestBody

        check_id("port", port_id)
        client = self.factory.vpc_v2()
        body = UpdatePortRequestBody(port=UpdatePortOption(security_groups=list(groups)))
        return port_from_sdk(
            self._write("vpc.update_port", lambda: client.update_port(UpdatePortRequest(port_id, body))).port
        )

    def insert_groups(self, port_id: str, groups: list[str], index: int | None) -> Port:
        from huaweicloudsdkvpc.v3.model import (
            AddSecurityGroupsRequest,
            AddSecurityGroupsRequestBody,
            InsertSecurityGroupOption,
        )

        check_id("port", port_id)
        client = self.factory.vpc_v3()
        option = InsertSecurityGroupOption(security_groups=list(groups), index=index)
        body = AddSecurityGroupsRequestBody(port=option, dry_run=False)
        response = self._write(
            "vpc.insert_security_groups", lambda: client.add_security_groups(AddSecurityGroupsRequest(port_id, body))
        )
        return self._port_after_v3_write(port_id, response)

    def remove_groups(self, port_id: str, groups: list[str]) -> Port:
        from huaweicloudsdkvpc.v3.model import (
            RemoveSecurityGroupOption,
            RemoveSecurityGroupsRequest,
            RemoveSecurityGroupsRequestBody,
        )

        check_id("port", port_id)
        client = self.factory.vpc_v3()
        body = RemoveSecurityGroupsRequestBody(
            port=RemoveSecurityGroupOption(security_groups=list(groups)), dry_run=False
        )
        response = self._write(
            "vpc.remove_security_groups",
            lambda: client.remove_security_groups(RemoveSecurityGroupsRequest(port_id, body)),
        )
        return self._port_after_v3_write(port_id, response)

    def _port_after_v3_write(self, port_id: str, response: Any) -> Port:
        port = getattr(response, "port", None)
        if port is None:  # no body: verify with a read
            return self.show_port(port_id)
        return port_from_sdk(port)

    def show_address_group(self, address_group_id: str) -> list[str] | None:
        """The ``ip_set`` of an IP address group (addresses, CIDRs, "a-b" ranges), read with retries.

        None when the group does not exist or cannot be read (any cloud failure after the retries):
        conservative callers (``shared.rails.access``) then treat its members as everyone. A malformed
        id raises ``InvalidIdentifier`` before any call; ``DeadlineExceeded`` propagates.
        """
        from huaweicloudsdkvpc.v3.model import ShowAddressGroupRequest

        check_id("address group", address_group_id)
        client = self.factory.vpc_v3()
        try:
            response = self._read(
                "vpc.show_address_group", lambda: client.show_address_group(ShowAddressGroupRequest(address_group_id))
            )
        except CloudCallError:
            return None
        group = getattr(response, "address_group", None)
        if group is None:
            return None
        if group.ip_set is not None:
            return [str(entry) for entry in group.ip_set]
        return [str(item.ip) for item in (group.ip_extra_set or []) if getattr(item, "ip", None)]


class ServerGateway(Gateway):
    """ECS reads used by readiness checks and policy matching."""

    def show_server(self, server_id: str) -> Server | None:
        """The server, or None when it does not exist (404)."""
        from huaweicloudsdkecs.v2.model import ShowServerRequest

        check_id("server", server_id)
        client = self.factory.ecs()
        try:
            server = self._read("ecs.show_server", lambda: client.show_server(ShowServerRequest(server_id))).server
        except CloudCallError as error:
            if error.not_found:
                return None
            raise
        return server_from_sdk(server)

    def show_job(self, job_id: str) -> dict[str, Any]:
        from huaweicloudsdkecs.v2.model import ShowJobRequest

        if not (isinstance(job_id, str) and _JOB_ID.match(job_id)):
            raise InvalidIdentifier("job", job_id)
        client = self.factory.ecs()
        job = self._read("ecs.show_job", lambda: client.show_job(ShowJobRequest(job_id)))
        return {"status": job.status, "fail_reason": job.fail_reason, "job_id": job.job_id}


def server_from_sdk(server: Any) -> Server:
    tags: dict[str, str] = {}
    for tag in server.tags or []:
        key, _, value = str(tag).partition("=")
        tags[key] = value
    primary = None
    port_ids: list[str] = []
    for addresses in (server.addresses or {}).values():
        for address in addresses:
            port_id = getattr(address, "os_ext_ip_sport_id", None)
            if port_id:
                port_ids.append(port_id)
                if getattr(address, "primary", False) and primary is None:
                    primary = port_id
    metadata = dict(server.metadata or {})
    flavor = getattr(server.flavor, "name", None) if server.flavor else None
    return Server(
        id=server.id,
        name=server.name,
        status=server.status,
        task_state=getattr(server, "os_ext_st_stask_state", None),
        tags=tags,
        metadata=metadata,
        vpc_id=metadata.get("vpc_id"),
        availability_zone=getattr(server, "os_ext_a_zavailability_zone", None),
        flavor=flavor,
        enterprise_project_id=server.enterprise_project_id,
        primary_port_id=primary or (port_ids[0] if port_ids else None),
        port_ids=port_ids,
        created=parse_cloud_time(getattr(server, "created", None)),
    )

"""What the steps need of the cloud, as Protocols: the gateways (:mod:`shared.cloud.gateway`) fit,
and so do the in-memory fakes of the tests. Annotations only: nothing here calls the cloud.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from shared.model import Port, SecurityGroup, Server

__all__ = ["Network", "Servers"]


class Network(Protocol):
    """Ports and security groups (:class:`shared.cloud.gateway.NetworkGateway`)."""

    def list_server_ports(self, server_id: str) -> list[Port]: ...

    def show_port(self, port_id: str) -> Port: ...

    def list_security_groups(self) -> list[SecurityGroup]: ...

    def read_groups(self, group_ids: Iterable[str]) -> dict[str, SecurityGroup]: ...

    def show_address_group(self, address_group_id: str) -> list[str] | None: ...

    def replace_groups(self, port_id: str, groups: list[str]) -> Port: ...

    def insert_groups(self, port_id: str, groups: list[str], index: int | None) -> Port: ...

    def remove_groups(self, port_id: str, groups: list[str]) -> Port: ...


class Servers(Protocol):
    """ECS reads (:class:`shared.cloud.gateway.ServerGateway`)."""

    def show_server(self, server_id: str) -> Server | None: ...

    def show_job(self, job_id: str) -> dict[str, Any]: ...

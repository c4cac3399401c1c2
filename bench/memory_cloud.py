"""An in-memory cloud behind the pipeline's gateways: no HTTP, no SDK, with fault hooks.

Two users: the overhead measurement (``bench/_child.py overhead``), where :func:`install` replaces
``Run.factory``, ``Run.network`` and ``Run.servers`` so that every gateway call is a dict lookup,
counted like the real gateway counts it; and the unit tests of :mod:`shared.changes.apply`, which need
faults the HTTP emulator cannot time precisely: a write that lands and then fails, a concurrent
change between two calls, a rollback that fails (:attr:`FakeNetwork.hooks`).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from types import SimpleNamespace

from shared.model import Port, Rule, SecurityGroup, Server

__all__ = ["FakeCloud", "install"]


class FakeCloud:
    def __init__(self, seed: dict, project_id: str):
        project = next(p for p in seed["projects"] if p["id"] == project_id)
        self.lock = threading.Lock()
        default_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sg-default:{project_id}"))
        self.groups: dict[str, SecurityGroup] = {default_id: SecurityGroup(default_id, "default", rules=[])}
        self.address_groups: dict[str, list[str]] = {}
        for index, doc in enumerate(project.get("security_groups", [])):
            gid = doc.get("id") or f"00000000-0000-4000-8000-{index:012x}"
            rules = [
                Rule(
                    id=f"{gid[:30]}{n:06d}",
                    direction=r["direction"],
                    ethertype=r.get("ethertype", "IPv4"),
                    protocol=r.get("protocol"),
                    multiport=r.get("multiport") or _range(r),
                    remote_ip_prefix=r.get("remote_ip_prefix"),
                    action=r.get("action", "allow"),
                    priority=r.get("priority", 1),
                )
                for n, r in enumerate(doc.get("rules", []))
            ]
            self.groups[gid] = SecurityGroup(gid, doc["name"], rules=rules)
        by_name = {g.name: g.id for g in self.groups.values()}
        self.ports: dict[str, Port] = {}
        self.servers: dict[str, Server] = {}
        for doc in project.get("servers", []):
            port_ids = []
            for nic in doc["nics"]:
                if not nic.get("port_id"):
                    continue
                groups = [by_name.get(g, g) for g in nic.get("security_groups", [])] or [default_id]
                self.ports[nic["port_id"]] = Port(
                    nic["port_id"],
                    doc["id"],
                    "compute:cn-north-4a",
                    nic.get("subnet_id", ""),
                    [(nic.get("subnet_id", ""), nic.get("ip_address", ""))],
                    groups,
                    nic.get("port_security_enabled", True),
                    "ACTIVE",
                )
                port_ids.append(nic["port_id"])
            if doc.get("id"):
                self.servers[doc["id"]] = Server(
                    doc["id"],
                    doc["name"],
                    doc.get("status", "ACTIVE"),
                    primary_port_id=port_ids[0] if port_ids else None,
                    port_ids=port_ids,
                )


def _range(rule: dict) -> str | None:
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    return None if low is None else f"{low}-{high or low}"


class _Gateway:
    def __init__(self, cloud: FakeCloud, counter):
        self.cloud = cloud
        self.counter = counter

    def _count(self, operation: str, write: bool = False) -> None:
        if write:
            self.counter.writes += 1
        else:
            self.counter.reads += 1
        self.counter.log.append(operation)


class FakeNetwork(_Gateway):
    """The gateway's interface over :class:`FakeCloud`.

    ``hooks`` maps an operation name (``vpc.update_port``...) to a list of callables run in order,
    one per call: ``hook(cloud, port_id, phase)`` with phase ``"before"`` (raise to fail the call
    without effect) or ``"after"`` (raise to fail it after it landed); ``None`` entries pass.
    """

    def __init__(self, cloud: FakeCloud, counter, hooks: dict | None = None):
        super().__init__(cloud, counter)
        self.hooks = hooks if hooks is not None else {}

    def _hook(self, operation: str, port_id: str, phase: str) -> None:
        queue = self.hooks.get(operation)
        if queue and queue[0] is not None:
            queue[0](self.cloud, port_id, phase)

    def _advance(self, operation: str) -> None:
        queue = self.hooks.get(operation)
        if queue:
            queue.pop(0)

    def list_server_ports(self, server_id):
        self._count("vpc.list_ports")
        with self.cloud.lock:
            return [
                replace(p, security_groups=list(p.security_groups))
                for p in self.cloud.ports.values()
                if p.device_id == server_id
            ]

    def show_port(self, port_id):
        self._count("vpc.show_port")
        with self.cloud.lock:
            port = self.cloud.ports[port_id]
            return replace(port, security_groups=list(port.security_groups))

    def list_security_groups(self):
        self._count("vpc.list_security_groups")
        return [SecurityGroup(g.id, g.name) for g in self.cloud.groups.values()]

    def show_security_group(self, group_id):
        self._count("vpc.show_security_group")
        return self.cloud.groups[group_id]

    def read_groups(self, group_ids):
        self._count("vpc.list_security_groups")
        self._count("vpc.list_security_group_rules")
        return {gid: self.cloud.groups[gid] for gid in group_ids if gid in self.cloud.groups}

    def show_address_group(self, address_group_id):
        self._count("vpc.show_address_group")
        return self.cloud.address_groups.get(address_group_id)

    def _set(self, port_id, compute, operation):
        """Write ``compute(current list)`` atomically, as the server does, between the hooks."""
        self._count(operation, write=True)
        try:
            self._hook(operation, port_id, "before")
            with self.cloud.lock:
                port = self.cloud.ports[port_id]
                port.security_groups = list(compute(list(port.security_groups)))
                landed = replace(port, security_groups=list(port.security_groups))
            self._hook(operation, port_id, "after")
        finally:
            self._advance(operation)
        return landed

    def replace_groups(self, port_id, groups):
        return self._set(port_id, lambda current: groups, "vpc.update_port")

    def insert_groups(self, port_id, groups, index):
        def inserted(current):
            at = len(current) if index is None else min(index, len(current))
            return current[:at] + [g for g in groups if g not in current] + current[at:]

        return self._set(port_id, inserted, "vpc.insert_security_groups")

    def remove_groups(self, port_id, groups):
        return self._set(port_id, lambda current: [g for g in current if g not in groups], "vpc.remove_security_groups")


class FakeServers(_Gateway):
    def show_server(self, server_id):
        self._count("ecs.show_server")
        return self.cloud.servers.get(server_id)


def install(seed: dict, project_id: str = "0a1b2c3d4e5f40718293a4b5c6d7e8f9") -> FakeCloud:
    from shared.runtime.run import Run

    cloud = FakeCloud(seed, project_id)
    factory = SimpleNamespace(credentials=SimpleNamespace(project_id=project_id))
    Run.factory = lambda self: factory
    Run.network = lambda self, counter: FakeNetwork(cloud, counter)
    Run.servers = lambda self, counter: FakeServers(cloud, counter)
    return cloud

"""The benchmark fleet (a localcloud seed) and change-request workloads that know their cost.

Every id is fixed, so a workload can be generated before localcloud runs and checked after.
A workload is generated in queue order against a simulation of the interfaces' group lists, so
each message carries what it should do: its outcome, the list each selected interface ends with,
and the fewest API calls it can take with a warm group catalog (the *lower bound*): one port
listing by device id, plus one ``show_server`` when ``"primary"`` must be told apart on a
server with several interfaces, plus per interface whose list changes the writes
(:func:`_port_costs`: one whole-list write for the first interface when its list is fresh, else
the v3 deltas of :func:`shared.changes.deltas.steps`, a reorder after a ``show_port``). The rails'
facts (groups by id, their rules) are read once per batch, not per message: the message that
read them counts them (``api_calls.facts``) and is judged by the *stale* bound (its list is not
fresh), the batch's total of them is reported beside the per-message bound.

Over 400 lines: the fleet, the workload generator and its cost model must agree line for line.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shared.changes.deltas import steps

__all__ = [
    "BenchPort",
    "BenchServer",
    "Fleet",
    "Message",
    "build_seed",
    "generate_changes",
    "warmup_requests",
    "floor_calls",
    "sign",
    "kafka",
    "smn",
    "SIGNING_KEYS",
    "SCENARIOS",
    "POOL",
    "DEFAULT_PROJECT_ID",
]

DEFAULT_PROJECT_ID = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"  # the default seed's project (localcloud's dev project)
SIGNING_KEYS = {"bench-1": "bench-signing-secret-0000000001"}
KEY_ID = "bench-1"

# The default seed's groups (fixed ids) that no guard rail refuses, plus the bench's own.
SEEDED_GROUPS = {
    "baseline": "a0000000-0000-4000-8000-000000000001",
    "web": "a0000000-0000-4000-8000-000000000002",
    "app": "a0000000-0000-4000-8000-000000000003",
    "db": "a0000000-0000-4000-8000-000000000004",
    "mgmt-ssh": "a0000000-0000-4000-8000-000000000005",
    "monitoring": "a0000000-0000-4000-8000-000000000008",
}
BENCH_GROUPS = {f"bench-{i}": f"e2000000-0000-4000-8000-{i:012x}" for i in range(1, 5)}
RISKY_GROUP = "a0000000-0000-4000-8000-000000000006"  # ssh-open: SSH from anywhere
AMBIGUOUS_NAME = "dup-name"
VPC_ID = "e1000000-0000-4000-8000-000000000001"
SUBNETS = ("e1000000-0000-4000-8000-00000000000a", "e1000000-0000-4000-8000-00000000000b")
SUBNET_CIDRS = ("10.20.0.0/20", "10.20.16.0/20")


def default_group_id(project_id: str = DEFAULT_PROJECT_ID) -> str:
    """localcloud derives the id of a project's ``default`` group from the project id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sg-default:{project_id}"))


POOL: dict[str, str] = {"default": default_group_id(), **SEEDED_GROUPS, **BENCH_GROUPS}  # name -> id
NAMES = {gid: name for name, gid in POOL.items()}
MAX_LIST = 5  # the console's advice (the soft guard rail): workloads stay within it

# scenario -> weight in the throughput mix
SCENARIOS = {
    "add": 22,
    "remove": 13,
    "replace": 17,
    "reorder": 10,
    "dry-run": 15,
    "no-op": 13,
    "all-nics": 5,
    "primary-2nic": 5,
}


@dataclass
class BenchPort:
    id: str
    ip: str
    subnet_id: str
    groups: list[str]  # ids, in priority order


@dataclass
class BenchServer:
    id: str
    name: str
    ports: list[BenchPort]


@dataclass
class Fleet:
    servers: list[BenchServer]

    def state(self) -> dict[str, list[str]]:
        return {port.id: list(port.groups) for server in self.servers for port in server.ports}

    def ports_of(self, server_id: str) -> list[str]:
        return [port.id for port in self.by_id[server_id].ports]

    @property
    def by_id(self) -> dict[str, BenchServer]:
        return {server.id: server for server in self.servers}


@dataclass
class Message:
    index: int
    scenario: str
    request: dict  # unsigned
    server_id: str
    ports: list[str]  # the interfaces it selects
    outcome: str  # expected: succeeded | no_change | planned | rejected
    reads: int  # lower bound with a warm catalog
    writes: int
    after: dict[str, list[str]] = field(default_factory=dict)  # port -> expected list (ids)
    before: dict[str, list[str]] = field(default_factory=dict)  # port -> list when the message runs
    port_writes: dict[str, int] = field(default_factory=dict)  # port -> writes (v3 deltas, or 1 whole list)
    port_reads: list[str] = field(default_factory=list)  # ports re-read before a whole-list write
    # the bound when the message itself read the rails' facts (its list is then not fresh)
    stale_reads: int = 0
    stale_writes: int = 0

    @property
    def request_id(self) -> str:
        return self.request["request_id"]


def server_id(index: int) -> str:
    return f"e0000000-0000-4000-8000-{index:012x}"


def port_id(index: int, nic: int) -> str:
    return f"f0000000-0000-4000-8000-{index:010x}{nic:02x}"


def build_seed(servers: int, *, two_nic_share: float = 0.4, seed: int = 1, first: int = 0) -> tuple[dict, Fleet]:
    """The default seed plus a bench VPC, four bench groups and ``servers`` servers with 1-2 NICs."""
    from localcloud.seed import default_seed

    rng = random.Random(seed)
    document = default_seed()
    project = next(p for p in document["projects"] if p["id"] == DEFAULT_PROJECT_ID)
    project["vpcs"].append(
        {
            "id": VPC_ID,
            "name": "vpc-bench",
            "cidr": "10.20.0.0/16",
            "subnets": [
                {"id": sid, "name": f"bench-{'ab'[i]}", "cidr": cidr}
                for i, (sid, cidr) in enumerate(zip(SUBNETS, SUBNET_CIDRS))
            ],
        }
    )
    project["security_groups"].extend(
        {
            "id": gid,
            "name": name,
            "description": "bench group",
            "rules": [
                {
                    "direction": "ingress",
                    "ethertype": "IPv4",
                    "protocol": "tcp",
                    "multiport": str(8000 + i),
                    "remote_ip_prefix": "10.0.0.0/8",
                    "action": "allow",
                    "priority": 1,
                }
            ],
        }
        for i, (name, gid) in enumerate(BENCH_GROUPS.items(), start=1)
    )
    fleet = Fleet([])
    names = list(POOL)
    for n in range(first, first + servers):
        nic_count = 2 if rng.random() < two_nic_share else 1
        ports = []
        for nic in range(nic_count):
            network = ipaddress.ip_network(SUBNET_CIDRS[nic])
            ip = str(network.network_address + 10 + n)
            groups = [POOL[name] for name in rng.sample(names, rng.randint(1, 3))]
            ports.append(BenchPort(port_id(n, nic), ip, SUBNETS[nic], groups))
        fleet.servers.append(BenchServer(server_id(n), f"bench-{n:05d}", ports))
    project.setdefault("servers", []).extend(
        {
            "id": server.id,
            "name": server.name,
            "status": "ACTIVE",
            "flavor": "s6.small.1",
            "nics": [
                {
                    "subnet_id": port.subnet_id,
                    "ip_address": port.ip,
                    "port_id": port.id,
                    "security_groups": list(port.groups),
                }
                for port in server.ports
            ],
        }
        for server in fleet.servers
    )
    return document, fleet


# ---- planning as the function does it (pure, on ids) ------------------------------------------
def _after(current: list[str], action: str, groups: list[str], position: int | None) -> list[str] | None:
    groups = list(dict.fromkeys(groups))
    if action == "replace":
        return groups
    if action == "add":
        missing = [g for g in groups if g not in current]
        at = len(current) if position is None or position >= len(current) else position
        return current[:at] + missing + current[at:]
    if action == "remove":
        after = [g for g in current if g not in groups]
        return after or None
    if action == "reorder":
        return groups if sorted(groups) == sorted(current) else None
    raise ValueError(action)


def _refs(rng: random.Random, ids: Iterable[str]) -> list[dict]:
    return [{"name": NAMES[g]} if rng.random() < 0.5 else {"id": g} for g in ids]


def _request(
    index: int,
    prefix: str,
    server: BenchServer,
    nics,
    action: str,
    groups: list[str],
    rng: random.Random,
    position: int | None = None,
    dry_run: bool = False,
) -> dict:
    request: dict[str, Any] = {
        "request_id": f"{prefix}-{index:06d}",
        "ticket": {"system": "bench", "id": f"CHG{index:07d}", "requested_by": "bench@example.com"},
        "target": {"server_id": server.id, "nics": nics},
        "change": {"action": action, "security_groups": _refs(rng, groups)},
    }
    if position is not None:
        request["change"]["position"] = position
    if dry_run:
        request["dry_run"] = True
    return request


def _single_selection(rng: random.Random, server: BenchServer, port: BenchPort):
    if len(server.ports) == 1:
        return rng.choice(["primary", "all", [{"port_id": port.id}], [{"ip": port.ip}]])
    return rng.choice([[{"port_id": port.id}], [{"ip": port.ip}], [{"subnet_id": port.subnet_id}]])


def _change_for(rng: random.Random, scenario: str, current: list[str]) -> tuple[str, list[str], int | None]:
    """(action, groups, position) that does ``scenario`` to ``current``; falls back to a feasible one."""
    absent = [g for g in POOL.values() if g not in current]
    if scenario == "reorder" and len(current) >= 2:
        order = list(current)
        while order == current:
            rng.shuffle(order)
        return "reorder", order, None
    if scenario == "remove" and len(current) >= 2:
        return "remove", [rng.choice(current)], None
    if scenario == "replace":
        new = rng.sample(list(POOL.values()), rng.randint(1, 3))
        if new != current:
            return "replace", new, None
    if scenario == "no-op":
        if rng.random() < 0.5:
            return "add", [rng.choice(current)], None
        return "replace", list(current), None
    if len(current) >= MAX_LIST:  # keep within the advised five
        return "remove", [rng.choice(current)], None
    position = rng.choice([None, 0, rng.randint(0, len(current))])
    return "add", rng.sample(absent, 1 if rng.random() < 0.8 else 2), position


def generate_changes(
    fleet: Fleet,
    count: int,
    *,
    seed: int = 7,
    prefix: str = "BENCH",
    mix: dict[str, int] | None = None,
    servers: list[BenchServer] | None = None,
    state: dict[str, list[str]] | None = None,
    start: int = 0,
) -> list[Message]:
    """``count`` valid change requests in queue order; ``state`` (port -> ids) is advanced in place."""
    rng = random.Random(seed)
    mix = mix or SCENARIOS
    scenarios, weights = list(mix), list(mix.values())
    state = fleet.state() if state is None else state
    pool = servers or fleet.servers
    two_nic = [s for s in pool if len(s.ports) > 1]
    messages: list[Message] = []
    for index in range(start, start + count):
        scenario = rng.choices(scenarios, weights)[0]
        if scenario in ("all-nics", "primary-2nic") and not two_nic:
            scenario = "add"
        server = rng.choice(two_nic if scenario in ("all-nics", "primary-2nic") else pool)
        reads = 1
        if scenario == "all-nics":
            lists = [state[p.id] for p in server.ports]
            candidates = [
                g
                for g in POOL.values()
                if any(g not in current for current in lists)
                and all(len(current) < MAX_LIST or g in current for current in lists)
            ]
            group = rng.choice(candidates) if candidates else None
            if group is None:  # every interface full: remove one group present on all, if any
                common = [g for g in lists[0] if all(g in current and len(current) > 1 for current in lists)]
                action, groups = ("remove", [common[0]]) if common else ("add", [lists[0][0]])
            else:
                action, groups = "add", [group]
            nics, ports, position = "all", list(server.ports), None
            request = _request(index, prefix, server, nics, action, groups, rng)
        else:
            port = server.ports[0] if scenario == "primary-2nic" else rng.choice(server.ports)
            underlying = (
                rng.choice(["add", "replace", "remove"]) if scenario in ("dry-run", "primary-2nic") else scenario
            )
            action, groups, position = _change_for(rng, underlying, state[port.id])
            if scenario == "primary-2nic":
                nics, reads = "primary", 2  # the port listing does not say which interface is primary
            else:
                nics = _single_selection(rng, server, port)
            ports = [port]
            request = _request(
                index, prefix, server, nics, action, groups, rng, position, dry_run=scenario == "dry-run"
            )
        was = {p.id: list(state[p.id]) for p in ports}
        after: dict[str, list[str]] = {}
        for p in ports:
            new = _after(state[p.id], action, groups, position)
            assert new is not None, (scenario, action, groups)
            after[p.id] = new
        changing = [p.id for p in ports if after[p.id] != state[p.id]]
        # the first interface written has a fresh list when the port listing was the message's last
        # call (not after show_server, not when the message itself read the rails' facts)
        fresh_first = scenario != "primary-2nic"
        port_writes, port_reads = _port_costs(changing, state, after, fresh_first)
        stale_writes, stale_reads = _port_costs(changing, state, after, False)
        writes = sum(port_writes.values())
        stale = (reads + len(stale_reads), sum(stale_writes.values()))
        if scenario == "dry-run":
            outcome, writes, port_writes, port_reads, stale = "planned", 0, {}, [], (reads, 0)
        else:
            reads += len(port_reads)  # a whole list is written only from a fresh list
            outcome = "succeeded" if writes else "no_change"
            for p in ports:
                state[p.id] = after[p.id]
        label = scenario if scenario in ("dry-run", "all-nics", "primary-2nic", "no-op") or writes else "no-op"
        messages.append(
            Message(
                index,
                label,
                request,
                server.id,
                [p.id for p in ports],
                outcome,
                reads,
                writes,
                after,
                was,
                port_writes,
                port_reads,
                *stale,
            )
        )
    return messages


def _port_costs(
    changing: list[str], state: dict[str, list[str]], after: dict[str, list[str]], fresh_first: bool
) -> tuple[dict[str, int], list[str]]:
    """Writes per port, and the ports read again before a whole-list write, as
    :func:`shared.changes.apply.apply_plans` makes them (``WRITE_STRATEGY=fewest_calls``): the first
    interface written, on a fresh list, takes one whole-list write when its deltas would take more
    than one call (or it is a reorder); any other interface the deltas, a reorder after a re-read."""
    writes: dict[str, int] = {}
    reads: list[str] = []
    for n, port in enumerate(changing):
        planned = steps(state[port], after[port])
        if fresh_first and n == 0 and (len(planned) > 1 or planned[0].kind == "update"):
            writes[port] = 1
            continue
        writes[port] = len(planned)
        if planned[0].kind == "update":
            reads.append(port)
    return writes, reads


def floor_calls(messages: list[Message], final: dict[str, list[str]]) -> list[list[list]]:
    """Per message, the SDK calls its lower bound counts, as the bare SDK floor replays them.

    ``["list_ports", server]``, ``["show_server", server]`` (primary on a multi-NIC server),
    ``["show_port", port]`` before a whole-list write, and one ``["update_port", port, groups]``
    per write (a v3 delta costs the same one call) - with the port's *final* list, so that
    replaying after the measured batch leaves the cloud as it was. The rails' facts, read once
    per batch, are not in the floor: for a change it is the port listing and the write.
    """
    script = []
    for m in messages:
        calls: list[list] = [["list_ports", m.server_id]]
        if m.reads - len(m.port_reads) >= 2:
            calls.append(["show_server", m.server_id])
        calls += [["show_port", p] for p in m.port_reads]
        calls += [["update_port", p, final[p]] for p, count in m.port_writes.items() for _ in range(count)]
        script.append(calls)
    return script


def warmup_requests(fleet: Fleet, count: int = 16, prefix: str = "WARM") -> list[dict]:
    """Dry runs over every pool group: they fill the group catalog and its rules, open connections."""
    ids = list(POOL.values())
    chunks = [ids[i : i + MAX_LIST] for i in range(0, len(ids), MAX_LIST)]
    rng = random.Random(0)
    return [
        _request(
            i, prefix, server, [{"port_id": server.ports[0].id}], "replace", chunks[i % len(chunks)], rng, dry_run=True
        )
        for i, server in enumerate(fleet.servers[:count])
    ]


# ---- the wire ---------------------------------------------------------------------------------
def sign(request: dict, *, now: datetime | None = None) -> dict:
    from shared.signing import sign_request
    from shared.timestamps import format_timestamp

    timestamp = format_timestamp(now or datetime.now(timezone.utc))
    return sign_request(copy.deepcopy(request), key_id=KEY_ID, secret=SIGNING_KEYS[KEY_ID], timestamp=timestamp)


def _text(message) -> str:
    return message if isinstance(message, str) else json.dumps(message)


def kafka(messages: list) -> dict:
    return {
        "event_version": "v1.0",
        "event_time": 1764363600,
        "trigger_type": "KAFKA",
        "region": "cn-north-4",
        "instance_id": "9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8",
        "records": [{"messages": [_text(m) for m in messages], "topic_id": "sg-change-requests"}],
    }


def smn(messages: list) -> dict:
    return {
        "record": [
            {
                "event_version": "1.0",
                "event_source": "smn",
                "event_subscription_urn": "urn:fss:cn-north-4:0a1b:function:default:change_request",
                "smn": {
                    "topic_urn": "urn:smn:cn-north-4:0a1b:sg-change",
                    "timestamp": "2026-11-28T21:00:00Z",
                    "message": _text(m),
                    "message_id": f"m{i}",
                    "subject": "change",
                    "type": "Notification",
                    "message_attributes": None,
                },
            }
            for i, m in enumerate(messages)
        ],
        "functionname": "change_request",
        "requestId": "bench",
        "timestamp": "2026-11-28T21:00:00Z",
    }

"""The ledger of what sgguard added: recorded per port, forgotten after its TTL, shared through
Redis (a real redis-server), and a repair plan keeps what it lists."""

from __future__ import annotations

import pytest

from shared.changes.planning import NicPlan, derive_operations
from shared.flows.sg_drift.findings import keep_recently_added
from shared.idempotency.ledger import LedgerUnavailable, MemoryLedger, RedisLedger
from shared.model import Port

A, B, C = "sg-a", "sg-b", "sg-c"


def _port(port_id: str, groups: list[str]) -> Port:
    return Port(
        id=port_id,
        network_id="net",
        fixed_ips=[],
        device_id="srv",
        device_owner="compute:az1",
        security_groups=list(groups),
    )


def _ledgers(redis_server):
    return [MemoryLedger(), RedisLedger(redis_server.client())]


def test_memory_and_redis_ledgers_agree(redis_server):
    for ledger in _ledgers(redis_server):
        ledger.record("p1", {"port-1": [A, B], "port-2": [C]}, now_s=1000.0, ttl_s=60)
        assert ledger.recent("p1", ["port-1", "port-2", "port-3"], now_s=1030.0) == {"port-1": {A, B}, "port-2": {C}}
        assert ledger.recent("p2", ["port-1"], now_s=1030.0) == {}  # per project
        assert ledger.recent("p1", ["port-1"], now_s=1061.0) == {}  # forgotten after the TTL
        ledger.record("p1", {"port-1": [A]}, now_s=2000.0, ttl_s=60)
        assert ledger.recent("p1", ["port-1"], now_s=2001.0) == {"port-1": {A}}


def test_an_unreachable_redis_ledger_says_so():
    import redis

    ledger = RedisLedger(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    with pytest.raises(LedgerUnavailable):
        ledger.recent("p1", ["port-1"], now_s=0.0)


def test_the_memory_ledger_is_bounded():
    ledger = MemoryLedger(max_ports=3)
    for i in range(5):
        ledger.record("p", {f"port-{i}": [A]}, now_s=0.0, ttl_s=60)
    assert set(ledger.recent("p", [f"port-{i}" for i in range(5)], now_s=1.0)) == {"port-2", "port-3", "port-4"}


def _plan(before, after, port_id="port-1"):
    return NicPlan(_port(port_id, before), list(before), list(after), derive_operations(list(before), list(after)))


def test_a_repair_keeps_a_recently_added_group_at_the_lowest_priority():
    plans, kept = keep_recently_added([_plan([A, B, C], [A])], {"port-1": {C}})
    assert plans[0].after == [A, C] and kept == [("port-1", C)]


def test_a_repair_that_only_removed_recent_groups_changes_nothing():
    plans, kept = keep_recently_added([_plan([A, B], [A])], {"port-1": {B}})
    assert plans[0].after == [A, B] and not plans[0].changes and kept == [("port-1", B)]


def test_other_ports_and_other_groups_are_untouched():
    plan_1, plan_2 = _plan([A, B], [A]), _plan([A, C], [C], "port-2")
    plans, kept = keep_recently_added([plan_1, plan_2], {"port-1": {C}, "port-2": {B}})
    assert plans == [plan_1, plan_2] and kept == []

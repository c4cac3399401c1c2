"""Issue 21, item 1: the rails' facts read once per batch, reused while fresh; one write per change.

The real change_request handler over the official SDK against localcloud, seeded with the bench's
fleet (servers whose interfaces carry groups of a fixed pool). Calls are counted from the results
(``api_calls``, ``facts`` among the reads) and from localcloud's own request log; a rule changed
mid-batch is another writer in localcloud (``concurrent_write`` with ``add_rule``), never a sleep.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from bench.workload import POOL, build_seed
from shared.cloud.gateway import CallCounter
from shared.errors import ErrorCode
from shared.rails.facts import FactsCache
from shared.runtime.run import Run
from tests.support.clock import FakeTime
from tests.support.functions import make_context
from tests.support.requests import change_request, kafka
from tests.support.state import port_groups

FACT_ROUTES = ("/vpc/security-groups", "/vpc/security-group-rules", "/vpc/address-groups")
SSH_FROM_ANYWHERE = {
    "direction": "ingress",
    "ethertype": "IPv4",
    "protocol": "tcp",
    "multiport": "22",
    "remote_ip_prefix": "0.0.0.0/0",
    "action": "allow",
    "priority": 1,
}


@pytest.fixture
def fleet(cloud):
    document, fleet = build_seed(12, two_nic_share=0.0, seed=3)
    cloud.reset(empty=True)
    cloud.seed(document)
    yield fleet
    cloud.reset()  # the default seed again, for the tests that follow


WARM = {"GROUP_CACHE_TTL_S": "60"}  # the tests' default is 0: every message would list the catalog


def results(response):
    return [r["data"] for r in response["results"]]


def fact_reads(cloud, seq):
    """Reads of groups by id, their rules, address groups that localcloud logged (not the catalog's listing)."""
    return [
        e
        for e in cloud.requests(seq)
        if e["method"] == "GET"
        and any(r in e["path"] for r in FACT_ROUTES)
        and ({"id", "security_group_id"} & set(parse_qs(e.get("query") or "")) or "/address-groups/" in e["path"])
    ]


def replaces(fleet, count, groups=("baseline", "web")):
    return [
        change_request("replace", [{"name": g} for g in groups], server_id=server.id, nics="primary")
        for server in fleet.servers[:count]
    ]


def test_a_batch_reads_its_facts_once_and_each_replace_costs_a_listing_and_a_write(cloud, change, fleet):
    change(
        kafka(change_request("add", [{"name": "web"}], server_id=fleet.servers[0].id, dry_run=True)), **WARM
    )  # catalog
    seq = cloud.last_seq()
    data = results(change(kafka(*replaces(fleet, 10)), CONCURRENCY="4", **WARM))
    assert [d["outcome"] for d in data] == ["succeeded"] * 10, data
    for server in fleet.servers[:10]:
        assert port_groups(cloud, server.ports[0].id) == [POOL["baseline"], POOL["web"]]
    readers = [d for d in data if d["api_calls"].get("facts")]
    assert len(readers) == 1, [d["api_calls"] for d in data]  # one message read for the batch
    assert readers[0]["api_calls"]["facts"] == 2  # groups by id and their rules, for every group named
    assert len(fact_reads(cloud, seq)) == 2  # and localcloud agrees
    others = [d["api_calls"] for d in data if not d["api_calls"].get("facts")]
    # the port listing, then one whole-list write: its list was read with no call since
    assert others == [{"total": 2, "reads": 1, "writes": 1}] * 9
    total = sum(d["api_calls"]["total"] for d in data)
    assert total <= 2 * 10 + 3


def test_the_deltas_strategy_writes_a_replace_as_insert_and_remove(cloud, change, fleet):
    change(kafka(change_request("add", [{"name": "web"}], server_id=fleet.servers[0].id, dry_run=True)), **WARM)
    data = results(change(kafka(*replaces(fleet, 4)), CONCURRENCY="1", WRITE_STRATEGY="deltas", **WARM))
    assert [d["outcome"] for d in data] == ["succeeded"] * 4
    for server in fleet.servers[:4]:
        assert port_groups(cloud, server.ports[0].id) == [POOL["baseline"], POOL["web"]]
    assert all(d["api_calls"]["writes"] >= 2 for d in data if fleet_needs_both(d)), [d["api_calls"] for d in data]


def fleet_needs_both(data):
    """The interface had a group the replace drops and lacked one it adds: an insert and a remove."""
    [nic] = data["nics"]
    return bool(set(nic["before"]) - set(nic["after"])) and bool(set(nic["after"]) - set(nic["before"]))


def test_facts_zero_age_reads_for_every_decision(cloud, change, fleet):
    change(kafka(change_request("add", [{"name": "web"}], server_id=fleet.servers[0].id, dry_run=True)), **WARM)
    seq = cloud.last_seq()
    data = results(change(kafka(*replaces(fleet, 3)), CONCURRENCY="1", FACTS_MAX_AGE_MS="0", **WARM))
    assert [d["outcome"] for d in data] == ["succeeded"] * 3
    assert [d["api_calls"].get("facts") for d in data] == [2, 2, 2]
    assert len(fact_reads(cloud, seq)) == 6


def _rule_added_after_first_write(cloud, group_id):
    """Another writer adds SSH-from-anywhere to ``group_id`` right after the batch's first port write."""
    cloud.add_fault(
        kind="concurrent_write",
        method="PUT",
        path="/v*/*/ports/*",
        phase="after",
        count=1,
        add_rule={"security_group_id": group_id, **SSH_FROM_ANYWHERE},
    )


def _two_on_one_server(fleet):
    server = fleet.servers[0].id  # one server: its two requests run in queue order
    first = change_request("replace", [{"name": "baseline"}], server_id=server)
    second = change_request("add", [{"name": "bench-1"}], server_id=server)
    return kafka(first, second)


def test_a_rule_added_mid_batch_is_seen_once_the_facts_are_older_than_the_bound(cloud, change, fleet):
    change(kafka(change_request("add", [{"name": "web"}], server_id=fleet.servers[0].id, dry_run=True)), **WARM)
    _rule_added_after_first_write(cloud, POOL["bench-1"])
    first, second = results(change(_two_on_one_server(fleet), CONCURRENCY="1", FACTS_MAX_AGE_MS="0", **WARM))
    assert first["outcome"] == "succeeded"
    assert second["outcome"] == "rejected", second  # read again: the new rule opens SSH to the world
    assert ErrorCode.RISKY_RULE in {e["code"] for e in second["errors"]}


def test_within_the_bound_a_batch_decides_on_the_facts_it_read(cloud, change, fleet):
    """The documented meaning of fresh: a rule added after the read, within FACTS_MAX_AGE_MS, is not
    seen by this batch (sg_drift's to catch, as a rule changed after a write always was)."""
    change(kafka(change_request("add", [{"name": "web"}], server_id=fleet.servers[0].id, dry_run=True)), **WARM)
    _rule_added_after_first_write(cloud, POOL["bench-1"])
    first, second = results(change(_two_on_one_server(fleet), CONCURRENCY="1", FACTS_MAX_AGE_MS="60000", **WARM))
    assert first["outcome"] == "succeeded"
    assert second["outcome"] == "succeeded"
    assert not second["api_calls"].get("facts")  # no read: decided on the batch's facts


def test_the_cache_rereads_exactly_when_a_fact_is_older_than_the_bound(cloud, fleet):
    """FactsCache on an injected clock, through the real gateway: reused up to the bound, read after."""
    from tests.support.sdk import vpc_v3_client

    time = FakeTime(100.0)
    run = Run.start("change_request", make_context(cloud), clock=time.clock())
    counter = CallCounter()
    network = run.network(counter)
    cache = FactsCache(1.0, time.monotonic)
    group = POOL["bench-2"]
    before = cache.groups({group}, network)[group]
    assert counter.facts == 2
    add_rule(vpc_v3_client(cloud), group, SSH_FROM_ANYWHERE)
    time.now += 1.0  # exactly the bound: still fresh
    assert cache.groups({group}, network)[group].rules == before.rules
    assert counter.facts == 2
    time.now += 0.001  # older than the bound: read again, the new rule is seen
    after = cache.groups({group}, network)[group]
    assert counter.facts == 4
    assert len(after.rules or []) == len(before.rules or []) + 1


def test_a_group_that_does_not_exist_is_a_fact_too(cloud, fleet):
    time = FakeTime()
    run = Run.start("change_request", make_context(cloud), clock=time.clock())
    counter = CallCounter()
    network = run.network(counter)
    cache = FactsCache(1.0, time.monotonic)
    missing = "a0000000-0000-4000-8000-0000000000ff"
    assert cache.groups({missing}, network) == {}
    assert cache.groups({missing}, network) == {}
    assert counter.facts == 2  # read once: a poison batch naming it does not read it per message


def add_rule(vpc_v3, group_id, rule):
    from huaweicloudsdkvpc.v3 import (
        CreateSecurityGroupRuleOption,
        CreateSecurityGroupRuleRequest,
        CreateSecurityGroupRuleRequestBody,
    )

    option = CreateSecurityGroupRuleOption(security_group_id=group_id, **rule)
    vpc_v3.create_security_group_rule(
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option))
    )

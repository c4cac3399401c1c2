"""The sweep over thousands of servers: its listing calls follow the pages, never the servers, and its
summary covers every server (not timed: bench/drift.py measures; `python -m bench drift`)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.drift import expected_listing_calls, listing_kind, sweep_once
from bench.workload import build_seed

SERVERS = 2500


@pytest.mark.slow
def test_the_sweep_of_2500_servers_lists_by_pages_and_summarises_every_server(cloud):
    document, fleet = build_seed(SERVERS)
    cloud.reset(empty=True)
    cloud.seed(document)
    state = cloud.state()["projects"][cloud.project_id]
    servers = {s["id"] for s in state["ecs"]["servers"]}
    ports = len(state["vpc"]["ports"])
    interfaces = sum(1 for p in state["vpc"]["ports"] if (p.get("device_owner") or "").startswith("compute:"))
    groups = state["vpc"]["security_groups"]
    assert len(servers) == SERVERS + 2 and ports > 3000  # the default seed's two servers too

    response, _, log = sweep_once(cloud, timeout_s=300)
    *results, summary = [r["data"] for r in response["results"]]

    calls = Counter(listing_kind(entry) for entry in log)
    expected = expected_listing_calls(len(servers), ports, len(groups), sum(len(g["rules"]) for g in groups))
    assert expected == {"servers": 3, "ports": ports // 2000 + 1, "security_groups": 1, "security_group_rules": 1}
    assert dict(calls) == expected, log[-5:]  # no other call at all: report mode judges from the listings
    assert summary["summary"]["api_calls"]["listing"] == sum(expected.values()) == len(log)

    assert summary["outcome"] == "summary" and summary["summary"]["complete"] is True
    assert summary["summary"]["servers"] == len(servers) == len(results)
    assert {r["server_id"] for r in results} == servers
    assert summary["summary"]["interfaces"] == sum(len(r["nics"]) for r in results) == interfaces
    assert sum(summary["summary"]["outcomes"].values()) == len(servers)

"""Issue 19, item 5: "Races write protected groups away" - no write from a stale list, end to end.

Another writer (an EDR agent attaching its protected group) changes the port between sgguard's
decision and its write. The race is deterministic: localcloud's ``concurrent_write`` fault applies
the other writer's v3 insert right after a given request of ours was answered (the rails' fresh
rule listing: the last read before the write), never a sleep. Every test drives the real handler
with the official SDK over HTTP, and counts the writes localcloud received.
"""

from __future__ import annotations

import json

import pytest

from shared.errors import ErrorCode
from tests.support.ecs import create_servers, cts_event, cts_trace
from tests.support.functions import Invoker
from tests.support.requests import LEGACY_PORTS, SG, change_request
from tests.support.state import port_groups

P1 = LEGACY_PORTS[0]  # default seed: [default, app]
EDR = SG["monitoring"]  # the group another writer attaches; protected in these tests
PROTECTED = {"PROTECTED_GROUPS": EDR}
RAILS_READ = "/v3/*/vpc/security-group-rules"  # the rails' fresh facts: read after the decision's port listing


def default_sg(cloud):
    groups = cloud.state()["projects"][cloud.project_id]["vpc"]["security_groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


def only(response):
    [result] = response["results"]
    return result["data"]


def attach_between_decision_and_write(cloud, port_id, group=EDR, index=0, *, path=RAILS_READ, phase="after", **rule):
    """Another writer inserts ``group`` on ``port_id`` right after the matched request of ours."""
    return cloud.add_fault(
        kind="concurrent_write",
        method="GET",
        path=path,
        phase=phase,
        count=1,
        port_id=port_id,
        insert=[group],
        index=index,
        **rule,
    )


def our_writes(cloud, seq):
    """(call, groups in the body) for every port write localcloud received from the function."""
    calls = []
    for entry in cloud.requests(seq):
        if not entry.get("write") or "/ports/" not in entry["path"]:
            continue
        body = json.loads(entry.get("body") or "{}")
        kind = entry["path"].rsplit("/", 1)[-1] if "security-groups" in entry["path"] else "update_port"
        calls.append((kind, body["port"]["security_groups"], entry["status"]))
    return calls


def assert_never_removed(calls, group):
    """No call took ``group`` off: not named in a remove, never left out of a whole list."""
    for kind, groups, status in calls:
        assert not (kind == "remove-security-groups" and group in groups), calls
        assert not (kind == "update_port" and status == 200 and group not in groups), calls


def injected(cloud):
    return [(rule["injected"], rule["last_error"]) for rule in cloud.faults() if rule["kind"] == "concurrent_write"]


@pytest.fixture
def change(cloud):
    invoker = Invoker(cloud, "change_request")
    return lambda request, **settings: only(invoker(request, **{**PROTECTED, **settings}))


def test_replace_keeps_a_protected_group_attached_while_it_was_decided(cloud, change):
    attach_between_decision_and_write(cloud, P1)
    seq = cloud.last_seq()
    data = change(change_request("replace", [{"name": "baseline"}, {"name": "app"}]))
    assert injected(cloud) == [(1, "")]
    assert data["outcome"] == "succeeded", data
    # the EDR group stays where its writer put it; the plan's groups stand in the plan's order
    assert port_groups(cloud, P1) == [EDR, SG["baseline"], SG["app"]]
    calls = our_writes(cloud, seq)
    assert_never_removed(calls, EDR)
    assert [kind for kind, _, _ in calls] == ["insert-security-groups", "remove-security-groups"]
    assert calls[1][1] == [default_sg(cloud)]  # only the group the plan dropped
    assert data["nics"][0]["after"] == [EDR, SG["baseline"], SG["app"]]
    assert ErrorCode.CONCURRENT_CHANGE in {w["code"] for w in data["warnings"]}  # kept, and said so


def test_reorder_re_reads_the_port_and_writes_a_list_that_keeps_the_protected_group(cloud, change):
    attach_between_decision_and_write(cloud, P1)
    seq = cloud.last_seq()
    data = change(change_request("reorder", [{"name": "app"}, {"name": "default"}]))
    assert injected(cloud) == [(1, "")]
    assert data["outcome"] == "succeeded", data
    assert port_groups(cloud, P1) == [EDR, SG["app"], default_sg(cloud)]
    calls = our_writes(cloud, seq)
    assert_never_removed(calls, EDR)
    assert [kind for kind, _, _ in calls] == ["update_port"]
    # the whole list was written from a fresh read of the port, then only the rails ran again (they
    # read the group that is new on the port: its rules decide too)
    routes = [e["route"] for e in cloud.requests(seq) if e.get("service")]
    write_at = routes.index("PUT /v1/{project_id}/ports/{port_id}")
    read_at = routes.index("GET /v1/{project_id}/ports/{port_id}")
    assert set(routes[read_at + 1 : write_at]) <= {
        "GET /v3/{project_id}/vpc/security-groups",
        "GET /v3/{project_id}/vpc/security-group-rules",
    }


def test_pinned_protected_group_attached_last_meanwhile_makes_the_fresh_rails_refuse_the_whole_list(cloud, change):
    attach_between_decision_and_write(cloud, P1, index=None)  # appended: behind the others
    seq = cloud.last_seq()
    data = change(change_request("reorder", [{"name": "app"}, {"name": "default"}]), PIN_PROTECTED_FIRST="true")
    assert data["outcome"] == "failed" and data["retryable"] is True, data
    codes = [e["code"] for e in data["errors"]]
    assert codes[0] == ErrorCode.CONCURRENT_CHANGE and ErrorCode.PROTECTED_GROUP in codes
    assert our_writes(cloud, seq) == []  # the rails ran again on the fresh list: nothing written
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], EDR]


def test_a_port_that_keeps_changing_ends_failed_retryable_concurrent_change_and_keeps_every_group(cloud, change):
    # every re-read shows one more group of someone else's, and the whole-list write fails transiently
    for nth, group in enumerate((EDR, SG["web"], SG["db"]), start=1):
        cloud.add_fault(
            kind="concurrent_write",
            method="GET",
            path="/v1/*/ports/*",
            phase="before",
            every_nth=nth,
            count=1,
            port_id=P1,
            insert=[group],
        )
    cloud.add_fault(kind="error503", method="PUT", path="/v1/*/ports/*", count=5)
    seq = cloud.last_seq()
    data = change(change_request("reorder", [{"name": "app"}, {"name": "default"}]))
    assert data["outcome"] == "failed" and data["retryable"] is True, data
    assert [e["code"] for e in data["errors"]] == [ErrorCode.CONCURRENT_CHANGE]
    assert port_groups(cloud, P1) == [default_sg(cloud), SG["app"], EDR, SG["web"], SG["db"]]
    assert all(status != 200 for _, _, status in our_writes(cloud, seq))  # nothing of ours landed


def test_an_add_whose_index_a_concurrent_insert_shifted_still_lands_at_its_planned_place(cloud, change):
    attach_between_decision_and_write(cloud, P1, group=SG["web"], index=0)
    seq = cloud.last_seq()
    data = change(change_request("add", [{"name": "db"}], position=1))  # planned: [default, db, app]
    assert data["outcome"] == "succeeded", data
    # our group stands between the two it was planned between; theirs stays first
    assert port_groups(cloud, P1) == [SG["web"], default_sg(cloud), SG["db"], SG["app"]]
    calls = our_writes(cloud, seq)
    assert_never_removed(calls, SG["web"])
    assert all(kind != "update_port" for kind, _, _ in calls)


def test_policy_replace_mode_keeps_a_protected_group_attached_while_the_server_was_judged(cloud, ecs):
    cloud.settings(build_delay_ms=300)
    job, [server] = create_servers(ecs, "replace-me")
    [port] = [p for p in cloud.state()["projects"][cloud.project_id]["vpc"]["ports"] if p["device_id"] == server]
    attach_between_decision_and_write(cloud, port["id"])
    policy = {"rules": [{"name": "r", "mode": "replace", "security_groups": [{"name": "app"}, {"name": "baseline"}]}]}
    seq = cloud.last_seq()
    response = Invoker(cloud, "ecs_created")(
        cts_event(cts_trace([server], job)),
        POLICY=json.dumps(policy),
        READINESS_POLL_S="0.05",
        READINESS_MAX_WAIT_S="10",
        **PROTECTED,
    )
    data = only(response)
    assert injected(cloud) == [(1, "")]
    assert data["outcome"] == "succeeded", data
    assert port_groups(cloud, port["id"]) == [EDR, SG["app"], SG["baseline"]]
    calls = our_writes(cloud, seq)
    assert_never_removed(calls, EDR)
    assert [kind for kind, _, _ in calls] == ["insert-security-groups", "remove-security-groups"]


def test_a_group_someone_attached_meanwhile_is_not_recorded_as_sgguards_in_the_ledger(cloud, change):
    """sg_drift keeps what a recent sgguard change added (the ledger): a group another writer slipped
    in during a ticket (a risky one) must not be vouched for as ours."""
    import time

    from shared.idempotency.ledger import MEMORY_LEDGER

    attach_between_decision_and_write(cloud, P1, group=SG["ssh-open"], index=None)
    data = change(change_request("replace", [{"name": "baseline"}, {"name": "app"}]))
    assert data["outcome"] == "succeeded", data
    assert SG["ssh-open"] in port_groups(cloud, P1)  # kept: not ours to remove
    recent = MEMORY_LEDGER.recent(cloud.project_id, [P1], now_s=time.time()).get(P1, set())
    assert SG["baseline"] in recent and SG["ssh-open"] not in recent

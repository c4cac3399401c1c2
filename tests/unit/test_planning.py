"""Planning is pure: interfaces selected, lists computed, calls chosen (v3 deltas where the order allows)."""

import pytest

from shared.changes.planning import Operation, plan_nic, select_interfaces
from shared.errors import ErrorCode
from shared.model import Port

SERVER = "c0000000-0000-4000-8000-000000000001"
A, B, C, D = ("a0000000-0000-4000-8000-00000000000%d" % i for i in range(1, 5))


def port(pid, groups, ip="10.0.0.5", subnet="s1", network="n1", owner="compute:az1", device=SERVER, enabled=True):
    return Port(
        id=pid,
        device_id=device,
        device_owner=owner,
        network_id=network,
        fixed_ips=[(subnet, ip)],
        security_groups=list(groups),
        port_security_enabled=enabled,
    )


@pytest.mark.parametrize(
    "action,groups,position,after,ops",
    [
        # a replace writes deltas: the new group appended, then the dropped one removed (never the whole list)
        ("replace", [B, C], None, [B, C], [Operation("insert", (C,), None), Operation("remove", (A,))]),
        (
            "replace",
            [C, A, D],
            None,
            [C, A, D],
            [Operation("insert", (C,), 0), Operation("insert", (D,), None), Operation("remove", (B,))],
        ),
        ("replace", [A, B], None, [A, B], []),
        ("replace", [B, A], None, [B, A], [Operation("update", (B, A))]),
        ("add", [C], None, [A, B, C], [Operation("insert", (C,), None)]),
        ("add", [C], 0, [C, A, B], [Operation("insert", (C,), 0)]),
        ("add", [C, D], 1, [A, C, D, B], [Operation("insert", (C, D), 1)]),
        ("add", [C], 7, [A, B, C], [Operation("insert", (C,), None)]),
        ("add", [A], 0, [A, B], []),
        ("add", [A, C], 0, [C, A, B], [Operation("insert", (C,), 0)]),
        ("remove", [A], None, [B], [Operation("remove", (A,))]),
        ("reorder", [B, A], None, [B, A], [Operation("update", (B, A))]),
        ("reorder", [A, B], None, [A, B], []),
    ],
)
def test_plan_nic(action, groups, position, after, ops):
    plan, errors, _ = plan_nic(port("p1", [A, B]), action, groups, position)
    assert errors == []
    assert plan.before == [A, B]
    assert plan.after == after
    assert plan.operations == ops
    assert plan.changes == (after != [A, B])


def test_remove_last_group_is_refused():
    plan, errors, _ = plan_nic(port("p1", [A]), "remove", [A])
    assert plan is None and [e.code for e in errors] == [ErrorCode.EMPTY_GROUP_LIST]


def test_remove_absent_group_warns_and_changes_nothing():
    plan, errors, warnings = plan_nic(port("p1", [A, B]), "remove", [C])
    assert errors == [] and plan.operations == [] and plan.after == [A, B]
    assert [w.code for w in warnings] == [ErrorCode.NOT_ATTACHED]


@pytest.mark.parametrize("groups", [[A], [A, B, C], [A, C]])
def test_reorder_must_name_exactly_the_groups_present(groups):
    plan, errors, _ = plan_nic(port("p1", [A, B]), "reorder", groups)
    assert plan is None and errors[0].code == ErrorCode.REORDER_MISMATCH


def test_duplicates_in_request_are_collapsed():
    plan, _, _ = plan_nic(port("p1", [A]), "replace", [B, B, C])
    assert plan.after == [B, C]


PORTS = [
    port("p1", [A], ip="10.0.1.5", subnet="ns1", network="n1"),
    port("p2", [A], ip="10.0.2.5", subnet="ns2", network="n2"),
    port("vip", [A], ip="10.0.2.100", subnet="ns2", network="n2", owner="neutron:VIP_PORT"),
    port("other", [A], ip="10.0.2.6", device="c0000000-0000-4000-8000-000000000009"),
]


@pytest.mark.parametrize(
    "selection,primary,expected",
    [
        ("primary", "p2", ["p2"]),
        ("primary", None, ["p1"]),
        ("all", None, ["p1", "p2"]),
        ([{"port_id": "p2"}], None, ["p2"]),
        ([{"ip": "10.0.1.5"}], None, ["p1"]),
        ([{"subnet_id": "n2"}], None, ["p2"]),
        ([{"subnet_id": "ns1"}], None, ["p1"]),
        ([{"port_id": "p2"}, {"ip": "10.0.2.5"}], None, ["p2"]),
    ],
)
def test_select_interfaces(selection, primary, expected):
    chosen, errors = select_interfaces(PORTS, selection, server_id=SERVER, primary_port_id=primary)
    assert errors == []
    assert [p.id for p in chosen] == expected


@pytest.mark.parametrize(
    "selector",
    [{"port_id": "vip"}, {"port_id": "other"}, {"ip": "10.0.2.100"}, {"ip": "10.9.9.9"}, {"subnet_id": "nope"}],
)
def test_only_the_servers_own_interfaces_are_selectable(selector):
    chosen, errors = select_interfaces(PORTS, [{"port_id": "p1"}, selector], server_id=SERVER, primary_port_id=None)
    assert [e.code for e in errors] == [ErrorCode.NIC_NOT_FOUND]
    assert errors[0].path == "$.target.nics[1]"


def test_no_interfaces_means_server_not_found():
    chosen, errors = select_interfaces(PORTS[2:], "all", server_id=SERVER, primary_port_id=None)
    assert chosen == [] and errors[0].code == ErrorCode.SERVER_NOT_FOUND


@pytest.mark.parametrize(
    "before,after,ops",
    [
        ([A, B], [A, B], []),
        ([A, B], [A, B, C], [Operation("insert", (C,), None)]),
        ([A, B], [C, D, A, B], [Operation("insert", (C, D), 0)]),
        ([A, B], [A, C, B], [Operation("insert", (C,), 1)]),
        # two blocks: two inserts, each before the group it precedes (a whole list would be stale-prone)
        ([A, B], [C, A, D, B], [Operation("insert", (C,), 0), Operation("insert", (D,), 2)]),
        ([A, B, C], [A, C], [Operation("remove", (B,))]),
        ([A, B], [B, A], [Operation("update", (B, A))]),
        ([A, B], [C], [Operation("insert", (C,), None), Operation("remove", (A, B))]),  # inserts first: never empty
        ([A, B], [B, C], [Operation("insert", (C,), None), Operation("remove", (A,))]),
        ([A, B, C], [C, B, D], [Operation("update", (C, B, D))]),  # kept groups change order: one whole list
    ],
)
def test_derive_operations(before, after, ops):
    from shared.changes.planning import derive_operations

    assert derive_operations(before, after) == ops

"""shared.changes.deltas, pure: the calls computed from the port as last seen never remove a group
nobody planned for, whatever another writer attaches in between (issue 19, item 5).

The model of the API below is the documented one: insert at ``index`` (0 = first; past the end or
None = append), remove names groups on the port, update sets the whole list; a whole-list update
is written from a list read just before it (what the applier does), every other call from the
previous answer, which may be stale by any number of concurrent insertions.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.changes.deltas import Operation, after_step, next_step, planned_order, rebase, steps

PLANNED = [f"p{i}" for i in range(7)]  # groups a plan may name
THEIRS = [f"x{i}" for i in range(5)]  # groups only another writer attaches


def apply_call(port: list[str], operation: Operation) -> list[str]:
    """The API's answer to ``operation`` on the port as it really is."""
    if operation.kind == "insert":
        assert not set(operation.groups) & set(port), "the API refuses to insert a group already there"
    if operation.kind == "remove":
        assert all(g in port for g in operation.groups), "the API refuses to remove a group not there"
        assert len(port) > len(operation.groups), "the API refuses to leave a port with no group"
    return after_step(port, operation)


@st.composite
def plans(draw):
    before = draw(st.lists(st.sampled_from(PLANNED), min_size=1, max_size=6, unique=True))
    action = draw(st.sampled_from(["replace", "reorder", "add", "remove"]))
    if action == "reorder":
        after = draw(st.permutations(before))
    elif action == "add":
        extra = [g for g in draw(st.lists(st.sampled_from(PLANNED), max_size=3, unique=True)) if g not in before]
        at = draw(st.integers(0, len(before)))
        after = before[:at] + extra + before[at:]
    elif action == "remove" and len(before) > 1:
        gone = draw(st.lists(st.sampled_from(before), max_size=len(before) - 1, unique=True))
        after = [g for g in before if g not in gone]
    else:
        after = draw(st.lists(st.sampled_from(PLANNED), min_size=1, max_size=6, unique=True))
    return list(before), list(after)


@st.composite
def interference(draw):
    """Per step: the groups another writer inserts (at which index) before our next call lands."""
    moments = draw(st.lists(st.lists(st.tuples(st.sampled_from(THEIRS), st.integers(0, 12)), max_size=2), max_size=8))
    return moments


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), theirs=interference())
def test_concurrent_insertions_are_never_removed_and_the_plan_still_lands(plan, theirs):
    before, after = plan
    port = list(before)  # the real port
    seen = list(before)  # what the applier last saw (the decision's list, then each answer)
    attached: list[str] = []
    calls: list[Operation] = []
    for step in range(40):
        for group, index in theirs[step] if step < len(theirs) else []:
            if group not in port:  # another writer inserts one of theirs, anywhere
                port.insert(min(index, len(port)), group)
                attached.append(group)
        operation = next_step(before, after, seen)
        if operation is None:
            break
        if operation.kind == "update":
            seen = list(port)  # re-read just before the whole-list write (the applier's guard)
            operation = next_step(before, after, seen)
            if operation is None:
                break
        assert not (set(operation.groups) - set(before) - set(after)) or operation.kind == "update"
        if operation.kind == "remove":
            assert not set(operation.groups) & set(attached), "a call removed a group nobody planned for"
        if operation.kind == "update":
            assert set(attached) <= set(operation.groups), "a whole list dropped a group nobody planned for"
        calls.append(operation)
        port = apply_call(port, operation)
        seen = list(port)  # the write's answer
    else:
        pytest.fail(f"no convergence: {calls}")
    assert set(attached) <= set(port), f"unplanned group removed: {port} after {calls}"
    # the plan's groups stand in the plan's order, every added group is there
    assert [g for g in port if g in set(before) | set(after)] == planned_order(before, after, port)
    assert set(after) - set(before) <= set(port)
    assert not (set(before) - set(after)) & set(port)


@settings(max_examples=400, deadline=None)
@given(plan=plans())
def test_without_interference_the_calls_reach_exactly_the_plan_and_every_step_is_between(plan):
    before, after = plan
    port = list(before)
    calls = steps(before, after)
    kept_in_order = [g for g in before if g in after] == [g for g in after if g in before]
    assert ("update" in {c.kind for c in calls}) == (not kept_in_order and before != after)
    for operation in calls:
        port = apply_call(port, operation)
        if operation.kind != "update":
            # an intermediate list is the old one with new groups at their planned places (minus drops
            # already made): a packet meets first either the rule it met before or the one it will after
            assert [g for g in port if g in before] == [g for g in before if g in port]
            assert [g for g in port if g in after] == [g for g in after if g in port]
    assert port == after
    assert len([c for c in calls if c.kind == "remove"]) <= 1


@settings(max_examples=300, deadline=None)
@given(plan=plans(), extra=st.lists(st.tuples(st.sampled_from(THEIRS), st.integers(0, 8)), max_size=3))
def test_rebase_keeps_every_unplanned_group_and_the_plans_order(plan, extra):
    before, after = plan
    current = list(before)
    for group, index in extra:
        if group not in current:
            current.insert(min(index, len(current)), group)
    target = rebase(before, after, current)
    theirs = [g for g in current if g in THEIRS]
    assert [g for g in target if g in THEIRS] == theirs  # all kept, in their order
    assert [g for g in target if g not in THEIRS] == planned_order(before, after, current)
    if current and current[0] in THEIRS:
        assert target[0] == current[0]  # one that stood first (an EDR agent's group) stays first


@pytest.mark.parametrize(
    "current,expected",
    [
        (["x0", "a", "b"], Operation("insert", ("n",), 2)),  # before the planned successor, behind theirs
        (["a", "b", "x0"], Operation("insert", ("n",), 1)),
    ],
)
def test_an_insert_goes_right_before_the_group_it_was_planned_to_precede(current, expected):
    assert next_step(["a", "b"], ["a", "n", "b"], current) == expected


def test_a_group_of_ours_misplaced_by_a_concurrent_shift_is_taken_off_and_put_back():
    # planned [a, n, b]; n landed ahead of a (someone inserted at 0 meanwhile, shifting our index)
    assert next_step(["a", "b"], ["a", "n", "b"], ["n", "a", "b"]) == Operation("remove", ("n",))
    assert next_step(["a", "b"], ["a", "n", "b"], ["a", "b"]) == Operation("insert", ("n",), 1)


def test_a_reorder_is_one_guarded_whole_list_that_keeps_theirs():
    assert next_step(["a", "b"], ["b", "a"], ["x0", "a", "b", "x1"]) == Operation("update", ("x0", "b", "a", "x1"))

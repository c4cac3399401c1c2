"""Delta steps, pure: the calls that bring a port to a plan without touching a group nobody planned for.

A plan is decided on the list read at decision time (``before``): it names the groups that go (in
``before``, not in ``after``), the groups that come (in ``after``, not in ``before``) and the order
of the groups it names. By the time it is written the port may carry more - a group someone else
attached meanwhile (an EDR agent's) - or less. So the next call is always computed from the port
as last seen (:func:`next_step`), never from the decision's list:

- each missing block of planned groups is inserted (v3 ``insert-security-groups``) right before
  the planned group that follows it in the plan (appended when none follows), then the planned
  drops are removed in one v3 ``remove-security-groups``. Inserts go first: the list is never
  empty, and every list in between is the old list with the new groups at their planned places,
  so whichever rule a packet meets first there is the one it met before or the one it will meet
  after: an intermediate list reaches nothing that neither the old nor the new one reaches;
- a call only ever names planned groups, so a group the plan did not name stays where it is;
- when the kept groups must change their relative order (a reorder), no delta can do it without
  taking a group off for a moment (a deny guard, a protected group), so the step is one whole-list
  ``update_port`` of :func:`rebase`'s list (the plan's groups in the plan's order, every other
  group of the port kept), which the applier guards: fresh read, guard rails again, bounded re-plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Operation", "PlanConflict", "planned_order", "rebase", "next_step", "steps", "after_step"]


@dataclass(frozen=True)
class Operation:
    kind: str  # "update" (whole list, v1) | "insert" (v3, at index) | "remove" (v3)
    groups: tuple[str, ...]
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "call": {
                "update": "vpc.update_port",
                "insert": "vpc.insert_security_groups",
                "remove": "vpc.remove_security_groups",
            }[self.kind],
            "security_groups": list(self.groups),
        }
        if self.kind == "insert":
            data["index"] = self.index
        return data


class PlanConflict(ValueError):
    """The port changed so that the plan cannot be carried out (its every kept group is gone)."""


def planned_order(before: Sequence[str], after: Sequence[str], current: Sequence[str]) -> list[str]:
    """The plan's groups as they should stand on ``current``, in the plan's order: every group it
    adds, and the groups it keeps that are still there (one someone else took off stays off)."""
    on_port = set(current)
    known = set(before)
    return [g for g in after if g in on_port or g not in known]


def rebase(before: Sequence[str], after: Sequence[str], current: Sequence[str]) -> list[str]:
    """The whole list to write on ``current``: :func:`planned_order`, with every group of ``current``
    that the plan does not name kept, in their order - first if no planned group stood ahead of it,
    last if none stood behind it, else right after the planned group it followed (or later, where
    that is needed to keep the order among them)."""
    target = planned_order(before, after, current)
    rank = {group: i for i, group in enumerate(target)}
    named = set(before) | set(after)
    last_planned_at = max((i for i, g in enumerate(current) if g in rank), default=-1)
    slots: dict[int, list[str]] = {}  # how many planned groups stand ahead -> theirs, in order
    ahead = -1  # rank of the planned group last passed in ``current``
    slot = 0
    for i, group in enumerate(current):
        if group in rank:
            ahead = rank[group]
        elif group not in named:
            wanted = 0 if ahead < 0 else len(target) if i > last_planned_at else ahead + 1
            slot = max(slot, wanted)  # never ahead of one of theirs that stood ahead of it
            slots.setdefault(slot, []).append(group)
    result: list[str] = []
    for k, planned in enumerate(target):
        result += slots.get(k, [])
        result.append(planned)
    return result + slots.get(len(target), [])


def next_step(before: Sequence[str], after: Sequence[str], current: Sequence[str]) -> Operation | None:
    """The next call that brings ``current`` toward the plan, or None when it is there.

    Raises :class:`PlanConflict` when the plan cannot be completed without leaving no group.
    """
    target = planned_order(before, after, current)
    on_port = set(current)
    present = [g for g in current if g in set(target)]  # the plan's groups on the port, in port order
    if present != [g for g in target if g in on_port]:
        # Groups this plan attached (not in ``before``) may be taken off and put back at their place:
        # that touches nobody else's group. Kept groups out of order need a whole-list write.
        ours = [g for g in present if g not in set(before)]
        if ours and len(ours) < len(current):
            rest = [g for g in present if g not in set(ours)]
            if rest == [g for g in target if g in on_port and g not in set(ours)]:
                return Operation("remove", tuple(ours))
        return Operation("update", tuple(rebase(before, after, current)))
    missing = [g for g in target if g not in on_port]
    if missing:
        start = target.index(missing[0])
        end = start
        while end < len(target) and target[end] not in on_port:
            end += 1
        index = current.index(target[end]) if end < len(target) else None
        return Operation("insert", tuple(target[start:end]), index)
    dropped = set(before) - set(after)
    drops = [g for g in current if g in dropped]
    if drops:
        if len(drops) == len(current):
            raise PlanConflict("every group the plan keeps is gone; removing the rest would leave none")
        return Operation("remove", tuple(drops))
    return None


def after_step(current: Sequence[str], operation: Operation) -> list[str]:
    """What the port shows after ``operation`` on ``current``, as the API defines the calls."""
    if operation.kind == "update":
        return list(operation.groups)
    if operation.kind == "insert":
        at = len(current) if operation.index is None else min(operation.index, len(current))
        return [*current[:at], *operation.groups, *current[at:]]
    return [g for g in current if g not in set(operation.groups)]


def steps(before: Sequence[str], after: Sequence[str], current: Sequence[str] | None = None) -> list[Operation]:
    """Every call, in order, from ``current`` (default ``before``) to the plan, if nobody else writes."""
    state = list(before if current is None else current)
    calls: list[Operation] = []
    for _ in range(len(before) + len(after) + 2):  # each step settles at least one group
        operation = next_step(before, after, state)
        if operation is None:
            return calls
        calls.append(operation)
        if operation.kind == "update":
            return calls
        state = after_step(state, operation)
    raise AssertionError("delta steps did not converge")  # unreachable: each step fixes one block

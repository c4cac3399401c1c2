"""The trigger part of a deploy plan: template triggers against the deployed ones.

A deployed trigger matches a template trigger of the same type and status whose ``event_data``
fields all equal the deployed ones (passwords and fields the API leaves out excepted: nothing to
compare; CTS ``operations`` as sets in either spelling). What is left over pairs up by type:

- same ``event_data``, another status: ``update_trigger`` (UpdateTrigger changes
  ``trigger_status`` in place: no gap in delivery, no new trigger id);
- another ``event_data``: ``replace_trigger`` (FunctionGraph's UpdateTrigger does not document
  changing those fields, so it is a delete then a create — shown as one replacement, with the
  fields that differ);
- unpaired deployed triggers are destroyed, unpaired template triggers added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..template import cts_operations
from .plan_view import Change, masked_event_data, shown

__all__ = ["trigger_changes", "event_data_matches"]


def _contains(have: Any, want: Any) -> bool:
    """``want`` is found in ``have``: equal, or for objects every key of ``want`` is (the API adds
    fields of its own, and the SDK's response models add unset ones as None)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_contains(have.get(key), value) for key, value in want.items())
    return have == want


def event_data_matches(have: dict, want: dict) -> bool:
    """The deployed trigger's ``event_data`` against the template's: CTS ``operations`` as
    normalised sets (FunctionGraph may answer the ``;``-joined form), and a field the API does
    not return (absent or null: Terraform's trigger resource warns that some are not) is no
    difference — there is nothing to compare it with, and replacing the trigger would open a gap."""
    for key, value in want.items():
        got = have.get(key)
        if got is None:
            continue
        if key == "operations":
            if cts_operations(got) != cts_operations(value):
                return False
        elif not _contains(got, value):
            return False
    return True


def _matches(desired: Any, remote: dict, *, status: bool = True) -> bool:
    return (
        remote.get("trigger_type_code") == desired.trigger_type_code
        and (not status or remote.get("trigger_status") == desired.trigger_status)
        and event_data_matches(remote.get("event_data") or {}, desired.public_event_data())
    )


def _differences(desired: Any, remote: dict) -> list[str]:
    have = remote.get("event_data") or {}
    changed = []
    for key, value in sorted(masked_event_data(desired.event_data).items()):
        got = have.get(key)
        if got is None or value == "(sensitive)":
            continue
        same = cts_operations(got) == cts_operations(value) if key == "operations" else _contains(got, value)
        if not same:
            changed.append(f"event_data.{key}: {shown(got)} -> {shown(value)}")
    return changed


def _created(desired: Any) -> list[str]:
    return [f"trigger_status: {desired.trigger_status}"] + [
        f"event_data.{key}: {shown(value)}" for key, value in sorted(masked_event_data(desired.event_data).items())
    ]


def trigger_changes(urn: str, name: str, desired: list, remote: list[dict]) -> list[Change]:
    """Destroys and replacements first (a changed trigger is never doubled), then status updates
    and additions."""
    unmatched = list(remote)
    pending = []
    for trigger in desired:
        match = next((r for r in unmatched if _matches(trigger, r)), None)
        if match is not None:
            unmatched.remove(match)
        else:
            pending.append(trigger)
    first: list[Change] = []
    later: list[Change] = []
    for trigger in pending:
        kind = trigger.trigger_type_code
        status_only = next((r for r in unmatched if _matches(trigger, r, status=False)), None)
        same_type = next((r for r in unmatched if r.get("trigger_type_code") == kind), None)
        if status_only is not None:
            unmatched.remove(status_only)
            later.append(
                Change(
                    "update_trigger",
                    name,
                    f"{kind} {status_only['trigger_id']}",
                    _update(urn, status_only, trigger.trigger_status),
                    [f"trigger_status: {status_only.get('trigger_status')} -> {trigger.trigger_status}"],
                )
            )
        elif same_type is not None:
            unmatched.remove(same_type)
            first.append(
                Change(
                    "replace_trigger",
                    name,
                    f"{kind} {same_type['trigger_id']}",
                    _replace(urn, same_type, trigger),
                    _differences(trigger, same_type) or ["event_data: changed fields the API does not return"],
                )
            )
        else:
            later.append(Change("create_trigger", name, kind, _create(urn, trigger), _created(trigger)))
    destroys = [
        Change("delete_trigger", name, f"{stale['trigger_type_code']} {stale['trigger_id']}", _delete(urn, stale))
        for stale in unmatched
    ]
    return destroys + first + later


def _create(urn: str, trigger: Any) -> Callable[[Any], Any]:
    return lambda ctx: ctx.api.create_trigger(urn, trigger)


def _delete(urn: str, stale: dict) -> Callable[[Any], Any]:
    return lambda ctx: ctx.api.delete_trigger(urn, stale["trigger_type_code"], stale["trigger_id"])


def _update(urn: str, remote: dict, status: str) -> Callable[[Any], Any]:
    return lambda ctx: ctx.api.update_trigger_status(urn, remote["trigger_type_code"], remote["trigger_id"], status)


def _replace(urn: str, stale: dict, trigger: Any) -> Callable[[Any], Any]:
    def run(ctx: Any) -> None:
        ctx.api.delete_trigger(urn, stale["trigger_type_code"], stale["trigger_id"])
        ctx.api.create_trigger(urn, trigger)

    return run

"""Which target an ECS / CTS event is about (TARGETS): ecs_created and sg_drift route each event by
the account and project its trace names (docs/organisation.md, "Events from member accounts").

Fields read (CTS "Trace Structure" and "Example Traces"): ``resource_account_id`` (the account the
resource belongs to, set when one account operates on another's resources), ``domain_id``,
``user.domain.id``, ``user.account_id`` and ``project_id``. Without ``TARGETS`` nothing is read here:
every event is the home project's, as before. With ``TARGETS`` the decision is strict, before any
call:

- every account field present must be 32 lowercase ASCII hex characters, and the project id too:
  upper-case hex, spaces, Unicode digits or a non-string are ``EVENT_TARGET_UNKNOWN`` (``skipped``),
  never read as the home account's; the account fields must agree (``resource_account_id``, when
  present, names the resource's account and decides);
- the home project's event: its project is ``PROJECT_ID`` and its account the home one (TARGETS'
  ``home.domain_id``; without it, any account that is not a member). A CTS trigger delivers only
  its own project's traces, so a CTS-trigger trace may leave out one of the two (the home account
  without a project, or the home project without an account); an EventGrid event (a central
  channel receives many accounts') must name both;
- a member's event: its account is one of TARGETS, its project not excluded (its region and, with
  ``projects: all``, that the project is the account's, come from the member's project listing);
- anything else is ``skipped`` ``TARGET_NOT_ALLOWED`` with no call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import ErrorCode, ErrorDetail
from shared.targets import Targets

__all__ = ["EventRoute", "route_event", "ACCOUNT_FIELDS"]

_ID32 = re.compile(r"[0-9a-f]{32}")  # explicit ASCII ranges: no Unicode digit, no upper case
# (JSON path, key path) of the account fields, the deciding one first
ACCOUNT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("$.resource_account_id", ("resource_account_id",)),
    ("$.domain_id", ("domain_id",)),
    ("$.user.domain.id", ("user", "domain", "id")),
    ("$.user.account_id", ("user", "account_id")),
)
_MISSING = object()


@dataclass(frozen=True)
class EventRoute:
    """Where an event goes: the home project, a member's (account, project), or skipped (``skip``)."""

    home: bool = False
    account: str | None = None
    project_id: str | None = None
    skip: ErrorDetail | None = None


def _field(trace: Mapping[str, Any], keys: tuple[str, ...]) -> object:
    value: object = trace
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return _MISSING if value is None else value


def _skip(code: str, message: str, path: str) -> EventRoute:
    return EventRoute(skip=ErrorDetail(code, message, path))


def _is_id(value: object) -> bool:
    return isinstance(value, str) and _ID32.fullmatch(value) is not None


def _account(trace: Mapping[str, Any]) -> tuple[str | None, EventRoute | None]:
    found: list[tuple[str, str]] = []
    for path, keys in ACCOUNT_FIELDS:
        value = _field(trace, keys)
        if value is _MISSING:
            continue
        if not _is_id(value):
            message = f"{path} is not an account id (32 lowercase hex characters): the event is not routed"
            return None, _skip(ErrorCode.EVENT_TARGET_UNKNOWN, message, path)
        found.append((path, str(value)))
    if not found:
        return None, None
    if found[0][0] == "$.resource_account_id":  # the resource's account decides (a cross-account operation)
        return found[0][1], None
    if len({value for _, value in found}) > 1:
        message = "the event's account fields disagree (" + ", ".join(path for path, _ in found) + ")"
        return None, _skip(ErrorCode.EVENT_TARGET_UNKNOWN, message, found[1][0])
    return found[0][1], None


def route_event(trace: object, targets: Targets | None, home_project: str | None, *, via_cts: bool) -> EventRoute:
    """The route of one event's trace; ``via_cts``: delivered by the function's own CTS trigger."""
    if targets is None:
        return EventRoute(home=True)
    if not isinstance(trace, Mapping):
        return _skip(ErrorCode.EVENT_TARGET_UNKNOWN, "the event carries no trace object", "$")
    account, refused = _account(trace)
    if refused is not None:
        return refused
    project: object = _field(trace, ("project_id",))
    if project is not _MISSING and not _is_id(project):
        message = "$.project_id is not a project id (32 lowercase hex characters): the event is not routed"
        return _skip(ErrorCode.EVENT_TARGET_UNKNOWN, message, "$.project_id")
    project_id = None if project is _MISSING else str(project)
    member = targets.member(account)
    home_account = targets.home_account
    if member is None:
        is_home_account = account == home_account if home_account is not None else account is not None
        if project_id is None:
            if via_cts and home_account is not None and is_home_account:
                return EventRoute(home=True, account=account)
            where = "$.project_id" if account is not None else "$.user.domain.id"
            return _skip(ErrorCode.EVENT_TARGET_UNKNOWN, "the event names no account and project", where)
        if account is None:  # only the function's own CTS trigger may leave the account out
            if via_cts and project_id == home_project:
                return EventRoute(home=True, project_id=project_id)
            return _skip(ErrorCode.EVENT_TARGET_UNKNOWN, "the event names no account", "$.user.domain.id")
        if project_id == home_project and is_home_account:
            return EventRoute(home=True, account=account, project_id=project_id)
        message = f"account {account}, project {project_id} is not one of TARGETS: nothing read or written"
        return _skip(ErrorCode.TARGET_NOT_ALLOWED, message, "$.user.domain.id")
    if project_id is None:
        return _skip(ErrorCode.EVENT_TARGET_UNKNOWN, f"account {account}'s event names no project", "$.project_id")
    if project_id == home_project or member.project_listed(project_id) is False:
        message = f"project {project_id} is not one of account {account}'s in TARGETS: nothing read or written"
        return _skip(ErrorCode.TARGET_NOT_ALLOWED, message, "$.project_id")
    return EventRoute(account=account, project_id=project_id)

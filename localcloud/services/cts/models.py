"""The CTS model of one project: the operations (trace names) each service records, and the
traces recorded (the ones localcloud's own changes produce, and any a test adds).

The operation catalog is what localcloud's services emit plus what the documentation names:

- ECS (``ecs``): ``createServer``, ``createServerV2``, ``createServerV21`` (ECS user guide, "Key
  Operations Supported by CTS"), ``createSingleServer`` (CTS "Example Traces"), ``deleteServer``,
  ``addSecurityGroup``, ``removeSecurityGroup``, ``createSgRule``, ``deleteSgRule`` (the Open
  Telekom Cloud edition of the ECS page); ``server``: ``operateServer`` (Huawei's edition: its
  resource type is **assumed**);
- VPC ``ports``: ``updatePort`` (VPC "Key Operations Recorded by CTS"), ``addSecurityGroups`` /
  ``removeSecurityGroups`` (the v3 insert / remove: **assumed**, the names localcloud's traces use);
  ``security-group-rules``: ``createSecurity-group-rule``, ``updateSecurity-group-rule``,
  ``deleteSecurity-group-rule``; ``security-groups``: ``createSecurity-group``, ``deleteSecurity-group``
  (documented).

``POST /_localcloud/cts/operations`` replaces it (a test makes a trace name unknown). A real CTS
answers for every service it records; this catalog is only what sgguard meets.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["CtsModel", "DEFAULT_OPERATIONS", "EXACT_FILTERS", "MAX_TRACES"]

DEFAULT_OPERATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "ECS",
        "ecs",
        (
            "createServer",
            "createServerV2",
            "createServerV21",
            "createSingleServer",
            "deleteServer",
            "addSecurityGroup",
            "removeSecurityGroup",
            "createSgRule",
            "deleteSgRule",
        ),
    ),
    ("ECS", "server", ("operateServer",)),
    ("VPC", "ports", ("updatePort", "addSecurityGroups", "removeSecurityGroups")),
    (
        "VPC",
        "security-group-rules",
        ("createSecurity-group-rule", "updateSecurity-group-rule", "deleteSecurity-group-rule"),
    ),
    ("VPC", "security-groups", ("createSecurity-group", "deleteSecurity-group")),
)
# ListTraces' filters compared as written ("Querying a Trace List", cts_api_0311)
EXACT_FILTERS = (
    "service_type",
    "resource_type",
    "trace_name",
    "resource_id",
    "resource_name",
    "trace_id",
    "trace_rating",
)
MAX_TRACES = 10_000  # kept per project (CTS keeps 7 days; the emulator keeps the latest)


class CtsModel:
    def __init__(self, project: ProjectState):
        self.project = project
        self.operations: list[dict[str, Any]] = [
            {"service_type": s, "resource_type": r, "operation_list": list(names)} for s, r, names in DEFAULT_OPERATIONS
        ]
        self.traces: list[dict[str, Any]] = []
        self.trackers: list[dict[str, Any]] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations": copy.deepcopy(self.operations),
            "traces": len(self.traces),
            "trackers": copy.deepcopy(self.trackers),
        }

    # ---- CreateTracker / ListTrackers -----------------------------------------------------
    def create_tracker(self, body: object) -> dict[str, Any]:
        """The management tracker: ``tracker_type`` ``system`` is named ``system``, one per project
        (CTS API "Creating a Tracker"). Data trackers are not emulated."""
        if not isinstance(body, dict) or body.get("tracker_type") != "system":
            raise errors.bad_query("only tracker_type system is emulated")
        if body.get("tracker_name") != "system":
            raise errors.bad_query("a system tracker is named system")
        if any(t["tracker_type"] == "system" for t in self.trackers):
            raise errors.tracker_exists()
        tracker = {
            "id": f"{self.project.project_id[:8]}-system",
            "create_time": int(self.project.backend.clock() * 1000),
            "tracker_type": "system",
            "tracker_name": "system",
            "project_id": self.project.project_id,
            "status": "enabled",
            "lts": {"is_lts_enabled": bool(body.get("is_lts_enabled")), "log_group_name": "", "log_topic_name": ""},
        }
        self.trackers.append(tracker)
        return copy.deepcopy(tracker)

    def list_trackers(self, tracker_name: str | None, tracker_type: str | None) -> dict[str, Any]:
        found = [
            copy.deepcopy(t)
            for t in self.trackers
            if (not tracker_name or t["tracker_name"] == tracker_name)
            and (not tracker_type or t["tracker_type"] == tracker_type)
        ]
        return {"trackers": found}

    # ---- ListOperations -----------------------------------------------------------------
    def list_operations(self, service_type: str | None, resource_type: str | None) -> dict[str, Any]:
        if resource_type and not service_type:
            raise errors.bad_query("service_type is mandatory when resource_type is given")
        found = [
            copy.deepcopy(item)
            for item in self.operations
            if (not service_type or item["service_type"] == service_type)
            and (not resource_type or item["resource_type"] == resource_type)
        ]
        return {"operations": found}

    def set_operations(self, operations: object) -> None:
        if not isinstance(operations, list) or not all(
            isinstance(item, dict)
            and isinstance(item.get("service_type"), str)
            and isinstance(item.get("resource_type"), str)
            and isinstance(item.get("operation_list"), list)
            for item in operations
        ):
            raise errors.control_usage('send {"operations": [{"service_type", "resource_type", "operation_list"}]}')
        self.operations = copy.deepcopy(operations)

    # ---- ListTraces ---------------------------------------------------------------------
    def record(self, trace: dict[str, Any]) -> None:
        self.traces.append(copy.deepcopy(trace))
        del self.traces[:-MAX_TRACES]

    def list_traces(self, query: dict[str, Any]) -> dict[str, Any]:
        """Newest first, filtered like the API (``trace_type`` system, ``service_type``,
        ``resource_type``, ``resource_id``, ``resource_name``, ``trace_name``, ``trace_id``,
        ``trace_rating``, ``user`` - the user's name -, ``from`` < time <= ``to``); ``next`` is the
        marker (here: the position) the previous page ended at."""
        if query.get("trace_type") not in ("system", None):
            raise errors.bad_query("only trace_type=system traces are emulated")
        limit = query.get("limit") or 10
        if not 1 <= limit <= 200:
            raise errors.bad_query("limit must be within 1..200")
        low, high = query.get("from"), query.get("to")
        matching = [
            trace
            for trace in sorted(reversed(self.traces), key=lambda t: -int(t.get("time") or 0))
            if all(not query.get(name) or trace.get(name) == query[name] for name in EXACT_FILTERS)
            and (not query.get("user") or _user_name(trace) == query["user"])
            and (low is None or int(trace.get("time") or 0) > low)
            and (high is None or int(trace.get("time") or 0) <= high)
        ]
        start = int(query["next"]) if str(query.get("next") or "").isdigit() else 0
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        return {
            "traces": copy.deepcopy(page),
            "meta_data": {"count": len(page), "marker": str(start + limit) if more else None},
        }


def _user_name(trace: dict[str, Any]) -> object:
    user = trace.get("user")
    return user.get("name") if isinstance(user, dict) else user

"""A deploy plan as a reviewer reads it, like ``terraform plan``: each change with its category
(add ``+``, change ``~``, replace ``-/+``, destroy ``-``), the values it sets (secrets masked:
encrypted user data and password fields are never shown, only that they change), and totals.

    + add      create_function       ecs_created  412 bytes sha256:1a2b...
          runtime: Python3.12
          user_data.REGION: "cn-north-4"
          encrypted_user_data: IDEMPOTENCY_STORE, WEBHOOK_SIGNING_KEYS (values hidden)
    ~ change   update_config         change_request  user_data.ALLOWED_GROUPS
          user_data.ALLOWED_GROUPS: "*" -> "web,app"
    Plan: 1 to add, 1 to change, 0 to replace, 0 to destroy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Change", "Plan", "CATEGORIES", "MASK", "category_of", "shown", "masked_event_data"]

CATEGORIES = ("add", "change", "replace", "destroy")
_SIGNS = {"add": "+", "change": "~", "replace": "-/+", "destroy": "-"}
MASK = "(sensitive)"
_SECRET_FIELDS = ("kafka_password", "access_password", "db_password")


def category_of(action: str) -> str:
    verb = action.split("_", 1)[0]
    return {"create": "add", "update": "change", "replace": "replace", "delete": "destroy"}.get(verb, "change")


def shown(value: Any) -> str:
    """A value as one line of JSON (strings quoted, so an empty one is visible)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def masked_event_data(event_data: dict) -> dict:
    return {k: (MASK if k in _SECRET_FIELDS and v else v) for k, v in event_data.items()}


@dataclass
class Change:
    action: str  # create_dependency_version | create_function | update_code | update_config | create_trigger
    #              | update_trigger | replace_trigger | delete_trigger | update_async_config | delete_async_config
    target: str
    detail: str = ""
    run: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)
    values: list[str] = field(default_factory=list, compare=False)  # "name: value" or "name: old -> new"

    @property
    def category(self) -> str:
        return category_of(self.action)

    def line(self) -> str:
        sign, detail = _SIGNS[self.category], f"  {self.detail}" if self.detail else ""
        return f"{sign:<3} {self.category:<8} {self.action:<26} {self.target}{detail}"

    def lines(self) -> list[str]:
        return [self.line(), *(f"        {value}" for value in self.values)]

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "category": self.category,
            "target": self.target,
            "detail": self.detail,
            "values": list(self.values),
        }


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: sum(1 for c in self.changes if c.category == name) for name in CATEGORIES}

    def totals(self) -> str:
        counts = self.counts()
        return "Plan: " + ", ".join(f"{counts[name]} to {name}" for name in CATEGORIES) + "."

    def lines(self) -> list[str]:
        if not self.changes:
            return ["no changes"]
        return [line for change in self.changes for line in change.lines()]

"""EG event subscriptions of one project, and who may put events into a channel.

A subscription (``POST /v1/{project_id}/subscriptions``, SDK ``SubscriptionCreateReq``) takes the
events of a channel (here: the cloud service events of the project's official channel ``default``,
``HC.ECS`` / ``HC.VPC``...) whose source and filter match, and hands them to its targets. The one
target emulated is another channel (``HC.EG`` with ``eg_detail`` / ``detail``: ``target_project_id``,
``target_channel_id``, ``target_region``, ``cross_account``, ``cross_region``, ``agency_name``, as
``EgTargetDetail`` and Terraform's "vpc-to-eg" example name them), in this account or another, in
this region or another: :mod:`localcloud.runtime.forwarding` delivers.

Filters: ``{"source": [{"op": "StringIn", "values": [...]}], "type": [...]}`` (the Terraform
examples' form); a rule of another ``op`` is refused at creation (not emulated).

Cross-account puts (:func:`may_put`): a channel of another account accepts an account's events only
with ``cross_account`` true and a policy statement ``Effect: Allow``, ``Action: eg:channels:putEvents``
whose ``Principal`` lists that account's domain id under ``IAM`` (CreateChannel's request example);
``Resource``, when given, names the channel (``urn:eg:<region>:<domain>:channel:<name>``) or ``*``.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import errors

__all__ = ["Subscriptions", "may_put", "matches", "PUT_EVENTS"]

PUT_EVENTS = "eg:channels:putEvents"
_FILTER_KEYS = ("source", "type", "subject")


def _principals(statement: dict) -> list[str]:
    principal = statement.get("Principal") or {}
    found: list[str] = []
    if isinstance(principal, dict):
        holders = [principal] + [v for v in principal.values() if isinstance(v, dict)]
        for holder in holders:
            values = holder.get("IAM") or holder.get("iam") or []
            found += [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
    return found


def may_put(channel: dict, owner: str | None, caller: str | None) -> bool:
    """Whether account ``caller`` may put events into ``channel`` of account ``owner``."""
    if caller is not None and caller == owner:
        return True
    if not channel.get("cross_account"):
        return False
    for statement in (channel.get("policy") or {}).values():
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        resource = statement.get("Resource")
        named = resource in (None, "", "*") or str(resource).endswith(f":channel:{channel['name']}")
        if PUT_EVENTS in actions and named and caller in _principals(statement):
            return True
    return False


def matches(rules: object, event: dict) -> bool:
    """An event against a subscription source's filter (absent: every event of that source)."""
    if not rules:
        return True
    if not isinstance(rules, dict):
        return False
    for key, conditions in rules.items():
        for condition in conditions if isinstance(conditions, list) else [conditions]:
            if not isinstance(condition, dict) or event.get(key) not in (condition.get("values") or []):
                return False
    return True


def _check_filter(rules: object) -> None:
    if rules in (None, {}):
        return
    if not isinstance(rules, dict) or any(key not in _FILTER_KEYS for key in rules):
        raise errors.invalid_parameters(f"filter keys: {', '.join(_FILTER_KEYS)}")
    for conditions in rules.values():
        for condition in conditions if isinstance(conditions, list) else [conditions]:
            if not isinstance(condition, dict) or condition.get("op") != "StringIn":
                raise errors.invalid_parameters("only StringIn filter rules are emulated")


def _eg_target(target: object) -> dict:
    if not isinstance(target, dict):
        raise errors.invalid_parameters("a target must be an object")
    detail = target.get("eg_detail") or target.get("detail")
    if target.get("name") != "HC.EG" or not isinstance(detail, dict):
        raise errors.invalid_parameters("only HC.EG targets (another channel, eg_detail) are emulated")
    for key in ("target_project_id", "target_channel_id", "target_region"):
        if not isinstance(detail.get(key), str) or not detail[key]:
            raise errors.invalid_parameters(f"eg_detail.{key} is required")
    return {
        "id": target.get("id") or str(uuid.uuid4()),
        "name": "HC.EG",
        "provider_type": target.get("provider_type") or "OFFICIAL",
        "eg_detail": copy.deepcopy(detail),
    }


class Subscriptions:
    """The subscriptions of one project and the outcome of each forwarding (``deliveries``)."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}
        self.deliveries: list[dict] = []

    def create(self, body: object, *, now: str) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise errors.bad_request("name is required")
        if any(item["name"] == body["name"] for item in self.items.values()):
            raise errors.name_duplicated(body["name"])
        sources, targets = body.get("sources"), body.get("targets")
        if not isinstance(sources, list) or not sources or not isinstance(targets, list) or not targets:
            raise errors.bad_request("sources and targets must be non-empty arrays")
        for source in sources:
            if not isinstance(source, dict) or not isinstance(source.get("name"), str):
                raise errors.invalid_parameters("a source names its event source (name)")
            _check_filter(source.get("filter"))
        subscription = {
            "id": str(uuid.uuid4()),
            "name": body["name"],
            "description": body.get("description") or "",
            "channel_id": body.get("channel_id") or "default",
            "status": "ENABLED",
            "sources": [
                {
                    "id": str(uuid.uuid4()),
                    "name": s["name"],
                    "provider_type": s.get("provider_type") or "OFFICIAL",
                    "filter": copy.deepcopy(s.get("filter") or {}),
                }
                for s in sources
            ],
            "targets": [_eg_target(target) for target in targets],
            "created_time": now,
            "updated_time": now,
        }
        self.items[subscription["id"]] = subscription
        return copy.deepcopy(subscription)

    def matching(self, channel_id: str, event: dict) -> list[dict]:
        """The enabled subscriptions of ``channel_id`` one of whose sources takes ``event``."""
        return [
            copy.deepcopy(item)
            for item in self.items.values()
            if item["status"] == "ENABLED"
            and item["channel_id"] == channel_id
            and any(s["name"] == event.get("source") and matches(s["filter"], event) for s in item["sources"])
        ]

    def listed(self, *, name: str | None = None, channel_id: str | None = None) -> list[dict]:
        return [
            copy.deepcopy(item)
            for item in self.items.values()
            if (not name or item["name"] == name) and (not channel_id or item["channel_id"] == channel_id)
        ]

    def record(self, delivery: dict[str, Any]) -> None:
        self.deliveries.append(copy.deepcopy(delivery))

    def to_dict(self) -> dict:
        return {"subscriptions": [copy.deepcopy(i) for i in self.items.values()], "deliveries": list(self.deliveries)}

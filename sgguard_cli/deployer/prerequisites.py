"""What must exist before the functions are deployed, planned (reads only) and then made to exist.

Each prerequisite is one :class:`Step`: ``create``, ``update`` or ``ok`` (nothing to do), or
``missing`` — something bootstrap cannot (or must not) create, with why and what to do
(``problem``). Order matters: the agency before its policy grant, the Kafka instance before its
topic. :func:`plan_prerequisites` only reads; :func:`apply_steps` runs the planned writes.

- the agency (``template.agency``: name, ``delegated_service``), delegated to FunctionGraph; an
  agency of that name delegated to someone else is ``missing`` (never repurposed);
- its custom policy ``<agency>-policy`` (project level, ``XA``) with exactly the template's
  statements: a changed action list is an ``update``; granted on the deployment's project only;
- the SMN topics (results, alerts), the CTS system tracker (CTS triggers need one);
- the Kafka topic on an **existing** DMS instance: an unknown or not RUNNING instance is
  ``missing`` (bootstrap never buys one);
- the dependency package (a zip file: built when absent);
- the EventGrid channels of ``template.event_channels`` (the central channel of the member
  accounts' events): created with ``cross_account`` and the putEvents policy, or updated when its
  accounts changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .prereq_api import PrerequisiteApi, PrerequisiteError

__all__ = ["Step", "Wanted", "plan_prerequisites", "apply_steps", "totals", "channel_policy", "channel_steps"]

_SIGNS = {"create": "+", "update": "~", "ok": " ", "missing": "!"}


@dataclass
class Wanted:
    """What the parameters ask for."""

    agency: Any  # template.AgencySpec
    result_topic: str = ""
    alert_topic: str = ""
    kafka_instance_id: str = ""
    kafka_topic: str = ""
    kafka_partitions: int = 3
    tracker: bool = True
    channels: list = field(default_factory=list)  # template.event_channels (the central channel)


@dataclass
class Step:
    kind: str
    name: str
    action: str  # create | update | ok | missing
    detail: str = ""
    problem: str = ""
    run: Callable[[dict], Any] | None = field(default=None, repr=False)

    def line(self) -> str:
        text = f"{_SIGNS[self.action]} {self.action:<8} {self.kind:<18} {self.name}"
        if self.detail:
            text += f"  ({self.detail})"
        if self.problem:
            text += f"\n             -> {self.problem}"
        return text


def totals(steps: list[Step]) -> str:
    count = {a: sum(1 for s in steps if s.action == a) for a in _SIGNS}
    return (
        f"prerequisites: {count['create']} to create, {count['update']} to update, "
        f"{count['ok']} in place, {count['missing']} missing"
    )


def _policy_actions(policy: dict) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((str(s.get("Effect")), tuple(sorted(s.get("Action") or []))) for s in policy.get("Statement") or [])


def _agency_steps(api: PrerequisiteApi, agency: Any, facts: dict) -> list[Step]:
    domain_id = api.domain_id()
    facts["domain_id"] = domain_id
    steps: list[Step] = []
    found = api.find_agency(domain_id, agency.name)
    service = agency.delegated_service or "op_svc_cff"
    if found is None:

        def create_agency(state: dict) -> None:
            state["agency_id"] = api.create_agency(
                domain_id, agency.name, service, "sgguard functions (created by sgguard bootstrap)"
            )["id"]

        steps.append(Step("iam agency", agency.name, "create", f"delegated to {service}", run=create_agency))
    elif found.get("trust_domain_name") not in (service, None, ""):
        return [
            Step(
                "iam agency",
                agency.name,
                "missing",
                f"delegated to {found.get('trust_domain_name')}",
                problem=f"an agency of that name exists for another service; set AGENCY_NAME to a free name "
                f"(bootstrap never repurposes an agency delegated to someone else than {service})",
            )
        ]
    else:
        facts["agency_id"] = found["id"]
        steps.append(Step("iam agency", agency.name, "ok", f"delegated to {service}"))

    policy_name = f"{agency.name}-policy"
    role = api.find_custom_policy(policy_name)
    actions = sorted(agency.actions)
    description = "least privilege of the sgguard functions (sgguard deploy --print-agency-policy)"
    if role is None:

        def create_policy(state: dict) -> None:
            state["role_id"] = api.create_custom_policy(policy_name, description, agency.policy)["id"]

        steps.append(Step("iam custom policy", policy_name, "create", f"{len(actions)} actions", run=create_policy))
    else:
        facts["role_id"] = role["id"]
        if _policy_actions(role.get("policy") or {}) != _policy_actions(agency.policy):
            steps.append(
                Step(
                    "iam custom policy",
                    policy_name,
                    "update",
                    f"actions now: {', '.join(actions)}",
                    run=lambda state: api.update_custom_policy(role["id"], policy_name, description, agency.policy),
                )
            )
        else:
            steps.append(Step("iam custom policy", policy_name, "ok", f"{len(actions)} actions"))

    grant_name = f"{policy_name} -> {agency.name} on project {api.project_id}"
    if "agency_id" in facts and "role_id" in facts and api.is_granted(facts["agency_id"], facts["role_id"]):
        steps.append(Step("iam grant", grant_name, "ok"))
    else:
        steps.append(
            Step("iam grant", grant_name, "create", run=lambda state: api.grant(state["agency_id"], state["role_id"]))
        )
    return steps


def _topic_steps(api: PrerequisiteApi, wanted: Wanted, facts: dict) -> list[Step]:
    steps = []
    for role, name in (("result", wanted.result_topic), ("alert", wanted.alert_topic)):
        if not name or name in facts.get("topics", {}):
            continue
        found = api.find_topic(name)
        facts.setdefault("topics", {})[name] = found.get("topic_urn") if found else None
        if found:
            steps.append(Step(f"smn topic ({role})", name, "ok", found.get("topic_urn", "")))
        else:

            def create(state: dict, name: str = name) -> None:
                state.setdefault("topics", {})[name] = api.create_topic(name)

            steps.append(Step(f"smn topic ({role})", name, "create", run=create))
    return steps


def _tracker_step(api: PrerequisiteApi) -> Step:
    tracker = api.system_tracker()
    if tracker is not None:
        return Step("cts tracker", "system", "ok", str(tracker.get("status") or ""))
    return Step(
        "cts tracker",
        "system",
        "create",
        "CTS triggers need the management tracker",
        run=lambda state: api.create_system_tracker(),
    )


def _kafka_steps(api: PrerequisiteApi, wanted: Wanted) -> list[Step]:
    instance_id, topic = wanted.kafka_instance_id, wanted.kafka_topic
    instance = api.kafka_instance(instance_id)
    if instance is None:
        return [
            Step(
                "dms kafka instance",
                instance_id,
                "missing",
                problem="no DMS for Kafka instance with this id in this region and project: buy one "
                "(console, DMS for Kafka) or set KAFKA_INSTANCE_ID to an existing one; bootstrap never creates one",
            )
        ]
    status = str(instance.get("status") or "")
    label = f"{instance.get('name')}, {status}"
    if status != "RUNNING":
        return [
            Step(
                "dms kafka instance",
                instance_id,
                "missing",
                label,
                problem=f"the instance is {status}, not RUNNING: wait for it, or pick a running one",
            )
        ]
    steps = [Step("dms kafka instance", instance_id, "ok", label)]
    if topic in api.kafka_topics(instance_id):
        steps.append(Step("dms kafka topic", topic, "ok", f"on {instance.get('name')}"))
    else:
        steps.append(
            Step(
                "dms kafka topic",
                topic,
                "create",
                f"{wanted.kafka_partitions} partitions, 3 replicas, on {instance.get('name')}",
                run=lambda state: api.create_kafka_topic(instance_id, topic, wanted.kafka_partitions),
            )
        )
    return steps


_DOMAIN_ID = re.compile(r"[0-9a-f]{32}")


def channel_policy(region: str, domain_id: str, name: str, accounts: list[str]) -> dict:
    """The central channel's policy: ``accounts`` may put events (EG CreateChannel's request example)."""
    return {
        "sgguard_members": {
            "Sid": "allow_member_accounts_to_put_events",
            "Effect": "Allow",
            "Principal": {"members": {"IAM": list(accounts)}},
            "Action": "eg:channels:putEvents",
            "Resource": f"urn:eg:{region}:{domain_id}:channel:{name}",
        }
    }


def channel_steps(api: PrerequisiteApi, wanted: Wanted, facts: dict) -> list[Step]:
    """Each channel (name, its policy's accounts): created, or its policy updated when the accounts
    changed. The API does not return a channel's policy: its fingerprint is kept in the description."""
    steps = []
    for channel in wanted.channels:
        name = channel["name"]
        accounts = sorted({a.strip() for a in channel["put_events_accounts"].split(",") if a.strip()})
        wrong = [a for a in accounts if not _DOMAIN_ID.fullmatch(a)]
        if wrong or not accounts:
            problem = (
                f"ORG_MEMBER_ACCOUNTS: {', '.join(wrong) or 'empty'} is not a list of account ids (32 lowercase hex)"
            )
            steps.append(Step("eg channel", name, "missing", problem=problem))
            continue
        if "domain_id" not in facts:
            facts["domain_id"] = api.domain_id()
        policy = channel_policy(api.target.region, facts["domain_id"], name, accounts)
        digest = hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()[:12]
        description = f"{channel.get('description') or 'sgguard'} [policy {digest}]"[:255]
        found = api.find_channel(name)
        detail = f"cross_account, putEvents for {len(accounts)} account(s)"
        facts.setdefault("channels", {})[name] = found.get("id") if found else None
        if found and found.get("description") == description:
            steps.append(Step("eg channel", name, "ok", detail))
        elif found:
            channel_id = str(found.get("id"))

            def update(
                state: dict, channel_id: str = channel_id, policy: dict = policy, text: str = description
            ) -> None:
                api.update_channel(channel_id, text, True, policy)

            steps.append(Step("eg channel", name, "update", detail + ": policy changed", run=update))
        else:

            def create(state: dict, name: str = name, policy: dict = policy, text: str = description) -> None:
                state.setdefault("channels", {})[name] = api.create_channel(name, text, True, policy)

            steps.append(Step("eg channel", name, "create", detail, run=create))
    return steps


def _explained(kind: str, name: str, error: PrerequisiteError) -> Step:
    """A prerequisite that could not even be read: what failed and the likely fix."""
    if error.status == 403:
        fix = "the credentials may not read or create it; an administrator can create it (docs/deploy.md)"
    elif error.status == 401:
        fix = "the credentials were refused: check HUAWEICLOUD_SDK_AK / _SK / _SECURITY_TOKEN"
    else:
        fix = "retry; if it persists, create it by hand (docs/deploy.md)"
    return Step(kind, name, "missing", str(error), problem=fix)


def plan_prerequisites(api: PrerequisiteApi, wanted: Wanted) -> tuple[list[Step], dict]:
    """The steps (reads only) and the facts found (account, agency and policy ids, topic URNs)."""
    facts: dict = {}
    steps: list[Step] = []
    parts: list[tuple[str, str, Callable[[], list[Step]]]] = [
        ("iam agency", wanted.agency.name, lambda: _agency_steps(api, wanted.agency, facts)),
        ("smn topic", wanted.result_topic or wanted.alert_topic, lambda: _topic_steps(api, wanted, facts)),
    ]
    if wanted.tracker:
        parts.append(("cts tracker", "system", lambda: [_tracker_step(api)]))
    if wanted.kafka_instance_id:
        parts.append(("dms kafka instance", wanted.kafka_instance_id, lambda: _kafka_steps(api, wanted)))
    if wanted.channels:
        parts.append(("eg channel", wanted.channels[0]["name"], lambda: channel_steps(api, wanted, facts)))
    for kind, name, plan in parts:
        try:
            steps += plan()
        except PrerequisiteError as error:
            steps.append(_explained(kind, name, error))
    return steps, facts


def apply_steps(steps: list[Step], facts: dict, report: Callable[[str], None]) -> dict:
    """Run every planned write in order; returns the facts with what was created (ids, URNs)."""
    state = {**facts, "topics": dict(facts.get("topics", {})), "channels": dict(facts.get("channels", {}))}
    for step in steps:
        if step.run is not None:
            report(step.line())
            step.run(state)
    return state

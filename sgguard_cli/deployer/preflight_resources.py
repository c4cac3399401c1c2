"""Preflight: the resources the deployment names exist, not only that their names are well formed.

- ``KAFKA_INSTANCE_ID``: a DMS for Kafka instance of this project (ShowInstance), RUNNING, with the
  topic ``KAFKA_TOPIC`` (ListInstanceTopics);
- ``ALERT_TOPIC_URN``, ``SMN_TOPIC_URN`` and every ``smn`` sink's ``topic_urn`` in ``RESULT_SINKS``:
  an SMN URN of this region and project whose topic exists (ListTopics by name);
- a CTS system tracker when the template has a CTS trigger (ListTrackers): without one CTS
  records nothing, so the trigger never fires.

A setting without a value is not checked (preflight needs no deploy parameter); a value is
validated before it goes into a URL. Read-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .prereq_api import PrerequisiteApi, PrerequisiteError

__all__ = ["check_resources", "KAFKA_INSTANCE_ID_RE"]

KAFKA_INSTANCE_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SMN_URN_RE = re.compile(r"^urn:smn:([a-z0-9-]+):([0-9a-f]{32}):([A-Za-z0-9][A-Za-z0-9_-]{0,255})$")


def _fix(error: PrerequisiteError, action: str) -> str:
    if error.status == 401:
        return "check HUAWEICLOUD_SDK_AK / _SK / _SECURITY_TOKEN (HTTP 401)"
    if error.status == 403:
        return f"grant the credentials {action} (HTTP 403 {error.code})"
    return "check the endpoint and REGION, then retry"


def _kafka(api: PrerequisiteApi, instance_id: str, topic: str, check: Callable[..., Any]) -> Any:
    name = "KAFKA_INSTANCE_ID"
    if not KAFKA_INSTANCE_ID_RE.match(instance_id):
        return check(name, False, f"{instance_id!r} is not an instance id (a UUID)", "copy it from the DMS console")
    try:
        instance = api.kafka_instance(instance_id)
        if instance is None:
            return check(
                name,
                False,
                f"no DMS for Kafka instance {instance_id} in this project and region",
                "set KAFKA_INSTANCE_ID to an existing instance (sgguard bootstrap checks it)",
            )
        if instance.get("status") != "RUNNING":
            return check(name, False, f"{instance.get('name')} is {instance.get('status')}", "wait until RUNNING")
        if topic not in api.kafka_topics(instance_id):
            return check(
                name,
                False,
                f"{instance.get('name')} has no topic {topic!r}",
                "create it: sgguard bootstrap (or the DMS console)",
            )
    except PrerequisiteError as error:
        return check(name, False, str(error), _fix(error, "dms:instance:get (DMS ReadOnlyAccess)"))
    return check(name, True, f"{instance.get('name')} RUNNING, topic {topic!r}")


def _smn(api: PrerequisiteApi, name: str, urn: str, region: str, project_id: str, check: Callable[..., Any]) -> Any:
    match = _SMN_URN_RE.match(urn)
    if match is None:
        return check(name, False, f"{urn!r} is not an SMN topic URN", "urn:smn:<region>:<project_id>:<topic name>")
    if (match.group(1), match.group(2)) != (region, project_id):
        return check(name, False, f"{urn} is not of region {region}, project {project_id}", "use this project's topic")
    try:
        found = api.find_topic(match.group(3))
    except PrerequisiteError as error:
        return check(name, False, str(error), _fix(error, "smn:topic:list (SMN ReadOnlyAccess)"))
    if found is None or found.get("topic_urn") != urn:
        return check(name, False, f"no SMN topic {match.group(3)!r}", "create it: sgguard bootstrap (or SMN console)")
    return check(name, True, f"topic {match.group(3)!r} exists")


def _smn_sinks(result_sinks: str) -> list[str]:
    try:
        sinks = json.loads(result_sinks) if result_sinks else []
    except ValueError:
        return []  # the functions' own config check reports it
    if not isinstance(sinks, list):
        return []
    return [str(s.get("topic_urn") or "") for s in sinks if isinstance(s, dict) and s.get("type") == "smn"]


def check_resources(
    api: PrerequisiteApi,
    values: Mapping[str, str],
    *,
    region: str,
    project_id: str,
    cts_triggers: bool,
    check: Callable[..., Any],
) -> list[Any]:
    """One check per configured resource (``values``: the deployment's settings)."""
    checks = []
    if values.get("KAFKA_INSTANCE_ID"):
        checks.append(_kafka(api, values["KAFKA_INSTANCE_ID"], values.get("KAFKA_TOPIC") or "", check))
    topics = [(name, values.get(name) or "") for name in ("ALERT_TOPIC_URN", "SMN_TOPIC_URN")]
    topics += [(f"RESULT_SINKS smn {i + 1}", urn) for i, urn in enumerate(_smn_sinks(values.get("RESULT_SINKS", "")))]
    checks += [_smn(api, name, urn, region, project_id, check) for name, urn in topics if urn]
    if cts_triggers:
        try:
            tracker = api.system_tracker()
            checks.append(
                check("CTS tracker", True, f"system tracker {tracker.get('status')}")
                if tracker
                else check(
                    "CTS tracker",
                    False,
                    "no CTS tracker: CTS records no trace, the CTS triggers never fire",
                    "create it: sgguard bootstrap (or CTS console, Tracker List)",
                )
            )
        except PrerequisiteError as error:
            checks.append(check("CTS tracker", False, str(error), _fix(error, "cts:tracker:list (CTS ReadOnlyAccess)")))
    return checks

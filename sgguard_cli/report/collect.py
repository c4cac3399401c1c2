"""The report's data: every server, interface, group (priority order) and rule, with the verdict.

Read like the sg_drift sweep reads a project - groups and rules, ports, address groups, then the
servers page by page (:func:`shared.flows.sg_drift.sweep.read_estate`, :class:`shared.cloud.inventory.
InventoryGateway`) - and judged with the sweep's own :func:`shared.flows.sg_drift.steps.conclude` in report mode
(no network: it can never write), with the policy file given and the guard-rail settings
(``PROTECTED_GROUPS``, ``RISKY_PORTS``, ``PIN_PROTECTED_FIRST``...) the deployed function has in its
user data (:mod:`.settings`: or a file, or the environment). ``--from-results`` takes the verdicts
of a sweep's result events (JSON lines) instead; groups and rules are always read now. The report
adds to each finding the group names and its fix, and makes an interface with port security off a
finding (:mod:`.fixes`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared import records

__all__ = ["VERDICTS", "make_run", "collect", "read_results_file"]

VERDICTS = ("compliant", "drift_detected", "repaired", "failed", "skipped")


def make_run(user_data: Mapping[str, str], *, region: str, endpoints: Mapping[str, str], credentials: Any):
    """A :class:`shared.runtime.run.Run` for sg_drift outside FunctionGraph: settings from ``user_data``
    (the deployed function's, a file's or the environment), the caller's credentials and target (region,
    endpoints), ten minutes for the reads."""
    from shared.clock import SYSTEM_CLOCK, Deadline
    from shared.cloud.clients import AgencyCredentials, ClientFactory
    from shared.config import load_settings
    from shared.runtime.run import Run

    values = dict(user_data)
    values.update(REGION=region, PROJECT_ID=credentials.project_id, **endpoints)
    context = _UserData(values)
    settings = records.replace(load_settings(context, values), drift_mode="report")  # a report never writes
    factory = ClientFactory(
        AgencyCredentials(credentials.ak, credentials.sk, credentials.security_token, credentials.project_id),
        settings,
    )
    return Run("sg_drift", context, settings, SYSTEM_CLOCK, Deadline(SYSTEM_CLOCK, 600), _factory=factory)


class _UserData:
    """The function's user data, as a FunctionGraph context hands it."""

    def __init__(self, values: Mapping[str, str]):
        self.values = dict(values)

    def getUserData(self, key: str, default: str | None = None) -> str | None:  # noqa: N802 - FunctionGraph's name
        return self.values.get(key, default)


def read_results_file(path: Path) -> dict[str, dict[str, Any]]:
    """server id -> the last result ``data`` of a sweep's result events (one CloudEvent per line)."""
    found: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}:{number}: not a JSON line") from None
        data = event.get("data") if isinstance(event, dict) and "specversion" in event else event
        if isinstance(data, dict) and isinstance(data.get("server_id"), str) and data.get("outcome") in VERDICTS:
            found[data["server_id"]] = data
    return found


def _group_view(group_id: str, rank: int, groups: Mapping[str, Any], rails: Any, exposing: set[str]) -> dict:
    from shared.model import SecurityGroup

    group = groups.get(group_id) or SecurityGroup(group_id, "", rules=[])
    names = {g.id: g.name for g in groups.values()}
    rules = []
    for rule in sorted(group.rules or [], key=lambda r: (r.direction != "ingress", r.priority, r.id)):
        view = rule.to_dict()
        if rule.remote_group_id:
            view["remote"] = f"group {names.get(rule.remote_group_id, '?')} ({rule.remote_group_id})"
        elif rule.remote_address_group_id:
            view["remote"] = f"address group {rule.remote_address_group_id}"
        view["description"] = rule.description
        rules.append(view)
    return {
        "priority": rank,
        "id": group_id,
        "name": group.name,
        "known": group_id in groups,
        "protected": bool(group_id in groups and rails.is_protected(group)),
        "exposes": group_id in exposing,
        "inbound": [r for r in rules if r["direction"] == "ingress"],
        "outbound": [r for r in rules if r["direction"] == "egress"],
    }


def _server_view(server: Any, ports: list[Any], data: Mapping[str, Any], estate: Any, rails: Any, source: str) -> dict:
    from .fixes import annotate, port_security_finding

    names = {g.id: g.name for g in estate.groups.values()}
    findings = list(data.get("findings") or [])
    outcome = data.get("outcome", "failed")
    unprotected = [port_security_finding(p) for p in ports if not p.port_security_enabled]
    if unprotected and outcome == "compliant":  # its groups filter nothing: never a green "compliant"
        outcome = "drift_detected"
    findings = [annotate(f, names, server.id) for f in findings + unprotected]
    interfaces = []
    for port in sorted(ports, key=lambda p: (p.id != server.primary_port_id, p.ip or "", p.id)):
        mine = [f for f in findings if f.get("port_id") == port.id]
        exposing = {g for f in mine if f.get("kind") == "exposure" for g in f.get("groups") or []}
        verdict = outcome if (mine or outcome in ("failed", "skipped")) else "compliant"
        interfaces.append(
            {
                "port_id": port.id,
                "ip": port.ip,
                "primary": port.id == server.primary_port_id,
                "port_security_enabled": port.port_security_enabled,
                "verdict": verdict,
                "exposed": bool(exposing) or any(f.get("kind") == "exposure" for f in mine),
                "findings": mine,
                "groups": [
                    _group_view(g, rank, estate.groups, rails, exposing)
                    for rank, g in enumerate(port.security_groups, start=1)
                ],
            }
        )
    errors = [e.get("message") for e in data.get("errors") or [] if isinstance(e, dict)]
    return {
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "tags": dict(server.tags),
        "verdict": outcome,
        "reason": data.get("reason") or ("; ".join(m for m in errors if m) or None),
        "rules_matched": list(data.get("rules_matched") or []),
        "source": source,
        "findings": findings,
        "exposed": any(nic["exposed"] for nic in interfaces),
        "interfaces": interfaces,
    }


def _judge(facts: Any, run: Any, policy: Any) -> dict[str, Any]:
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.flows.sg_drift.steps import conclude
    from shared.results import Identity
    from shared.runtime.run import cloud_failure

    identity = Identity(request_id="sgguard-report", server_id=facts.server.id)
    try:
        return conclude(facts, identity, run, policy, None).to_dict()
    except (CloudCallError, DeadlineExceeded) as error:
        return cloud_failure(error, identity).to_dict()


def collect(
    run: Any,
    policy: Any,
    *,
    results: Mapping[str, dict[str, Any]] | None = None,
    policy_source: str = "",
    settings_source: str = "",
) -> dict:
    """The report's data (plain JSON types): summary, settings, servers with their interfaces."""
    from shared.cloud.gateway import CallCounter
    from shared.flows.sg_drift.sweep import read_estate
    from shared.rails.guardrails import GuardRails

    started = time.perf_counter()
    counter = CallCounter()
    inventory = run.inventory(counter)
    estate = read_estate(inventory)
    rails = GuardRails.from_settings(run.settings)
    servers = []
    for page in inventory.server_pages(run.settings.drift_sweep_page):
        for server in page:
            recorded = (results or {}).get(server.id)
            data = recorded if recorded is not None else _judge(estate.facts(server), run, policy)
            ports = estate.ports_by_server.get(server.id, [])
            servers.append(
                _server_view(server, ports, data, estate, rails, "sweep results" if recorded else "computed")
            )
    servers.sort(key=lambda s: (s["name"], s["id"]))
    return {
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "project_id": run.settings.project_id,
        "region": run.settings.region,
        "policy": policy_source,
        "settings_source": settings_source,
        "settings": {
            "protected_groups": list(rails.protected_groups),
            "risky_ports": list(rails.risky_ports),
            "pin_protected_first": rails.pin_protected_first,
            "max_groups_per_nic_hard": rails.hard_max_groups,
        },
        "summary": summarise(servers, api_calls=counter.reads, seconds=time.perf_counter() - started),
        "servers": servers,
    }


def summarise(servers: Iterable[dict], *, api_calls: int = 0, seconds: float = 0.0) -> dict:
    servers = list(servers)
    verdicts = Counter(s["verdict"] for s in servers)
    kinds: Counter[str] = Counter(f["kind"] for s in servers for f in s["findings"])
    interfaces = sum(len(s["interfaces"]) for s in servers)
    judged = sum(n for v, n in verdicts.items() if v != "skipped")
    return {
        "servers": len(servers),
        "interfaces": interfaces,
        "verdicts": {v: verdicts[v] for v in VERDICTS if verdicts[v]},
        "compliant": verdicts["compliant"],
        "compliant_percent": round(100.0 * verdicts["compliant"] / judged, 1) if judged else 100.0,
        "findings_by_kind": dict(sorted(kinds.items())),
        "exposed_interfaces": sum(1 for s in servers for nic in s["interfaces"] if nic["exposed"]),
        "api_calls": api_calls,
        "seconds": round(seconds, 3),
    }

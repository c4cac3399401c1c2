"""The organisation report: one section per target (account / region / project) and a summary.

With ``TARGETS`` in the judging settings, ``sgguard report`` judges every target, not only the
home project: the home project with the caller's credentials, each member target with its
agency's session (STS AssumeAgency, as the functions), its region's endpoints and its TARGETS
overrides (``target_settings``), the organisation's members found by ListAccounts when
``discover`` is on. Each target ends ``compliant`` (every judged server compliant),
``non_compliant``, or ``not_evaluated`` with its reason and code (the assume failure,
``DISCOVERY_FAILED``, a refused read): one broken account never stops the others. Without
``TARGETS`` this module is not used and the report is the single project's, unchanged.

Account names come from TARGETS and from Organizations (untrusted): the renderer escapes them.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from shared import records

__all__ = ["STATUSES", "collect_organisation", "target_status"]

STATUSES = ("compliant", "non_compliant", "not_evaluated")


def target_status(summary: dict) -> str:
    """``compliant`` when every judged server is; servers that could not be judged count against."""
    verdicts = summary.get("verdicts") or {}
    bad = sum(n for verdict, n in verdicts.items() if verdict not in ("compliant", "skipped"))
    return "non_compliant" if bad or summary.get("exposed_interfaces") else "compliant"


def _label(target: dict) -> dict:
    return {k: target.get(k) for k in ("account", "account_name", "region", "project_id", "home")}


def _section(target: dict, report: dict | None, code: str | None = None, reason: str | None = None) -> dict:
    if report is None:
        return {**_label(target), "status": "not_evaluated", "code": code, "reason": reason, "summary": None}
    return {
        **_label(target),
        "status": target_status(report["summary"]),
        "code": None,
        "reason": None,
        "summary": report["summary"],
    }


def _results_of(results: dict | None, target: dict | None) -> dict | None:
    """``--from-results`` for one target: a result names its target when TARGETS is set (server ids
    may repeat across accounts); one without a target, or with ``home``, is the home project's."""
    if results is None:
        return None
    key = ("account", "region", "project_id")
    mine = {}
    for server_id, data in results.items():
        named = data.get("target") if isinstance(data.get("target"), dict) else None
        if target is None and (named is None or named.get("home")):
            mine[server_id] = data
        elif target is not None and named is not None and all(named.get(k) == target[k] for k in key):
            mine[server_id] = data
    return mine


def _member_run(home_run: Any, member: Any, session: Any, row: dict) -> Any:
    from shared.cloud.clients import AgencyCredentials, ClientFactory
    from shared.cloud.targets import target_settings
    from shared.targets import Target

    target = Target(member.domain_id, row["region"], row["project_id"], account_name=member.name)
    settings = target_settings(home_run.settings, target)
    credentials = AgencyCredentials(session.ak, session.sk, session.security_token, target.project_id)
    factory = ClientFactory(credentials, settings)
    return records.replace(home_run, settings=settings, resources={}, _factory=factory, _limiters={})


def collect_organisation(home_run: Any, policy: Any, *, endpoint_override: str | None = None, **options: Any) -> dict:
    """The organisation report's data: the single report's keys (every target's servers, each with
    its ``target``; ``summary`` over all of them) plus ``targets`` (one section each) and ``organisation``."""
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded

    from ..targets_check import discover, walk_targets
    from .collect import collect, summarise

    started = time.perf_counter()
    targets = home_run.settings.targets
    home = targets.home_target(home_run.settings.region, home_run.settings.project_id or "").to_dict()
    home["account_name"] = home.get("account_name") or "home"
    results = options.pop("results", None)
    report = collect(home_run, policy, results=_results_of(results, None), **options)
    sections = [_section(home, report)]
    servers = [{**s, "target": _label(home)} for s in report["servers"]]
    api_calls = report["summary"]["api_calls"]
    targets, discovery = discover(targets, home_run)
    if discovery is not None and not discovery["ok"]:
        scope = {"account": None, "account_name": "(organisation)", "region": None, "project_id": None, "home": False}
        sections.append(_section(scope, None, discovery["code"], discovery["message"]))
    for row, member, session in walk_targets(targets, home_run, endpoint_override=endpoint_override):
        target = {
            "account": member.domain_id,
            "account_name": member.name,
            "region": row["region"],
            "project_id": row["project_id"],
            "home": False,
        }
        if session is None:
            sections.append(_section(target, None, row["code"], row["message"]))
            continue
        try:
            member_run = _member_run(home_run, member, session, row)
            member_report = collect(member_run, policy, results=_results_of(results, target), **options)
        except CloudCallError as error:
            code = "ACCESS_DENIED" if error.status == 403 else (error.code or "READ_FAILED")
            sections.append(_section(target, None, code, f"reading the project: {error.describe()}"))
            continue
        except DeadlineExceeded as error:
            sections.append(_section(target, None, "DEADLINE_EXCEEDED", str(error)))
            continue
        sections.append(_section(target, member_report))
        servers.extend({**s, "target": _label(target)} for s in member_report["servers"])
        api_calls += member_report["summary"]["api_calls"]
    statuses = Counter(section["status"] for section in sections)
    report.update(
        summary=summarise(servers, api_calls=api_calls, seconds=time.perf_counter() - started),
        servers=servers,
        targets=sections,
        organisation={
            "targets": len(sections),
            **{status: statuses[status] for status in STATUSES},
            "accounts": len({s["account"] or "home" for s in sections if s["account"] or s["home"]}),
            "discovery": discovery,
            "not_evaluated_targets": [
                {k: s[k] for k in ("account", "account_name", "region", "project_id", "code", "reason")}
                for s in sections
                if s["status"] == "not_evaluated"
            ],
        },
    )
    return report

"""What a function's results say, for a person: one summary line, the exit status, a table.

The summary and the exit status come from the same count of outcomes, so they cannot disagree:
a handler that returned with a ``rejected`` result did not "succeed". Outcomes that are problems
(``PROBLEM_OUTCOMES``) make ``sgguard invoke`` exit 1; the others (``planned``, ``skipped``,
``drift_detected``...) are what the function is for.

The table has one row per result and, for a dry run (``planned``), one row per interface with the
groups before and after, by name when a name is known (``names``: group id -> name).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["PROBLEM_OUTCOMES", "result_data", "outcome_counts", "summary_line", "result_table"]

PROBLEM_OUTCOMES = ("rejected", "failed", "rolled_back")
_DETAIL_CHARS = 160


def result_data(response: object) -> list[dict[str, Any]]:
    """The ``data`` of every result event in a handler's response: ``{"results": [...]}``, or an
    APIG integration response whose JSON body holds it."""
    if isinstance(response, dict) and "statusCode" in response and isinstance(response.get("body"), str):
        try:
            response = json.loads(response["body"])
        except ValueError:
            return []
    results = response.get("results") if isinstance(response, dict) else None
    if not isinstance(results, list):
        return []
    return [r["data"] for r in results if isinstance(r, dict) and isinstance(r.get("data"), dict)]


def outcome_counts(data: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(item.get("outcome")) for item in data)


def summary_line(counts: Counter[str]) -> str:
    total = sum(counts.values())
    if not total:
        return "no result"
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{total} result{'s' if total != 1 else ''}: {parts}"


def _groups(ids: object, names: Mapping[str, str]) -> str:
    if not isinstance(ids, list):
        return "-"
    return ", ".join(names.get(str(i), str(i)) for i in ids) or "(none)"


def _detail(item: dict[str, Any]) -> str:
    errors = item.get("errors") or []
    if errors:
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{first.get('code')}: {first.get('message')}{more}"
    if item.get("reason"):
        return str(item["reason"])
    findings = item.get("findings") or []
    if findings:
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        return f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: {findings[0].get('message')}{more}"
    changed = [n for n in item.get("nics") or [] if n.get("status") in ("changed", "planned")]
    return f"{len(changed)} interface{'s' if len(changed) != 1 else ''} {item.get('outcome')}" if changed else ""


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip() for row in rows]


def result_table(data: list[dict[str, Any]], names: Mapping[str, str] | None = None) -> list[str]:
    """One line per result; below it, the plan of every ``planned`` result, interface by interface."""
    names = names or {}
    if not data:
        return ["no result"]
    rows = [["OUTCOME", "REQUEST", "SERVER", "DETAIL"]]
    for item in data:
        rows.append(
            [
                str(item.get("outcome")),
                str(item.get("request_id") or "-"),
                str(item.get("server_id") or "-"),
                _clip(_detail(item)),
            ]
        )
    lines = _columns(rows)
    planned = [item for item in data if item.get("outcome") == "planned"]
    if planned:
        plan_rows = [["REQUEST", "INTERFACE", "BEFORE", "AFTER"]]
        for item in planned:
            for nic in item.get("nics") or []:
                if nic.get("before") == nic.get("after"):
                    continue
                plan_rows.append(
                    [
                        str(item.get("request_id") or "-"),
                        f"{nic.get('port_id')} ({nic.get('ip') or '-'})",
                        _groups(nic.get("before"), names),
                        _groups(nic.get("after"), names),
                    ]
                )
        changes = len(plan_rows) - 1
        lines += [
            "",
            f"plan (dry run, nothing written): {changes} interface{'s' if changes != 1 else ''} would change",
            *(_columns(plan_rows) if changes else []),
        ]
    return lines

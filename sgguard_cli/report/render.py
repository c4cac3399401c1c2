"""The report's three files: ``report.html`` (one self-contained page), ``report.json``, ``report.csv``.

The HTML page has everything inline (CSS, one script, no fetch, no external URL; its Content
Security Policy forbids loading anything and allows only its own script, by hash). Every value
from the cloud - names, descriptions, tags, messages - goes through :func:`html.escape`, so a group
named ``<img src=x onerror=alert(1)>`` is shown as text. Sorting and filtering run in the page:
a text filter (server name or id, IP, group name), a verdict select, sortable columns.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from html import escape
from pathlib import Path
from typing import Any

from .assets import CSS as _CSS
from .assets import SCRIPT as _SCRIPT

__all__ = ["write_report", "render_html", "render_json", "render_csv", "CSV_COLUMNS", "TARGET_COLUMNS"]

CSV_COLUMNS = [
    "server_id",
    "server_name",
    "server_status",
    "port_id",
    "ip",
    "primary",
    "verdict",
    "server_verdict",
    "groups",
    "group_ids",
    "finding_kinds",
    "exposed",
    "findings",
    "fixes",
]

_LABELS = {
    "compliant": "compliant",
    "drift_detected": "drift detected",
    "repaired": "repaired",
    "failed": "failed",
    "skipped": "skipped",
}

_SOURCES = {"computed": "computed now, as sg_drift judges", "sweep results": "from the sweep's result events"}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{_e(verdict)}">{_e(_LABELS.get(verdict, verdict))}</span>'


def _rules_table(caption: str, rules: list[dict]) -> str:
    if not rules:
        return f'<p class="rules muted">{_e(caption)}: no rules</p>'
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_e(rule.get(key))}</td>"
            for key in ("priority", "action", "ethertype", "protocol", "ports", "remote", "description")
        )
        + "</tr>"
        for rule in rules
    )
    direction = "source" if caption == "Inbound" else "destination"
    return (
        f'<table class="rules"><caption>{_e(caption)}</caption><thead><tr><th>priority</th><th>action</th>'
        f"<th>type</th><th>protocol</th><th>ports</th><th>{direction}</th><th>description</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _group(group: dict) -> str:
    badges = ""
    if group.get("protected"):
        badges += ' <span class="badge v-protected">protected</span>'
    if group.get("exposes"):
        badges += ' <span class="badge v-exposure">exposes a risky port</span>'
    name = _e(group.get("name")) if group.get("name") else '<span class="muted">(unknown group)</span>'
    return (
        f'<div class="group{" exposes" if group.get("exposes") else ""}">'
        f'<h4>{_e(group["priority"])}. {name} <code class="muted">{_e(group["id"])}</code>{badges}</h4>'
        + _rules_table("Inbound", group.get("inbound") or [])
        + _rules_table("Outbound", group.get("outbound") or [])
        + "</div>"
    )


def _finding(f: dict) -> str:
    names = ", ".join(f.get("group_names") or [])
    groups = f'<br><span class="muted">groups:</span> {_e(names)}' if names else ""
    fix = f'<br><span class="fix"><b>fix:</b> {_e(f["fix"])}</span>' if f.get("fix") else ""
    return (
        f'<li class="{_e(f.get("kind"))}"><b>{_e(f.get("kind"))}</b> <span class="muted">({_e(f.get("source"))})'
        f"</span>: {_e(f.get('message'))}{' - repaired' if f.get('repaired') else ''}{groups}{fix}</li>"
    )


def _findings(findings: list[dict]) -> str:
    if not findings:
        return ""
    return f'<ul class="findings">{"".join(_finding(f) for f in findings)}</ul>'


def _interface(nic: dict) -> str:
    flags = " (primary)" if nic.get("primary") else ""
    if not nic.get("port_security_enabled", True):
        flags += " - port security disabled: no group applies"
    groups = "".join(_group(g) for g in nic.get("groups") or []) or '<p class="muted">no security groups</p>'
    return (
        f'<section class="nic{" exposed" if nic.get("exposed") else ""}" data-port="{_e(nic["port_id"])}">'
        f"<h3>interface {_e(nic.get('ip') or '-')} <code>{_e(nic['port_id'])}</code>{_e(flags)} "
        f"{_badge(nic.get('verdict', ''))}</h3>"
        f'<div class="body">{groups}{_findings(nic.get("findings") or [])}</div></section>'
    )


def _server(server: dict) -> str:
    nics = server.get("interfaces") or []
    target = _target_label(server.get("target"))
    search = " ".join(
        [server["name"] or "", server["id"], target]
        + [nic.get("ip") or "" for nic in nics]
        + [nic["port_id"] for nic in nics]
        + [g.get("name") or "" for nic in nics for g in nic.get("groups") or []]
    ).lower()
    kinds = sorted({f["kind"] for f in server.get("findings") or []})
    exposures = sum(1 for f in server.get("findings") or [] if f.get("kind") == "exposure")
    tags = ", ".join(f"{k}={v}" for k, v in sorted((server.get("tags") or {}).items()))
    reason = f'<p class="muted">{_e(server["reason"])}</p>' if server.get("reason") else ""
    rules = ", ".join(server.get("rules_matched") or []) or "-"
    attributes = {
        "data-search": search,
        "data-verdict": server["verdict"],
        "data-name": (server["name"] or "").lower(),
        "data-status": server.get("status") or "",
        "data-interfaces": str(len(nics)),
        "data-verdict-label": server["verdict"],
        "data-findings": str(len(server.get("findings") or [])),
        "data-exposures": str(exposures),
        "data-id": server["id"],
    }
    attrs = " ".join(f'{k}="{_e(v)}"' for k, v in attributes.items())
    return (
        f'<tbody class="server{" exposed" if server.get("exposed") else ""}" {attrs}>'
        f'<tr class="row" aria-expanded="false"><td><b>{_e(server["name"])}</b><br><code class="muted">'
        f"{_e(server['id'])}</code>"
        + (f'<br><span class="muted target">{_e(target)}</span>' if target else "")
        + f"</td><td>{_e(server.get('status'))}</td><td>{len(nics)}</td>"
        f"<td>{_badge(server['verdict'])}</td><td>{len(server.get('findings') or [])}"
        f"{' <span class=muted>(' + _e(', '.join(kinds)) + ')</span>' if kinds else ''}</td>"
        f"<td>{exposures or ''}</td></tr>"
        f'<tr class="detail" hidden><td colspan="6"><p class="muted">tags: {_e(tags or "-")} - policy rules: '
        f"{_e(rules)} - verdict {_e(_SOURCES.get(server.get('source') or '', server.get('source')))}</p>{reason}"
        + "".join(_interface(nic) for nic in nics)
        + "</td></tr></tbody>"
    )


_STATUS_LABELS = {"compliant": "compliant", "non_compliant": "non-compliant", "not_evaluated": "not evaluated"}
_STATUS_BADGES = {"compliant": "compliant", "non_compliant": "drift_detected", "not_evaluated": "failed"}
TARGET_COLUMNS = ["account", "account_name", "region", "project_id"]


def _target_label(target: dict | None) -> str:
    if not target:
        return ""
    name = target.get("account_name") or target.get("account") or "home"
    return " / ".join(str(x) for x in (name, target.get("region"), target.get("project_id")) if x)


def _target_row(section: dict) -> str:
    summary = section.get("summary") or {}
    status = section["status"]
    badge = f'<span class="badge v-{_e(_STATUS_BADGES[status])}">{_e(_STATUS_LABELS[status])}</span>'
    if status == "not_evaluated":
        detail = f"<b>{_e(section.get('code'))}</b>: {_e(section.get('reason'))}"
    else:
        detail = (
            f"{_e(summary.get('servers', 0))} servers, {_e(summary.get('compliant_percent'))}% compliant, "
            f"{_e(summary.get('exposed_interfaces', 0))} exposed interface(s)"
        )
    return (
        f'<tr class="target" data-status="{_e(status)}"><td>{_e(section.get("region") or "-")}</td>'
        f"<td><code>{_e(section.get('project_id') or '-')}</code></td><td>{badge}</td><td>{detail}</td></tr>"
    )


def _organisation(report: dict) -> str:
    """Per account, its regions and projects with their status; the organisation's counts first."""
    organisation = report.get("organisation")
    if not organisation:
        return ""
    cards = [
        (organisation["accounts"], "accounts"),
        (organisation["targets"], "targets"),
        (organisation["compliant"], "compliant"),
        (organisation["non_compliant"], "non-compliant"),
        (organisation["not_evaluated"], "not evaluated"),
    ]
    card_html = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(label)}</span></div>' for v, label in cards)
    accounts: dict[str, list[dict]] = {}
    for section in report.get("targets") or []:
        accounts.setdefault(section.get("account") or ("home" if section.get("home") else "-"), []).append(section)
    blocks = []
    for account, sections in accounts.items():
        first = sections[0]
        name = first.get("account_name") or account
        home = " (home)" if first.get("home") else ""
        rows = "".join(_target_row(section) for section in sections)
        blocks.append(
            f'<section class="account" data-account="{_e(account)}"><h3>{_e(name)}{_e(home)} '
            f'<code class="muted">{_e(account)}</code></h3><table class="targets"><thead><tr><th>region</th>'
            f"<th>project</th><th>status</th><th>servers / reason</th></tr></thead><tbody>{rows}</tbody></table>"
            "</section>"
        )
    discovery = organisation.get("discovery")
    note = ""
    if discovery:
        note = f'<p class="muted">discovery (Organizations ListAccounts): {_e(discovery.get("message"))}</p>'
    return (
        f'<section id="organisation"><h2>Organisation</h2><div class="cards">{card_html}</div>{note}'
        + "".join(blocks)
        + "</section>"
    )


def render_html(report: dict) -> str:
    summary = report["summary"]
    cards = [
        (summary["servers"], "servers"),
        (summary["interfaces"], "interfaces"),
        (f"{summary['compliant_percent']}%", "compliant"),
        (summary["verdicts"].get("drift_detected", 0), "with drift"),
        (summary["exposed_interfaces"], "exposed interfaces"),
    ]
    card_html = "".join(f'<div class="card"><b>{_e(value)}</b><span>{_e(label)}</span></div>' for value, label in cards)
    kinds = summary["findings_by_kind"]
    kinds_html = (
        '<table class="kinds" id="kinds"><thead><tr><th>finding</th><th>count</th></tr></thead><tbody>'
        + "".join(f"<tr><td>{_e(kind)}</td><td>{_e(n)}</td></tr>" for kind, n in kinds.items())
        + "</tbody></table>"
        if kinds
        else '<p class="muted">no findings</p>'
    )
    options = "".join(
        f'<option value="{_e(v)}">{_e(_LABELS[v])} ({summary["verdicts"].get(v, 0)})</option>'
        for v in ("compliant", "drift_detected", "repaired", "failed", "skipped")
    )
    settings = report.get("settings") or {}
    protected = ", ".join(settings.get("protected_groups") or []) or "-"
    risky = ", ".join(str(p) for p in settings.get("risky_ports") or []) or "-"
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    servers = "".join(_server(s) for s in report["servers"])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>sgguard compliance report - {_e(report.get("project_id"))}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>sgguard compliance report</h1>
<p>project {_e(report.get("project_id"))} - region {_e(report.get("region"))} - policy {_e(report.get("policy"))}
- generated {_e(report.get("generated_at"))} - protected groups: {_e(protected)} - risky ports: {_e(risky)}
- settings: {_e(report.get("settings_source") or "-")}</p></header>
<main>
{_organisation(report)}
<section id="summary"><div class="cards">{card_html}</div>
<h2>Findings by kind</h2>{kinds_html}</section>
<div class="controls">
<label>Filter <input id="filter" type="search" placeholder="server, id, IP or group name" autocomplete="off"></label>
<label>Verdict <select id="verdict"><option value="">all verdicts</option>{options}</select></label>
<button id="expand" type="button">expand all</button> <button id="collapse" type="button">collapse all</button>
<span class="muted"><span id="shown">{len(report["servers"])}</span> of {len(report["servers"])} servers shown
(click a server for its interfaces, groups in priority order and rules)</span>
</div>
<table id="servers">
<thead><tr><th data-sort="name" tabindex="0">server</th><th data-sort="status" tabindex="0">status</th>
<th data-sort="interfaces" data-type="number" tabindex="0">interfaces</th>
<th data-sort="verdict-label" tabindex="0">verdict</th>
<th data-sort="findings" data-type="number" tabindex="0">findings</th>
<th data-sort="exposures" data-type="number" tabindex="0">exposures</th></tr></thead>
{servers}
</table>
<p id="empty">No server matches the filter.</p>
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def render_csv(report: dict) -> str:
    buffer = io.StringIO()
    organisation = "targets" in report  # TARGETS: which account, region and project each row is in
    columns = TARGET_COLUMNS + CSV_COLUMNS if organisation else CSV_COLUMNS
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for server in report["servers"]:
        target = server.get("target") or {}
        where = {k: _csv_safe(str(target.get(k) or "")) for k in TARGET_COLUMNS} if organisation else {}
        for nic in server["interfaces"]:
            groups = nic.get("groups") or []
            writer.writerow(
                {
                    **where,
                    "server_id": server["id"],
                    "server_name": _csv_safe(server["name"]),
                    "server_status": server.get("status"),
                    "port_id": nic["port_id"],
                    "ip": nic.get("ip"),
                    "primary": "yes" if nic.get("primary") else "no",
                    "verdict": nic.get("verdict"),
                    "server_verdict": server["verdict"],
                    "groups": _csv_safe(" > ".join(g.get("name") or g["id"] for g in groups)),
                    "group_ids": " ".join(g["id"] for g in groups),
                    "finding_kinds": " ".join(sorted({f["kind"] for f in nic.get("findings") or []})),
                    "exposed": "yes" if nic.get("exposed") else "no",
                    "findings": _csv_safe(" | ".join(f.get("message") or "" for f in nic.get("findings") or [])),
                    "fixes": _csv_safe(" | ".join(f.get("fix") or "" for f in nic.get("findings") or [])),
                }
            )
    return buffer.getvalue()


def _csv_safe(text: str | None) -> str:
    """No formula injection when the CSV is opened in a spreadsheet (a name starting with = + - @)."""
    value = text or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_report(report: dict, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": out_dir / "report.html", "json": out_dir / "report.json", "csv": out_dir / "report.csv"}
    paths["html"].write_text(render_html(report), encoding="utf-8")
    paths["json"].write_text(render_json(report), encoding="utf-8")
    paths["csv"].write_text(render_csv(report), encoding="utf-8", newline="")
    return paths

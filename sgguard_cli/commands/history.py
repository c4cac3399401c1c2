"""``sgguard history SERVER``: who changed a server's security groups, when, what, and under which ticket.

Read-only. The server's interfaces come from VPC (``list_server_ports``, through the functions'
own gateway: ids checked before they reach a URL), their changes from CTS ``ListTraces``
(``GET /v3/{project_id}/traces``, ``trace_type=system``, filtered by ``resource_id``: VPC
``ports`` traces per interface - ``updatePort``, ``addSecurityGroups``, ``removeSecurityGroups`` -
and ECS traces of the server itself - the nova ``addSecurityGroup`` / ``removeSecurityGroup``
that apply to every interface). CTS keeps management traces for seven days.

A trace whose ``user`` is sgguard's agency (:func:`shared.flows.cts.caused_by_agency`, every form
a trace is known to take) is sgguard's. Its ticket comes from the result events given with
``--results`` (JSON lines, as a sink or the function log keeps them): the result of the same
server that changed that interface, emitted within :data:`MATCH_WINDOW_S` after the trace, whose
groups agree with the call (an inserted group is in ``after``, a removed one is not). A trace
carries no ticket of its own: without results, an sgguard change says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import ConfigError, UsageError, cloud_errors
from .drift import printable

__all__ = ["SUMMARY", "DETAILS", "EPILOG", "add_arguments", "run", "Change", "describe", "match_results", "table"]

SUMMARY = "a server's security-group history from CTS traces: who, when, what changed per interface, which ticket"
DETAILS = f"""
Reads the server's interfaces (VPC) and the CTS management traces of the last --days (at most 7,
CTS's retention) for each interface and for the server. A change made by sgguard's agency
(--agency, default $SGGUARD_AGENCY or sgguard-functions) is marked "sgguard"; --results names a
file of sgguard's result events (JSON lines, as the log sink or another sink keeps them) from
which each of its changes gets its ticket and request id. Traces of interfaces the server no
longer has are not read. {CREDENTIALS_HELP}. Exit status: 0 printed, 2 usage, 3 credentials or a
failed API call.
"""
EPILOG = """
examples:
  sgguard history c0000000-0000-4000-8000-000000000001 --endpoint $LOCALCLOUD_URL
  sgguard history SERVER_ID --days 2 --results results.jsonl --json
"""

MATCH_WINDOW_S = 900  # a change's result is emitted after its writes, within the function's timeout
_CLOCK_SLACK_S = 5  # the trace's and the result's clocks are not the same clock
_PORT_TRACES = ("updatePort", "addSecurityGroups", "removeSecurityGroups")
_SERVER_TRACES = ("addSecurityGroup", "removeSecurityGroup")
_CHANGE_OUTCOMES = ("succeeded", "repaired", "rolled_back", "failed", "drift_detected")
_TRACE_LIMIT = 1000  # per resource


@dataclass
class Change:
    """One trace, as a row of the history."""

    time: str  # RFC 3339 UTC
    time_ms: int
    user: str
    by_sgguard: bool
    interface: str  # a port id, or "all" for a server-wide (nova) action
    trace_name: str
    action: str  # insert | remove | replace | nova-add | nova-remove | failed
    groups: list[str]  # ids (a nova action: the name it gave)
    index: int | None = None
    code: str = ""
    trace_id: str | None = None
    ticket: dict[str, Any] | None = None
    request_id: str | None = None
    function: str | None = None
    names: dict[str, str] = field(default_factory=dict)

    def what(self) -> str:
        shown = [printable(self.names.get(g, g)) for g in self.groups]
        if self.action == "insert":
            at = f" at {self.index}" if self.index is not None else " last"
            return "+ " + ", ".join(shown) + at
        if self.action == "remove":
            return "- " + ", ".join(shown)
        if self.action == "replace":
            return "= " + " > ".join(shown)
        if self.action.startswith("nova-"):
            return ("+ " if self.action == "nova-add" else "- ") + ", ".join(shown) + " (every interface)"
        return f"{self.trace_name} (code {self.code}): nothing changed"


def _object(value: object) -> dict[str, Any]:
    from shared.validation import decode_json_message

    if isinstance(value, str):  # CTS: request and response are JSON strings
        value, _ = decode_json_message(value, max_bytes=65536)  # bounded nesting, never raises
    return value if isinstance(value, dict) else {}


def _user(user: object) -> str:
    if not isinstance(user, dict):
        return "?"
    name = user.get("name") or user.get("principal_urn") or user.get("id") or "?"
    return str(name)


def describe(trace: dict[str, Any], interface: str, agency: str | None) -> Change | None:
    """The row for a trace that changes which groups an interface has (None for any other trace)."""
    from shared.flows.cts import caused_by_agency

    name = trace.get("trace_name")
    if name not in _PORT_TRACES + _SERVER_TRACES:
        return None
    request = _object(trace.get("request"))
    raw_port = request.get("port")
    port: dict[str, Any] = raw_port if isinstance(raw_port, dict) else {}
    groups = [g for g in port.get("security_groups") or [] if isinstance(g, str)]
    index = port.get("index") if isinstance(port.get("index"), int) else None
    action = {"updatePort": "replace", "addSecurityGroups": "insert", "removeSecurityGroups": "remove"}.get(str(name))
    if name in _SERVER_TRACES:
        raw_body = request.get(str(name))
        body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
        groups = [str(body["name"])] if isinstance(body.get("name"), str) else []
        action, interface = ("nova-add" if name == "addSecurityGroup" else "nova-remove"), "all"
    code = str(trace.get("code") or "")
    if code.isdigit() and int(code) >= 400:
        action = "failed"
    time_ms = int(trace.get("time") or 0) if str(trace.get("time") or "0").isdigit() else 0
    when = datetime.fromtimestamp(time_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Change(
        time=when,
        time_ms=time_ms,
        user=_user(trace.get("user")),
        by_sgguard=caused_by_agency(trace.get("user"), agency),
        interface=interface,
        trace_name=str(name),
        action=action or "replace",
        groups=groups,
        index=index,
        code=code,
        trace_id=trace.get("trace_id") if isinstance(trace.get("trace_id"), str) else None,
    )


def read_results(path: Path) -> list[dict[str, Any]]:
    """Result events (CloudEvents, one JSON line each; other lines are ignored): ``data`` + ``time``."""
    from shared.timestamps import parse_timestamp

    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a log file has other lines too
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            continue
        when = parse_timestamp(event.get("time"))
        if when is not None and event["data"].get("outcome") in _CHANGE_OUTCOMES:
            found.append({**event["data"], "_time_ms": int(when.timestamp() * 1000)})
    return found


def _agrees(change: Change, nic: dict[str, Any], outcome: str) -> bool:
    if outcome == "rolled_back":  # the write and its inverse are both in the traces
        return True
    after = set(nic.get("after") or [])
    if change.action == "insert":
        return set(change.groups) <= after
    if change.action == "remove":
        return not set(change.groups) & after
    return change.groups == list(nic.get("after") or [])


def match_results(changes: list[Change], results: list[dict[str, Any]], server_id: str) -> None:
    """Give each of sgguard's changes the ticket of the nearest result that made it (in place)."""
    mine = [r for r in results if r.get("server_id") == server_id]
    for change in changes:
        if not change.by_sgguard or change.interface == "all":
            continue
        candidates = [
            result
            for result in mine
            if -_CLOCK_SLACK_S * 1000 <= result["_time_ms"] - change.time_ms <= MATCH_WINDOW_S * 1000
            and any(
                nic.get("port_id") == change.interface
                and nic.get("status") in ("changed", "rolled_back", "failed")
                and _agrees(change, nic, result["outcome"])
                for nic in result.get("nics") or []
            )
        ]
        if candidates:
            best = min(candidates, key=lambda r: abs(r["_time_ms"] - change.time_ms))
            change.ticket, change.request_id = best.get("ticket"), best.get("request_id")
            change.function = best.get("function")


def _ticket_text(change: Change) -> str:
    if not change.by_sgguard:
        return "-"
    if change.ticket:
        ticket = change.ticket
        return printable(f"{ticket.get('system', '')} {ticket.get('id', '')}".strip()) + f" ({change.request_id})"
    if change.request_id:
        return printable(f"{change.function or 'sgguard'} {change.request_id}")
    return "sgguard (no result event matched: --results)"


def table(changes: list[Change], ips: dict[str, str | None], agency: str) -> list[str]:
    lines = [f"{'time (UTC)':<20}  {'who':<28} {'interface':<17} {'change':<40} ticket"]
    for change in changes:
        # sgguard's rows by its agency (the session part of the name says nothing to a reader)
        who = f"sgguard ({printable(agency)})"[:28] if change.by_sgguard else printable(change.user)[:28]
        where = "all" if change.interface == "all" else (ips.get(change.interface) or change.interface[:17])
        lines.append(f"{change.time:<20}  {who:<28} {where:<17} {change.what():<40} {_ticket_text(change)}")
    if len(lines) == 1:
        lines.append("(no change of this server's groups in the traces read)")
    return lines


def add_arguments(parser) -> None:
    parser.add_argument("server", metavar="SERVER", help="the server's id")
    parser.add_argument("--days", type=int, default=7, help="how far back, 1-7 (CTS keeps 7 days; default 7)")
    parser.add_argument("--results", metavar="FILE", help="sgguard's result events (JSON lines): tickets")
    parser.add_argument("--agency", help="sgguard's agency (default: $SGGUARD_AGENCY, else sgguard-functions)")
    parser.add_argument("--json", action="store_true", help="the history as JSON")
    add_cloud_arguments(parser, endpoint_help="one URL for ECS, VPC and CTS (e.g. localcloud's)")


def run(args, ctx) -> int:
    from shared.model import is_uuid

    if not is_uuid(args.server):
        raise UsageError("SERVER must be a server id (a lowercase UUID like c0000000-0000-4000-8000-000000000001)")
    if not 1 <= args.days <= 7:
        raise UsageError("--days must be within 1..7 (CTS keeps management traces for seven days)")
    results: list[dict[str, Any]] = []
    if args.results:
        try:
            results = read_results(Path(args.results))
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--results {args.results}: {getattr(error, 'strerror', None) or error}") from None
    agency = args.agency or ctx.environ.get("SGGUARD_AGENCY") or "sgguard-functions"
    with cloud_errors("the server's history"):
        server, ports, names = _interfaces(args, ctx)
        changes = _changes(args, ctx, ports, agency)
    match_results(changes, results, args.server)
    for change in changes:
        change.names = names
    if args.json:
        rows = [{k: v for k, v in asdict(c).items() if k != "names"} | {"what": c.what()} for c in changes]
        ctx.out(json.dumps({"server_id": args.server, "server": server, "changes": rows}, indent=2))
        return 0
    ctx.out(f"server {printable(server or '(gone)')} {args.server}: {len(ports)} interface(s)")
    for line in table(changes, ports, agency):
        ctx.out(line)
    return 0


def _interfaces(args, ctx) -> tuple[str | None, dict[str, str | None], dict[str, str]]:
    """The server's name, its interfaces (port id -> ip), group names by id."""
    from shared.cloud.gateway import CallCounter

    from ..report.collect import make_run

    target = cloud_target(args, ctx.environ)
    endpoints = {"ECS_ENDPOINT": target.endpoint("ecs"), "VPC_ENDPOINT": target.endpoint("vpc")}
    cloud_run = make_run(ctx.environ, region=target.region, endpoints=endpoints, credentials=target.credentials)
    counter = CallCounter()
    found = cloud_run.servers(counter).show_server(args.server)
    network = cloud_run.network(counter)
    ports = {p.id: p.ip for p in network.list_server_ports(args.server) if p.is_interface_of(args.server)}
    names = {g.id: g.name for g in network.list_security_groups()}
    return (found.name if found else None), ports, names


def _changes(args, ctx, ports: dict[str, str | None], agency: str) -> list[Change]:
    """Every trace of the interfaces and the server, oldest first."""
    from shared.clock import SYSTEM_CLOCK

    from ..deployer.cts import CtsApi, CtsError

    api = CtsApi.build(cloud_target(args, ctx.environ))
    to_ms = int(SYSTEM_CLOCK.epoch() * 1000)
    from_ms = to_ms - args.days * 86_400_000
    reads = [("VPC", "ports", port_id) for port_id in ports] + [("ECS", "ecs", args.server)]
    changes: list[Change] = []
    try:
        for service, resource_type, resource_id in reads:
            traces = api.list_traces(
                service, from_ms, to_ms, _TRACE_LIMIT, resource_type=resource_type, resource_id=resource_id
            )
            for trace in traces:
                change = describe(trace, resource_id, agency)
                if change is not None:
                    changes.append(change)
    except CtsError as error:
        raise ConfigError(str(error)) from None
    return sorted(changes, key=lambda c: (c.time_ms, c.trace_id or ""))

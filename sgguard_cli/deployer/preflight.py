"""Preflight: read-only checks a user runs with real credentials before the first deploy (and after
a change of agency or policy). Every check answers ✓ or ✗, and every ✗ says how to fix it.

    from sgguard_cli.deployer.preflight import PreflightInput, run_preflight, render
    checks = run_preflight(PreflightInput(...))      # list[Check(name, ok, detail, fix)]
    print(render(checks))

Checks, in order: the region's endpoints resolve; the project's security groups list across
enterprise projects (``all_granted_eps``); every group name the policy, PROTECTED_GROUPS and
ALLOWED_GROUPS use is found (and unique where a name must pick one group); the policy's risky
exposures (a group it attaches that opens a risky port to the world needs ``approved_by``); one
named server and its ports can be read; a v3 insert-security-groups ``dry_run`` on its primary
port (202, changes nothing: it proves the request well-formed and within limits, and a 403 proves a
permission missing, but a dry run is not documented to check IAM permission); the template's CTS
triggers (the region lists them, CTS ListOperations lists every subscribed trace name) and
function VPC access (the subnet's route table sends 0.0.0.0/0 to a NAT gateway, else a warning), in
:mod:`.preflight_triggers`; the deployed functions, their triggers and user data, if they exist.

It never writes: the only non-GET request is that ``dry_run`` insert (a test checks localcloud's
request log); CTS and the route tables are only read (ListOperations, ListRouteTables,
ShowRouteTable). API calls and their documentation status: docs/fidelity.md.

Over 400 lines: one check per function, in the order the table prints them; each is short.
"""

from __future__ import annotations

import fnmatch
import json
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.clock import SYSTEM_CLOCK, Deadline
from shared.cloud.clients import AgencyCredentials, ClientFactory
from shared.cloud.exceptions import CloudCallError
from shared.cloud.gateway import CallCounter, NetworkGateway, ServerGateway
from shared.cloud.retry import RetryPolicy, translate
from shared.config import Settings
from shared.flows.policy import Policy
from shared.model import SecurityGroup, is_uuid
from shared.rails.access import UPPER, AccessModel, reach

from ..template import trace_names

__all__ = [
    "Check",
    "PreflightInput",
    "run_preflight",
    "render",
    "to_json",
    "policy_exposures",
    "DOCUMENTED_CREATION_TRACES",
    "CREDENTIALS_CHECK",
]

# ECS user guide, "Key Operations Supported by CTS" (docs/fidelity.md, "CTS trigger")
# ECS's trace list (ecs_03_1101) names the first three; CTS "Example Traces" and ECS "Fault
# Locating" show the creation as createSingleServer (SystemAction) carrying the finished job.
DOCUMENTED_CREATION_TRACES = ("createServer", "createServerV2", "createServerV21", "createSingleServer")

# What a dry-run write proves. VPC's dry_run "checks required parameters, format and business
# limits" (SDK model of AddSecurityGroupsRequestBody; VPC "Port (V3)"): whether it also checks the
# caller's IAM permission is not documented. So a 403 proves a permission missing, a 202 does not
# prove it granted (docs/fidelity.md, the dry-run row).
_DRY_RUN = "dry-run write"
DRY_RUN_PROVES = (
    "proves parameters, format and limits only: a dry run is not documented to check IAM, "
    "so it does not prove vpc:ports:update is granted"
)

# The IAM action behind each check's calls (sgguard_cli/permissions.py, template.yaml)
_ACTION = {
    "groups": "vpc:securityGroups:get",
    "ports": "vpc:ports:get",
    "write": "vpc:ports:update",
    "server": "ecs:cloudServers:get",
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # ok, but worth a look: printed "!", with its fix; not a failure (exit 0)


@dataclass
class PreflightInput:
    region: str
    credentials: AgencyCredentials
    ecs_endpoint: str
    vpc_endpoint: str
    functiongraph_endpoint: str
    policy: Policy | None = None
    policy_error: str = ""
    server_id: str | None = None
    protected_groups: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ("*",)
    risky_ports: tuple[int, ...] = (22, 3389)
    risky_max_public: tuple[int, int] = (2**24, 2**96)  # RISKY_MAX_PUBLIC_IPV4 / _IPV6 (shared.config)
    # deployed functions to check: name -> {"package", "triggers": [{"trigger_type_code", "event_data"}]}
    functions: dict[str, dict] = field(default_factory=dict)
    functiongraph_client: Any = None  # built by the caller (sgguard_cli.deployer.api.build_client)
    cts_api: Any = None  # sgguard_cli.deployer.cts.CtsApi, built by the caller: the trace-name check
    resolve_host: Callable[[str], Any] = field(default=lambda host: socket.getaddrinfo(host, 443))


def _fix_for(error: CloudCallError, action: str) -> str:
    if error.status == 403:
        return f"grant {action} to the credentials (and to the functions' agency): HTTP 403 {error.code}"
    if error.status == 401:
        return "check HUAWEICLOUD_SDK_AK / _SK / _SECURITY_TOKEN (HTTP 401)"
    return f"see the error: {error.describe()}"


# ---- the policy's risky exposures ---------------------------------------------------------------
def policy_exposures(
    policy: Policy,
    groups: dict[str, SecurityGroup],
    risky_ports,
    max_public: tuple[int, int] = (2**24, 2**96),
) -> list[dict]:
    """Every (policy rule, risky port, protocol, family) that the groups of one policy rule, in the
    rule's order, leave reachable from more public addresses than the family's threshold, under
    either reading of the matching rules (:mod:`shared.rails.access`: group order, rule priority,
    deny rules; an address group is not read here, so it counts as everyone).
    ``groups`` maps the policy's group references ("name:x" / "id:y") to the group with its rules."""
    thresholds = {"IPv4": max_public[0], "IPv6": max_public[1]}
    found = []
    for rule in policy.rules:
        attached = []
        for ref in rule.security_groups:
            group = groups.get(f"id:{ref['id']}" if "id" in ref else f"name:{ref['name']}")
            if group is not None:
                attached.append(group)
        model = AccessModel([g.id for g in attached], {g.id: g for g in attached}, bound=UPPER)
        for exposure in reach(model, risky_ports, thresholds):
            owners = [g for g in attached if g.id in exposure.group_ids]
            found.append(
                {
                    "policy_rule": rule.name,
                    "group": ", ".join(g.name or g.id for g in owners),
                    "group_id": owners[0].id if owners else None,
                    "port": exposure.port,
                    "protocol": exposure.protocol,
                    "family": exposure.family,
                    "public_addresses": exposure.public_addresses,
                    "everyone": exposure.everyone,
                    "rule_id": ", ".join(exposure.rule_ids),
                    "approved": bool(rule.approved_by),
                }
            )
    return found


# ---- the checks ---------------------------------------------------------------------------------
def _check_endpoints(inp: PreflightInput) -> Check:
    bad = []
    for service, url in (
        ("ECS", inp.ecs_endpoint),
        ("VPC", inp.vpc_endpoint),
        ("FunctionGraph", inp.functiongraph_endpoint),
    ):
        host = urlsplit(url).hostname or ""
        try:
            inp.resolve_host(host)
        except (OSError, UnicodeError) as error:
            bad.append(f"{service} {host or url!r}: {error}")
    urls = ", ".join(sorted({inp.ecs_endpoint, inp.vpc_endpoint, inp.functiongraph_endpoint}))
    if bad:
        return Check(
            "endpoints",
            False,
            "; ".join(bad),
            f"check REGION ({inp.region}) or set ECS_ENDPOINT / VPC_ENDPOINT / FUNCTIONGRAPH_ENDPOINT",
        )
    return Check("endpoints", True, f"{inp.region}: {urls}")


def _name_check(
    label: str, refs: list[str], groups: list[SecurityGroup], *, unique: bool, globs: bool = False
) -> Check:
    by_name: dict[str, list[SecurityGroup]] = {}
    for group in groups:
        by_name.setdefault(group.name, []).append(group)
    ids = {group.id for group in groups}
    problems: list[str] = []
    fine: list[str] = []
    for ref in refs:
        if globs and any(ch in ref for ch in "*?["):
            matched = [g for g in groups if fnmatch.fnmatchcase(g.name, ref)]
            (fine if matched or ref == "*" else problems).append(
                f"{ref!r} matches {len(matched)}" if matched or ref == "*" else f"{ref!r} matches no group"
            )
        elif is_uuid(ref):
            (fine if ref in ids else problems).append(f"id {ref} " + ("found" if ref in ids else "not found"))
        else:
            count = len(by_name.get(ref, []))
            if count == 0:
                problems.append(f"{ref!r} not found")
            elif count > 1 and unique:
                problems.append(f"{ref!r} names {count} groups")
            else:
                fine.append(f"{ref!r}" + (f" ({count} groups)" if count > 1 else ""))
    if not refs:
        return Check(label, True, "none configured")
    if problems:
        return Check(
            label,
            False,
            "; ".join(problems),
            "create the group, fix the name, or use the group's id (names are not unique)",
        )
    return Check(label, True, ", ".join(fine))


def _policy_refs(policy: Policy) -> list[str]:
    refs = []
    for rule in policy.rules:
        for ref in rule.security_groups:
            refs.append(ref["id"] if "id" in ref else ref["name"])
    return list(dict.fromkeys(refs))


def _lookup(refs: list[str], groups: list[SecurityGroup]) -> dict[str, SecurityGroup]:
    """ "name:x" / "id:y" -> the one group it picks (unresolved or ambiguous ones left out)."""
    found = {}
    for ref in refs:
        if is_uuid(ref):
            match = [g for g in groups if g.id == ref]
            key = f"id:{ref}"
        else:
            match = [g for g in groups if g.name == ref]
            key = f"name:{ref}"
        if len(match) == 1:
            found[key] = match[0]
    return found


def _check_exposures(
    inp: PreflightInput, policy: Policy, network: NetworkGateway, groups: list[SecurityGroup]
) -> Check:
    refs = _policy_refs(policy)
    picked = _lookup(refs, groups)
    with_rules = {key: network.show_security_group(group.id) for key, group in picked.items()}
    exposures = policy_exposures(policy, with_rules, inp.risky_ports, inp.risky_max_public)
    unapproved = [e for e in exposures if not e["approved"]]
    ports = ",".join(str(p) for p in inp.risky_ports)
    if unapproved:
        detail = "; ".join(
            f"rule {e['policy_rule']!r} attaches {e['group']!r}: {e['protocol']}/{e['port']} "
            f"open to {'everyone' if e['everyone'] else str(e['public_addresses']) + ' public addresses'} "
            f"({e['family']})"
            for e in unapproved
        )
        return Check(
            "policy exposures", False, detail, "close the group's open rule, or give the policy rule an approved_by"
        )
    if exposures:
        return Check("policy exposures", True, f"{len(exposures)} approved exposure(s) on risky ports {ports}")
    return Check(
        "policy exposures", True, f"no group of the policy opens {ports} to the world ({len(with_rules)} groups read)"
    )


def _check_server_and_write(
    inp: PreflightInput, servers: ServerGateway, network: NetworkGateway, groups: list[SecurityGroup]
) -> list[Check]:
    if not inp.server_id:
        fix = "pass --server SERVER_ID (a server the functions will manage)"
        return [Check("server", False, "no server named", fix), Check(_DRY_RUN, False, "not checked", fix)]
    try:
        server = servers.show_server(inp.server_id)
    except CloudCallError as error:
        return [
            Check("server", False, error.describe(), _fix_for(error, _ACTION["server"])),
            Check(_DRY_RUN, False, "not checked: the server could not be read", ""),
        ]
    if server is None:
        return [
            Check("server", False, f"{inp.server_id} not found", "pass the id of an existing server"),
            Check(_DRY_RUN, False, "not checked: no server", ""),
        ]
    try:
        ports = [p for p in network.list_server_ports(server.id) if p.is_interface_of(server.id)]
    except CloudCallError as error:
        return [
            Check("server", False, f"{server.name}: ports: {error.describe()}", _fix_for(error, _ACTION["ports"])),
            Check(_DRY_RUN, False, "not checked: no ports", ""),
        ]
    if not ports:
        return [
            Check(
                "server",
                False,
                f"{server.name} ({server.status}) has no interfaces",
                "pick a server with at least one interface",
            ),
            Check(_DRY_RUN, False, "not checked: no ports", ""),
        ]
    checks = [
        Check(
            "server",
            True,
            f"{server.name} ({server.status}, enterprise project "
            f"{server.enterprise_project_id or '0'}): {len(ports)} interface(s)",
        )
    ]
    port = next((p for p in ports if p.id == server.primary_port_id), ports[0])
    candidate = next((g.id for g in groups if g.id not in port.security_groups), port.security_groups[0])
    try:
        dry_run_insert(network, port.id, candidate)
    except CloudCallError as error:
        checks.append(
            Check(
                _DRY_RUN,
                False,
                f"dry-run insert on port {port.id}: {error.describe()}",
                _fix_for(error, _ACTION["write"]),
            )
        )
    else:
        checks.append(Check(_DRY_RUN, True, f"insert on port {port.id}: 202, nothing changed; {DRY_RUN_PROVES}"))
    return checks


def dry_run_insert(network: NetworkGateway, port_id: str, group_id: str) -> None:
    """v3 insert-security-groups with ``dry_run: true``: 202 and no change when permitted."""
    from huaweicloudsdkvpc.v3.model import (
        AddSecurityGroupsRequest,
        AddSecurityGroupsRequestBody,
        InsertSecurityGroupOption,
    )

    client = network.factory.vpc_v3()
    body = AddSecurityGroupsRequestBody(port=InsertSecurityGroupOption(security_groups=[group_id]), dry_run=True)
    try:
        client.add_security_groups(AddSecurityGroupsRequest(port_id, body))
    except Exception as raw:  # noqa: BLE001
        raise translate("vpc.insert_security_groups(dry_run)", raw) from None


def _check_functions(inp: PreflightInput) -> list[Check]:
    from .api import DeployError, FunctionGraphApi

    if not inp.functions:
        return []
    api = FunctionGraphApi(inp.functiongraph_client, inp.region, inp.credentials.project_id)
    checks = []
    for name, spec in inp.functions.items():
        urn = api.urn(spec.get("package", "default"), name)
        try:
            config = api.show_config(urn)
            triggers = api.list_triggers(urn) if config is not None else []
        except DeployError as error:
            checks.append(
                Check(
                    f"function {name}",
                    False,
                    str(error),
                    "grant the credentials read access to FunctionGraph functions and their triggers",
                )
            )
            continue
        if config is None:
            checks.append(Check(f"function {name}", True, "not deployed yet (sgguard deploy creates it)"))
            continue
        problems = _function_problems(inp, config, triggers, spec)
        checks.append(
            Check(
                f"function {name}",
                not problems,
                "; ".join(problems)
                or f"deployed: agency {config.get('xrole')}, {len(triggers)} trigger(s), PROJECT_ID set",
                "run sgguard deploy (it writes user data and triggers)" if problems else "",
            )
        )
    assert not api.writes, api.writes  # read-only by construction
    return checks


def _function_problems(inp: PreflightInput, config: dict, triggers: list[dict], spec: dict) -> list[str]:
    problems = []
    try:
        user_data = json.loads(config.get("user_data") or "{}")
    except ValueError:
        user_data = {}
    if user_data.get("PROJECT_ID") != inp.credentials.project_id:
        problems.append(f"user data PROJECT_ID is {user_data.get('PROJECT_ID')!r}, not {inp.credentials.project_id}")
    if user_data.get("REGION") not in (None, inp.region):
        problems.append(f"user data REGION is {user_data.get('REGION')!r}, not {inp.region}")
    if not config.get("xrole"):
        problems.append("no agency (xrole): the function gets no credentials")
    deployed = [(t.get("trigger_type_code"), t.get("trigger_status")) for t in triggers]
    for wanted in spec.get("triggers", []):
        if (wanted["trigger_type_code"], "ACTIVE") not in deployed:
            problems.append(f"no ACTIVE {wanted['trigger_type_code']} trigger")
    for trigger in triggers:
        if trigger.get("trigger_type_code") != "CTS":
            continue
        traces = trace_names((trigger.get("event_data") or {}).get("operations"))  # list or ";" form
        wanted_ops = {
            name
            for t in spec.get("triggers", [])
            if t["trigger_type_code"] == "CTS"
            for name in trace_names(t.get("operations") or (t.get("event_data") or {}).get("operations"))
        }
        expected = [t for t in DOCUMENTED_CREATION_TRACES if t in wanted_ops or not wanted_ops]
        missing = [t for t in expected if t not in traces]
        if missing:
            problems.append(f"CTS trigger lacks {', '.join(missing)}")
    return problems


CREDENTIALS_CHECK = "credentials"  # a 401: the one ✗ preflight shows, and the command exits 3


def run_preflight(inp: PreflightInput) -> list[Check]:
    """Every check, in order; never raises for a cloud error (it becomes a ✗)."""
    settings = Settings(
        region=inp.region,
        project_id=inp.credentials.project_id,
        ecs_endpoint=inp.ecs_endpoint,
        vpc_endpoint=inp.vpc_endpoint,
    )
    factory = ClientFactory(inp.credentials, settings, pool_size=2)
    gateway_args: dict[str, Any] = dict(
        clock=SYSTEM_CLOCK, deadline=Deadline(SYSTEM_CLOCK, 120), policy=RetryPolicy(3, 0.2, 2), counter=CallCounter()
    )
    network, servers = NetworkGateway(factory, **gateway_args), ServerGateway(factory, **gateway_args)
    checks = [_check_endpoints(inp)]
    try:
        groups = network.list_security_groups()
    except CloudCallError as error:
        if error.status == 401:  # the credentials themselves: every later check would fail the same way
            return [*checks, Check(CREDENTIALS_CHECK, False, error.describe(), _fix_for(error, _ACTION["groups"]))]
        checks.append(Check("security groups", False, error.describe(), _fix_for(error, _ACTION["groups"])))
        groups = None
    if groups is not None:
        projects = sorted({g.enterprise_project_id or "0" for g in groups})
        checks.append(
            Check(
                "security groups",
                True,
                f"{len(groups)} groups in {len(projects)} enterprise project(s) ({', '.join(projects)})",
            )
        )
        if inp.policy is not None:
            checks.append(_name_check("policy group names", _policy_refs(inp.policy), groups, unique=True))
        else:
            checks.append(
                Check(
                    "policy group names",
                    False,
                    inp.policy_error or "no policy",
                    "fix the policy (sgguard validate-policy)",
                )
            )
        checks.append(_name_check("PROTECTED_GROUPS", list(inp.protected_groups), groups, unique=False))
        checks.append(_name_check("ALLOWED_GROUPS", list(inp.allowed_groups), groups, unique=False, globs=True))
        if inp.policy is not None:
            try:
                checks.append(_check_exposures(inp, inp.policy, network, groups))
            except CloudCallError as error:
                checks.append(Check("policy exposures", False, error.describe(), _fix_for(error, _ACTION["groups"])))
    checks += _check_server_and_write(inp, servers, network, groups or [])
    checks += _check_triggers(inp, network)
    checks += _check_functions(inp)
    return checks


def _check_triggers(inp: PreflightInput, network: NetworkGateway) -> list[Check]:
    """CTS triggers in the region, the subscribed trace names, function VPC access (preflight_triggers)."""
    from .preflight_triggers import check_cts_region, check_function_vpc, check_trace_names

    checks = check_cts_region(inp.region, inp.functions, Check)
    if inp.cts_api is not None:
        checks += check_trace_names(inp.cts_api, inp.functions, Check, _cts_fix)
    return checks + check_function_vpc(inp.functions, Check, network.factory.vpc_v2())


def _cts_fix(error: Any) -> str:
    if getattr(error, "status", None) == 403:
        return f"grant the credentials read access to CTS (e.g. the CTS ReadOnlyAccess policy): HTTP 403 {error.code}"
    if getattr(error, "status", None) == 401:
        return "check HUAWEICLOUD_SDK_AK / _SK / _SECURITY_TOKEN (HTTP 401)"
    return "check CTS_ENDPOINT / REGION, and that CTS is enabled in the region"


def render(checks: list[Check]) -> str:
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        mark = "✗" if not check.ok else "!" if check.warning else "✓"
        lines.append(f"{mark} {check.name:<{width}}  {check.detail}")
        if (not check.ok or check.warning) and check.fix:
            lines.append(f"  {'':<{width}}  fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    warned = sum(c.ok and c.warning for c in checks)
    lines.append(
        f"{len(checks) - failed}/{len(checks)} checks passed"
        + (f", {warned} with a warning" if warned else "")
        + (f", {failed} failed" if failed else "")
    )
    return "\n".join(lines)


def to_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, indent=2, ensure_ascii=False
    )

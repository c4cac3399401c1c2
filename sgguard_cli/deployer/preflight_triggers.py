"""Preflight checks of what the template's triggers and network settings rely on (issue 20, item 5):

- **CTS triggers in the region**: the regions the FunctionGraph documentation lists for CTS
  triggers (:data:`CTS_TRIGGER_REGIONS`, one place, with its source and the date it was read);
  a region not in the list is a warning (the user guide defers to the console), not a failure;
- **CTS trace names**: every trace name the template's CTS triggers subscribe to
  (``Service:resource:trace``, or ``Service:resource:trace1;trace2`` as Terraform documents) is
  listed by CTS ``ListOperations`` for that service and resource type;
- **function VPC access**: a function with ``func_vpc`` reaches public endpoints (other regions,
  webhooks, the region's APIs unless they resolve inside the VPC) only through a NAT gateway with
  an EIP (SNAT) in that VPC: ✓ when the subnet's route table (VPC v1 ListRouteTables /
  ShowRouteTable) sends ``0.0.0.0/0`` to a NAT gateway, else a warning with how to fix it (the
  gateway's SNAT rule itself is not read).

Each answers a :class:`~sgguard_cli.deployer.preflight.Check`; only GETs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "CTS_TRIGGER_REGIONS",
    "CTS_TRIGGER_REGIONS_SOURCE",
    "parse_operations",
    "check_cts_region",
    "check_trace_names",
    "check_function_vpc",
]

# FunctionGraph API reference, "Creating a Trigger" (functiongraph_06_0122, "Updated on
# 2025-08-30"), trigger_type_code: "CTS: Cloud Trace Service (CTS): Enable CTS first. (available in
# CN North-Beijing4, CN East-Shanghai1, CN-Hong Kong, AP-Bang[kok], ...)" — the stored copy read on
# 2026-12-02 is cut after "AP-Bang", so the list may go on; and the user guide "Cloud Trace Service
# (CTS) Trigger" (functiongraph_01_0209, "Updated on 2025-12-04"): "You can configure CTS triggers
# for shared functions in the LA-Sao Paulo1 region" and "The regions and runtimes supported for CTS
# triggers are subject to the console." Region ids from the CTS API's endpoint table (cts_api_0001).
CTS_TRIGGER_REGIONS: dict[str, str] = {
    "cn-north-4": "CN North-Beijing4",
    "cn-east-3": "CN East-Shanghai1",
    "ap-southeast-1": "CN-Hong Kong",
    "ap-southeast-2": "AP-Bangkok",
    "sa-brazil-1": "LA-Sao Paulo1",
}
CTS_TRIGGER_REGIONS_SOURCE = (
    "FunctionGraph API 'Creating a Trigger' (functiongraph_06_0122, 2025-08-30; the copy read on "
    "2026-12-02 is cut after the fourth region) and user guide functiongraph_01_0209 (2025-12-04)"
)


def parse_operations(operations: Iterable[object]) -> list[tuple[str, str, str]]:
    """``(service, resource, trace)`` of every trace named, in both spellings: one
    ``Service:resource:trace`` per item, or ``Service:resource:trace1;trace2`` (Terraform's example).
    An item without two colons is kept with empty parts (the check reports it)."""
    found: list[tuple[str, str, str]] = []
    for item in operations:
        parts = str(item).split(":", 2)
        if len(parts) < 3:
            found.append(("", "", str(item)))
            continue
        service, resource, names = parts
        found += [(service, resource, name.strip()) for name in names.split(";") if name.strip()]
    return list(dict.fromkeys(found))


def _cts_operations(functions: dict[str, dict]) -> dict[str, list[tuple[str, str, str]]]:
    """Function name -> the traces its template CTS triggers subscribe to."""
    return {
        name: parse_operations(op for trigger in spec.get("triggers", []) for op in trigger.get("operations") or [])
        for name, spec in functions.items()
        if any(t.get("trigger_type_code") == "CTS" for t in spec.get("triggers", []))
    }


def check_cts_region(region: str, functions: dict[str, dict], check: Any) -> list[Any]:
    """✓ when the region is listed, a warning when it is not (the list is not the last word)."""
    if not _cts_operations(functions):
        return []
    if region in CTS_TRIGGER_REGIONS:
        return [check("CTS triggers", True, f"{region} ({CTS_TRIGGER_REGIONS[region]}) is listed for CTS triggers")]
    listed = ", ".join(f"{r} ({n})" for r, n in CTS_TRIGGER_REGIONS.items())
    return [
        check(
            "CTS triggers",
            True,
            f"{region} is not among the regions the documentation lists for CTS triggers ({listed}; "
            f"source: {CTS_TRIGGER_REGIONS_SOURCE}; the list may be incomplete)",
            "check that the FunctionGraph console of this region offers the CTS trigger; if it does not, "
            "deploy with EG_CHANNEL_ID set (the EventGrid trigger carries the same traces)",
            warning=True,
        )
    ]


def check_trace_names(cts_api: Any, functions: dict[str, dict], check: Any, fix_for_error: Any) -> list[Any]:
    """Every subscribed trace name is in CTS ``ListOperations`` for its service and resource type."""
    from .cts import CtsError, operation_index

    wanted = _cts_operations(functions)
    if not wanted:
        return []
    services = sorted({service for traces in wanted.values() for service, _, _ in traces if service})
    index: dict[tuple[str, str], set[str]] = {}
    try:
        for service in services:
            index.update(operation_index(cts_api.list_operations(service_type=service)))
    except CtsError as error:
        return [check("CTS trace names", False, str(error), fix_for_error(error))]
    problems: list[str] = []
    counted = 0
    for function, traces in wanted.items():
        for service, resource, name in traces:
            counted += 1
            if not service:
                problems.append(f"{function}: {name!r} is not Service:resource:trace")
            elif (service, resource) not in index:
                kinds = sorted(r for s, r in index if s == service)
                problems.append(
                    f"{function}: {service}:{resource}:{name}: CTS lists no resource type {resource!r} of "
                    f"{service} (it lists: {', '.join(kinds) or 'none'})"
                )
            elif name not in index[(service, resource)]:
                known = sorted(index[(service, resource)])
                shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
                problems.append(f"{function}: {service}:{resource}:{name} is not listed (CTS lists: {shown})")
    if problems:
        return [
            check(
                "CTS trace names",
                False,
                "; ".join(problems),
                "correct the operations in template.yaml to names CTS ListOperations lists "
                "(a trace name CTS never records never triggers the function)",
            )
        ]
    return [check("CTS trace names", True, f"{counted} subscribed trace name(s) listed by CTS ListOperations")]


def nat_route(vpc_client: Any, vpc_id: str, subnet_id: str) -> tuple[str, dict | None]:
    """(route table id, its 0.0.0.0/0 route of type ``nat`` or None) of the subnet's route table
    (VPC v1 ListRouteTables by ``subnet_id``, else the VPC's default table, then ShowRouteTable)."""
    from huaweicloudsdkvpc.v2.model import ListRouteTablesRequest, ShowRouteTableRequest

    tables = vpc_client.list_route_tables(ListRouteTablesRequest(subnet_id=subnet_id)).to_json_object()
    listed = (tables or {}).get("routetables") or []
    if not listed:
        tables = vpc_client.list_route_tables(ListRouteTablesRequest(vpc_id=vpc_id)).to_json_object()
        listed = [t for t in (tables or {}).get("routetables") or [] if t.get("default")]
    if not listed:
        return "", None
    table_id = str(listed[0].get("id"))
    shown = vpc_client.show_route_table(ShowRouteTableRequest(table_id)).to_json_object() or {}
    routes = (shown.get("routetable") or {}).get("routes") or []
    default = [r for r in routes if r.get("type") == "nat" and r.get("destination") in ("0.0.0.0/0", "0.0.0.0/00")]
    return table_id, default[0] if default else None


def check_function_vpc(functions: dict[str, dict], check: Any, vpc_client: Any = None) -> list[Any]:
    """Functions with VPC access: ✓ when their subnet's route table sends 0.0.0.0/0 to a NAT
    gateway, else a warning (no such route, or the routes could not be read), with how to fix it."""
    from huaweicloudsdkcore.exceptions.exceptions import SdkException

    with_vpc = {
        name: spec["func_vpc"] for name, spec in functions.items() if (spec.get("func_vpc") or {}).get("vpc_id")
    }
    if not with_vpc:
        return []
    pairs = sorted({(vpc["vpc_id"], vpc.get("subnet_id") or "") for vpc in with_vpc.values()})
    names = ", ".join(sorted(with_vpc))
    found, missing = [], []
    for vpc_id, subnet_id in pairs:
        if vpc_client is None:
            missing.append(f"VPC {vpc_id} (subnet {subnet_id}): routes not read")
            continue
        try:
            table_id, route = nat_route(vpc_client, vpc_id, subnet_id)
        except SdkException as error:
            missing.append(f"VPC {vpc_id} (subnet {subnet_id}): the route table could not be read ({error})")
            continue
        if route is None:
            missing.append(
                f"VPC {vpc_id} (subnet {subnet_id}): route table {table_id or 'none'} "
                "has no 0.0.0.0/0 route to a NAT gateway"
            )
        else:
            found.append(f"VPC {vpc_id}: route table {table_id} sends 0.0.0.0/0 to NAT gateway {route.get('nexthop')}")
    if not missing:
        return [
            check(
                "function VPC access",
                True,
                f"{names} run in a VPC: {'; '.join(found)} (the gateway's SNAT rule for the subnet is not checked)",
            )
        ]
    subnets = ", ".join(subnet for _, subnet in pairs)
    return [
        check(
            "function VPC access",
            True,
            f"{names} run in a VPC, and from there reach public endpoints (other regions, webhooks, and the "
            "cloud APIs they call unless the region's endpoints resolve inside the VPC) only through a NAT "
            f"gateway with an EIP: {'; '.join(missing)}",
            f"add a NAT gateway with an SNAT rule for subnet {subnets} (it adds the 0.0.0.0/0 route), or VPC "
            "endpoints for the services the functions call, or leave FUNC_VPC_ID empty when no Redis store is used",
            warning=True,
        )
    ]

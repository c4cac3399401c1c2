"""VPC API v1 (``/v1/{project_id}/...``), called through ``huaweicloudsdkvpc.v2.VpcClient``.

Paths, query names and body fields are those of the SDK's ``_*_http_info`` methods. Success
codes follow the VPC status-code table: 200 for GET/PUT/POST, 204 for DELETE.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from . import errors
from .traces import emit
from .views import (
    body_object,
    bool_arg,
    enterprise_project_filter,
    id_filter,
    int_arg,
    paginate,
    v1_group,
    v1_port,
    v1_rule,
    v1_subnet,
    v1_vpc,
)

v1_router = Router("vpc", "vpc1")
route = v1_router.route


def _model(ctx: ApiContext):
    return ctx.project.service("vpc")


def _page(ctx: ApiContext, items: list[dict], error) -> list[dict]:
    page, _ = paginate(items, ctx.arg("marker"), int_arg(ctx, "limit", error), error)
    return page


def _ep_filter(items: list[dict], ctx: ApiContext) -> list[dict]:
    """``enterprise_project_id``: absent = the default enterprise project ("0") only (assumed, see
    docs/fidelity.md), ``all_granted_eps`` = every one the caller may see (documented), else that id."""
    return enterprise_project_filter(items, ctx.args("enterprise_project_id"))


# ---- VPCs and subnets -----------------------------------------------------------------------


@route("GET", "/v1/{project_id}/vpcs")
def list_vpcs(ctx: ApiContext):
    vpcs = _ep_filter(_model(ctx).list_vpcs(), ctx)
    wanted = ctx.arg("id")
    if wanted:
        vpcs = [vpc for vpc in vpcs if vpc["id"] == wanted]
    return 200, {"vpcs": [v1_vpc(vpc) for vpc in _page(ctx, vpcs, errors.vpc_invalid)]}


@route("GET", "/v1/{project_id}/vpcs/{vpc_id}")
def show_vpc(ctx: ApiContext):
    model = _model(ctx)
    if ctx.params["vpc_id"] not in {vpc["id"] for vpc in model.list_vpcs()}:
        raise errors.vpc_not_found(ctx.params["vpc_id"])
    return 200, {"vpc": v1_vpc(model.vpc(ctx.params["vpc_id"]))}


@route("GET", "/v1/{project_id}/subnets")
def list_subnets(ctx: ApiContext):
    model = _model(ctx)
    subnets = model.list_subnets()
    vpc_id = ctx.arg("vpc_id")
    if vpc_id:
        subnets = [subnet for subnet in subnets if subnet["vpc_id"] == vpc_id]
    page = _page(ctx, subnets, errors.subnet_invalid)
    return 200, {"subnets": [v1_subnet(subnet, model.available_ip_count(subnet["id"])) for subnet in page]}


@route("GET", "/v1/{project_id}/subnets/{subnet_id}")
def show_subnet(ctx: ApiContext):
    model = _model(ctx)
    subnet_id = ctx.params["subnet_id"]
    if subnet_id not in {subnet["id"] for subnet in model.list_subnets()}:
        raise errors.subnet_not_found(subnet_id)
    return 200, {"subnet": v1_subnet(model.subnet(subnet_id), model.available_ip_count(subnet_id))}


# ---- ports ------------------------------------------------------------------------------------


def _primary_ports(ports: list[dict]) -> set[str]:
    """Ids of the first port of every device (the primary NIC of a server)."""
    seen: dict[str, str] = {}
    for port in ports:
        if port["device_id"] and port["device_id"] not in seen:
            seen[port["device_id"]] = port["id"]
    return set(seen.values())


def _port_view(model, port: dict) -> dict:
    primary = None
    if port["device_id"]:
        primary = port["id"] in _primary_ports(model.ports_of_device(port["device_id"]))
    return v1_port(port, primary)


@route("GET", "/v1/{project_id}/routetables")
def list_route_tables(ctx: ApiContext):
    tables = ctx.project.service("vpc_route_tables").list(
        vpc_id=ctx.arg("vpc_id"), subnet_id=ctx.arg("subnet_id"), table_id=ctx.arg("id")
    )
    listed = [{k: v for k, v in table.items() if k != "routes"} for table in tables]  # RouteTableListResp
    return 200, {"routetables": _page(ctx, listed, errors.route_invalid)}


@route("GET", "/v1/{project_id}/routetables/{routetable_id}")
def show_route_table(ctx: ApiContext):
    return 200, {"routetable": ctx.project.service("vpc_route_tables").show(ctx.params["routetable_id"])}


@route("GET", "/v1/{project_id}/ports/{port_id}")
def show_port(ctx: ApiContext):
    model = _model(ctx)
    return 200, {"port": _port_view(model, model.port(ctx.params["port_id"]))}


def _fixed_ip_matches(port: dict, expression: str) -> bool:
    key, _, value = expression.partition("=")
    if key not in ("ip_address", "subnet_id") or not value:
        raise errors.port_invalid(f"fixed_ips filter {expression!r} is invalid: use ip_address=... or subnet_id=...")
    return any(ip[key] == value for ip in port["fixed_ips"])


@route("GET", "/v1/{project_id}/ports")
def list_ports(ctx: ApiContext):
    model = _model(ctx)
    ports = model.list_ports(ctx.arg("device_id"))
    primaries = _primary_ports(ports)
    ports = _ep_filter(ports, ctx)
    ids = id_filter(ctx, "id")
    if ids:
        ports = [port for port in ports if port["id"] in ids]
    for name in ("name", "device_id", "device_owner", "network_id", "mac_address", "status"):
        wanted = ctx.arg(name)
        if wanted is not None:
            ports = [port for port in ports if port[name] == wanted]
    admin = bool_arg(ctx, "admin_state_up", errors.port_invalid)
    if admin is not None:
        ports = [port for port in ports if port["admin_state_up"] == admin]
    groups = id_filter(ctx, "security_groups")
    if groups:
        ports = [port for port in ports if any(group in port["security_groups"] for group in groups)]
    for expression in ctx.args("fixed_ips"):
        ports = [port for port in ports if _fixed_ip_matches(port, expression)]
    page = _page(ctx, ports, errors.port_invalid)
    return 200, {"ports": [v1_port(port, port["id"] in primaries if port["device_id"] else None) for port in page]}


@route("PUT", "/v1/{project_id}/ports/{port_id}")
def update_port(ctx: ApiContext):
    _, option = body_object(ctx, "port", errors.port_invalid)
    model = _model(ctx)
    port = model.update_port(
        ctx.params["port_id"],
        name=option.get("name"),
        security_groups=option.get("security_groups"),
        allowed_address_pairs=option.get("allowed_address_pairs"),
        extra_dhcp_opts=option.get("extra_dhcp_opts"),
    )
    answer = {"port": _port_view(model, port)}
    emit(ctx, "updatePort", "ports", ctx.params["port_id"], answer)
    return 200, answer


# ---- security groups and rules ------------------------------------------------------------------


@route("GET", "/v1/{project_id}/security-groups")
def list_security_groups(ctx: ApiContext):
    model = _model(ctx)
    groups = _ep_filter(model.list_security_groups(), ctx)
    vpc_id = ctx.arg("vpc_id")
    if vpc_id:
        if vpc_id not in {vpc["id"] for vpc in model.list_vpcs()}:
            raise errors.sg_invalid("Query security groups error vpcId is invalid.")
        groups = [group for group in groups if group["vpc_id"] == vpc_id]
    page = _page(ctx, groups, lambda m: errors.sg_invalid(f"Query security groups error {m}"))
    return 200, {"security_groups": [v1_group(group) for group in page]}


@route("GET", "/v1/{project_id}/security-groups/{security_group_id}")
def show_security_group(ctx: ApiContext):
    return 200, {"security_group": v1_group(_model(ctx).security_group(ctx.params["security_group_id"]))}


@route("POST", "/v1/{project_id}/security-groups")
def create_security_group(ctx: ApiContext):
    _, option = body_object(ctx, "security_group", errors.sg_invalid)
    group = _model(ctx).create_security_group(
        name=option.get("name"), vpc_id=option.get("vpc_id"), enterprise_project_id=option.get("enterprise_project_id")
    )
    return 200, {"security_group": v1_group(group)}


@route("DELETE", "/v1/{project_id}/security-groups/{security_group_id}")
def delete_security_group(ctx: ApiContext):
    _model(ctx).delete_security_group(ctx.params["security_group_id"])
    return 204, None


@route("GET", "/v1/{project_id}/security-group-rules")
def list_security_group_rules(ctx: ApiContext):
    model = _model(ctx)
    group_id = ctx.arg("security_group_id")
    if group_id:
        model.security_group(group_id)
    rules = model.list_security_group_rules(group_id or None)
    prefix = ctx.arg("remote_ip_prefix")
    if prefix:
        rules = [rule for rule in rules if rule["remote_ip_prefix"] == prefix]
    page = _page(ctx, rules, errors.rule_invalid)
    return 200, {"security_group_rules": [v1_rule(rule) for rule in page]}


@route("GET", "/v1/{project_id}/security-group-rules/{security_group_rule_id}")
def show_security_group_rule(ctx: ApiContext):
    return 200, {"security_group_rule": v1_rule(_model(ctx).security_group_rule(ctx.params["security_group_rule_id"]))}


_V1_RULE_FIELDS = (
    "description",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
)


@route("POST", "/v1/{project_id}/security-group-rules")
def create_security_group_rule(ctx: ApiContext):
    _, option = body_object(ctx, "security_group_rule", errors.rule_invalid)
    group_id = option.get("security_group_id")
    if not isinstance(group_id, str) or not group_id:
        raise errors.rule_invalid("security_group_id is required.")
    rule = _model(ctx).add_rule(group_id, **{key: option.get(key) for key in _V1_RULE_FIELDS})
    answer = {"security_group_rule": v1_rule(rule)}
    emit(ctx, "createSecurity-group-rule", "security-group-rules", rule["id"], answer)
    return 200, answer


@route("DELETE", "/v1/{project_id}/security-group-rules/{security_group_rule_id}")
def delete_security_group_rule(ctx: ApiContext):
    rule_id = ctx.params["security_group_rule_id"]
    group_id = _model(ctx).security_group_rule(rule_id).get("security_group_id")
    _model(ctx).delete_rule(rule_id)
    emit(ctx, "deleteSecurity-group-rule", "security-group-rules", rule_id, {"security_group_id": group_id})
    return 204, None

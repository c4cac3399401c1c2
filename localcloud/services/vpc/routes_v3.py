"""VPC API v3 (``/v3/{project_id}/...``), called through ``huaweicloudsdkvpc.v3.VpcClient``.

Success bodies carry ``request_id`` (the same id as the ``X-Request-Id`` header); list bodies
carry ``page_info``. POST answers 201, DELETE 204, and a ``dry_run`` that passes every check
answers 202 with no body and changes nothing.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from . import errors
from .traces import emit
from .views import (
    body_object,
    bool_arg,
    dry_run_flag,
    enterprise_project_filter,
    id_filter,
    int_arg,
    page_info,
    paginate,
    v3_group,
    v3_group_info,
    v3_port,
    v3_rule,
)

v3_router = Router("vpc", "vpc3")
route = v3_router.route


def _model(ctx: ApiContext):
    return ctx.project.service("vpc")


def _listing(ctx: ApiContext, key: str, items: list[dict], view, error) -> tuple[int, dict]:
    page, more = paginate(items, ctx.arg("marker"), int_arg(ctx, "limit", error), error)
    return 200, {key: [view(item) for item in page], "page_info": page_info(page, more), "request_id": ctx.request_id}


# ---- ports ------------------------------------------------------------------------------------


@route("GET", "/v3/{project_id}/ports/{port_id}")
def show_port(ctx: ApiContext):
    return 200, {"port": v3_port(_model(ctx).port(ctx.params["port_id"])), "request_id": ctx.request_id}


_PORT_LIST_FILTERS = {  # query name -> field of the neutral port record
    "id": "id",
    "device_id": "device_id",
    "mac_address": "mac_address",
    "device_owner": "device_owner",
    "virsubnet_id": "network_id",
    "vpc_id": "vpc_id",
}


def _private_ip_matches(port: dict, expressions: list[str]) -> bool:
    for expression in expressions:
        key, _, value = expression.partition("=")
        if key not in ("ip_address", "subnet_cidr_id") or not value:
            raise errors.port_invalid(
                f"private_ips filter {expression!r} is invalid: use ip_address=... or subnet_cidr_id=..."
            )
        field = "ip_address" if key == "ip_address" else "subnet_id"
        if any(ip[field] == value for ip in port["fixed_ips"]):
            return True
    return False


@route("GET", "/v3/{project_id}/ports")
def list_ports(ctx: ApiContext):
    devices = id_filter(ctx, "device_id")
    ports = _model(ctx).list_ports(devices[0] if len(devices) == 1 else None)
    for query, field in _PORT_LIST_FILTERS.items():
        wanted = id_filter(ctx, query)
        if wanted:
            ports = [port for port in ports if port[field] in wanted]
    for query in ("name", "description"):
        wanted = ctx.args(query)
        if wanted:
            ports = [port for port in ports if port[query] in wanted]
    for query in ("status", "instance_id", "instance_type"):
        value = ctx.arg(query)
        if value is not None:
            ports = [port for port in ports if port[query] == value]
    prefix = ctx.arg("device_owner_prefixlike")
    if prefix:
        ports = [port for port in ports if port["device_owner"].startswith(prefix)]
    admin = bool_arg(ctx, "admin_state_up", errors.port_invalid)
    if admin is not None:
        ports = [port for port in ports if port["admin_state_up"] == admin]
    groups = id_filter(ctx, "security_groups")
    if groups:
        ports = [port for port in ports if any(group in port["security_groups"] for group in groups)]
    private_ips = id_filter(ctx, "private_ips")
    if private_ips:
        ports = [port for port in ports if _private_ip_matches(port, private_ips)]
    return _listing(ctx, "ports", ports, v3_port, errors.port_invalid)


def _port_change(ctx: ApiContext, change, trace_name: str) -> tuple[int, dict | None]:
    body, option = body_object(ctx, "port", errors.port_invalid)
    dry_run = dry_run_flag(body, errors.port_invalid)
    port = change(option, dry_run)
    if dry_run:
        return 202, None
    answer = {"port": v3_port(port), "request_id": ctx.request_id}
    emit(ctx, trace_name, "ports", ctx.params["port_id"], answer)
    return 200, answer


@route("PUT", "/v3/{project_id}/ports/{port_id}/insert-security-groups")
def add_security_groups(ctx: ApiContext):
    return _port_change(
        ctx,
        lambda option, dry_run: _model(ctx).insert_security_groups(
            ctx.params["port_id"], option.get("security_groups"), option.get("index"), dry_run=dry_run
        ),
        "addSecurityGroups",
    )


@route("PUT", "/v3/{project_id}/ports/{port_id}/remove-security-groups")
def remove_security_groups(ctx: ApiContext):
    return _port_change(
        ctx,
        lambda option, dry_run: _model(ctx).remove_security_groups(
            ctx.params["port_id"], option.get("security_groups"), dry_run=dry_run
        ),
        "removeSecurityGroups",
    )


# ---- security groups --------------------------------------------------------------------------


@route("GET", "/v3/{project_id}/vpc/security-groups")
def list_security_groups(ctx: ApiContext):
    groups = _model(ctx).list_security_groups()
    ids = id_filter(ctx, "id")
    if ids:
        groups = [group for group in groups if group["id"] in ids]
    for query in ("name", "description"):
        wanted = ctx.args(query)
        if wanted:
            groups = [group for group in groups if group[query] in wanted]
    groups = enterprise_project_filter(groups, ctx.args("enterprise_project_id"))
    return _listing(ctx, "security_groups", groups, v3_group, errors.sg_invalid)


@route("GET", "/v3/{project_id}/vpc/security-groups/{security_group_id}")
def show_security_group(ctx: ApiContext):
    group = _model(ctx).security_group(ctx.params["security_group_id"])
    return 200, {"security_group": v3_group_info(group), "request_id": ctx.request_id}


@route("POST", "/v3/{project_id}/vpc/security-groups")
def create_security_group(ctx: ApiContext):
    body, option = body_object(ctx, "security_group", errors.sg_invalid)
    dry_run = dry_run_flag(body, errors.sg_invalid)
    group = _model(ctx).create_security_group(
        name=option.get("name"),
        description=option.get("description", ""),
        enterprise_project_id=option.get("enterprise_project_id"),
        dry_run=dry_run,
    )
    if dry_run:
        return 202, None
    return 201, {"security_group": v3_group_info(group), "request_id": ctx.request_id}


@route("PUT", "/v3/{project_id}/vpc/security-groups/{security_group_id}")
def update_security_group(ctx: ApiContext):
    _, option = body_object(ctx, "security_group", errors.sg_invalid)
    group = _model(ctx).update_security_group(
        ctx.params["security_group_id"], name=option.get("name"), description=option.get("description")
    )
    return 200, {"security_group": v3_group_info(group), "request_id": ctx.request_id}


@route("DELETE", "/v3/{project_id}/vpc/security-groups/{security_group_id}")
def delete_security_group(ctx: ApiContext):
    _model(ctx).delete_security_group(ctx.params["security_group_id"])
    return 204, None


# ---- security group rules -----------------------------------------------------------------------


@route("GET", "/v3/{project_id}/vpc/security-group-rules")
def list_security_group_rules(ctx: ApiContext):
    rules = _model(ctx).list_security_group_rules()
    for query in ("id", "security_group_id", "protocol", "remote_group_id", "ethertype", "remote_address_group_id"):
        wanted = id_filter(ctx, query)
        if wanted:
            rules = [rule for rule in rules if rule[query] in wanted]
    wanted_descriptions = ctx.args("description")
    if wanted_descriptions:
        rules = [rule for rule in rules if rule["description"] in wanted_descriptions]
    for query in ("direction", "action", "remote_ip_prefix"):
        value = ctx.arg(query)
        if value:
            rules = [rule for rule in rules if rule[query] == value]
    priorities = id_filter(ctx, "priority")
    if priorities:
        rules = [rule for rule in rules if str(rule["priority"]) in priorities]
    enabled = bool_arg(ctx, "enabled", errors.rule_invalid)
    if enabled is not None:
        rules = [rule for rule in rules if rule["enabled"] == enabled]
    return _listing(ctx, "security_group_rules", rules, v3_rule, errors.rule_invalid)


@route("GET", "/v3/{project_id}/vpc/security-group-rules/{security_group_rule_id}")
def show_security_group_rule(ctx: ApiContext):
    rule = _model(ctx).security_group_rule(ctx.params["security_group_rule_id"])
    return 200, {"security_group_rule": v3_rule(rule), "request_id": ctx.request_id}


_V3_RULE_FIELDS = (
    "description",
    "direction",
    "ethertype",
    "protocol",
    "multiport",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
    "action",
    "priority",
)


@route("POST", "/v3/{project_id}/vpc/security-group-rules")
def create_security_group_rule(ctx: ApiContext):
    body, option = body_object(ctx, "security_group_rule", errors.rule_invalid)
    dry_run = dry_run_flag(body, errors.rule_invalid)
    group_id = option.get("security_group_id")
    if not isinstance(group_id, str) or not group_id:
        raise errors.rule_invalid("security_group_id is required.")
    fields = {key: option.get(key) for key in _V3_RULE_FIELDS}
    fields["enabled"] = option.get("enabled", True)
    if fields["priority"] is None:  # the v3 page: 1-100, default 100
        fields["priority"] = 100
    rule = _model(ctx).add_rule(group_id, dry_run=dry_run, **fields)
    if dry_run:
        return 202, None
    answer = {"security_group_rule": v3_rule(rule), "request_id": ctx.request_id}
    emit(ctx, "createSecurity-group-rule", "security-group-rules", rule["id"], answer)
    return 201, answer


@route("DELETE", "/v3/{project_id}/vpc/security-group-rules/{security_group_rule_id}")
def delete_security_group_rule(ctx: ApiContext):
    rule_id = ctx.params["security_group_rule_id"]
    group_id = _model(ctx).security_group_rule(rule_id).get("security_group_id")
    _model(ctx).delete_rule(rule_id)
    emit(ctx, "deleteSecurity-group-rule", "security-group-rules", rule_id, {"security_group_id": group_id})
    return 204, None


# ---- IP address groups ----------------------------------------------------------------------------
# Their own model (address_groups.py, registered as "vpc_address_groups"); the stored record is
# the v3 view (huaweicloudsdkvpc.v3.model.AddressGroup).


def _address_groups(ctx: ApiContext):
    return ctx.project.service("vpc_address_groups")


def _address_group_view(group: dict) -> dict:
    return {**group, "ip_set": list(group["ip_set"]), "ip_extra_set": [dict(item) for item in group["ip_extra_set"]]}


@route("POST", "/v3/{project_id}/vpc/address-groups")
def create_address_group(ctx: ApiContext):
    body, option = body_object(ctx, "address_group", errors.address_group_invalid)
    dry_run = dry_run_flag(body, errors.address_group_invalid)
    group = _address_groups(ctx).create_address_group(
        name=option.get("name"),
        ip_version=option.get("ip_version"),
        ip_set=option.get("ip_set"),
        ip_extra_set=option.get("ip_extra_set"),
        description=option.get("description", ""),
        max_capacity=option.get("max_capacity"),
        enterprise_project_id=option.get("enterprise_project_id"),
        dry_run=dry_run,
    )
    if dry_run:
        return 202, None
    return 201, {"address_group": _address_group_view(group), "request_id": ctx.request_id}


@route("GET", "/v3/{project_id}/vpc/address-groups/{address_group_id}")
def show_address_group(ctx: ApiContext):
    group = _address_groups(ctx).address_group(ctx.params["address_group_id"])
    return 200, {"address_group": _address_group_view(group), "request_id": ctx.request_id}


@route("GET", "/v3/{project_id}/vpc/address-groups")
def list_address_group(ctx: ApiContext):
    groups = _address_groups(ctx).list_address_groups()
    for query in ("id", "name", "description"):
        wanted = id_filter(ctx, query) if query == "id" else ctx.args(query)
        if wanted:
            groups = [group for group in groups if group[query] in wanted]
    version = int_arg(ctx, "ip_version", errors.address_group_invalid)
    if version is not None:
        groups = [group for group in groups if group["ip_version"] == version]
    project = ctx.arg("enterprise_project_id")
    if project not in (None, "", "all_granted_eps"):
        groups = [group for group in groups if group["enterprise_project_id"] == project]
    return _listing(ctx, "address_groups", groups, _address_group_view, errors.address_group_invalid)


@route("DELETE", "/v3/{project_id}/vpc/address-groups/{address_group_id}")
def delete_address_group(ctx: ApiContext):
    _address_groups(ctx).delete_address_group(ctx.params["address_group_id"])
    return 204, None

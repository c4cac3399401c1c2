"""Response shapes: the model's neutral records rendered as VPC v1 and v3 bodies.

Field names follow the SDK models' ``attribute_map`` (huaweicloudsdkvpc 3.1.219):
v2.model.{Vpc, Subnet, Port, SecurityGroup, SecurityGroupRule} for the v1 API and
v3.model.{Port, SecurityGroup, SecurityGroupInfo, SecurityGroupRule, PageInfo} for v3.
"""

from __future__ import annotations

from localcloud.core.errors import CloudError
from localcloud.core.routing import ApiContext

__all__ = [
    "paginate",
    "page_info",
    "id_filter",
    "v1_vpc",
    "v1_subnet",
    "v1_port",
    "v1_group",
    "v1_rule",
    "v3_port",
    "v3_group",
    "v3_group_info",
    "v3_rule",
    "bool_arg",
]

MAX_LIMIT = 2000


def paginate(items: list[dict], marker: str | None, limit: int | None, error) -> tuple[list[dict], bool]:
    """Items after ``marker`` (an id), at most ``limit``; also whether more remain."""
    start = 0
    if marker:
        ids = [item["id"] for item in items]
        if marker not in ids:
            raise error(f"marker {marker} is invalid.")
        start = ids.index(marker) + 1
    if limit is None or limit == 0:
        limit = MAX_LIMIT
    if limit < 0 or limit > MAX_LIMIT:
        raise error(f"limit {limit} is invalid: use 0-{MAX_LIMIT}.")
    page = items[start : start + limit]
    return page, start + limit < len(items)


def page_info(page: list[dict], more: bool) -> dict:
    info: dict = {"current_count": len(page)}
    if page:
        info["previous_marker"] = page[0]["id"]
    if page and more:
        info["next_marker"] = page[-1]["id"]
    return info


def int_arg(ctx: ApiContext, name: str, error) -> int | None:
    value = ctx.arg(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise error(f"{name} {value!r} is invalid.") from None


def bool_arg(ctx: ApiContext, name: str, error) -> bool | None:
    value = ctx.arg(name)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise error(f"{name} {value!r} is invalid: use true or false.")


def id_filter(ctx: ApiContext, name: str) -> list[str]:
    """A list query parameter, sent repeated (what the SDK does) or comma-separated."""
    values: list[str] = []
    for raw in ctx.args(name):
        values.extend(part for part in raw.split(",") if part)
    return values


ALL_GRANTED_EPS = "all_granted_eps"


def enterprise_project_filter(items: list[dict], wanted: list[str]) -> list[dict]:
    """The ``enterprise_project_id`` query of VPC listings (v1 a string, v3 an array).

    ``all_granted_eps``: every enterprise project the caller may see (documented on the v3
    ListSecurityGroups page and in the SDK models). Absent: only the default enterprise project
    ``"0"`` (assumed: docs/fidelity.md). Otherwise the exact ids given.
    """
    wanted = [value for value in wanted if value != ""]
    if ALL_GRANTED_EPS in wanted:
        return items
    allowed = set(wanted) or {"0"}
    return [item for item in items if (item.get("enterprise_project_id") or "0") in allowed]


def body_object(ctx: ApiContext, key: str, error) -> tuple[dict, dict]:
    """The whole JSON body and its ``key`` object; anything else is the service's 400."""
    try:
        body = ctx.json()
    except CloudError:
        raise error("The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise error(f"The request body must be a JSON object with a {key!r} object.")
    return body, body[key]


def dry_run_flag(body: dict, error) -> bool:
    value = body.get("dry_run", False)
    if not isinstance(value, bool):
        raise error("dry_run must be a boolean.")
    return value


# ---- v1 ----------------------------------------------------------------------------------


def v1_vpc(vpc: dict) -> dict:
    return {
        key: vpc[key]
        for key in (
            "id",
            "name",
            "cidr",
            "description",
            "routes",
            "status",
            "enterprise_project_id",
            "tenant_id",
            "created_at",
            "updated_at",
        )
    }


def v1_subnet(subnet: dict, available: int | None = None) -> dict:
    view = {
        key: subnet[key]
        for key in (
            "id",
            "name",
            "description",
            "cidr",
            "gateway_ip",
            "ipv6_enable",
            "dhcp_enable",
            "primary_dns",
            "secondary_dns",
            "dnsList",
            "availability_zone",
            "vpc_id",
            "status",
            "neutron_network_id",
            "neutron_subnet_id",
            "scope",
            "tenant_id",
            "created_at",
            "updated_at",
        )
    }
    view["extra_dhcp_opts"] = []
    if available is not None:
        view["available_ip_address_count"] = available
    return view


def v1_port(port: dict, primary: bool | None = None) -> dict:
    view = {
        key: port[key]
        for key in (
            "id",
            "name",
            "network_id",
            "admin_state_up",
            "mac_address",
            "fixed_ips",
            "device_id",
            "device_owner",
            "tenant_id",
            "status",
            "security_groups",
            "allowed_address_pairs",
            "extra_dhcp_opts",
            "binding:vnic_type",
            "port_security_enabled",
            "zone_id",
            "instance_id",
            "instance_type",
        )
    }
    view["dns_name"] = ""
    view["dns_assignment"] = []
    view["binding:profile"] = {}
    view["binding:vif_details"] = {} if primary is None else {"primary_interface": primary}
    view["enable_efi"] = False
    return view


def v1_rule(rule: dict) -> dict:
    view = {
        key: rule[key]
        for key in (
            "id",
            "description",
            "security_group_id",
            "direction",
            "ethertype",
            "protocol",
            "port_range_min",
            "port_range_max",
            "remote_ip_prefix",
            "remote_group_id",
            "remote_address_group_id",
        )
    }
    view["tenant_id"] = rule["project_id"]
    return view


def v1_group(group: dict) -> dict:
    return {
        "id": group["id"],
        "name": group["name"],
        "description": group["description"],
        "vpc_id": group["vpc_id"],
        "enterprise_project_id": group["enterprise_project_id"],
        "security_group_rules": [v1_rule(rule) for rule in group["rules"]],
    }


# ---- v3 ----------------------------------------------------------------------------------


def v3_port(port: dict) -> dict:
    return {
        "id": port["id"],
        "name": port["name"],
        "description": port["description"],
        "admin_state_up": port["admin_state_up"],
        "device_id": port["device_id"],
        "device_owner": port["device_owner"],
        "mac_address": port["mac_address"],
        "port_security_enabled": port["port_security_enabled"],
        "private_ips": [
            {"subnet_cidr_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in port["fixed_ips"]
        ],
        "project_id": port["project_id"],
        "tenant_id": port["tenant_id"],
        "security_groups": list(port["security_groups"]),
        "status": port["status"],
        "virsubnet_id": port["network_id"],
        "vpc_id": port["vpc_id"],
        "vpc_tenant_id": port["project_id"],
        "zone_id": port["zone_id"],
        "instance_id": port["instance_id"],
        "instance_type": port["instance_type"],
        "binding:vnic_type": port["binding:vnic_type"],
        "binding:host_id": "",
        "binding:profile": {},
        "binding:vif_details": {},
        "binding:vif_type": "ovs",
        "allowed_address_pairs": port["allowed_address_pairs"],
        "extra_dhcp_opts": port["extra_dhcp_opts"],
        "tags": [],
        "enable_efi": False,
        "scope": "center",
        "created_at": port["created_at"],
        "updated_at": port["updated_at"],
    }


def v3_rule(rule: dict) -> dict:
    return {
        key: rule[key]
        for key in (
            "id",
            "description",
            "security_group_id",
            "direction",
            "protocol",
            "ethertype",
            "multiport",
            "action",
            "priority",
            "remote_group_id",
            "remote_ip_prefix",
            "remote_address_group_id",
            "created_at",
            "updated_at",
            "project_id",
            "enabled",
        )
    }


def v3_group(group: dict) -> dict:
    return {
        "id": group["id"],
        "name": group["name"],
        "description": group["description"],
        "project_id": group["project_id"],
        "created_at": group["created_at"],
        "updated_at": group["updated_at"],
        "enterprise_project_id": group["enterprise_project_id"],
        "tags": [],
    }


def v3_group_info(group: dict) -> dict:
    return {**v3_group(group), "security_group_rules": [v3_rule(rule) for rule in group["rules"]]}

"""Every VPC error the emulator raises, with the vendor code it carries, in one place.

The same error renders as ``{"code", "message"}`` on VPC v1 routes and as ``{"request_id",
"error_code", "error_msg"}`` on v3 routes (``localcloud.core.errors.render_error``).

Provenance of the codes (see the VPC API reference, "Error Codes", vpc_api_0003):
  verified  VPC.0003 (VPC does not exist, 404), VPC.0101 (VPC params), VPC.0201 / VPC.0202 (subnet
            params / query subnet fail, 404), VPC.0203 (subnet not in VPC range), VPC.0601 (security
            group params, 400), VPC.0603 (security group does not exist, 404), VPC.0604 (security
            group quota, 409), VPC.0607 ("An instance must belong to at least one security group"),
            VPC.0701 (IP in use, 409), VPC.0703 (no more IPs, 409), VPC.0705 (IP not in subnet),
            VPC.2500 (port "Param is invalid.", 400), VPC.0602 with a NeutronError
            "Security Group ... in use." (409, seen in a real delete answer).
  chosen    VPC.2504 (port not found, 404), VPC.0605 (rule not found, 404), VPC.0610 (rule already
            exists, 409), VPC.0602 for "default group cannot be deleted" (409).
  unchecked VPC.0204 (a subnet overlapping another subnet of its VPC, 400): no source recorded;
            VPC.1801 / VPC.1802 (a route invalid / a route table not found): chosen, not checked.
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, Conflict, NotFound, QuotaExceeded

# Codes other services' models map (ECS reports a port that cannot be created with its own codes).
IP_IN_USE = "VPC.0701"
NO_MORE_IPS = "VPC.0703"
IP_NOT_IN_SUBNET = "VPC.0705"
SEED_INVALID = "LocalCloud.InvalidSeed"

# ---- VPCs and subnets ---------------------------------------------------------------------


def vpc_not_found(ref: str) -> NotFound:
    return NotFound("VPC.0003", f"VPC does not exist. (vpc_id: {ref})")


def vpc_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.0101", message)


def route_table_not_found(ref: str) -> NotFound:
    """VPC.1802 "route table does not exist" (chosen: the route-table codes were not checked)."""
    return NotFound("VPC.1802", f"Route table {ref} does not exist.")


def route_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.1801", message)


def subnet_not_found(ref: str) -> NotFound:
    return NotFound("VPC.0202", f"Query subnet fail. Subnet {ref} does not exist.")


def subnet_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.0201", message)


def subnet_out_of_vpc(cidr: str, vpc_cidr: str) -> BadRequest:
    return BadRequest("VPC.0203", f"Subnet is not in the range of VPC. ({cidr} not within {vpc_cidr})")


def subnet_overlaps(cidr: str, other_cidr: str) -> BadRequest:
    return BadRequest(
        "VPC.0204",
        f"The subnet has already existed in the VPC, or has been in conflict "
        f"with the VPC subnet. ({cidr} overlaps {other_cidr})",
    )


# ---- security groups and rules ------------------------------------------------------------


def sg_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.0601", message)


def sg_not_found(ref: str) -> NotFound:
    return NotFound("VPC.0603", f"Securitygroup is not exist. (security_group_id: {ref})")


def sg_ambiguous(name: str, count: int) -> BadRequest:
    return BadRequest("VPC.0601", f"Security group name {name!r} matches {count} security groups; use its id.")


def sg_quota(limit: int) -> QuotaExceeded:
    return QuotaExceeded("VPC.0604", f"Quota exceeded for resources: ['security_group']. (limit {limit})", status=409)


def sg_in_use(sg_id: str, detail: str) -> Conflict:
    return Conflict(
        "VPC.0602",
        '{"NeutronError":{"message":"Security Group %s in use. %s",'
        '"type":"SecurityGroupInUse","detail":""}}' % (sg_id, detail),
    )


def sg_default_protected(action: str) -> Conflict:
    return Conflict("VPC.0602", f"Insufficient rights for {action} the default security group.")


def sg_name_reserved() -> Conflict:
    return Conflict("VPC.0601", "The security group name 'default' is reserved for the default security group.")


def rule_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.0601", message)


def rule_not_found(ref: str) -> NotFound:
    return NotFound("VPC.0605", f"Security group rule {ref} does not exist.")


def rule_exists(rule_id: str) -> Conflict:
    return Conflict("VPC.0610", f"Security group rule already exists. Rule id is {rule_id}.")


# ---- ports and private IPs ----------------------------------------------------------------


def port_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.2500", f"Param is invalid. {message}")


def port_not_found(ref: str) -> NotFound:
    return NotFound("VPC.2504", f"Port {ref} could not be found.")


def port_exists(ref: str) -> Conflict:
    return Conflict("VPC.2500", f"Port {ref} already exists.")


def port_security_disabled(port_id: str) -> BadRequest:
    return BadRequest(
        "VPC.2500",
        f"Port {port_id}: port security must be enabled and the port must have an IP "
        "address in order to use security groups.",
    )


def port_needs_a_group() -> BadRequest:
    return BadRequest("VPC.0607", "An instance must belong to at least one security group")


def port_sg_limit(limit: int, wanted: int) -> QuotaExceeded:
    return QuotaExceeded(
        "VPC.2500", f"Param is invalid. A port can have at most {limit} security groups ({wanted} requested)."
    )


def ip_in_use(ip: str) -> Conflict:
    return Conflict(IP_IN_USE, f"IP is in use. ({ip})")


def ip_not_in_subnet(ip: str, cidr: str) -> BadRequest:
    return BadRequest(IP_NOT_IN_SUBNET, f"IP address {ip} is not a valid IP for the specified subnet {cidr}.")


def no_more_ips(network_id: str) -> Conflict:
    return Conflict(NO_MORE_IPS, f"No more IP addresses available on network {network_id}.")


# ---- IP address groups (codes chosen: the public table names none; see address_groups.py) ----


def address_group_invalid(message: str) -> BadRequest:
    return BadRequest("VPC.1801", message)


def address_group_not_found(ref: str) -> NotFound:
    return NotFound("VPC.1802", f"Address group {ref} could not be found.")


def address_group_quota(limit: int) -> QuotaExceeded:
    return QuotaExceeded("VPC.1803", f"Quota exceeded for resources: ['address_group']. (limit {limit})", status=409)


def address_group_in_use(ref: str, rules: list[str]) -> Conflict:
    return Conflict("VPC.1804", f"Address group {ref} is in use on security group rule(s) {', '.join(rules[:5])}.")


# ---- seeding (localcloud's own code) --------------------------------------------------------


def seed_invalid(message: str) -> BadRequest:
    return BadRequest(SEED_INVALID, message)

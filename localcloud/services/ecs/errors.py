"""Every ECS error the emulator raises or records, with the vendor code it carries, in one place.

The routes render them as ECS does, ``{"error": {"code": "Ecs.xxxx", "message"}}``
(``localcloud.core.errors.render_error``). A failed creation is not an HTTP error: its code and
message go into the server's ``fault`` and the job's ``error_code`` / ``fail_reason``
(:func:`build_failed`, :func:`deleted_during_creation`, and the NIC errors of
:func:`from_port_error`).

Codes (ECS API reference, "Error Codes"): Ecs.0005 invalid parameter, Ecs.0010 private IP in use,
Ecs.0012 insufficient IP addresses, Ecs.0014 invalid VPC / security-group parameters, Ecs.0029
flavor not found, Ecs.0038 subnet not found, Ecs.0039 IP not in the subnet, Ecs.0050 NIC quota,
Ecs.0064 VPC and main subnet inconsistent, Ecs.0114 instance not found (404), Ecs.0118 too many
ECSs in one request, Ecs.0201 NIC creation failed, Ecs.0204 ECS creation failed. Which one a
given check raises and the wording of the messages follow the documented descriptions; Ecs.0005
for an unknown job id is chosen. ``LocalCloud.*`` codes are localcloud's own (control API, seeds).
"""

from __future__ import annotations

from localcloud.core.errors import BadRequest, CloudError, InternalError, NotFound
from localcloud.services.vpc import errors as vpc_errors

__all__ = [
    "INVALID_PARAMETER",
    "SERVER_NOT_FOUND",
    "invalid_parameter",
    "invalid_body",
    "server_not_found",
    "job_not_found",
    "too_many_servers",
    "flavor_not_found",
    "nic_quota",
    "subnet_not_found",
    "vpc_not_found",
    "subnet_not_in_vpc",
    "vpc_inconsistent",
    "security_group_not_found",
    "ip_not_in_subnet",
    "ip_in_use",
    "from_port_error",
    "build_failed",
    "deleted_during_creation",
    "status_invalid",
    "seed_invalid",
]

INVALID_PARAMETER = "Ecs.0005"
IP_IN_USE = "Ecs.0010"
INSUFFICIENT_IPS = "Ecs.0012"
INVALID_NETWORK = "Ecs.0014"
FLAVOR_NOT_FOUND = "Ecs.0029"
SUBNET_NOT_FOUND = "Ecs.0038"
IP_NOT_IN_SUBNET = "Ecs.0039"
NIC_QUOTA = "Ecs.0050"
VPC_INCONSISTENT = "Ecs.0064"
SERVER_NOT_FOUND = "Ecs.0114"
TOO_MANY_SERVERS = "Ecs.0118"
NIC_FAILED = "Ecs.0201"
CREATION_FAILED = "Ecs.0204"
STATUS_INVALID = "LocalCloud.Status"
SEED_INVALID = "LocalCloud.InvalidSeed"

# ---- requests ---------------------------------------------------------------------------------


def invalid_parameter(detail: str) -> BadRequest:
    return BadRequest(INVALID_PARAMETER, f"Invalid parameter: {detail}")


def invalid_body(detail: str | None = None) -> BadRequest:
    return BadRequest(INVALID_PARAMETER, f"Invalid request body: {detail}." if detail else "Invalid request body.")


def too_many_servers(limit: int) -> BadRequest:
    return BadRequest(TOO_MANY_SERVERS, f"The number of ECSs exceeds the maximum allowed limit ({limit}).")


def flavor_not_found(flavor_ref: str) -> BadRequest:
    return BadRequest(FLAVOR_NOT_FOUND, f"The flavor [{flavor_ref}] does not exist.")


def nic_quota() -> BadRequest:
    return BadRequest(NIC_QUOTA, "The number of NICs attached to the ECS exceeds the quota.")


def subnet_not_found(subnet_id: str) -> BadRequest:
    return BadRequest(SUBNET_NOT_FOUND, f"The subnet [{subnet_id}] does not exist.")


def vpc_not_found(vpc_id: str) -> BadRequest:
    return BadRequest(INVALID_NETWORK, f"Invalid VPC parameters: VPC [{vpc_id}] does not exist.")


def subnet_not_in_vpc(subnet_id: str, vpc_id: str) -> BadRequest:
    return BadRequest(INVALID_NETWORK, f"Invalid VPC parameters: subnet [{subnet_id}] is not in VPC [{vpc_id}].")


def vpc_inconsistent() -> BadRequest:
    return BadRequest(VPC_INCONSISTENT, "The VPC ID in the request is inconsistent with that in the main subnet ID.")


def security_group_not_found(ref: str) -> BadRequest:
    return BadRequest(INVALID_NETWORK, f"Invalid security group parameters: security group [{ref}] does not exist.")


def ip_not_in_subnet(ip_address: str) -> BadRequest:
    return BadRequest(IP_NOT_IN_SUBNET, f"The specified IP address [{ip_address}] does not belong to the subnet.")


def ip_in_use(ip_address: str) -> BadRequest:
    return BadRequest(IP_IN_USE, f"Private IP address {ip_address} is already in use.")


# ---- lookups ----------------------------------------------------------------------------------


def server_not_found(server_id: str) -> NotFound:
    """Also the ``fault`` of a ``server_id`` filter entry that names no server (status, code, message)."""
    return NotFound(SERVER_NOT_FOUND, f"Instance[{server_id}] could not be found.")


def job_not_found(job_id: str) -> NotFound:
    return NotFound(INVALID_PARAMETER, f"Job[{job_id}] could not be found.")


# ---- creation failures (the server's fault, the job's error_code / fail_reason) ----------------

_PORT_ERRORS = {
    vpc_errors.IP_IN_USE: (IP_IN_USE, "The private IP address is already in use."),
    vpc_errors.NO_MORE_IPS: (INSUFFICIENT_IPS, "Insufficient IP addresses."),
    vpc_errors.IP_NOT_IN_SUBNET: (IP_NOT_IN_SUBNET, "The specified IP address does not belong to the subnet."),
}


def from_port_error(error: CloudError) -> BadRequest:
    """A VPC port error as the ECS error a create request or job reports."""
    mapped = _PORT_ERRORS.get(error.code)
    if mapped is not None:
        code, text = mapped
        return BadRequest(code, f"{text} ({error.message})")
    return BadRequest(NIC_FAILED, f"Failed to create the NIC. ({error.code}: {error.message})")


def build_failed(reason: str) -> InternalError:
    return InternalError(CREATION_FAILED, reason)


def deleted_during_creation() -> InternalError:
    return InternalError(CREATION_FAILED, "The ECS was deleted during creation.")


# ---- localcloud's own -------------------------------------------------------------------------


def status_invalid(message: str) -> BadRequest:
    return BadRequest(STATUS_INVALID, message)


def seed_invalid(message: str) -> BadRequest:
    return BadRequest(SEED_INVALID, message)

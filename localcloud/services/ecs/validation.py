"""Create-server requests: their parsed form and their synchronous validation.

The route parses a ``POST /v1/{project_id}/cloudservers`` body into a :class:`ServerRequest`.
:func:`validate_request` checks it against the API's limits and the project's VPC state (subnets,
VPC, fixed IPs, security groups) and raises the real ``Ecs.xxxx`` code (400) before anything is
recorded; ``dry_run`` stops after it. What it returns is the plan
``EcsModel.create_servers`` records the servers from. Flavor names are parsed here
(:func:`parse_flavor`), for requests and seed documents alike.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from localcloud.core.errors import CloudError

from . import errors

__all__ = [
    "ServerRequest",
    "NicRequest",
    "parse_flavor",
    "validate_request",
    "check_tag",
    "DEFAULT_IMAGE_ID",
    "MAX_COUNT",
    "MAX_NICS",
    "MAX_TAGS",
]

DEFAULT_IMAGE_ID = "e3d8a4c2-5b1f-4c7e-9a60-0d1c2b3a4f50"  # when a request has no imageRef (real: required)
MAX_COUNT = 100  # servers per create request (doc: count max 100)
MAX_NICS = 12  # NICs per server (doc)
MAX_TAGS = 10  # tags per server when created (SDK doc)
_NAME_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{1,64}$")
_TAG_KEY_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{1,36}$")
_TAG_VALUE_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{0,43}$")
_FLAVOR_RE = re.compile(r"^([a-z][a-z0-9]*)\.(small|medium|large|xlarge|(\d+)xlarge)\.(\d+)$")


def parse_flavor(flavor_id: str) -> dict | None:
    """``s6.large.2`` -> 2 vCPUs, 4096 MB. None when the name is not a flavor name."""
    match = _FLAVOR_RE.match(flavor_id or "")
    if not match:
        return None
    size = match.group(2)
    if size in ("small", "medium"):
        vcpus = 1
    elif size == "large":
        vcpus = 2
    elif size == "xlarge":
        vcpus = 4
    else:
        vcpus = 4 * int(match.group(3))
    ratio = int(match.group(4))
    return {
        "id": flavor_id,
        "name": flavor_id,
        "vcpus": str(vcpus),
        "ram": str(vcpus * max(ratio, 1) * 1024),
        "disk": "0",
    }


@dataclass
class NicRequest:
    subnet_id: str
    ip_address: str | None = None
    port_id: str | None = None


@dataclass
class ServerRequest:
    """A create request after the route parsed the body (field names of PostPaidServer)."""

    name: str | None
    flavor_ref: str | None
    image_ref: str | None = None
    vpc_id: str | None = None
    nics: list[NicRequest] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    count: int = 1
    tags: list[tuple[str, str]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    enterprise_project_id: str | None = None
    key_name: str | None = None
    description: str = ""
    user_data: str | None = None
    root_volume: dict | None = None
    data_volumes: list[dict] = field(default_factory=list)


def validate_request(model, request: ServerRequest) -> dict:
    """Check a create request; the plan the servers are recorded from, or a 400 ``BadRequest``."""
    if not request.name or not isinstance(request.name, str):
        raise errors.invalid_parameter("server.name is required.")
    if request.count < 1:
        raise errors.invalid_parameter("server.count must be at least 1.")
    if request.count > MAX_COUNT:
        raise errors.too_many_servers(MAX_COUNT)
    max_name = 64 if request.count == 1 else 59
    if len(request.name) > max_name or not _NAME_RE.match(request.name):
        raise errors.invalid_parameter(f"server.name [{request.name}] is invalid.")
    if not request.flavor_ref:
        raise errors.invalid_parameter("server.flavorRef is required.")
    flavor = parse_flavor(request.flavor_ref)
    if flavor is None:
        raise errors.flavor_not_found(request.flavor_ref)
    if not request.nics:
        raise errors.invalid_parameter("server.nics is required.")
    if len(request.nics) > MAX_NICS:
        raise errors.nic_quota()
    if len(request.tags) > MAX_TAGS:
        raise errors.invalid_parameter(f"at most {MAX_TAGS} tags can be added to an ECS.")
    seen_keys: set[str] = set()
    for key, value in request.tags:
        check_tag(key, value)
        if key in seen_keys:
            raise errors.invalid_parameter(f"duplicate tag key [{key}].")
        seen_keys.add(key)

    subnets = []
    for nic in request.nics:
        if nic.port_id:
            raise errors.invalid_parameter("nics[].port_id is not supported by localcloud.")
        if not nic.subnet_id:
            raise errors.invalid_parameter("nics[].subnet_id is required.")
        try:
            subnets.append(model.vpc.subnet(nic.subnet_id))
        except CloudError:
            raise errors.subnet_not_found(nic.subnet_id) from None
    vpc_id = request.vpc_id
    if vpc_id:
        try:
            vpc_id = model.vpc.vpc(vpc_id)["id"]
        except CloudError:
            raise errors.vpc_not_found(vpc_id) from None
    else:
        vpc_id = subnets[0]["vpc_id"]
    if subnets[0]["vpc_id"] != vpc_id:
        raise errors.vpc_inconsistent()
    for subnet in subnets[1:]:
        if subnet["vpc_id"] != vpc_id:
            raise errors.subnet_not_in_vpc(subnet["id"], vpc_id)
    fixed_ips: set[str] = set()
    for nic, subnet in zip(request.nics, subnets):
        if not nic.ip_address:
            continue
        if request.count > 1:
            raise errors.invalid_parameter("a fixed ip_address cannot be used when count > 1.")
        try:
            address = ipaddress.ip_address(nic.ip_address)
            network = ipaddress.ip_network(subnet["cidr"], strict=False)
        except ValueError:
            raise errors.invalid_parameter(f"ip_address [{nic.ip_address}].") from None
        if address not in network:
            raise errors.ip_not_in_subnet(nic.ip_address)
        if nic.ip_address in fixed_ips:
            raise errors.ip_in_use(nic.ip_address)
        fixed_ips.add(nic.ip_address)

    if request.security_groups:
        group_ids = []
        for ref in request.security_groups:
            try:
                sg_id = model.vpc.resolve_security_group(ref)["id"]
            except CloudError:
                raise errors.security_group_not_found(ref) from None
            if sg_id not in group_ids:
                group_ids.append(sg_id)
    else:
        group_ids = [model.vpc.default_security_group()["id"]]

    availability_zone = request.availability_zone or f"{model.backend.region}a"
    return {
        "flavor": flavor,
        "image_id": request.image_ref or DEFAULT_IMAGE_ID,
        "vpc_id": vpc_id,
        "availability_zone": availability_zone,
        "enterprise_project_id": request.enterprise_project_id or "0",
        "nics": [
            {
                "subnet_id": subnet["id"],
                "ip_address": nic.ip_address or None,
                "security_groups": list(group_ids),
                "port_id": None,
                "port_security_enabled": True,
            }
            for nic, subnet in zip(request.nics, subnets)
        ],
    }


def check_tag(key: Any, value: Any) -> None:
    """400 ``Ecs.0005`` unless ``key`` and ``value`` are a valid tag key and value."""
    if not isinstance(key, str) or not _TAG_KEY_RE.match(key):
        raise errors.invalid_parameter(f"tag key [{key}] is invalid.")
    if not isinstance(value, str) or not _TAG_VALUE_RE.match(value):
        raise errors.invalid_parameter(f"tag value [{value}] is invalid.")

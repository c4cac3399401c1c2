"""Loading the ECS part of a seed project document (schema: ``localcloud/schemas/seed.json``).

Servers from a seed document are created as they are described (default ``ACTIVE``), with their
ports, and no job, no timer and no event. A seeded server is a long-running one: its ``created``
time is the document's (RFC 3339 UTC), by default :data:`SEEDED_CREATED` (servers created through
the API carry the clock's time). A nic names its subnet (``subnet`` or ``subnet_id``, by
id or name) and its security groups (default: the project's default group); a server id used
twice, an unknown subnet or group, or a port that cannot be created is a
``LocalCloud.InvalidSeed`` error.
"""

from __future__ import annotations

import secrets

from localcloud.core.errors import CloudError
from localcloud.core.timefmt import parse_iso_seconds

from .errors import seed_invalid
from .validation import DEFAULT_IMAGE_ID, parse_flavor

__all__ = ["load_ecs_seed", "SEEDED_CREATED"]

SEEDED_CREATED = "2025-03-01T10:00:00Z"  # long before any test runs: not a new server


def load_ecs_seed(model, project_doc: dict) -> dict:
    """Create the document's ``servers``; the summary maps their names to ids and to port ids."""
    names: dict[str, str] = {}
    ports: dict[str, list[str]] = {}
    vpc = model.vpc
    for doc in project_doc.get("servers", []):
        if doc.get("id") and doc["id"] in model.servers:
            raise seed_invalid(f"server id {doc['id']} is used twice")
        nics = []
        for nic in doc["nics"]:
            ref = nic.get("subnet_id") or nic.get("subnet")
            if not ref:
                raise seed_invalid(f"server {doc['name']}: a nic needs subnet or subnet_id")
            try:
                subnet = vpc.subnet(ref)
                groups = [vpc.resolve_security_group(g)["id"] for g in nic.get("security_groups", [])] or [
                    vpc.default_security_group()["id"]
                ]
            except CloudError as error:
                raise seed_invalid(f"server {doc['name']}: {error.message}") from None
            nics.append(
                {
                    "subnet_id": subnet["id"],
                    "vpc_id": subnet["vpc_id"],
                    "ip_address": nic.get("ip_address"),
                    "security_groups": groups,
                    "port_id": nic.get("port_id"),
                    "port_security_enabled": nic.get("port_security_enabled", True),
                }
            )
        flavor_id = doc.get("flavor", "s6.small.1")
        flavor = parse_flavor(flavor_id) or {
            "id": flavor_id,
            "name": flavor_id,
            "vcpus": "1",
            "ram": "1024",
            "disk": "0",
        }
        try:
            created = parse_iso_seconds(doc.get("created", SEEDED_CREATED))
        except ValueError:
            raise seed_invalid(f"server {doc['name']}: created must be an RFC 3339 UTC time") from None
        server = model._new_server(
            server_id=doc.get("id"),
            name=doc["name"],
            flavor=flavor,
            image_id=DEFAULT_IMAGE_ID,
            vpc_id=nics[0]["vpc_id"],
            availability_zone=doc.get("availability_zone") or f"{model.backend.region}a",
            nics=nics,
            status=doc.get("status", "ACTIVE"),
            tags=doc.get("tags", {}),
            metadata=doc.get("metadata", {}),
            enterprise_project_id=doc.get("enterprise_project_id", "0"),
            key_name=None,
            description="",
            user_data=None,
            created=created,
            reservation_id="r-" + secrets.token_hex(4),
            launch_index=0,
        )
        model.servers[server["id"]] = server
        try:
            model._build_ports(server)
        except CloudError as error:
            model.servers.pop(server["id"], None)
            raise seed_invalid(f"server {doc['name']}: {error.message}") from None
        names[server["name"]] = server["id"]
        ports[server["name"]] = [port["id"] for port in model.server_ports(server)]
    return {"servers": names, "server_ports": ports}

"""``sgguard show``: a server's interfaces, groups in priority order and their rules."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import ConfigError, Problems, UsageError

if TYPE_CHECKING:
    from shared.cloud.clients import ClientFactory

__all__ = [
    "SUMMARY",
    "EPILOG",
    "add_arguments",
    "run",
    "describe",
    "render",
    "resolve_server",
    "check_reference",
    "SERVER_NAME",
]

# ECS server names: letters (Unicode), digits, "_", "-", "." (at most 128 characters); anything else
# ("../x", a space, a control character) cannot name a server, so it is a usage error, not a lookup.
SERVER_NAME = re.compile(r"^[\w.-]{1,128}\Z")

SUMMARY = "show a server's interfaces, their security groups in priority order and every group's rules"
DETAILS = f"""
What the console's Security Groups tab shows, for a server given by id or by name (a name is looked
up in the project's server list; server names are not unique in ECS, so a name that several servers
carry is refused with their ids). {CREDENTIALS_HELP}. --endpoint (or $LOCALCLOUD_URL) points ECS and
VPC at one URL (localcloud); otherwise $ECS_ENDPOINT / $VPC_ENDPOINT, else the region's public
endpoints. Exit status: 0 shown, 1 no such server, 2 usage (an ambiguous name), 3 credentials or a
failed API call.
"""
EPILOG = """
examples:
  sgguard show c0000000-0000-4000-8000-000000000001 --endpoint $LOCALCLOUD_URL
  sgguard show legacy-app-01                          # by name (with LOCALCLOUD_URL exported)
  sgguard show SERVER_ID --region cn-north-4 --json
"""


def add_arguments(parser) -> None:
    parser.add_argument("server", metavar="SERVER", help="the server's id (lowercase UUID) or its name")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_cloud_arguments(parser, endpoint_help="one URL for ECS and VPC (e.g. localcloud's)")


def _gateway_args() -> dict[str, Any]:
    from shared.clock import SYSTEM_CLOCK, Deadline
    from shared.cloud.gateway import CallCounter
    from shared.cloud.retry import RetryPolicy

    return dict(
        clock=SYSTEM_CLOCK, deadline=Deadline(SYSTEM_CLOCK, 60), policy=RetryPolicy(3, 0.2, 2), counter=CallCounter()
    )


def check_reference(reference: str) -> str:
    """``reference`` when it can be a server id or name; else the usage error (nothing is called)."""
    if not SERVER_NAME.match(reference):
        raise UsageError(
            "SERVER must be a server id (lowercase UUID) or a server name (letters, digits, '_', '-', '.'; "
            "at most 128 characters)"
        )
    return reference


def resolve_server(reference: str, factory: ClientFactory) -> str:
    """The id of the server ``reference`` names: an id as it is, else the one server carrying that
    exact name (the project's server list, read page by page; the name never goes into a URL)."""
    from shared.cloud.inventory import InventoryGateway
    from shared.model import is_uuid

    if is_uuid(check_reference(reference)):
        return reference
    servers = InventoryGateway(factory, **_gateway_args()).list_servers()
    exact = [server for server in servers if server.name == reference]
    if len(exact) == 1:
        return exact[0].id
    if exact:
        ids = ", ".join(sorted(server.id for server in exact))
        raise UsageError(f"{len(exact)} servers are named {reference!r} ({ids}): give the id")
    folded = reference.casefold()
    near = sorted({server.name for server in servers if server.name.casefold() == folded})
    hint = f"; did you mean {', '.join(repr(name) for name in near)}?" if near else ""
    raise Problems(f"no server named {reference!r}{hint}")


def describe(server_id: str, factory: ClientFactory) -> dict:
    """Interfaces of the server, each with its groups (priority order) and their rules."""
    from shared.cloud.gateway import NetworkGateway, ServerGateway

    args = _gateway_args()
    servers, network = ServerGateway(factory, **args), NetworkGateway(factory, **args)
    server = servers.show_server(server_id)
    if server is None:
        raise Problems(f"server {server_id} not found")
    ports = [p for p in network.list_server_ports(server_id) if p.is_interface_of(server_id)]
    groups = {gid: network.show_security_group(gid) for port in ports for gid in port.security_groups}
    interfaces = []
    for port in ports:
        interfaces.append(
            {
                "port_id": port.id,
                "ip": port.ip,
                "primary": port.id == server.primary_port_id,
                "port_security_enabled": port.port_security_enabled,
                "security_groups": [
                    {
                        "priority": rank,
                        "id": gid,
                        "name": groups[gid].name,
                        "rules": [
                            rule.to_dict()
                            for rule in sorted(groups[gid].rules or [], key=lambda r: (r.direction, r.priority))
                        ],
                    }
                    for rank, gid in enumerate(port.security_groups, start=1)
                ],
            }
        )
    return {
        "server": {"id": server.id, "name": server.name, "status": server.status, "tags": server.tags},
        "interfaces": interfaces,
    }


def render(view: dict) -> str:
    server = view["server"]
    lines = [
        f"{server['name']} ({server['id']})  {server['status']}  tags: "
        + (", ".join(f"{k}={v}" for k, v in server["tags"].items()) or "-")
    ]
    for nic in view["interfaces"]:
        flags = " primary" if nic["primary"] else ""
        flags += "" if nic["port_security_enabled"] else "  PORT SECURITY DISABLED: groups have no effect"
        lines.append(f"  interface {nic['port_id']}  {nic['ip']}{flags}")
        for group in nic["security_groups"]:
            lines.append(f"    {group['priority']}. {group['name']} ({group['id']})")
            for direction, title in (("ingress", "inbound"), ("egress", "outbound")):
                rules = [r for r in group["rules"] if r["direction"] == direction]
                for rule in rules:
                    lines.append(
                        f"         {title:<8} {rule['action']:<5} prio {rule['priority']:<3} "
                        f"{rule['ethertype']:<4} {rule['protocol']:<5} ports {rule['ports']:<11} "
                        f"{'from' if direction == 'ingress' else 'to'} {rule['remote']}"
                    )
                if not rules:
                    lines.append(f"         {title:<8} (no rules)")
    return "\n".join(lines)


def run(args, ctx) -> int:
    from shared.cloud.clients import AgencyCredentials, ClientFactory
    from shared.cloud.exceptions import CloudCallError
    from shared.config import load_settings

    check_reference(args.server)  # before the credentials: a bad argument is a usage error
    target = cloud_target(args, ctx.environ)
    settings = load_settings(
        None, {"REGION": target.region, "ECS_ENDPOINT": target.endpoint("ecs"), "VPC_ENDPOINT": target.endpoint("vpc")}
    )
    credentials = target.required_credentials()
    factory = ClientFactory(
        AgencyCredentials(credentials.ak, credentials.sk, credentials.security_token, credentials.project_id),
        settings,
    )
    try:
        view = describe(resolve_server(args.server, factory), factory)
    except CloudCallError as error:
        raise ConfigError(error.describe()) from None
    ctx.out(json.dumps(view, indent=2) if args.json else render(view))
    return 0

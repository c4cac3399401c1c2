#!/usr/bin/env python3
"""Show a server's interfaces with their security groups in priority order and every group's
inbound and outbound rules — what the console's Security Groups tab shows.

    scripts/show.py SERVER_ID [--endpoint URL] [--region R] [--json]

Credentials: HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID
(and HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary ones). ``--endpoint`` points ECS and VPC at one
URL (localcloud); without it the region's public endpoints are used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.clock import SYSTEM_CLOCK, Deadline  # noqa: E402
from shared.cloud.clients import AgencyCredentials, ClientFactory  # noqa: E402
from shared.cloud.exceptions import CloudCallError  # noqa: E402
from shared.cloud.gateway import CallCounter, NetworkGateway, ServerGateway  # noqa: E402
from shared.cloud.retry import RetryPolicy  # noqa: E402
from shared.config import load_settings  # noqa: E402
from shared.model import is_uuid  # noqa: E402


def describe(server_id: str, factory: ClientFactory) -> dict:
    """Interfaces of the server, each with its groups (priority order) and their rules."""
    args = dict(clock=SYSTEM_CLOCK, deadline=Deadline(SYSTEM_CLOCK, 60), policy=RetryPolicy(3, 0.2, 2),
                counter=CallCounter())
    servers, network = ServerGateway(factory, **args), NetworkGateway(factory, **args)
    server = servers.show_server(server_id)
    if server is None:
        raise SystemExit(f"server {server_id} not found")
    ports = [p for p in network.list_server_ports(server_id) if p.is_interface_of(server_id)]
    groups = {gid: network.show_security_group(gid) for port in ports for gid in port.security_groups}
    interfaces = []
    for port in ports:
        interfaces.append({
            "port_id": port.id, "ip": port.ip, "primary": port.id == server.primary_port_id,
            "port_security_enabled": port.port_security_enabled,
            "security_groups": [{"priority": rank, "id": gid, "name": groups[gid].name,
                                 "rules": [rule.to_dict() for rule in sorted(groups[gid].rules or [],
                                                                             key=lambda r: (r.direction, r.priority))]}
                                for rank, gid in enumerate(port.security_groups, start=1)],
        })
    return {"server": {"id": server.id, "name": server.name, "status": server.status, "tags": server.tags},
            "interfaces": interfaces}


def render(view: dict) -> str:
    server = view["server"]
    lines = [f"{server['name']} ({server['id']})  {server['status']}  tags: "
             + (", ".join(f"{k}={v}" for k, v in server["tags"].items()) or "-")]
    for nic in view["interfaces"]:
        flags = " primary" if nic["primary"] else ""
        flags += "" if nic["port_security_enabled"] else "  PORT SECURITY DISABLED: groups have no effect"
        lines.append(f"  interface {nic['port_id']}  {nic['ip']}{flags}")
        for group in nic["security_groups"]:
            lines.append(f"    {group['priority']}. {group['name']} ({group['id']})")
            for direction, title in (("ingress", "inbound"), ("egress", "outbound")):
                rules = [r for r in group["rules"] if r["direction"] == direction]
                for rule in rules:
                    lines.append(f"         {title:<8} {rule['action']:<5} prio {rule['priority']:<3} "
                                 f"{rule['ethertype']:<4} {rule['protocol']:<5} ports {rule['ports']:<11} "
                                 f"{'from' if direction == 'ingress' else 'to'} {rule['remote']}")
                if not rules:
                    lines.append(f"         {title:<8} (no rules)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server_id")
    parser.add_argument("--endpoint", help="one URL for ECS and VPC (e.g. localcloud's)")
    parser.add_argument("--region", default=os.environ.get("REGION", "cn-north-4"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if not is_uuid(args.server_id):
        parser.error("SERVER_ID must be a server id (lowercase UUID)")
    environ = {"REGION": args.region}
    if args.endpoint:
        environ.update(ECS_ENDPOINT=args.endpoint, VPC_ENDPOINT=args.endpoint)
    settings = load_settings(None, environ)
    try:
        credentials = AgencyCredentials(os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"],
                                        os.environ.get("HUAWEICLOUD_SDK_SECURITY_TOKEN") or None,
                                        os.environ["HUAWEICLOUD_SDK_PROJECT_ID"])
    except KeyError as missing:
        parser.error(f"set {missing.args[0]}")
    try:
        view = describe(args.server_id, ClientFactory(credentials, settings))
    except CloudCallError as error:
        print(error.describe(), file=sys.stderr)
        return 1
    print(json.dumps(view, indent=2) if args.json else render(view))
    return 0


if __name__ == "__main__":
    sys.exit(main())

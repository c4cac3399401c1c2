"""The demo's second account: a member account governed by the central deployment (issue 23).

localcloud gets an organisation: the demo's project becomes the home account's (``security``), a
member account ``shop`` gets a project in the same region with its own VPC, groups and an agency
``sgguard-member`` trusting the home account (with an external id). A server is created there
through the ECS SDK with a member user's keys: it starts with ``default`` only.

The baseline then comes from the central deployment: the packaged ``change_request`` (``sgguard
invoke``, the local runtime, the template's user data plus ``TARGETS``) takes a signed request
naming the member target; its agency assumes the member's (STS AssumeAgency) and inserts
``baseline`` first. Last, ``sgguard report`` with the same ``TARGETS`` has both accounts.

HOOK (lead: wire after merging the "events" helper): a creation in a member account should reach
``ecs_created`` through EventGrid forwarding and be routed to its target (issue 23 item 4). Until
that is on main, :func:`member_baseline` applies the baseline through ``change_request``, which
already routes by target. To switch, replace its body by delivering :func:`member_creation_event`
to the deployed ecs_created with ``TARGETS`` (the same check follows: baseline first).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "HOME_DOMAIN",
    "MEMBER_DOMAIN",
    "MEMBER_PROJECT",
    "register_organisation",
    "targets_document",
    "member_creation_event",
    "member_baseline",
    "second_account",
]

HOME_DOMAIN = "5ec0de5ec0de40008000000000000a01"
MEMBER_DOMAIN = "5b0b5b0b5b0b40008000000000000b02"
MEMBER_PROJECT = "5b0b0b0b0b0b40008000000000000b03"
MEMBER_EXTERNAL_ID = "demo-shop-7f3a9c"  # local only: published in the repo
MEMBER_AK, MEMBER_SK = "SHOPUSERAK0000000001", "shop-user-secret-key-local-0001"  # a member user's keys
MEMBER_VPC = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4eb0"
MEMBER_SUBNET = "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4db1"
MEMBER_GROUPS = {"baseline": "ab000000-0000-4000-8000-000000000001", "web": "ab000000-0000-4000-8000-000000000002"}


def register_organisation(cloud: Any) -> None:
    """The accounts, the member's project (same region) and its agency, in the running localcloud."""
    from localcloud.seed import load_seed

    agency = {"name": "sgguard-member", "trusted_domain_id": HOME_DOMAIN, "external_id": MEMBER_EXTERNAL_ID}
    load_seed(
        cloud.backend,
        {
            "accounts": [
                {"domain_id": HOME_DOMAIN, "name": "security"},
                {
                    "domain_id": MEMBER_DOMAIN,
                    "name": "shop",
                    "agencies": [agency],
                    "credentials": [{"ak": MEMBER_AK, "sk": MEMBER_SK}],
                },
            ],
            "organization": {"management_account": HOME_DOMAIN},
            "projects": [
                {"id": cloud.project_id, "domain_id": HOME_DOMAIN},
                {
                    "id": MEMBER_PROJECT,
                    "name": cloud.region,
                    "domain_id": MEMBER_DOMAIN,
                    "vpcs": [
                        {
                            "id": MEMBER_VPC,
                            "name": "vpc-shop",
                            "cidr": "10.8.0.0/16",
                            "subnets": [
                                {
                                    "id": MEMBER_SUBNET,
                                    "name": "subnet-shop",
                                    "cidr": "10.8.1.0/24",
                                    "gateway_ip": "10.8.1.1",
                                }
                            ],
                        }
                    ],
                    "security_groups": [
                        {"id": MEMBER_GROUPS["baseline"], "name": "baseline", "description": "shop's baseline"},
                        {"id": MEMBER_GROUPS["web"], "name": "web", "description": "HTTP and HTTPS"},
                    ],
                },
            ],
        },
    )


def targets_document() -> str:
    """TARGETS of the demo: the home account and the member, its one project listed."""
    return json.dumps(
        {
            "home": {"domain_id": HOME_DOMAIN, "name": "security"},
            "accounts": [
                {
                    "domain_id": MEMBER_DOMAIN,
                    "name": "shop",
                    "projects": [MEMBER_PROJECT],
                    "external_id": MEMBER_EXTERNAL_ID,
                }
            ],
        }
    )


def _member_ecs(cloud: Any) -> Any:
    from huaweicloudsdkecs.v2 import EcsClient

    from ..localenv import sdk_client

    return sdk_client(EcsClient, cloud.url, MEMBER_AK, MEMBER_SK, MEMBER_PROJECT)


def _create_member_server(cloud: Any) -> str:
    from huaweicloudsdkecs.v2 import (
        CreatePostPaidServersRequest,
        CreatePostPaidServersRequestBody,
        PostPaidServer,
        PostPaidServerNic,
        PostPaidServerTag,
    )

    server = PostPaidServer(
        name="shop-web-01",
        flavor_ref="s6.large.2",
        image_ref="img-demo",
        vpcid=MEMBER_VPC,
        nics=[PostPaidServerNic(subnet_id=MEMBER_SUBNET)],
        server_tags=[PostPaidServerTag(key="env", value="prod")],
    )
    body = CreatePostPaidServersRequestBody(server=server)
    return _member_ecs(cloud).create_post_paid_servers(CreatePostPaidServersRequest(body=body)).server_ids[0]


def member_groups(cloud: Any, server_id: str) -> list[str]:
    """The member server's primary interface groups, by name (localcloud's state)."""
    project = cloud.backend.project(MEMBER_PROJECT)
    with cloud.backend.lock:
        vpc = project.service("vpc").to_dict()
    catalog = {g["id"]: g["name"] for g in vpc["security_groups"]}
    ports = [p for p in vpc["ports"] if p["device_id"] == server_id]
    return [catalog.get(g, g) for g in ports[0]["security_groups"]] if ports else []


def member_creation_event(server_id: str, region: str) -> dict:
    """The creation as the member's EventGrid would forward it (for the HOOK above; not sent yet)."""
    return {
        "specversion": "1.0",
        "id": f"shop-{server_id}",
        "source": "HC.ECS",
        "type": "ECS:CloudTrace:ConsoleAction",
        "subject": server_id,
        "data": {
            "trace_name": "createServer",
            "service_type": "ECS",
            "resource_type": "ecs",
            "resource_id": server_id,
            "user": {"domain": {"id": MEMBER_DOMAIN, "name": "shop"}},
            "region_id": region,
            "project_id": MEMBER_PROJECT,
        },
    }


def member_baseline(env: Any, server_id: str) -> dict:
    """The central deployment puts the baseline first on the member server (see HOOK)."""
    from ..main import main as sgguard

    request = {
        "request_id": "CHG-SHOP-0001",
        "ticket": {"system": "servicenow", "id": "CHG0042001", "requested_by": "alice@example.com"},
        "target": {
            "server_id": server_id,
            "account": MEMBER_DOMAIN,
            "region": env.cloud.region,
            "project_id": MEMBER_PROJECT,
            "nics": "primary",
        },
        "change": {"action": "add", "security_groups": [{"name": "baseline"}], "position": 0},
    }
    path = Path("build/demo-member-request.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(request), encoding="utf-8")
    lines: list[str] = []
    argv = [
        "invoke",
        "change_request",
        str(path),
        "--json",
        "--endpoint",
        env.cloud.url,
        "--env",
        f"TARGETS={targets_document()}",
        "--env",
        f"STS_ENDPOINT={env.cloud.url}",
        "--env",
        "PROTECTED_GROUPS=baseline",
        "--env",
        'RESULT_SINKS=["log"]',
    ]
    code = sgguard(argv, {}, out=lines.append, err=io.StringIO())  # the handler's log lines: not the demo's
    try:
        response = json.loads("\n".join(lines))
    except ValueError:
        response = {}
    results = response.get("results") or [{}]
    data = results[0].get("data") or {}
    data["_exit"] = code
    return data


def second_account(env: Any, checks: Any, out: Callable[[str], None], stamp: Callable[[], str]) -> str:
    """The member part of the demo; returns the TARGETS document the report uses."""
    register_organisation(env.cloud)
    out(
        f"{stamp()} organisation: a second account 'shop' ({MEMBER_DOMAIN[:8]}...), project {MEMBER_PROJECT[:8]}... "
        "in the same region, agency sgguard-member trusting this account (external id)"
    )
    server_id = _create_member_server(env.cloud)
    created = env.wait_for(lambda: member_groups(env.cloud, server_id), 10.0) or []
    out(f"    shop-web-01 {server_id} created with a member user's keys: {' > '.join(created)}")
    data = member_baseline(env, server_id)
    after = member_groups(env.cloud, server_id)
    target = data.get("target") or {}
    out(
        f"    central change_request (sgguard invoke, TARGETS; its agency assumed shop's) -> "
        f"{data.get('outcome', 'no result')}; shop-web-01 now: {' > '.join(after)}"
    )
    out("    (HOOK: ecs_created will do this from the forwarded creation event once member events are routed)")
    checks.check(
        data.get("outcome") == "succeeded" and after[:1] == ["baseline"] and target.get("account") == MEMBER_DOMAIN,
        f"second account: the central deployment put baseline first on shop-web-01 ({data.get('outcome')}, {after})",
    )
    home_groups = env.cloud.state()["projects"][env.cloud.project_id]["vpc"]["ports"]
    checks.check(
        not any(p["device_id"] == server_id for p in home_groups),
        "second account: nothing of shop-web-01 in the home project (the change went to the member's)",
    )
    return targets_document()

"""The demo's second account: a member account governed by the central deployment (issue 23).

localcloud gets an organisation: the demo's project becomes the home account's (``security``), a
member account ``shop`` gets a project in the same region with its own VPC, groups and an agency
``sgguard-member`` trusting the home account (with an external id).

Then the organisation's real path, as an operator sets it up (docs/organisation.md):

1. the central EventGrid channel in the home project, created by bootstrap's own code (the
   template's ``event_channels`` with ``ORG_MEMBER_ACCOUNTS``: ``cross_account``, a putEvents policy
   admitting shop), through the EG SDK;
2. the functions re-deployed (``sgguard deploy``) with ``ORG_EG_CHANNEL_ID`` (their EVENTGRID
   triggers on that channel), ``TARGETS``, and localcloud as the endpoint of STS (``STS_ENDPOINT``)
   and of IAM's project listing (``SDK_REGIONS_FILE``: the SDK's own regions file) in their user
   data; later re-deploys of the demo keep these settings;
3. ``sgguard bootstrap --member --yes`` with a shop user's keys: shop's subscription forwarding its
   ECS / VPC events to the central channel;
4. a server created in shop through the ECS SDK with a shop user's keys: it starts with ``default``
   only; localcloud forwards its creation event to the central channel, the deployed ecs_created
   (EVENTGRID trigger) routes it to the shop target, assumes shop's agency (STS AssumeAgency) and
   puts ``baseline`` first, in shop's project and nowhere else.

Last, ``sgguard report`` with the same ``TARGETS`` has both accounts (demo_drift.py).
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from typing import Any

from ..project import project_root

__all__ = [
    "HOME_DOMAIN",
    "MEMBER_DOMAIN",
    "MEMBER_PROJECT",
    "register_organisation",
    "targets_document",
    "central_channel",
    "subscribe_member",
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


def regions_file(cloud: Any) -> str:
    """The SDK's regions file (``HUAWEICLOUD_SDK_REGIONS_FILE``) naming localcloud as the region's IAM,
    STS, ECS and VPC endpoint: where a member event's project is looked up (IAM's project listing)
    and the member's agency assumed. An absolute path: the local instances run on this machine."""
    path = (project_root() / "build" / "demo-regions.yaml").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    services = ("IAM", "STS", "ECS", "VPC")
    path.write_text("".join(f"{s}:\n  - id: {cloud.region}\n    endpoint: {cloud.url}\n" for s in services))
    return str(path)


def central_channel(env: Any, environ: dict[str, str], out: Callable[[str], None]) -> str:
    """The home project's central channel, as ``sgguard bootstrap`` creates it: the template's
    ``event_channels`` (``ORG_MEMBER_ACCOUNTS`` admitted) planned and created by its channel step."""
    from ..cloudargs import cloud_target
    from ..deployer.prereq_api import PrerequisiteApi
    from ..deployer.prerequisites import Wanted, apply_steps, channel_steps
    from ..template import load_template

    template = load_template(project_root() / "template.yaml", environ)
    target = cloud_target(argparse.Namespace(endpoint=env.cloud.url, region=env.cloud.region), environ)
    api = PrerequisiteApi(target)
    facts: dict = {}
    steps = channel_steps(api, Wanted(template.agency, tracker=False, channels=template.event_channels), facts)
    state = apply_steps(steps, facts, lambda line: out("    " + line.strip()))
    name = template.event_channels[0]["name"]
    return str(state["channels"][name])


def subscribe_member(env: Any, channel_id: str, out: Callable[[str], None]) -> int:
    """``sgguard bootstrap --member --yes`` with a shop user's keys: its forwarding subscription."""
    from ..main import main as sgguard

    environ = {
        "HUAWEICLOUD_SDK_AK": MEMBER_AK,
        "HUAWEICLOUD_SDK_SK": MEMBER_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": MEMBER_PROJECT,
    }
    argv = ["bootstrap", "--member", "--yes", "--endpoint", env.cloud.url, "--region", env.cloud.region]
    argv += ["--central-project-id", env.cloud.project_id, "--central-channel-id", channel_id]
    lines: list[str] = []
    code = sgguard(argv, environ, out=lines.append, err=io.StringIO())
    for line in lines:
        out("    " + line.strip())
    return code


def _deliveries(cloud: Any) -> list[dict]:
    """The forwardings shop's subscription made (EventGrid's event tracing, localcloud's state)."""
    with cloud.backend.lock:
        return list(cloud.backend.project(MEMBER_PROJECT).service("eg").subscriptions.deliveries)


def _seq(cloud: Any) -> int:
    entries = cloud.backend.requests(0)
    return int(entries[-1]["seq"]) if entries else 0


def _assumes(cloud: Any, since: int) -> int:
    """STS AssumeAgency calls since ``since`` (localcloud's request log)."""
    return sum(1 for entry in cloud.backend.requests(since) if "/v5/agencies/assume" in str(entry.get("route")))


def _member_result(env: Any, server_id: str) -> dict | None:
    found = [r for r in env.results("ecs_created") if r["data"].get("server_id") == server_id]
    return found[-1] if found else None


def second_account(
    env: Any,
    checks: Any,
    out: Callable[[str], None],
    stamp: Callable[[], str],
    deploy_overrides: dict[str, str],
    timeout: float,
) -> tuple[str, str]:
    """The member part of the demo: (the TARGETS document the report uses, shop's server id).
    ``deploy_overrides`` gains the organisation's settings (later re-deploys keep them)."""
    register_organisation(env.cloud)
    out(
        f"{stamp()} organisation: a second account 'shop' ({MEMBER_DOMAIN[:8]}...), project {MEMBER_PROJECT[:8]}... "
        "in the same region, agency sgguard-member trusting this account (external id)"
    )
    deploy_overrides.update(
        TARGETS=targets_document(),
        STS_ENDPOINT=env.cloud.url,
        SDK_REGIONS_FILE=regions_file(env.cloud),
        ORG_MEMBER_ACCOUNTS=MEMBER_DOMAIN,
    )
    out(f"{stamp()} central channel (bootstrap's channel step, EG SDK; ORG_MEMBER_ACCOUNTS=shop):")
    channel_id = central_channel(env, env.deploy_environment(**deploy_overrides), out)
    deploy_overrides["ORG_EG_CHANNEL_ID"] = channel_id
    env.deploy(out=lambda line: None, **deploy_overrides)
    functions = env.cloud.state()["projects"][env.cloud.project_id]["functiongraph"]["functions"]
    on_channel = sorted(
        f"{name} {t['event_data'].get('source_name')}"
        for name, f in functions.items()
        for t in f["triggers"]
        if t["trigger_type_code"] == "EVENTGRID" and t["event_data"].get("channel_id") == channel_id
    )
    out(
        "    sgguard deploy with ORG_EG_CHANNEL_ID, TARGETS, STS_ENDPOINT, SDK_REGIONS_FILE (localcloud's endpoints): "
        f"EVENTGRID triggers {', '.join(on_channel)}"
    )
    checks.check(
        on_channel == ["ecs_created HC.ECS", "sg_drift HC.ECS", "sg_drift HC.VPC"],
        f"second account: the functions are triggered by the central channel ({on_channel})",
    )
    out(f"{stamp()} shop: sgguard bootstrap --member --yes (a shop user's keys)")
    code = subscribe_member(env, channel_id, out)
    checks.check(code == 0, f"second account: shop's forwarding subscription created (bootstrap --member: exit {code})")

    since = _seq(env.cloud)
    server_id = _create_member_server(env.cloud)
    created = env.wait_for(lambda: member_groups(env.cloud, server_id), 10.0) or []
    out(f"{stamp()} shop-web-01 {server_id} created in shop with a shop user's keys: {' > '.join(created)}")
    result = env.wait_for(lambda: _member_result(env, server_id), timeout)
    env.runtime.wait_idle(10)
    data = (result or {}).get("data") or {}
    source = ((result or {}).get("_execution") or {}).get("source", "")
    after = member_groups(env.cloud, server_id)
    target = data.get("target") or {}
    deliveries = [d["status"] for d in _deliveries(env.cloud)]
    assumes = _assumes(env.cloud, since)
    trigger = source.split(":")[1] if ":" in source else source or "not run"
    out(
        f"    shop's subscription forwarded {len(deliveries)} event(s) to the central channel "
        f"(the creation, then ecs_created's own port change; HTTP {', '.join(map(str, deliveries))})"
    )
    out(
        f"    ecs_created ({trigger} trigger on the central channel) routed it to target "
        f"{target.get('account_name', '?')} / {target.get('region', '?')} / {str(target.get('project_id'))[:8]}..., "
        f"assumed shop's agency ({assumes} AssumeAgency) -> {data.get('outcome', 'no result')}; "
        f"shop-web-01 now: {' > '.join(after)}"
    )
    checks.check(
        bool(deliveries) and set(deliveries) == {200},
        f"second account: shop's events forwarded to the central channel (HTTP {deliveries})",
    )
    checks.check(
        data.get("outcome") == "succeeded" and after[:1] == ["baseline"] and source.startswith("trigger:EVENTGRID:"),
        f"second account: the central deployment put baseline first on shop-web-01, from the forwarded event "
        f"({data.get('outcome')}, {after}, {trigger} trigger)",
    )
    checks.check(assumes >= 1, f"second account: the central function assumed shop's agency ({assumes} AssumeAgency)")
    checks.check(
        (target.get("account"), target.get("project_id"), target.get("home")) == (MEMBER_DOMAIN, MEMBER_PROJECT, False),
        f"second account: the ecs_created result names the shop target ({target.get('account_name')})",
    )
    home_ports = env.cloud.state()["projects"][env.cloud.project_id]["vpc"]["ports"]
    checks.check(
        not any(p["device_id"] == server_id for p in home_ports),
        "second account: nothing of shop-web-01 in the home project (the change went to the member's)",
    )
    return targets_document(), server_id

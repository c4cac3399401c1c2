"""A server created in a member account gets its baseline from the central deployment: the
member's ECS event is forwarded by its EventGrid subscription to the home account's channel
(cross-account, admitted by the channel's putEvents policy) and ecs_created, triggered there,
handles it with the member's assumed credentials, in the member's project and nowhere else.
An account the channel's policy does not admit is refused (403) and nothing runs.
"""

from __future__ import annotations

from pathlib import Path

from sgguard_cli.localenv import read_results
from tests.support.org_forwarding import (
    create_central_channel,
    create_member_server,
    deploy_ecs_created,
    subscribe_member,
)
from tests.support.organisation import ACCOUNTS, GOOD, GROUPS, HOME, REGIONS, WRONG_EXT, project_id, targets_setting

NORTH, SOUTH = REGIONS
ROOT = Path(__file__).resolve().parents[2]


def _ports_of(org, domain_id, region, server_id):
    vpc = org.clouds[region].backend.project(project_id(domain_id, region)).service("vpc")
    return [p for p in vpc.to_dict()["ports"] if p["device_id"] == server_id]


def test_a_member_servers_creation_is_forwarded_and_handled_in_that_account_only(org_runtime):
    org = org_runtime
    user_data = {
        "REGION": NORTH,
        "ECS_ENDPOINT": org.home.url,
        "VPC_ENDPOINT": org.home.url,
        "READINESS_POLL_S": "0.05",
        "TARGETS": targets_setting(home={"domain_id": HOME, "name": "security"}),
        **org.endpoint_environment(),  # the SDK's own endpoint variables, in the function's environment
    }
    channel = create_central_channel(org, admitted=[GOOD])
    deploy_ecs_created(org, channel, ROOT / "build" / "ecs_created.zip", user_data)
    subscribe_member(org, GOOD, SOUTH, channel)  # cross-account and cross-region
    subscribe_member(org, WRONG_EXT, NORTH, channel)  # not admitted by the channel's policy

    server = create_member_server(org, GOOD, SOUTH, "member-app-01")
    refused = create_member_server(org, WRONG_EXT, NORTH, "sandbox-app-01")
    good_eg = org.clouds[SOUTH].backend.project(project_id(GOOD, SOUTH)).service("eg")
    bad_eg = org.clouds[NORTH].backend.project(project_id(WRONG_EXT, NORTH)).service("eg")

    def pending() -> int:
        """Not settled yet: a runtime busy, a forwarding not made, or ecs_created not run."""
        busy = sum(cloud.runtime.busy for cloud in org.clouds.values())
        forwarded = bool(good_eg.subscriptions.deliveries) and bool(bad_eg.subscriptions.deliveries)
        ran = bool(org.home.runtime.executions(function="ecs_created"))
        return busy + (0 if forwarded and ran else 1)

    assert org.home.runtime.wait_idle(timeout_s=60, extra=pending), "the forwarded creation was not handled"

    # handled in GOOD's south project: the baseline first, as policy.yaml says
    [port] = _ports_of(org, GOOD, SOUTH, server)
    assert port["security_groups"][0] == GROUPS["baseline"], port
    # the same server id exists nowhere else; the refused account's server is untouched
    for domain_id in ACCOUNTS:
        for region in REGIONS:
            if (domain_id, region) != (GOOD, SOUTH):
                assert _ports_of(org, domain_id, region, server) == []
    [other] = _ports_of(org, WRONG_EXT, NORTH, refused)
    assert GROUPS["baseline"] not in other["security_groups"]

    # the forwarding: GOOD's delivered, WRONG_EXT's refused with 403, recorded in its project
    good, bad = good_eg.subscriptions.deliveries, bad_eg.subscriptions.deliveries
    assert [d["status"] for d in good] == [200]
    assert [(d["status"], d["error_code"]) for d in bad] == [(403, "EG.00014030")]

    # ecs_created ran once, on the forwarded event, and its result names the member target
    home = org.home.backend.project(project_id(HOME, NORTH)).service("functiongraph")
    invocations = [i for f in home.functions.values() for i in f.invocations]
    assert len(invocations) == 1 and invocations[0]["source"].startswith("trigger:EVENTGRID:")
    assert invocations[0]["payload"]["data"]["user"]["domain"]["id"] == GOOD
    [result] = [r["data"] for r in read_results(org.home.runtime.executions(function="ecs_created"))]
    assert result["outcome"] == "succeeded", result
    assert (result["target"]["account"], result["target"]["region"]) == (GOOD, SOUTH)
    assert result["target"]["project_id"] == project_id(GOOD, SOUTH)

"""sgguard bootstrap --member against localcloud's organisation: with a member account's own
credentials, the EventGrid subscription forwarding its ECS / VPC events to the central channel is
planned (a read), created after yes, and a second run plans 0 changes; bad flags are refused
before any call; a subscription of that name with another target is never repurposed."""

from __future__ import annotations

from sgguard_cli.main import main as sgguard
from tests.support.org_forwarding import create_central_channel
from tests.support.organisation import GOOD, HOME, REGIONS, project_id

NORTH, SOUTH = REGIONS


def _member(org, region=SOUTH, *extra, **changes):
    cloud = org.clouds[region]
    credential = cloud.backend.issue_temporary_credential(project_id(GOOD, region), agency=None)
    credential.domain_id = GOOD
    env = {
        "HUAWEICLOUD_SDK_AK": credential.ak,
        "HUAWEICLOUD_SDK_SK": credential.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": project_id(GOOD, region),
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": credential.security_token,
    }
    flags = {"--central-project-id": project_id(HOME, NORTH), "--central-region": NORTH, **changes}
    argv = ["bootstrap", "--member", "--endpoint", cloud.url, "--region", region]
    for flag, value in flags.items():
        argv += [flag, value]
    lines: list[str] = []
    since = cloud.last_seq()
    code = sgguard([*argv, *extra], env, out=lines.append)
    return code, lines, [r for r in cloud.requests(since) if r.get("write")]


def test_plan_create_then_nothing_to_do(org):
    channel = create_central_channel(org, admitted=[GOOD])
    code, lines, writes = _member(org, SOUTH, "--plan", **{"--central-channel-id": channel})
    assert code == 0 and writes == []
    assert any(line.startswith("+ create   eg subscription    sgguard-forward") for line in lines), lines
    code, lines, writes = _member(org, SOUTH, "--yes", **{"--central-channel-id": channel})
    assert code == 0, lines
    assert [w["route"] for w in writes] == ["POST /v1/{project_id}/subscriptions"]
    [subscription] = org.clouds[SOUTH].backend.project(project_id(GOOD, SOUTH)).service("eg").subscriptions.listed()
    assert [s["name"] for s in subscription["sources"]] == ["HC.ECS", "HC.VPC"]
    detail = subscription["targets"][0]["eg_detail"]
    assert (detail["target_project_id"], detail["target_channel_id"], detail["target_region"]) == (
        project_id(HOME, NORTH),
        channel,
        NORTH,
    )
    assert detail["cross_account"] is True and detail["cross_region"] is True
    code, lines, writes = _member(org, SOUTH, "--yes", **{"--central-channel-id": channel})
    assert code == 0 and writes == [] and "0 change(s) planned" in lines[-1]
    # the same name towards another channel: a problem, nothing written
    code, lines, writes = _member(org, SOUTH, "--yes", **{"--central-channel-id": "another-channel"})
    assert code == 1 and writes == []


def test_bad_flags_are_refused_before_any_call(org):
    since = org.clouds[SOUTH].last_seq()
    code, _, _ = _member(org, SOUTH, "--yes", **{"--central-channel-id": "c1", "--central-project-id": "ABC"})
    assert code == 2
    code, _, _ = _member(org, SOUTH, "--yes", **{"--central-channel-id": "../x"})
    assert code == 2
    assert org.clouds[SOUTH].requests(since) == []

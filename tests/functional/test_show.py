"""sgguard show against localcloud: interfaces, groups in priority order, their rules."""

import json
import os
import subprocess
import sys
from pathlib import Path

SGGUARD = Path(sys.executable).with_name("sgguard")  # the console script


def run_show(cloud, *args):
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    return subprocess.run(
        [str(SGGUARD), "show", *args, "--endpoint", cloud.url], env=env, capture_output=True, text=True, timeout=60
    )


def test_show_lists_interfaces_groups_and_rules(cloud):
    done = run_show(cloud, "c0000000-0000-4000-8000-000000000001", "--json")
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    first, second = view["interfaces"]
    assert first["primary"] is True and second["primary"] is False
    assert [g["name"] for g in first["security_groups"]] == ["default", "app"]
    app_rules = first["security_groups"][1]["rules"]
    assert app_rules[0]["ports"] == "8080" and app_rules[0]["direction"] == "ingress"
    text = run_show(cloud, "c0000000-0000-4000-8000-000000000002").stdout
    assert "PORT SECURITY DISABLED" in text and "1. db (" in text and "inbound  deny" in text


def test_show_refuses_a_malformed_id_and_reports_a_missing_server(cloud):
    malformed = run_show(cloud, "../x")
    assert malformed.returncode == 2 and "sgguard: error: SERVER must be a server id" in malformed.stderr
    missing = run_show(cloud, "c0000000-0000-4000-8000-0000000000ff")
    assert (
        missing.returncode == 1
        and "sgguard: error: server c0000000-0000-4000-8000-0000000000ff not found" in missing.stderr
    )


def test_show_without_credentials_is_a_configuration_error(cloud):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")}
    done = subprocess.run(
        [str(SGGUARD), "show", "c0000000-0000-4000-8000-000000000001", "--endpoint", cloud.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and "sgguard: error: set HUAWEICLOUD_SDK_AK" in done.stderr


def test_show_follows_localcloud_url_as_serve_says(cloud):
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
        "LOCALCLOUD_URL": cloud.url,
    }
    done = subprocess.run(
        [str(SGGUARD), "show", "c0000000-0000-4000-8000-000000000001", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr  # no --endpoint: LOCALCLOUD_URL, never the public endpoint
    assert json.loads(done.stdout)["interfaces"]


def test_show_by_name_is_the_same_view_as_by_id(cloud):
    by_name = run_show(cloud, "legacy-app-01", "--json")
    assert by_name.returncode == 0, by_name.stderr
    by_id = run_show(cloud, "c0000000-0000-4000-8000-000000000001", "--json")
    assert json.loads(by_name.stdout) == json.loads(by_id.stdout)


def test_show_by_name_refuses_an_ambiguous_name_and_hints_at_the_case(cloud):
    from huaweicloudsdkecs.v2 import EcsClient

    from sgguard_cli.localenv import sdk_client
    from tests.support.ecs import create_servers

    ecs = sdk_client(EcsClient, cloud.url, cloud.ak, cloud.sk, cloud.project_id)
    ids = [create_servers(ecs, "twin")[1][0] for _ in range(2)]  # ECS names need not be unique
    twins = run_show(cloud, "twin")
    assert twins.returncode == 2 and "2 servers are named 'twin'" in twins.stderr
    assert all(server_id in twins.stderr for server_id in ids)
    missing = run_show(cloud, "LEGACY-APP-01")
    assert missing.returncode == 1
    assert "no server named 'LEGACY-APP-01'; did you mean 'legacy-app-01'?" in missing.stderr

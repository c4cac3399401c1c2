"""The local commands: sgguard invoke, submit, dms, and the demo itself (as `make demo` runs it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sgguard_cli.localenv import LOCAL_SIGNING_KEYS
from sgguard_cli.main import main as sgguard
from tests.support.runtime import dry_run_request, signed

ROOT = Path(__file__).resolve().parents[2]


def command(name: str):
    """``sgguard NAME ...`` as a function of its arguments."""
    return lambda argv: sgguard([name, *argv])


def test_invoke_runs_a_function_with_an_event_file_against_its_own_localcloud(tmp_path, capsys):
    main = command("invoke")

    event = tmp_path / "event.json"
    event.write_text(signed(dry_run_request(51), LOCAL_SIGNING_KEYS))  # a direct invocation: one request
    assert main(["change_request", str(event), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert [r["data"]["outcome"] for r in result["results"]] == ["planned"]
    assert result["results"][0]["data"]["trigger"] == "direct" and result["delivery"]["log"]["delivered"] == 1
    assert "-- change_request" in captured.err and '"outcome":"planned"' in captured.err  # the log line


def test_invoke_against_a_running_localcloud_with_env_overrides(env, capsys):
    main = command("invoke")

    sample = ROOT / "events" / "ecs_created" / "direct.json"  # server c...01 of the default seed
    code = main(
        [
            "ecs_created",
            str(sample),
            "--endpoint",
            env.cloud.url,
            "--env",
            "PROTECTED_GROUPS=baseline",
            "--quiet",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["data"]["outcome"] for r in result["results"]] == ["succeeded"]
    assert env.port_groups("c0000000-0000-4000-8000-000000000001")[0][0] == "baseline"


def test_invoke_exits_1_when_the_handler_raises(env, tmp_path, capsys):
    from huaweicloudsdkecs.v2 import EcsClient

    from tests.support.ecs import create_servers

    env.cloud.settings(build_delay_ms=600_000)
    _, (server_id,) = create_servers(env.client(EcsClient), "web-12", tags={"env": "prod"})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"server_id": server_id}))  # still in BUILD: not ready in time
    code = command("invoke")(
        ["ecs_created", str(event), "--endpoint", env.cloud.url, "--env", "READINESS_MAX_WAIT_S=1"]
    )
    captured = capsys.readouterr()
    assert code == 1 and json.loads(captured.out)["errorType"] == "RetryableFailure"
    assert '"outcome":"failed"' in captured.err and '"retryable":true' in captured.err
    assert "sgguard: error: ecs_created failed: RetryableFailure" in captured.err


def test_submit_signs_publishes_to_kafka_and_waits_for_the_result(env, capsys):
    main = command("submit")

    env.deploy()
    key_id, secret = next(iter(env.signing_keys.items()))
    code = main(
        [
            "--endpoint",
            env.cloud.url,
            "--key-id",
            key_id,
            "--secret",
            secret,
            "--wait",
            "30",
            "--server",
            "c0000000-0000-4000-8000-000000000001",
            "--action",
            "add",
            "--groups",
            "monitoring",
            "--request-id",
            "CHG-SUBMIT-0001",
            "--approved-by",
            "bob@example.com",
        ]
    )
    output = capsys.readouterr().out
    assert code == 0, output
    assert "delivered to: change_request" in output and "result: succeeded" in output
    (invocation,) = env.invocations("change_request")
    request = json.loads(invocation["payload"]["records"][0]["messages"][0])
    assert request["request_id"] == "CHG-SUBMIT-0001" and request["signature"]["key_id"] == key_id
    assert request["change"] == {"action": "add", "security_groups": [{"name": "monitoring"}]}
    assert env.port_groups("c0000000-0000-4000-8000-000000000001")[0] == ["default", "app", "monitoring"]


def test_submit_wait_exits_1_when_the_request_is_rejected(env, capsys):
    main = command("submit")
    env.deploy()
    key_id, secret = next(iter(env.signing_keys.items()))
    argv = ["--endpoint", env.cloud.url, "--key-id", key_id, "--secret", secret, "--wait", "30"]
    argv += ["--server", "c0000000-0000-4000-8000-000000000001", "--action", "add", "--groups", "no-such-group"]
    code = main([*argv, "--request-id", "CHG-SUBMIT-0002"])
    captured = capsys.readouterr()
    assert code == 1, captured.out
    assert "result: rejected" in captured.out
    assert "CHG-SUBMIT-0002 ended rejected (SECURITY_GROUP_NOT_FOUND)" in captured.err


def test_submit_wait_before_the_request_file_still_reads_the_file(env, tmp_path, capsys):
    """`--wait req.json` used to swallow the file as the number of seconds."""
    main = command("submit")
    env.deploy()
    key_id, secret = next(iter(env.signing_keys.items()))
    request = {
        "request_id": "CHG-SUBMIT-0003",
        "ticket": {"system": "local", "id": "T-3", "requested_by": "someone@example.com"},
        "target": {"server_id": "c0000000-0000-4000-8000-000000000001", "nics": "primary"},
        "change": {"action": "add", "security_groups": [{"name": "web"}]},
        "dry_run": True,
    }
    path = tmp_path / "req.json"
    path.write_text(json.dumps(request))
    code = main(["--endpoint", env.cloud.url, "--key-id", key_id, "--secret", secret, "--wait", str(path)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "result: planned" in output


def test_submit_through_apig_prints_the_functions_answer(env, tmp_path, capsys):
    main = command("submit")

    env.deploy(apig=True)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(dry_run_request(61)))
    key_id, secret = next(iter(env.signing_keys.items()))
    assert (
        main(["--endpoint", env.cloud.url, "--via", "apig", "--key-id", key_id, "--secret", secret, str(request)]) == 0
    )
    output = capsys.readouterr().out
    assert output.startswith("APIG answered 200") and '"outcome": "planned"' in output


def test_dms_cli_publishes_raw_messages_and_lists_topics(env, capsys):
    main = command("dms")

    env.deploy()
    assert main(["--endpoint", env.cloud.url, "publish", "sg-change-requests", "not json"]) == 0
    (result,) = env.wait_results("change_request", 1)
    assert result["data"]["outcome"] == "rejected"  # INVALID_JSON, and still one result
    capsys.readouterr()
    assert main(["--endpoint", env.cloud.url, "topics"]) == 0
    (topic,) = json.loads(capsys.readouterr().out)["topics"]
    assert topic["name"] == "sg-change-requests" and topic["consumers"][0]["delivered"] == 1


def test_make_demo_runs_the_sgguard_demo_command():
    recipe = (ROOT / "Makefile").read_text().split("\ndemo: setup\n", 1)[1].split("\n\n", 1)[0]
    assert recipe.strip() == "$(BIN)/sgguard demo"


def test_the_demo_runs_end_to_end():
    """What `make demo` runs: the installed console script `sgguard demo`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")}
    script = Path(sys.executable).with_name("sgguard")
    assert script.is_file(), "the sgguard console script (make setup installs it)"
    completed = subprocess.run(
        [str(script), "demo"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert "[11/11] demo: DEMO OK" in completed.stderr  # the phases, counted on stderr (not a terminal here)
    for expected in (
        "deploy: sgguard deploy --endpoint",
        "the CTS trigger ran ecs_created for 4 of 4 servers",
        "published 8 signed change requests",
        "change_request answered 8 of 8 requests",
        "ecs_created (CTS)",
        "rejected RISKY_RULE",
        "rejected PROTECTED_GROUP",
        "rejected SCHEMA_VIOLATION",
        "rejected SIGNATURE_INVALID",
        "would be: ",
        "SMN sgguard-results",
        "add db again, on a new instance -> no_change DUPLICATE_REQUEST",  # the shared store (issue 12)
        "ok   replay: db is not back on web-01",
        "sg_drift (CTS trigger, DRIFT_MODE=report) -> drift_detected",  # continuous compliance (issue 15)
        "ok   drift: enforce mode puts baseline back first on web-01",
        "ok   report: build/demo-report/report.html",
        # issue 23: a member's creation, forwarded by its EventGrid subscription to the central channel
        "ok   second account: the functions are triggered by the central channel",
        "ok   second account: shop's forwarding subscription created (bootstrap --member: exit 0)",
        "ok   second account: shop's events forwarded to the central channel",
        "ok   second account: the central deployment put baseline first on shop-web-01, from the forwarded event",
        "ok   second account: the central function assumed shop's agency",
        "ok   second account: the ecs_created result names the shop target",
        "ok   second account: nothing of shop-web-01 in the home project",
        "ecs_created     shop-web-01",  # its result in the table, from the EVENTGRID trigger
        "ok   report: both accounts evaluated, security (home) and shop (member)",
        "skipped result(s) stayed in the log, off SMN topic",  # quiet by default (issue 22)
        "DEMO OK",
    ):
        assert expected in output, expected
    assert "FAIL" not in output
    assert not re.search(r"result of .* skipped reached SMN", output)  # no skipped result at the topic

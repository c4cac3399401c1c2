"""Issue 22's paper cuts in the CLI: sign and submit refuse what the functions would refuse before
anything is signed or sent; the SDK's own log lines stay off stderr; every command follows
LOCALCLOUD_URL (invoke included)."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

from sgguard_cli.cloudargs import quiet_sdk_loggers
from sgguard_cli.main import main
from tests.support.requests import change_request

SGGUARD = Path(sys.executable).with_name("sgguard")
ROOT = Path(__file__).resolve().parents[2]
SECRET = "local-demo-signing-key-0001"


def run(argv, environ):
    lines: list[str] = []
    err = io.StringIO()
    code = main(argv, environ, out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


def closed_port_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write(tmp_path, request) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    return str(path)


def test_sign_refuses_a_request_the_schema_refuses_naming_each_path(tmp_path):
    code, out, err = run(["sign", write(tmp_path, {"foo": 1}), "--key-id", "k1"], {"SGGUARD_SIGNING_SECRET": SECRET})
    assert code == 2 and out == ""
    assert "is not a valid change request, the functions would reject it" in err
    assert "$.foo: unknown property 'foo'" in err and "$.request_id: missing required property" in err


def test_sign_refuses_a_key_id_the_functions_cannot_carry(tmp_path):
    request = write(tmp_path, change_request(sign=False))
    code, out, err = run(["sign", request, "--key-id", "key id/1"], {"SGGUARD_SIGNING_SECRET": SECRET})
    assert code == 2 and out == "" and "key id 'key id/1': 1 to 64 letters" in err and "\\Z" not in err


def test_submit_validates_before_it_signs_or_sends(tmp_path):
    endpoint = closed_port_url()  # were anything sent, the error would be a connection error (exit 3)
    environ = {"SGGUARD_SIGNING_SECRET": SECRET, "LOCALCLOUD_URL": endpoint}
    invalid = change_request(sign=False)
    invalid["change"]["action"] = "detach"
    code, _, err = run(["submit", write(tmp_path, invalid), "--key-id", "ticketing-1"], environ)
    assert code == 2 and "$.change.action" in err and "the functions would reject it" in err
    code, _, err = run(["submit", write(tmp_path, invalid), "--unsigned"], environ)
    assert code == 2 and "$.change.action" in err  # unsigned or not: never published
    valid = write(tmp_path, change_request(sign=False))
    code, _, err = run(["submit", valid, "--key-id", "k1"], {**environ, "SGGUARD_SIGNING_SECRET": "short"})
    assert code == 2 and "the secret has 5 characters" in err
    code, out, err = run(["submit", valid, "--key-id", "ticketing-1", "--print"], environ)
    assert code == 0 and json.loads(out)["signature"]["key_id"] == "ticketing-1"


def test_the_sdk_logs_nothing_of_its_own_before_our_one_error():
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_AK": "LOCALCLOUDAKDEV0000000",
        "HUAWEICLOUD_SDK_SK": "localcloud-dev-secret-key-0000000000000000",
        "HUAWEICLOUD_SDK_PROJECT_ID": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
        "LOCALCLOUD_URL": closed_port_url(),
    }
    done = subprocess.run(
        [str(SGGUARD), "show", "c0000000-0000-4000-8000-000000000001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert "occurred." not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and done.stderr.startswith("sgguard: error: ")


def test_quiet_sdk_loggers_keeps_every_other_logger(capsys):
    quiet_sdk_loggers()
    quiet_sdk_loggers()  # twice: one filter
    sdk, ours = logging.getLogger("HuaweiCloud-SDK-EcsClient"), logging.getLogger("sgguard-test-unhandled")
    sdk.propagate = ours.propagate = False
    sdk.error("HostUnreachableException occurred. x")
    ours.error("our own warning")
    err = capsys.readouterr().err
    assert "occurred" not in err and "our own warning" in err
    assert len(logging.lastResort.filters) == len({type(f) for f in logging.lastResort.filters})


def test_invoke_follows_localcloud_url(capsys):
    from localcloud import start
    from localcloud.seed import default_seed, with_samples

    cloud = start(seed=with_samples(default_seed(), "2026-01-01T00:00:00Z"))
    try:
        sample = ROOT / "events" / "ecs_created" / "direct.json"
        environ = {k: v for k, v in os.environ.items() if k != "LOCALCLOUD_URL"} | {"LOCALCLOUD_URL": cloud.url}
        code = main(["invoke", "ecs_created", str(sample), "--quiet", "--json"], environ)
        captured = capsys.readouterr()
        assert code == 0 and f"against {cloud.url}: returned in" in captured.err
        port = cloud.state()["projects"][cloud.project_id]["vpc"]["ports"]
        legacy = [p for p in port if p["id"] == "d0000000-0000-4000-8000-000000000001"][0]
        assert legacy["security_groups"][0] == "a0000000-0000-4000-8000-000000000001"  # baseline, in that cloud
    finally:
        cloud.stop()


def test_a_closed_stdout_pipe_ends_the_command_quietly_with_sigpipes_status():
    """`sgguard validate-policy policy.yaml | head -0`: the reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sgguard_cli", "validate-policy", str(root / "policy.yaml")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert "error" not in done.stderr, done.stderr

"""The one `sgguard` command: its tree, help, error style and exit codes, `sign`, progress, and an
installed (non-editable) copy that works outside the source tree."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sgguard_cli.main import COMMANDS, main
from sgguard_cli.progress import Progress
from shared.signing import verify_request_signature
from tests.support.requests import change_request

ROOT = Path(__file__).resolve().parents[2]


def run(argv, environ=None, stdin: str | None = None, monkeypatch=None):
    lines: list[str] = []
    err = io.StringIO()
    code = main(argv, os.environ if environ is None else environ, out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_subcommand_has_help_with_a_summary_and_examples(name, capsys):
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: sgguard {name}") and f"  sgguard {name}" in text.split("\nexamples:\n", 1)[1]


def test_the_top_level_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"    {name}" in text for name in COMMANDS) and "exit status: 0 ok" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["nope"], "invalid choice: 'nope'"),
        (["show"], "the following arguments are required: SERVER"),
        (["show", "../x"], "SERVER must be a server id (lowercase UUID) or a server name"),
        (["deploy", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["invoke", "change_request", "missing-event.json"], "event missing-event.json"),
        (["invoke", "change_request", "x.json", "--env", "NOEQUALS"], "--env 'NOEQUALS': write KEY=VALUE"),
        (["validate-policy"], "the following arguments are required: FILE"),
        (["sign", "request.json", "--secret", "s3cret"], "unrecognized arguments: --secret"),
        (["dms"], "the following arguments are required: {publish,topics}"),
    ],
)
def test_usage_errors_exit_2_in_one_style(argv, message):
    code, _, err = run(argv, {})
    assert code == 2, err
    assert err.splitlines()[-1].startswith("sgguard: error: ") and message in err
    assert err.startswith("usage: sgguard")


def test_configuration_errors_exit_3(tmp_path):
    code, _, err = run(
        ["preflight", "--template", str(ROOT / "template.yaml"), "--policy", str(ROOT / "policy.yaml")], {}
    )
    assert code == 3 and err.strip() == (
        "sgguard: error: set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, "
        "HUAWEICLOUD_SDK_PROJECT_ID (credentials and project come from the environment)"
    )
    code, _, err = run(["deploy", "--plan"], {"SGGUARD_PROJECT_DIR": str(tmp_path)})
    assert code == 3 and "sgguard: error: " in err and "template.yaml" in err


def test_validate_policy_json_and_exit_1_for_an_invalid_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: r, security_groups: [], mode: x}]\n")
    code, out, _ = run(["validate-policy", str(ROOT / "policy.yaml"), str(bad), "--json"])
    reports = json.loads(out)
    assert code == 1 and [r["valid"] for r in reports] == [True, False]
    assert {e["path"] for e in reports[1]["errors"]} >= {"$.rules[0].mode", "$.rules[0].security_groups"}


def test_global_options_before_or_after_the_subcommand():
    from sgguard_cli.main import build_parser

    parser = build_parser()
    before = parser.parse_args(["--region", "ap-southeast-1", "--endpoint", "http://x", "show", "a"])
    after = parser.parse_args(["show", "a", "--region", "ap-southeast-1", "--endpoint", "http://x"])
    assert (before.region, before.endpoint) == (after.region, after.endpoint) == ("ap-southeast-1", "http://x")


def test_cloud_target_reads_the_sdk_variables():
    from argparse import Namespace

    from sgguard_cli.cloudargs import cloud_target

    environ = {
        "HUAWEICLOUD_SDK_AK": "ak",
        "HUAWEICLOUD_SDK_SK": "sk",
        "HUAWEICLOUD_SDK_PROJECT_ID": "p",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": "t",
        "HUAWEICLOUD_SDK_REGION": "ap-southeast-3",
        "VPC_ENDPOINT": "http://vpc.local",
    }
    target = cloud_target(Namespace(region=None, endpoint=None), environ)
    assert target.region == "ap-southeast-3" and target.credentials.security_token == "t"
    assert target.endpoint("vpc") == "http://vpc.local"
    assert target.endpoint("ecs") == "https://ecs.ap-southeast-3.myhuaweicloud.com" and target.is_public("ecs")
    assert cloud_target(Namespace(region=None, endpoint=None), {**environ, "REGION": "cn-east-3"}).region == "cn-east-3"
    one = cloud_target(Namespace(region="la-south-2", endpoint="http://127.0.0.1:9/"), environ)
    assert one.region == "la-south-2" and one.endpoint("ecs") == one.endpoint("functiongraph") == "http://127.0.0.1:9"


# ---- sign -----------------------------------------------------------------------------------------------------
def _request(tmp_path) -> Path:
    path = tmp_path / "request.json"
    request = change_request(sign=False)
    request["ticket"]["requested_by"] = "zoë.ångström@example.com"
    path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    return path


def test_sign_with_a_secret_file_like_the_shell_recipe(tmp_path):
    secret = "a-signing-secret-0123456789"
    (tmp_path / "secret").write_text(secret + "\r\n")
    code, out, _ = run(["sign", str(_request(tmp_path)), "--key-id", "k1", "--secret-file", str(tmp_path / "secret")])
    signed = json.loads(out)
    assert code == 0 and signed["signature"]["key_id"] == "k1"
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc)) == []


def test_sign_reads_the_secret_from_stdin_and_the_shell_recipes_variables(tmp_path):
    secret = "s" * 80  # longer than a block: hashed first, as HMAC says
    done = subprocess.run(
        [sys.executable, "-m", "sgguard_cli", "sign", str(_request(tmp_path))],
        input=secret + "\n",
        env={**os.environ, "KEY_ID": "k2", "TIMESTAMP": "2026-11-28T21:00:00Z"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    signed = json.loads(done.stdout)
    assert done.returncode == 0 and signed["signature"]["timestamp"] == "2026-11-28T21:00:00Z"
    moment = datetime(2026, 11, 28, 21, 0, 30, tzinfo=timezone.utc)
    assert verify_request_signature(signed, keys={"k2": secret}, now=moment) == []


def test_sign_refuses_an_empty_secret_and_a_missing_key_id(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    code, _, err = run(["sign", str(_request(tmp_path)), "--key-id", "k", "--secret-file", str(empty)], {})
    assert code == 2 and "sgguard: error: empty secret" in err
    code, _, err = run(["sign", str(_request(tmp_path))], {})
    assert code == 2 and "sgguard: error: give --key-id" in err


# ---- progress --------------------------------------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one():
    plain = io.StringIO()
    progress = Progress(2, "deploy", stream=plain)
    progress.step("building")
    progress.step("applying")
    assert plain.getvalue().splitlines() == ["[1/2] deploy: building", "[2/2] deploy: applying"]
    tty = _Tty()
    bar = Progress(4, "demo", stream=tty, width=8)
    bar.step("starting")
    assert tty.getvalue() == "\r\x1b[K[##------] 1/4 demo: starting"
    bar.finish("done")
    assert tty.getvalue().endswith(
        "[########] 4/4 demo: " + tty.getvalue().rsplit("demo: ", 1)[1]
    ) and tty.getvalue().endswith(")\n")


# ---- installed, not editable -----------------------------------------------------------------------------------
def test_a_non_editable_install_works_outside_the_source_tree(tmp_path):
    """`pip install .` (no deps: the project venv's site-packages provide them, offline) into a fresh
    venv gives a working `sgguard`, from another directory. About 10-20 s."""
    source = tmp_path / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("shared", "localcloud", "sgguard_cli"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # the dependencies: the project venv's site-packages, appended after the fresh venv's own
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(source)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    sgguard = venv / "bin" / "sgguard"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy2(ROOT / "policy.yaml", elsewhere / "my-policy.yaml")
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SGGUARD_PROJECT_DIR")}
    helped = subprocess.run(
        [str(sgguard), "--help"], cwd=elsewhere, env=environ, capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert all(f"    {name}" in helped.stdout for name in COMMANDS)
    checked = subprocess.run(
        [str(sgguard), "validate-policy", "my-policy.yaml"],
        cwd=elsewhere,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and checked.stdout.startswith("my-policy.yaml: valid (4 rules"), checked.stderr
    where = subprocess.run(
        [str(python), "-c", "import sgguard_cli, shared; print(sgguard_cli.__file__, shared.__file__)"],
        cwd=elsewhere,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert str(ROOT) not in where and str(source) not in where  # the installed copy, not a source tree
    no_project = subprocess.run(
        [str(sgguard), "deploy", "--plan"], cwd=elsewhere, env=environ, capture_output=True, text=True, timeout=60
    )
    assert no_project.returncode == 3 and "sgguard: error: no template.yaml" in no_project.stderr


def test_bench_passes_its_arguments_on(monkeypatch):
    import bench.__main__

    seen = []
    monkeypatch.setattr(bench.__main__, "main", lambda argv: seen.append(argv) or 0)
    assert main(["bench", "--quick"]) == 0 and main(["bench", "soak", "--messages", "5"]) == 0
    assert main(["bench", "--", "--help"]) == 0
    assert seen == [["--quick"], ["soak", "--messages", "5"], ["--help"]]


def test_sign_refuses_a_secret_the_functions_would_refuse(tmp_path):
    (tmp_path / "short").write_text("abcde\n")
    code, out, err = run(["sign", str(_request(tmp_path)), "--key-id", "k", "--secret-file", str(tmp_path / "short")])
    assert code == 2 and out == "" and "the secret has 5 characters" in err and "at least 16" in err


def test_version(capsys):
    from sgguard_cli.main import main

    assert main(["--version"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("sgguard ") and len(printed.split()) == 2

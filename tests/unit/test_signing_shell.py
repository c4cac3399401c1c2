"""The README's shell signing recipe (scripts/sign_request.sh: jq + openssl) agrees with the verifier."""

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shared.signing import verify_request_signature
from tests.support.requests import change_request

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sign_request.sh"


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("openssl")), reason="needs jq and openssl")
def test_shell_recipe_signs_like_the_verifier_expects(tmp_path):
    request = change_request(sign=False)
    request["ticket"]["requested_by"] = "zoë.ångström@example.com"  # non-ASCII survives canonicalisation
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request, indent=2, ensure_ascii=False), encoding="utf-8")
    secret = "shell-secret-0123456789"
    (tmp_path / "secret").write_text(secret + "\n")
    env = {**os.environ, "KEY_ID": "k1", "SECRET_FILE": str(tmp_path / "secret")}
    signed = json.loads(
        subprocess.run([str(SCRIPT), str(path)], env=env, capture_output=True, check=True, timeout=30).stdout
    )
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc)) == []
    signed["change"]["action"] = "replace"
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc))


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("openssl")), reason="needs jq and openssl")
@pytest.mark.parametrize("secret", ["0123456789abcdef", "s" * 64, "a-much-longer-secret-" * 5 + "ünï"])
def test_shell_recipe_reads_the_secret_from_stdin_never_from_argv(tmp_path, secret):
    """Short, block-sized and over-long (hashed first) secrets; the secret is on no command line."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(change_request(sign=False)), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "SECRET_FILE"}
    env["KEY_ID"] = "k1"
    done = subprocess.run(
        ["sh", "-x", str(SCRIPT), str(path)],
        env=env,
        input=secret.encode(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    signed = json.loads(done.stdout)
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc)) == []
    # sh -x prints every command it runs with its arguments: the secret is in none of them.
    assert secret.encode() not in done.stderr
    assert not [line for line in SCRIPT.read_text().splitlines() if "-hmac" in line and not line.startswith("#")]


@pytest.mark.skipif(not shutil.which("jq"), reason="needs jq")
def test_shell_recipe_refuses_an_empty_secret(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(change_request(sign=False)), encoding="utf-8")
    done = subprocess.run(
        ["sh", str(SCRIPT), str(path)], env={**os.environ, "KEY_ID": "k1"}, input=b"", capture_output=True, timeout=30
    )
    assert done.returncode == 2 and b"empty secret" in done.stderr

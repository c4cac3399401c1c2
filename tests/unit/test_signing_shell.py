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
    request["ticket"]["requested_by"] = "Zoë Ångström <zoe@example.com>"  # non-ASCII survives canonicalisation
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request, indent=2, ensure_ascii=False), encoding="utf-8")
    secret = "shell-secret-0123456789"
    env = {**os.environ, "KEY_ID": "k1", "SECRET": secret}
    signed = json.loads(subprocess.run([str(SCRIPT), str(path)], env=env, capture_output=True, check=True,
                                       timeout=30).stdout)
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc)) == []
    signed["change"]["action"] = "replace"
    assert verify_request_signature(signed, keys={"k1": secret}, now=datetime.now(timezone.utc))

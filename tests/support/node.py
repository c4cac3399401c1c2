"""Run the JavaScript recipes (recipes/) under a real ``node``: the one door tests use.

CI installs node (``make node``, a prerequisite of ``make test``); without it the JS tests fail
under CI (``CI=true``) and skip elsewhere, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["RECIPES", "node_binary", "run_node"]

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def node_binary() -> str:
    """The ``node`` executable; skips the test (fails it under CI) when there is none."""
    found = shutil.which("node")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("node is missing: `make node` installs it (apt-get nodejs); CI must run the JS recipes")
    pytest.skip("needs node (make node installs it)")


def run_node(script: str, payload: object, *, cwd: Path = RECIPES, env: dict | None = None) -> object:
    """Run ``script`` (JavaScript source) with ``payload`` as JSON on stdin; its stdout parsed as JSON."""
    done = subprocess.run(
        [node_binary(), "-e", script],
        input=json.dumps(payload, ensure_ascii=True).encode(),
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    if done.returncode:
        raise AssertionError(f"node failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout)

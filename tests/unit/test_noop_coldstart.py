"""Cold start of the paths that change nothing: what a fresh instance imports to answer them.

Each case loads ``functions/<name>/index.py`` in a fresh interpreter as FunctionGraph does (a module
named ``index`` from its file), runs one event and reports the outcomes and which heavy modules
ended up in ``sys.modules``. Counting modules, not milliseconds: the verdict does not depend on the
machine's speed (``python -m bench coldstart`` shows the time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import coldstart

ROOT = Path(__file__).resolve().parents[2]

# What ``dataclasses`` (inspect, ast, dis, tokenize, copy), ``typing``, ``datetime`` and ``threading``
# cost every cold start: none of it is needed to answer a tick or a trace that is not a creation.
STDLIB_HEAVY = (
    "dataclasses",
    "inspect",
    "typing",
    "ast",
    "dis",
    "tokenize",
    "copy",
    "datetime",
    "threading",
    "weakref",
)
# sgguard's own, needed only past the schema (a signature to check, a store to remember it in),
# and the name-confusables data needed only by the schema's identity format
PAST_THE_SCHEMA = (
    "hashlib",
    "shared.signing",
    "shared.idempotency",
    "shared.model",
    "shared.runtime.continuation",
    "shared.canonical_json",
)
SINKS_BEYOND_THE_LOG = ("shared.sinks.base",)  # with RESULT_SINKS unset, results go to the log only
VALIDATION_ONLY = ("shared.person", "shared.confusables", "unicodedata", "shared.schemas", "jsonschema")

CHILD = r"""
import importlib.util, json, sys, time
sys.path.insert(0, sys.argv[1])

class Context:  # the FunctionGraph context's methods the handlers call
    def __init__(self):
        self.ends = time.monotonic() + 300
    def getRequestID(self): return "cold"
    def getRemainingTimeInMilliSeconds(self): return int((self.ends - time.monotonic()) * 1000)
    def getSecurityAccessKey(self): return "AK"
    def getSecuritySecretKey(self): return "SK"
    def getSecurityToken(self): return ""
    def getUserData(self, key, default=None):
        return {"PROJECT_ID": "0" * 32, "REGION": "cn-north-4"}.get(key, default)
    def getFunctionName(self): return sys.argv[2]
    def getVersion(self): return "latest"

spec = importlib.util.spec_from_file_location("index", f"{sys.argv[1]}/functions/{sys.argv[2]}/index.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
response = module.handler(json.loads(sys.argv[3]), Context())
if "statusCode" in response:
    response = json.loads(response["body"])
outcomes = [r["data"]["outcome"] for r in response["results"]]
watched = json.loads(sys.argv[4])
print(json.dumps({"outcomes": outcomes, "imported": [m for m in watched if m in sys.modules]}))
"""

# the events the cold-start bench measures (``python -m bench coldstart``): the same paths
TIMER, NOT_A_CREATION = coldstart.TIMER, coldstart._not_a_creation()
INVALID_REQUEST = coldstart._apig(json.dumps({"request_id": "cold-1", "target": {}}))  # APIG: the schema refuses it


def _cold(function: str, event: dict, watched: tuple[str, ...]) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), function, json.dumps(event), json.dumps(list(watched))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "function, event, outcome",
    [("change_request", TIMER, "rejected"), ("ecs_created", NOT_A_CREATION, "skipped")],
    ids=["timer tick", "not a creation"],
)
def test_a_path_that_changes_nothing_imports_no_heavy_module(function, event, outcome):
    watched = STDLIB_HEAVY + VALIDATION_ONLY + PAST_THE_SCHEMA + SINKS_BEYOND_THE_LOG
    assert _cold(function, event, watched) == {"outcomes": [outcome], "imported": []}


def test_a_request_refused_at_the_schema_imports_nothing_past_it():
    # jsonschema itself brings dataclasses, typing... (the floor of this path): only ours is checked
    seen = _cold("change_request", INVALID_REQUEST, PAST_THE_SCHEMA + ("jsonschema",))
    assert seen == {"outcomes": ["rejected"], "imported": ["jsonschema"]}

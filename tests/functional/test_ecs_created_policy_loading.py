"""ecs_created loads the policy only for an envelope that may hold a creation (issue 21, cold start).

The central EventGrid channel of an organisation forwards every ECS event of its members: most are
not creations, and nothing about them needs the policy. An envelope with at least one message that
may be a creation (a trace ``read_creation_trace`` does not skip, or a valid direct call) still loads
it first, and a broken policy still fails that invocation loudly; an envelope without one answers
each message (``skipped``, ``rejected``) and never reads the policy (``sgguard deploy`` and
``sgguard validate-policy`` check it). What the no-op path imports is checked in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from shared.flows.policy import PolicyError
from tests.support.ecs import create_servers, cts_event, cts_trace, eventgrid_event

ROOT = Path(__file__).resolve().parents[2]
BROKEN = json.dumps({"rules": [{"name": "r", "security_groups": [], "mode": "sometimes"}]})
SERVER = "c0000000-0000-4000-8000-000000000001"


def trace(name: str, *, service: str = "ECS", code: str = "200"):
    return {
        "trace_id": "6f1d6a0e-0000-4000-8000-00000000000a",
        "trace_name": name,
        "trace_type": "ApiCall",
        "service_type": service,
        "resource_type": "ecs",
        "resource_id": SERVER,
        "code": code,
        "time": 1764363600000,
        "request": {},
        "response": {},
    }


NOT_CREATIONS = {
    "deleteServer": trace("deleteServer"),
    "createServer in lower case": trace("createserver"),  # names are matched exactly: no case folding
    "createServer of another service": trace("createServer", service="EVS"),
    "a failed createServer": trace("createServer", code="400"),
}


@pytest.fixture
def invoke(cloud):
    from tests.support.functions import Invoker

    invoker = Invoker(cloud, "ecs_created")

    def run(event, **settings):
        return [result["data"] for result in invoker(event, READINESS_POLL_S="0.05", **settings)["results"]]

    run.invoker = invoker
    return run


@pytest.mark.parametrize("name", sorted(NOT_CREATIONS))
def test_a_broken_policy_does_not_fail_an_event_that_is_not_a_creation(cloud, invoke, name):
    seq = cloud.last_seq()
    [data] = invoke(cts_event(NOT_CREATIONS[name]), POLICY=BROKEN)
    assert data["outcome"] == "skipped", data
    assert cloud.requests(seq) == []  # nothing read either


def test_a_broken_policy_skips_a_whole_batch_of_non_creations(cloud, invoke):
    events = [eventgrid_event(t) for t in NOT_CREATIONS.values()]
    results = invoke(events, POLICY=BROKEN)
    assert [r["outcome"] for r in results] == ["skipped"] * len(events)


def test_a_broken_policy_rejects_an_invalid_direct_call_without_reading_the_policy(invoke):
    [data] = invoke({"server_id": SERVER.upper()}, POLICY=BROKEN)  # not a lowercase UUID: never a creation
    assert (data["outcome"], data["errors"][0]["code"]) == ("rejected", ErrorCode.SCHEMA_VIOLATION)


def test_a_broken_policy_still_fails_a_creation_trace_loudly(cloud, ecs, invoke):
    job, [server] = create_servers(ecs, "loud")
    with pytest.raises(PolicyError) as raised:
        invoke(cts_event(cts_trace([server], job)), POLICY=BROKEN)
    assert {e.path for e in raised.value.errors} == {"$.rules[0].security_groups", "$.rules[0].mode"}
    [line] = invoke.invoker.log_lines
    assert line["data"]["errors"][0]["code"] == ErrorCode.CONFIG_INVALID


def test_one_creation_among_non_creations_fails_the_batch_loudly(cloud, ecs, invoke):
    job, [server] = create_servers(ecs, "among")
    events = [eventgrid_event(t) for t in NOT_CREATIONS.values()] + [eventgrid_event(cts_trace([server], job))]
    with pytest.raises(PolicyError):
        invoke(events, POLICY=BROKEN)
    lines = invoke.invoker.log_lines
    assert len(lines) == len(events) and {line["data"]["outcome"] for line in lines} == {"failed"}


def test_a_valid_policy_still_attaches_a_creation_after_non_creations(cloud, ecs, invoke):
    job, [server] = create_servers(ecs, "after", tags={"env": "prod", "role": "web-frontend"})
    events = [eventgrid_event(NOT_CREATIONS["deleteServer"]), eventgrid_event(cts_trace([server], job))]
    skipped, attached = invoke(events, READINESS_MAX_WAIT_S="10")
    assert skipped["outcome"] == "skipped"
    assert attached["outcome"] == "succeeded" and attached["rules_matched"] == ["baseline-everywhere", "prod-web"]


_FRESH = """
import io, json, sys
from contextlib import redirect_stdout
from bench.support import load_handler
from localcloud.runtime import FunctionContext
handler = load_handler("ecs_created")
data = {"PROJECT_ID": "0" * 32, "REGION": "cn-north-4", "POLICY": sys.argv[1]}
context = FunctionContext(user_data=data, ak="a", sk="s")
with redirect_stdout(io.StringIO()):
    response = handler({"cts": json.loads(sys.argv[2])}, context)
heavy = ("yaml", "jsonschema", "shared.flows.policy", "shared.changes.planning", "shared.rails.check",
         "shared.cloud.gateway", "shared.cloud.clients", "shared.idempotency", "shared.flows.targets", "shared.model")
print(json.dumps({"outcomes": [r["data"]["outcome"] for r in response["results"]],
                  "imported": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.parametrize("policy", [BROKEN, "rules: []\n"], ids=["broken", "valid"])
def test_a_non_creation_imports_nothing_of_the_creation_pipeline(policy):
    """In a fresh interpreter: no policy loading (YAML, jsonschema) and no pipeline for a deleteServer."""
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH, policy, json.dumps(NOT_CREATIONS["deleteServer"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"HOME": str(ROOT / ".pytest_home"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {"outcomes": ["skipped"], "imported": []}


def test_a_creation_in_a_fresh_interpreter_does_load_the_policy():
    """The same probe can fail: a creation trace loads (and refuses) the broken policy."""
    creation = {**NOT_CREATIONS["deleteServer"], "trace_name": "createServer"}
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH, BROKEN, json.dumps(creation)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(ROOT / ".pytest_home"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode != 0 and "PolicyError" in completed.stderr

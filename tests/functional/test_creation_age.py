"""Attack: a stale creation event strips a long-running server (issue 19). ecs_created acts only on
servers whose ECS ``created`` time is within CREATION_MAX_AGE_S; an older one is ``skipped`` with
NOT_A_NEW_SERVER and nothing is written, whatever the event (CTS trace, EventGrid, direct call).
An explicit back-fill (``"backfill": true``) skips only that check: every guard rail still applies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import ErrorCode
from tests.support.ecs import create_servers, cts_event, cts_trace, eventgrid_event
from tests.support.functions import Invoker
from tests.support.requests import SG
from tests.support.state import port_groups, writes_since

FAST = {"READINESS_POLL_S": "0.05", "READINESS_MAX_WAIT_S": "10"}
LONG_RUNNING = "c0000000-0000-4000-8000-0000000000a1"
LONG_RUNNING_PORT = "d0000000-0000-4000-8000-0000000000a1"
# A creation policy in replace mode: applied to a running server it would strip what it carries now.
STRIP = {"rules": [{"name": "strip", "mode": "replace", "security_groups": [{"name": "web"}]}]}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_long_running(cloud, *, days: float = 30) -> None:
    """A server created ``days`` ago that carries a guard group (db) next to its app group."""
    created = _stamp(datetime.now(timezone.utc) - timedelta(days=days))
    server = {
        "id": LONG_RUNNING,
        "name": "long-running-01",
        "created": created,
        "nics": [{"subnet": "subnet-app", "port_id": LONG_RUNNING_PORT, "security_groups": ["db", "app"]}],
    }
    cloud.seed({"projects": [{"id": cloud.project_id, "servers": [server]}]})


def _trace_30_days_old() -> dict:
    trace = cts_trace([LONG_RUNNING], "ff8080819b1e0c7a019b2f3e4d5c00a1")
    trace["time"] = int((datetime.now(timezone.utc) - timedelta(days=30)).timestamp() * 1000)
    return trace


def _invoke(cloud, event, **settings) -> list[dict]:
    response = Invoker(cloud, "ecs_created")(event, **{**FAST, **settings})
    return [result["data"] for result in response["results"]]


@pytest.mark.parametrize(
    "event",
    [
        lambda: cts_event(_trace_30_days_old()),
        lambda: eventgrid_event(_trace_30_days_old()),
        lambda: {"server_id": LONG_RUNNING},
        lambda: {"server_id": LONG_RUNNING, "backfill": False},
    ],
    ids=["cts", "eventgrid", "direct", "direct_backfill_false"],
)
def test_a_creation_event_for_a_long_running_server_is_skipped_with_no_write(cloud, event):
    _seed_long_running(cloud)
    seq = cloud.last_seq()
    [data] = _invoke(cloud, event(), POLICY=json.dumps(STRIP))
    assert data["outcome"] == "skipped", data
    assert [w["code"] for w in data["warnings"]] == [ErrorCode.NOT_A_NEW_SERVER]
    assert "not a new server" in data["reason"]
    assert writes_since(cloud, seq) == []
    assert port_groups(cloud, LONG_RUNNING_PORT) == [SG["db"], SG["app"]]


def test_a_server_older_than_the_configured_age_is_not_new_and_a_younger_one_is(cloud):
    _seed_long_running(cloud, days=1)  # a day old: within a generous window, out of the default one
    [default] = _invoke(cloud, {"server_id": LONG_RUNNING}, POLICY=json.dumps(STRIP))
    assert default["outcome"] == "skipped"
    [generous] = _invoke(cloud, {"server_id": LONG_RUNNING}, POLICY=json.dumps(STRIP), CREATION_MAX_AGE_S="172800")
    assert generous["outcome"] == "succeeded", generous
    assert port_groups(cloud, LONG_RUNNING_PORT) == [SG["web"]]


def test_a_server_created_through_the_api_is_new(cloud, ecs):
    job, [server] = create_servers(ecs, "fresh-01")
    [data] = _invoke(cloud, cts_event(cts_trace([server], job)), POLICY=json.dumps(STRIP))
    assert data["outcome"] == "succeeded", data


def test_a_backfill_acts_on_a_long_running_server(cloud):
    _seed_long_running(cloud)
    [data] = _invoke(cloud, {"server_id": LONG_RUNNING, "backfill": True}, POLICY=json.dumps(STRIP))
    assert data["outcome"] == "succeeded", data
    assert port_groups(cloud, LONG_RUNNING_PORT) == [SG["web"]]


def test_a_backfill_still_goes_through_every_rail(cloud):
    _seed_long_running(cloud)
    risky = {"rules": [{"name": "open", "security_groups": [{"name": "ssh-open"}]}]}  # no approved_by
    seq = cloud.last_seq()
    [data] = _invoke(cloud, {"server_id": LONG_RUNNING, "backfill": True}, POLICY=json.dumps(risky))
    assert data["outcome"] == "rejected" and ErrorCode.RISKY_RULE in [e["code"] for e in data["errors"]], data
    protected = _invoke(
        cloud, {"server_id": LONG_RUNNING, "backfill": True}, POLICY=json.dumps(STRIP), PROTECTED_GROUPS="db"
    )
    assert protected[0]["outcome"] == "rejected", protected
    assert ErrorCode.PROTECTED_GROUP in [e["code"] for e in protected[0]["errors"]]
    assert writes_since(cloud, seq) == []

"""Helpers of the sink tests: what the destinations in localcloud received, runs, delivery."""

from __future__ import annotations

import io
import json

from shared.runtime.run import Run
from shared.validation import validate_result_event
from tests.support.functions import make_context

HOOK_KEYS = {"hooks-1": "webhook-signing-secret-0001"}
EG_SOURCE = "sgguard"
FAST = {"BACKOFF_BASE_S": "0.01", "BACKOFF_MAX_S": "0.02"}


# ---- reading what the destinations received ----------------------------------------------------
def smn_messages(cloud, topic_urn) -> list[dict]:
    return cloud._call("GET", f"smn/messages?topic_urn={topic_urn}")["messages"]


def eg_events(cloud, channel_id) -> list[dict]:
    return cloud._call("GET", f"eg/events?channel_id={channel_id}")["events"]


def fg_invocations(cloud, function="ticket-updater") -> list[dict]:
    return cloud._call("GET", f"functiongraph/invocations?function={function}")["invocations"]


def sink_requests(cloud, seq, fragment) -> list[dict]:
    return [r for r in cloud.requests(seq) if fragment in r["path"]]


# ---- runs and events ---------------------------------------------------------------------------
def sinks(*entries) -> str:
    return json.dumps(list(entries))


def make_run(cloud, *, timeout_s: float = 30.0, **user_data) -> Run:
    """A real Run from a FunctionGraph context with localcloud credentials and endpoints."""
    data = {"SMN_ENDPOINT": cloud.url, "EG_ENDPOINT": cloud.url, "FUNCTIONGRAPH_ENDPOINT": cloud.url, **FAST}
    data.update(user_data)
    return Run.start("change_request", make_context(cloud, timeout_s=timeout_s, **data))


def user_data(cloud, **extra) -> dict:
    """User data for Invoker calls: sink endpoints at localcloud, fast back-off."""
    return {"SMN_ENDPOINT": cloud.url, "EG_ENDPOINT": cloud.url, "FUNCTIONGRAPH_ENDPOINT": cloud.url, **FAST, **extra}


def deliver_to(run, events) -> tuple[dict, list[dict]]:
    """``shared.sinks.deliver`` with a captured stream: (report, JSON lines written)."""
    from shared.sinks import deliver

    out = io.StringIO()
    report = deliver(events, run, out)
    return report, [json.loads(line) for line in out.getvalue().splitlines()]


def undelivered(lines) -> list[dict]:
    return [line for line in lines if line.get("undelivered") is True]


def results_of(response) -> list[dict]:
    if "statusCode" in response:
        return json.loads(response["body"])["results"]
    return response["results"]


def assert_readable(event: dict) -> None:
    """Valid against the result schema and readable by the CloudEvents SDK (v1 and core APIs)."""
    from cloudevents.core.bindings.http import HTTPMessage, from_http_event
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.v1.http import from_http, from_json

    assert validate_result_event(event) == [], validate_result_event(event)
    body = json.dumps(event).encode()
    legacy = from_json(body)
    assert legacy["id"] == event["id"] and legacy["type"] == event["type"] and legacy.data == event["data"]
    legacy = from_http({"content-type": "application/cloudevents+json"}, body)
    assert legacy["source"] == event["source"]
    core = JSONFormat().read(None, body)
    assert core.get_id() == event["id"] and core.get_type() == event["type"] and core.get_data() == event["data"]
    core = from_http_event(HTTPMessage(headers={"content-type": "application/cloudevents+json"}, body=body))
    assert core.get_source() == event["source"] and core.get_subject() == event.get("subject")

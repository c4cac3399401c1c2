"""The ``smn`` sink over HTTP: the real change_request handler publishes to a topic in localcloud."""

from __future__ import annotations

import json

from tests.support.requests import LEGACY_PORTS, SG, change_request, kafka
from tests.support.sinks import (
    assert_readable,
    deliver_to,
    make_run,
    results_of,
    sink_requests,
    sinks,
    smn_messages,
    undelivered,
    user_data,
)
from tests.support.state import port_groups, writes_since

PUBLISH = "/v2/*/notifications/topics/*/publish"


def test_each_result_is_published_with_attributes_to_filter_on(cloud, change, topic):
    requests = [change_request("add", [{"name": "web"}]), change_request("add", [{"name": "nope"}])]
    response = change(kafka(*requests), **user_data(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic})))
    results = results_of(response)
    assert [r["data"]["outcome"] for r in results] == ["succeeded", "rejected"]
    assert response["delivery"] == {
        "log": {"delivered": 2, "undelivered": 0},
        "smn": {"delivered": 2, "undelivered": 0},
        "undelivered": 0,
    }
    messages = smn_messages(cloud, topic)
    assert len(messages) == 2
    by_id = {json.loads(m["message"])["id"]: m for m in messages}
    for result in results:
        message = by_id[result["id"]]
        event = json.loads(message["message"])
        assert event == result  # the CloudEvent itself, as JSON text
        assert_readable(event)
        attributes = {a["name"]: a["value"] for a in message["message_attributes"]}
        assert all(a["type"] == "STRING" for a in message["message_attributes"])
        assert attributes["outcome"] == result["data"]["outcome"]
        assert attributes["function"] == "change_request"
        assert attributes["trigger"] == "kafka"
        assert attributes["ticket_system"] == "servicenow"
        assert attributes["dry_run"] == "false"
        assert message["subject"].startswith(f"sgguard change_request {result['data']['outcome']}")
    # the log sink still wrote one line per result, and nothing was undelivered
    assert len(change.log_lines) == 2 and undelivered(change.log_lines) == []


def test_transient_failures_are_retried_then_delivered(cloud, change, topic):
    cloud.add_fault(kind="error503", path=PUBLISH, count=2)
    seq = cloud.last_seq()
    response = change(
        change_request("add", [{"name": "web"}]),
        **user_data(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic})),
    )
    assert results_of(response)[0]["data"]["outcome"] == "succeeded"
    assert response["delivery"]["smn"] == {"delivered": 1, "undelivered": 0}
    attempts = sink_requests(cloud, seq, "/publish")
    assert [r["status"] for r in attempts] == [503, 503, 200]
    assert len(smn_messages(cloud, topic)) == 1
    assert undelivered(change.log_lines) == []


def test_throttling_is_retried_too(cloud, change, topic):
    cloud.add_fault(kind="throttle", path=PUBLISH, count=1)
    response = change(
        change_request("add", [{"name": "web"}]),
        **user_data(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic})),
    )
    assert response["delivery"]["undelivered"] == 0
    assert len(smn_messages(cloud, topic)) == 1


def test_a_sink_that_keeps_failing_leaves_an_undelivered_line_and_changes_nothing(cloud, change, topic):
    cloud.add_fault(kind="error503", path=PUBLISH)  # no count: fails forever
    seq = cloud.last_seq()
    request = change_request("add", [{"name": "web"}])
    response = change(
        request, **user_data(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic}), MAX_ATTEMPTS="3")
    )
    (result,) = results_of(response)
    assert result["data"]["outcome"] == "succeeded"  # the change itself is unaffected
    assert port_groups(cloud, LEGACY_PORTS[0])[-1] == SG["web"]
    writes = [w for w in writes_since(cloud, seq) if "/ports/" in w["path"]]
    assert len(writes) == 1  # applied once, never re-applied because a sink failed
    assert response["delivery"] == {
        "log": {"delivered": 1, "undelivered": 0},
        "smn": {"delivered": 0, "undelivered": 1},
        "undelivered": 1,
    }
    assert [r["status"] for r in sink_requests(cloud, seq, "/publish")] == [503, 503, 503]
    (line,) = undelivered(change.log_lines)
    assert line["sink"] == "smn"
    assert line["event"] == result  # the full event: nothing is lost
    assert "503" in line["error"] and "3 attempt" in line["error"]
    assert change.log_lines[0] == result  # the log line came first, before any sink was tried
    assert smn_messages(cloud, topic) == []


def test_unknown_topic_is_final_at_once(cloud, topic):
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic + "-gone"}))
    event = run.event(__import__("shared.results", fromlist=["new_result_data"]).new_result_data("no_change"))
    seq = cloud.last_seq()
    report, lines = deliver_to(run, [event])
    assert report["smn"] == {"delivered": 0, "undelivered": 1}
    assert len(sink_requests(cloud, seq, "/publish")) == 1  # a 404 is not retried
    (line,) = undelivered(lines)
    assert "SMN.0006" in line["error"] and "HTTP 404" in line["error"]


def test_attribute_values_are_made_acceptable_to_smn(cloud, topic):
    from shared.results import EventMeta, new_result_data

    run = make_run(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic}))
    data = new_result_data("rolled_back", request_id="CHG 1/2", ticket={"system": "jira.example-cloud", "id": "X-1"})
    report, _ = deliver_to(run, [run.event(data, EventMeta(trigger="direct", function="change_request"))])
    assert report["undelivered"] == 0
    (message,) = smn_messages(cloud, topic)
    attributes = {a["name"]: a["value"] for a in message["message_attributes"]}
    assert attributes == {
        "outcome": "rolled_back",
        "function": "change_request",
        "trigger": "direct",
        "ticket_system": "jira_example_cloud",
        "dry_run": "false",
    }

"""The ``functiongraph`` sink over HTTP: async invocation of a ticket updater in localcloud."""

from __future__ import annotations

from shared.results import new_result_data
from tests.support.requests import change_request, kafka
from tests.support.sinks import (
    assert_readable,
    deliver_to,
    fg_invocations,
    make_run,
    results_of,
    sink_requests,
    sinks,
    undelivered,
    user_data,
)

ASYNC = "/v2/*/fgs/functions/*/invocations-async"


def test_each_result_invokes_the_function_asynchronously(cloud, change, ticket_updater):
    response = change(
        kafka(change_request("add", [{"name": "web"}]), change_request("remove", [{"name": "nope"}])),
        **user_data(cloud, RESULT_SINKS=sinks({"type": "functiongraph", "function_urn": ticket_updater})),
    )
    results = results_of(response)
    assert response["delivery"]["functiongraph"] == {"delivered": 2, "undelivered": 0}
    invocations = fg_invocations(cloud)
    assert [i["mode"] for i in invocations] == ["async", "async"]
    assert sorted((i["payload"] for i in invocations), key=lambda e: e["data"]["message_index"]) == results
    for invocation in invocations:
        assert_readable(invocation["payload"])


def test_transient_failures_are_retried_then_delivered(cloud, change, ticket_updater):
    cloud.add_fault(kind="error503", path=ASYNC, count=2)
    seq = cloud.last_seq()
    response = change(
        change_request("add", [{"name": "web"}]),
        **user_data(cloud, RESULT_SINKS=sinks({"type": "functiongraph", "function_urn": ticket_updater})),
    )
    assert response["delivery"]["functiongraph"] == {"delivered": 1, "undelivered": 0}
    assert [r["status"] for r in sink_requests(cloud, seq, "invocations-async")] == [503, 503, 202]
    assert len(fg_invocations(cloud)) == 1


def test_still_failing_leaves_an_undelivered_line(cloud, change, ticket_updater):
    cloud.add_fault(kind="reset", path=ASYNC)
    response = change(
        change_request("add", [{"name": "web"}]),
        **user_data(
            cloud, RESULT_SINKS=sinks({"type": "functiongraph", "function_urn": ticket_updater}), MAX_ATTEMPTS="2"
        ),
    )
    (result,) = results_of(response)
    assert result["data"]["outcome"] == "succeeded"
    (line,) = undelivered(change.log_lines)
    assert line["sink"] == "functiongraph" and line["event"] == result
    assert fg_invocations(cloud) == []


def test_unknown_function_is_final(cloud, ticket_updater):
    missing = ticket_updater.replace("ticket-updater", "no-such-function")
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "functiongraph", "function_urn": missing}))
    seq = cloud.last_seq()
    report, lines = deliver_to(run, [run.event(new_result_data("failed"))])
    assert report["functiongraph"] == {"delivered": 0, "undelivered": 1}
    assert len(sink_requests(cloud, seq, "invocations-async")) == 1
    assert "HTTP 404" in undelivered(lines)[0]["error"]


def test_every_sink_at_once(cloud, change, ticket_updater, topic, channel, hook):
    """One result, four destinations, each got it exactly once."""
    import json

    from tests.support.sinks import EG_SOURCE, eg_events, smn_messages

    configured = sinks(
        {"type": "functiongraph", "function_urn": ticket_updater},
        {"type": "eventgrid", "channel_id": channel, "source": EG_SOURCE},
        {"type": "smn", "topic_urn": topic},
        {"type": "webhook", "name": "servicenow"},
        "log",
    )
    response = change(
        change_request("add", [{"name": "web"}]),
        **user_data(
            cloud,
            RESULT_SINKS=configured,
            WEBHOOK_URLS=json.dumps({"servicenow": hook.url}),
            WEBHOOK_SIGNING_KEYS=json.dumps(hook.keys),
        ),
    )
    (result,) = results_of(response)
    assert response["delivery"] == {
        "log": {"delivered": 1, "undelivered": 0},
        "functiongraph": {"delivered": 1, "undelivered": 0},
        "eventgrid": {"delivered": 1, "undelivered": 0},
        "smn": {"delivered": 1, "undelivered": 0},
        "webhook:servicenow": {"delivered": 1, "undelivered": 0},
        "undelivered": 0,
    }
    assert [i["payload"] for i in fg_invocations(cloud)] == [result]
    assert [e["event"]["id"] for e in eg_events(cloud, channel)] == [result["id"]]
    assert [json.loads(m["message"]) for m in smn_messages(cloud, topic)] == [result]
    assert hook.events == [result]
    assert change.log_lines == [result]  # "log" listed explicitly is still one line per result

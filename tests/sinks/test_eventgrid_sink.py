"""The ``eventgrid`` sink over HTTP: CloudEvents batches to a custom channel in localcloud."""

from __future__ import annotations

from shared.results import EventMeta, new_result_data
from tests.support.requests import change_request, kafka
from tests.support.sinks import (
    EG_SOURCE,
    assert_readable,
    deliver_to,
    eg_events,
    make_run,
    results_of,
    sink_requests,
    sinks,
    undelivered,
    user_data,
)

PUT_EVENTS = "/v1/*/channels/*/events"


def eg(channel, **extra):
    return sinks({"type": "eventgrid", "channel_id": channel, "source": EG_SOURCE, **extra})


def events_for(run, count):
    out = []
    for index in range(count):
        data = new_result_data("no_change", request_id=f"CHG-{index}")
        out.append(run.event(data, EventMeta(index, "kafka", "change_request")))
    return out


def test_one_batch_per_invocation_carries_every_result(cloud, change, channel):
    seq = cloud.last_seq()
    requests = [
        change_request("add", [{"name": "web"}]),
        change_request("add", [{"name": "app"}]),
        change_request("add", [{"name": "nope"}]),
    ]
    response = change(kafka(*requests), **user_data(cloud, RESULT_SINKS=eg(channel)))
    results = results_of(response)
    assert [r["data"]["outcome"] for r in results] == ["succeeded", "no_change", "rejected"]
    assert response["delivery"]["eventgrid"] == {"delivered": 3, "undelivered": 0}
    assert len(sink_requests(cloud, seq, "/channels/")) == 1  # one PutEvents for the three results
    received = [record["event"] for record in eg_events(cloud, channel)]
    assert [e["id"] for e in received] == [r["id"] for r in results]
    for event, result in zip(received, results):
        assert event["source"] == EG_SOURCE  # the channel's custom event source
        assert {k: v for k, v in event.items() if k != "source"} == {k: v for k, v in result.items() if k != "source"}
        assert_readable(dict(event, source=result["source"]))
        assert_readable(event)  # also valid as received: "sgguard" is a URI reference


def test_batches_respect_the_20_events_per_request_limit(cloud, channel):
    run = make_run(cloud, RESULT_SINKS=eg(channel))
    events = events_for(run, 45)
    seq = cloud.last_seq()
    report, lines = deliver_to(run, events)
    assert report["eventgrid"] == {"delivered": 45, "undelivered": 0} and report["undelivered"] == 0
    calls = sink_requests(cloud, seq, "/channels/")
    assert len(calls) == 3 and all(call["status"] == 200 for call in calls)
    assert sorted(r["event"]["id"] for r in eg_events(cloud, channel)) == sorted(e["id"] for e in events)
    assert len(lines) == 45  # the log lines, nothing undelivered


def test_without_a_configured_source_the_event_keeps_its_own(cloud):
    channel = cloud._call("POST", "eg/channels", {"name": "open-channel"})["channel"]["id"]
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "eventgrid", "channel_id": channel}))
    (event,) = events_for(run, 1)
    report, _ = deliver_to(run, [event])
    assert report["undelivered"] == 0
    assert eg_events(cloud, channel)[0]["event"] == event


def test_transient_failures_are_retried_then_delivered(cloud, change, channel):
    cloud.add_fault(kind="error500", path=PUT_EVENTS, count=2)
    seq = cloud.last_seq()
    response = change(change_request("add", [{"name": "web"}]), **user_data(cloud, RESULT_SINKS=eg(channel)))
    assert response["delivery"]["eventgrid"] == {"delivered": 1, "undelivered": 0}
    assert [r["status"] for r in sink_requests(cloud, seq, "/channels/")] == [500, 500, 200]
    assert len(eg_events(cloud, channel)) == 1


def test_a_read_timeout_is_retried(cloud, channel):
    run = make_run(cloud, RESULT_SINKS=eg(channel), READ_TIMEOUT_S="0.3")
    cloud.add_fault(kind="timeout", path=PUT_EVENTS, count=1, hold_ms=600)
    report, _ = deliver_to(run, events_for(run, 2))
    assert report["eventgrid"] == {"delivered": 2, "undelivered": 0}


def test_still_failing_leaves_undelivered_lines_and_the_outcome_unchanged(cloud, change, channel):
    cloud.add_fault(kind="error503", path=PUT_EVENTS)
    response = change(
        kafka(change_request("add", [{"name": "web"}]), change_request("add", [{"name": "app"}])),
        **user_data(cloud, RESULT_SINKS=eg(channel), MAX_ATTEMPTS="2"),
    )
    results = results_of(response)
    assert [r["data"]["outcome"] for r in results] == ["succeeded", "no_change"]
    assert response["delivery"]["eventgrid"] == {"delivered": 0, "undelivered": 2}
    assert response["delivery"]["undelivered"] == 2
    lines = undelivered(change.log_lines)
    assert [line["event"] for line in lines] == results
    assert all(line["sink"] == "eventgrid" for line in lines)


def test_an_event_the_channel_refuses_is_not_retried_and_the_others_arrive(cloud):
    channel = cloud._call("POST", "eg/channels", {"name": "strict", "sources": ["someone-else"]})["channel"]["id"]
    run = make_run(cloud, RESULT_SINKS=eg(channel))
    seq = cloud.last_seq()
    report, lines = deliver_to(run, events_for(run, 2))
    assert report["eventgrid"] == {"delivered": 0, "undelivered": 2}
    assert len(sink_requests(cloud, seq, "/channels/")) == 1
    assert all("EG.00513000" in line["error"] for line in undelivered(lines))


def test_unknown_channel_is_final(cloud):
    run = make_run(cloud, RESULT_SINKS=eg("0f0e0d0c-0000-4000-8000-000000000000"))
    report, lines = deliver_to(run, events_for(run, 1))
    assert report["eventgrid"]["undelivered"] == 1
    assert "EG.00014040" in undelivered(lines)[0]["error"]


def test_an_event_over_64_kb_is_undelivered_without_a_call(cloud, channel):
    run = make_run(cloud, RESULT_SINKS=eg(channel))
    big, small = events_for(run, 2)
    big["data"]["warnings"] = [{"code": "BIG", "message": "x" * 70000, "path": "$"}]
    seq = cloud.last_seq()
    report, lines = deliver_to(run, [big, small])
    assert report["eventgrid"] == {"delivered": 1, "undelivered": 1}
    (line,) = undelivered(lines)
    assert line["event"]["id"] == big["id"] and "64" in line["error"]
    assert len(sink_requests(cloud, seq, "/channels/")) == 1

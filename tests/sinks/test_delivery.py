"""The delivery loop itself (shared.sinks.core): counts, retries, deadline, never raising, redaction."""

from __future__ import annotations

import json

import pytest

from shared.results import EventMeta, new_result_data, to_log_line
from shared.sinks import core
from shared.sinks.base import Sink
from shared.sinks.exceptions import SinkError
from tests.support.sinks import deliver_to, make_run, sinks, undelivered


def events_of(run, *outcomes):
    out = []
    for index, outcome in enumerate(outcomes):
        data = new_result_data(outcome, request_id=f"CHG-{index}")
        out.append(run.event(data, EventMeta(index, "direct", "change_request")))
    return out


class ScriptedSink(Sink):
    """A sink whose answers a test scripts: a list of callables, one per send()."""

    kind = "scripted"
    script: list = []
    calls: list = []

    def __init__(self, name, config, run, deadline):
        super().__init__(name, config, run, deadline)
        self.max_batch_events = config.get("batch", 1)

    def send(self, events):
        type(self).calls.append([event["id"] for event in events])
        step = type(self).script.pop(0) if type(self).script else (lambda events: None)
        return step(events)


@pytest.fixture
def scripted(monkeypatch):
    original = core._build

    def build(name, config, run, deadline):
        if config.get("type") == "scripted":
            return ScriptedSink(name, config, run, deadline)
        return original(name, config, run, deadline)

    monkeypatch.setattr(core, "_build", build)
    ScriptedSink.script, ScriptedSink.calls = [], []
    return ScriptedSink


def test_log_only_writes_exactly_the_result_lines(cloud):
    run = make_run(cloud)  # RESULT_SINKS unset: log only
    events = events_of(run, "succeeded", "rejected")
    report, lines = deliver_to(run, events)
    assert report == {"log": {"delivered": 2, "undelivered": 0}, "undelivered": 0}
    assert lines == [json.loads(to_log_line(event)) for event in events]
    assert run._factory is None  # no sink configured: no credentials read, no client built


def test_no_results_no_calls(cloud, topic):
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic}))
    seq = cloud.last_seq()
    report, lines = deliver_to(run, [])
    assert report == {
        "log": {"delivered": 0, "undelivered": 0},
        "smn": {"delivered": 0, "undelivered": 0},
        "undelivered": 0,
    }
    assert lines == [] and cloud.requests(seq) == []


def test_an_unknown_sink_type_loses_nothing(cloud):
    run = make_run(cloud, RESULT_SINKS=sinks("kafka", "log"))
    events = events_of(run, "failed")
    report, lines = deliver_to(run, events)
    assert report == {
        "log": {"delivered": 1, "undelivered": 0},
        "kafka": {"delivered": 0, "undelivered": 1},
        "undelivered": 1,
    }
    (line,) = undelivered(lines)
    assert line["sink"] == "kafka" and line["event"] == events[0]
    assert "unknown sink type 'kafka'" in line["error"]


@pytest.mark.parametrize(
    "entry,fragment",
    [
        ({"type": "smn"}, "needs 'topic_urn'"),
        ({"type": "smn", "topic_urn": "arn:aws:sns:x"}, "topic_urn must look like"),
        ({"type": "functiongraph", "function_urn": "ticket-updater"}, "function_urn must look like"),
        ({"type": "eventgrid"}, "needs 'channel_id'"),
        ({"type": "eventgrid", "channel_id": "../../x"}, "channel_id"),
        (
            {"type": "smn", "topic_urn": "urn:smn:cn-north-4:0a1b2c3d4e5f40718293a4b5c6d7e8f9:t", "max_attempts": 0},
            "'max_attempts'",
        ),
    ],
)
def test_a_misconfigured_sink_leaves_undelivered_lines_naming_the_problem(cloud, entry, fragment):
    run = make_run(cloud, RESULT_SINKS=sinks(entry))
    seq = cloud.last_seq()
    report, lines = deliver_to(run, events_of(run, "succeeded", "no_change"))
    assert report["undelivered"] == 2
    assert all(fragment in line["error"] for line in undelivered(lines))
    assert cloud.requests(seq) == []


def test_same_type_twice_gets_distinct_names(cloud, scripted):
    run = make_run(
        cloud, RESULT_SINKS=sinks({"type": "scripted"}, {"type": "scripted"}, {"type": "scripted", "name": "audit"})
    )
    report, _ = deliver_to(run, events_of(run, "succeeded"))
    assert set(report) == {"log", "scripted", "scripted#2", "scripted:audit", "undelivered"}


def test_only_the_events_that_failed_are_sent_again(cloud, scripted):
    def partial(events):
        return {1: SinkError("scripted", "busy", transient=True), 2: SinkError("scripted", "bad event", code="X")}

    scripted.script = [partial]
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "scripted", "batch": 10}))
    events = events_of(run, "succeeded", "no_change", "failed", "planned")
    report, lines = deliver_to(run, events)
    assert scripted.calls == [[e["id"] for e in events], [events[1]["id"]]]
    assert report["scripted"] == {"delivered": 3, "undelivered": 1}
    (line,) = undelivered(lines)
    assert line["event"] == events[2] and line["error"] == "X: bad event"


def test_a_bug_in_a_sink_never_escapes(cloud, scripted):
    def boom(events):
        raise ZeroDivisionError("oops")

    scripted.script = [boom]
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "scripted"}))
    report, lines = deliver_to(run, events_of(run, "succeeded"))
    assert report["scripted"] == {"delivered": 0, "undelivered": 1}
    assert len(scripted.calls) == 1  # not retried: a bug does not get better
    assert "unexpected ZeroDivisionError" in undelivered(lines)[0]["error"]


def test_no_retry_past_the_deadline(cloud, scripted):
    scripted.script = [lambda events: (_ for _ in ()).throw(SinkError("scripted", "slow", transient=True))] * 50
    # 1 s invocation, 0.5 s safety margin: delivery may use the 0.5 s left plus 0.25 s of the margin
    run = make_run(
        cloud,
        timeout_s=1.0,
        SAFETY_MARGIN_MS="500",
        MAX_ATTEMPTS="20",
        BACKOFF_BASE_S="0.2",
        BACKOFF_MAX_S="0.3",
        RESULT_SINKS=sinks({"type": "scripted"}),
    )
    report, lines = deliver_to(run, events_of(run, "succeeded"))
    assert report["scripted"]["undelivered"] == 1
    assert 1 <= len(scripted.calls) < 20
    assert "no time left in the invocation" in undelivered(lines)[0]["error"]


def test_nothing_is_tried_once_the_time_is_up(cloud, scripted):
    run = make_run(cloud, timeout_s=0.0, SAFETY_MARGIN_MS="0", RESULT_SINKS=sinks({"type": "scripted"}))
    report, lines = deliver_to(run, events_of(run, "succeeded"))
    assert scripted.calls == [] and report["undelivered"] == 1
    assert "before the first attempt" in undelivered(lines)[0]["error"]


def test_secrets_never_leave_the_function(cloud, scripted, hook):
    seen = []
    scripted.script = [lambda events: seen.extend(events) or {0: SinkError("scripted", "down")}]
    run = make_run(cloud, RESULT_SINKS=sinks({"type": "scripted"}))
    data = new_result_data("rejected", ticket={"system": "servicenow", "api_token": "tok-123", "password": "pw"})
    event = run.event(data, EventMeta(function="change_request"))
    _, lines = deliver_to(run, [event])
    text = json.dumps(lines) + json.dumps(seen)
    assert "tok-123" not in text and '"pw"' not in text
    assert seen[0]["data"]["ticket"]["api_token"] == "***"
    assert event["data"]["ticket"]["api_token"] == "tok-123"  # the caller's result is not modified


def test_deliver_never_raises_even_when_the_loop_itself_breaks(cloud, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(core, "deliver_events", broken)
    run = make_run(cloud)
    report, _ = deliver_to(run, events_of(run, "succeeded"))
    assert report["undelivered"] == 1 and "RuntimeError" in report["error"]


def test_sinks_run_in_parallel(cloud, scripted):
    import threading

    # each sink waits for the other two: one after the other, the first would wait alone and break
    together = threading.Barrier(3, timeout=30)

    def meet(events):
        together.wait()

    scripted.script = [meet, meet, meet]
    run = make_run(cloud, RESULT_SINKS=sinks(*({"type": "scripted", "name": f"s{i}"} for i in range(3))))
    report, _ = deliver_to(run, events_of(run, "succeeded"))
    assert report["undelivered"] == 0, report
    assert not together.broken

"""The ``webhook`` sink: signed CloudEvents to a local receiver that verifies the signature."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from shared.results import EventMeta, new_result_data
from shared.signing import verify_payload_headers
from tests.support.functions import SIGNING_KEYS
from tests.support.requests import change_request, kafka
from tests.support.sinks import (
    HOOK_KEYS,
    assert_readable,
    deliver_to,
    make_run,
    results_of,
    sinks,
    undelivered,
    user_data,
)
from tests.support.webhook import WebhookReceiver


def hook_settings(cloud, hook, entry=None, **extra):
    return user_data(
        cloud,
        RESULT_SINKS=sinks(entry or {"type": "webhook", "name": "servicenow"}),
        WEBHOOK_URLS=json.dumps({"servicenow": hook.url}),
        WEBHOOK_SIGNING_KEYS=json.dumps(HOOK_KEYS),
        **extra,
    )


def hook_run(cloud, hook, entry=None, **extra):
    return make_run(cloud, **hook_settings(cloud, hook, entry, **extra))


def some_events(run, count=1, outcome="succeeded"):
    events = []
    for index in range(count):
        data = new_result_data(outcome, request_id=f"CHG-{index}", ticket={"system": "servicenow", "id": f"T{index}"})
        events.append(run.event(data, EventMeta(index, "direct", "change_request")))
    return events


def test_each_result_is_posted_as_a_signed_cloudevent(cloud, change, hook):
    response = change(
        kafka(change_request("add", [{"name": "web"}]), change_request("add", [{"name": "nope"}])),
        **hook_settings(cloud, hook),
    )
    results = results_of(response)
    assert response["delivery"]["webhook:servicenow"] == {"delivered": 2, "undelivered": 0}
    assert sorted(hook.events, key=lambda e: e["data"]["message_index"]) == results
    for request in hook.requests:
        assert request["status"] == 200
        assert request["headers"]["Content-Type"] == "application/cloudevents+json"
        assert request["headers"]["X-Signature"].startswith("keyId=hooks-1,timestamp=")
        assert (
            verify_payload_headers(request["body"], request["headers"], keys=HOOK_KEYS, now=datetime.now(timezone.utc))
            == []
        )
    for event in hook.events:
        assert_readable(event)


def test_batch_mode_posts_one_json_array(cloud, hook):
    run = hook_run(cloud, hook, {"type": "webhook", "name": "servicenow", "batch": True, "batch_size": 2})
    events = some_events(run, 5)
    report, _ = deliver_to(run, events)
    assert report["webhook:servicenow"] == {"delivered": 5, "undelivered": 0}
    assert [r["headers"]["Content-Type"] for r in hook.requests] == ["application/cloudevents-batch+json"] * 3
    assert sorted(len(json.loads(r["body"])) for r in hook.requests) == [1, 2, 2]
    # batches go out concurrently (2 at a time by default): order across batches is not kept
    assert sorted(hook.events, key=lambda e: e["data"]["message_index"]) == events


def test_failures_are_retried_then_delivered(cloud, change, hook):
    hook.fail(2, 503)
    response = change(change_request("add", [{"name": "web"}]), **hook_settings(cloud, hook))
    assert response["delivery"]["webhook:servicenow"] == {"delivered": 1, "undelivered": 0}
    assert [r["status"] for r in hook.requests] == [503, 503, 200]
    assert hook.events == results_of(response)


def test_retry_after_is_honoured_within_the_back_off_cap(cloud, hook):
    hook.fail(1, 429, headers={"Retry-After": "0.05"})
    run = hook_run(cloud, hook)
    report, _ = deliver_to(run, some_events(run))
    assert report["undelivered"] == 0 and [r["status"] for r in hook.requests] == [429, 200]


def test_still_failing_leaves_an_undelivered_line_and_the_outcome_unchanged(cloud, change, hook):
    hook.fail(None, 502)
    response = change(change_request("add", [{"name": "web"}]), **hook_settings(cloud, hook, MAX_ATTEMPTS="3"))
    (result,) = results_of(response)
    assert result["data"]["outcome"] == "succeeded"
    assert len(hook.requests) == 3
    (line,) = undelivered(change.log_lines)
    assert line == {
        "undelivered": True,
        "sink": "webhook:servicenow",
        "error": "HTTP 502: gave up after 3 attempt(s): the webhook failed",
        "event": result,
    }
    assert response["delivery"]["undelivered"] == 1


def test_a_refusal_is_not_retried(cloud, hook):
    hook.fail(None, 400)
    run = hook_run(cloud, hook)
    report, lines = deliver_to(run, some_events(run))
    assert len(hook.requests) == 1 and report["webhook:servicenow"]["undelivered"] == 1
    assert undelivered(lines)[0]["error"] == "HTTP 400: the webhook refused the event"


def test_a_wrong_key_is_refused_by_the_receiver(cloud):
    with WebhookReceiver({"hooks-1": "a-different-secret-0000000"}) as strict:
        run = hook_run(cloud, strict, MAX_ATTEMPTS="2")
        report, _ = deliver_to(run, some_events(run))
        assert report["webhook:servicenow"]["undelivered"] == 1
        assert strict.events == [] and strict.requests[0]["status"] == 401


def test_request_signing_keys_never_sign_webhooks(cloud):
    """A signed request read off the queue must never pass for a signed result: separate keys only."""
    with WebhookReceiver(SIGNING_KEYS) as receiver:
        run = make_run(
            cloud,
            RESULT_SINKS=sinks({"type": "webhook", "name": "ticketing", "key_id": "ticketing-2"}),
            WEBHOOK_URLS=json.dumps({"ticketing": receiver.url}),
        )
        report, lines = deliver_to(run, some_events(run))
        assert report["webhook:ticketing"] == {"delivered": 0, "undelivered": 1}
        assert receiver.requests == []
        assert "WEBHOOK_SIGNING_KEYS" in undelivered(lines)[0]["error"]
        # the same secret under a webhook key id is refused as well
        reused = {"hook-1": next(iter(SIGNING_KEYS.values()))}
        run = make_run(
            cloud,
            RESULT_SINKS=sinks({"type": "webhook", "name": "ticketing", "key_id": "hook-1"}),
            WEBHOOK_URLS=json.dumps({"ticketing": receiver.url}),
            WEBHOOK_SIGNING_KEYS=json.dumps(reused),
        )
        report, lines = deliver_to(run, some_events(run))
        assert report["webhook:ticketing"] == {"delivered": 0, "undelivered": 1} and receiver.requests == []
        assert "must not also be a request-signing secret" in undelivered(lines)[0]["error"]


def test_redirects_are_not_followed(cloud, hook):
    with WebhookReceiver(HOOK_KEYS) as elsewhere:
        hook.fail(None, 302, headers={"Location": elsewhere.url})
        run = hook_run(cloud, hook)
        report, lines = deliver_to(run, some_events(run))
        assert report["webhook:servicenow"]["undelivered"] == 1
        assert elsewhere.requests == []
        assert "redirect" in undelivered(lines)[0]["error"]


def test_the_url_never_comes_from_the_request(cloud, change, hook):
    """A change request naming a callback gets its result at the configured URL, and only there."""
    with WebhookReceiver(HOOK_KEYS) as attacker:
        request = change_request("add", [{"name": "web"}], callback_url=attacker.url, webhook=attacker.url)
        response = change(request, **hook_settings(cloud, hook))
        (result,) = results_of(response)
        assert hook.events == [result]
        assert attacker.requests == []


@pytest.mark.parametrize(
    "urls,entry,fragment",
    [
        ({"servicenow": "http://example.com/hook"}, {"type": "webhook", "name": "servicenow"}, "https://"),
        ({"servicenow": "ftp://127.0.0.1/x"}, {"type": "webhook", "name": "servicenow"}, "https://"),
        ({"servicenow": "https://user:pw@example.com/"}, {"type": "webhook", "name": "servicenow"}, "credentials"),
        ({"other": "https://example.com/"}, {"type": "webhook", "name": "servicenow"}, "no URL named 'servicenow'"),
        ({"servicenow": "https://example.com/"}, {"type": "webhook"}, "needs 'name'"),
        (
            {"servicenow": "https://example.com/"},
            {"type": "webhook", "name": "servicenow", "key_id": "nope"},
            "no signing secret",
        ),
        (
            {"servicenow": "https://example.com/"},
            {"type": "webhook", "name": "servicenow", "timeout_s": 99},
            "'timeout_s'",
        ),
    ],
    ids=["plain-http", "other-scheme", "credentials", "unknown-name", "no-name", "unknown-key", "bad-timeout"],
)
def test_a_bad_configuration_makes_every_result_undelivered_with_the_reason(cloud, urls, entry, fragment):
    run = make_run(
        cloud, RESULT_SINKS=sinks(entry), WEBHOOK_URLS=json.dumps(urls), WEBHOOK_SIGNING_KEYS=json.dumps(HOOK_KEYS)
    )
    events = some_events(run, 2)
    report, lines = deliver_to(run, events)
    assert report["undelivered"] == 2
    assert [line["event"] for line in undelivered(lines)] == events
    assert all(fragment in line["error"] and "SINK_CONFIG_INVALID" in line["error"] for line in undelivered(lines))


def test_an_unreachable_receiver_is_retried_then_undelivered(cloud, hook):
    url = hook.url
    hook.stop()
    run = make_run(
        cloud,
        RESULT_SINKS=sinks({"type": "webhook", "name": "gone"}),
        WEBHOOK_URLS=json.dumps({"gone": url}),
        WEBHOOK_SIGNING_KEYS=json.dumps(HOOK_KEYS),
        MAX_ATTEMPTS="2",
    )
    report, lines = deliver_to(run, some_events(run))
    assert report["webhook:gone"] == {"delivered": 0, "undelivered": 1}
    assert "NETWORK" in undelivered(lines)[0]["error"]

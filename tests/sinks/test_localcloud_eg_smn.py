"""localcloud's EG and SMN emulation, through the official SDK clients (what the sinks rely on)."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkeg.v1 import CloudEvents, EgClient, PutEventsReq, PutEventsRequest
from huaweicloudsdksmn.v2 import MessageAttribute, PublishMessageRequest, PublishMessageRequestBody, SmnClient

from tests.support.sdk import credentials_for, http_config
from tests.support.sinks import eg_events, smn_messages


def client(cloud, cls, credentials=None, bodies=None):
    builder = (
        cls.new_builder()
        .with_credentials(credentials or credentials_for(cloud))
        .with_endpoints([cloud.url])
        .with_http_config(http_config())
    )
    if bodies is not None:
        builder = builder.with_http_handler(
            HttpHandler().add_response_handler(
                lambda response, logger: bodies.append((response.status_code, response.text))
            )
        )
    return builder.build()


def cloud_event(index=1, **overrides):
    fields = dict(
        id=f"evt-{index}",
        source="sgguard",
        specversion="1.0",
        type="com.sgguard.change_request.succeeded",
        datacontenttype="application/json",
        time="2026-11-28T21:00:00.123Z",
        data={"n": index},
    )
    fields.update(overrides)
    return CloudEvents(**fields)


def put(eg, channel_id, *events):
    return eg.put_events(PutEventsRequest(channel_id=channel_id, body=PutEventsReq(events=list(events))))


def publish(smn, urn, message="hello", **body):
    return smn.publish_message(
        PublishMessageRequest(topic_urn=urn, body=PublishMessageRequestBody(message=message, **body))
    )


# ---- EG -----------------------------------------------------------------------------------------
def test_put_events_records_every_event_and_answers_per_event(cloud, channel):
    eg = client(cloud, EgClient)
    response = put(eg, channel, cloud_event(1), cloud_event(2))
    assert response.failed_count == 0
    assert [entry.event_id for entry in response.events] == ["evt-1", "evt-2"]
    received = eg_events(cloud, channel)
    assert [r["event"]["id"] for r in received] == ["evt-1", "evt-2"]
    assert received[0]["event"]["data"] == {"n": 1}
    state = cloud.state()["projects"][cloud.project_id]["eg"]
    assert [c["id"] for c in state["channels"]] == [channel] and len(state["events"]) == 2


def test_an_unknown_event_source_fails_that_event_only(cloud, channel):
    response = put(client(cloud, EgClient), channel, cloud_event(1), cloud_event(2, source="intruder"))
    assert response.failed_count == 1
    failed = [entry for entry in response.events if entry.error_code]
    assert [(f.event_id, f.error_code) for f in failed] == [("evt-2", "EG.00513000")]
    assert [r["event"]["id"] for r in eg_events(cloud, channel)] == ["evt-1"]


@pytest.mark.parametrize(
    "event,fragment",
    [
        (cloud_event(1, specversion="0.3"), "specversion"),
        (cloud_event(1, datacontenttype="text/plain"), "datacontenttype"),
        (cloud_event(1, time="yesterday"), "time"),
        (cloud_event(1, data={"x": "y" * 70000}), "bytes per event"),
    ],
)
def test_an_invalid_event_refuses_the_whole_request(cloud, channel, event, fragment):
    bodies = []
    eg = client(cloud, EgClient, bodies=bodies)
    with pytest.raises(ClientRequestException) as caught:
        put(eg, channel, cloud_event(9), event)
    assert (caught.value.status_code, caught.value.error_code) == (400, "EG.00014000")
    assert fragment in caught.value.error_msg
    body = json.loads(bodies[-1][1])
    assert set(body) == {"request_id", "error_code", "error_msg"}
    assert eg_events(cloud, channel) == []


def test_a_missing_required_attribute_is_refused(cloud, channel):
    eg = client(cloud, EgClient)
    event = cloud_event(1)
    event._type = None  # the model refuses None in its constructor; send it anyway
    with pytest.raises(ClientRequestException) as caught:
        put(eg, channel, event)
    assert "events[0].type is required" in caught.value.error_msg


def test_more_than_20_events_is_refused(cloud, channel):
    with pytest.raises(ClientRequestException) as caught:
        put(client(cloud, EgClient), channel, *[cloud_event(i) for i in range(21)])
    assert "at most 20" in caught.value.error_msg


def test_unknown_channel_is_404(cloud):
    with pytest.raises(ClientRequestException) as caught:
        put(client(cloud, EgClient), "4c4c4c4c-0000-4000-8000-000000000000", cloud_event())
    assert (caught.value.status_code, caught.value.error_code) == (404, "EG.00014040")


def test_eg_checks_the_signature(cloud, channel):
    wrong = credentials_for(cloud, sk="not-the-secret-key-0000000000")
    with pytest.raises(ClientRequestException) as caught:
        put(client(cloud, EgClient, credentials=wrong), channel, cloud_event())
    assert (caught.value.status_code, caught.value.error_code) == (401, "APIGW.0301")


def test_channel_names_are_unique(cloud, channel):
    from localcloud.client import ControlError

    with pytest.raises(ControlError) as caught:
        cloud._call("POST", "eg/channels", {"name": "sgguard-results"})
    assert caught.value.body["error_code"] == "EG.00513001"


# ---- SMN ----------------------------------------------------------------------------------------
def test_publish_records_the_message_with_its_attributes(cloud, topic):
    smn = client(cloud, SmnClient)
    response = publish(
        smn,
        topic,
        subject="hi",
        message_attributes=[
            MessageAttribute(name="outcome", type="STRING", value="failed"),
            MessageAttribute(name="systems", type="STRING_ARRAY", value=["jira", "servicenow"]),
        ],
    )
    (message,) = smn_messages(cloud, topic)
    assert message["message_id"] == response.message_id and message["request_id"] == response.request_id
    assert message["subject"] == "hi" and message["message"] == "hello"
    assert message["message_attributes"] == [
        {"name": "outcome", "type": "STRING", "value": "failed"},
        {"name": "systems", "type": "STRING_ARRAY", "value": ["jira", "servicenow"]},
    ]
    assert cloud.state()["projects"][cloud.project_id]["smn"]["messages"][0]["message_id"] == response.message_id


def test_unknown_topic_is_smns_own_404_body(cloud, topic):
    bodies = []
    with pytest.raises(ClientRequestException) as caught:
        publish(client(cloud, SmnClient, bodies=bodies), topic.replace("sgguard-results", "nope"))
    assert (caught.value.status_code, caught.value.error_code, caught.value.error_msg) == (
        404,
        "SMN.0006",
        "Topic not found.",
    )
    body = json.loads(bodies[-1][1])
    assert set(body) == {"request_id", "code", "message"} and body["code"] == "SMN.0006"


@pytest.mark.parametrize(
    "attribute,fragment",
    [
        (MessageAttribute(name="Outcome", type="STRING", value="x"), "name"),
        (MessageAttribute(name="a__b", type="STRING", value="x"), "name"),
        (MessageAttribute(name="outcome", type="STRING", value="has space"), "STRING value"),
        (MessageAttribute(name="outcome", type="STRING", value="x" * 33), "STRING value"),
        (MessageAttribute(name="outcome", type="NUMBER", value="1"), "type must be"),
        (MessageAttribute(name="outcome", type="STRING_ARRAY", value=["a", "a"]), "distinct"),
    ],
)
def test_invalid_message_attributes_are_refused(cloud, topic, attribute, fragment):
    with pytest.raises(ClientRequestException) as caught:
        publish(client(cloud, SmnClient), topic, message_attributes=[attribute])
    assert caught.value.status_code == 400 and fragment in caught.value.error_msg
    assert smn_messages(cloud, topic) == []


def test_a_message_over_256_kb_is_refused(cloud, topic):
    with pytest.raises(ClientRequestException) as caught:
        publish(client(cloud, SmnClient), topic, message="x" * (256 * 1024 + 1))
    assert caught.value.status_code == 400


def test_injected_faults_hit_smn_too(cloud, topic):
    cloud.add_fault(kind="error500", path="/v2/*/notifications/topics/*/publish", count=1)
    with pytest.raises(ServerResponseException):
        publish(client(cloud, SmnClient), topic)
    publish(client(cloud, SmnClient), topic)
    assert len(smn_messages(cloud, topic)) == 1


def test_publishing_announces_the_message_to_matching_subscriptions(cloud, topic):
    everything = cloud._call(
        "POST", "smn/subscriptions", {"topic_urn": topic, "protocol": "functionstage", "endpoint": "urn:fss:all"}
    )["subscription"]
    failures = cloud._call(
        "POST",
        "smn/subscriptions",
        {
            "topic_urn": topic,
            "protocol": "functionstage",
            "endpoint": "urn:fss:failures",
            "filter_polices": [{"name": "outcome", "string_equals": ["failed", "rolled_back"]}],
        },
    )["subscription"]
    heard = []
    listener = lambda **payload: heard.append(payload)  # noqa: E731
    cloud.backend.subscribe("smn.message_published", listener)
    try:
        smn = client(cloud, SmnClient)
        publish(smn, topic, message_attributes=[MessageAttribute(name="outcome", type="STRING", value="succeeded")])
        publish(smn, topic, message_attributes=[MessageAttribute(name="outcome", type="STRING", value="failed")])
    finally:
        cloud.backend.listeners["smn.message_published"].remove(listener)
    assert [[s["subscription_urn"] for s in h["subscriptions"]] for h in heard] == [
        [everything["subscription_urn"]],
        [everything["subscription_urn"], failures["subscription_urn"]],
    ]
    assert heard[1]["topic_urn"] == topic and heard[1]["project_id"] == cloud.project_id
    assert heard[1]["message"]["message_attributes"][0]["value"] == "failed"

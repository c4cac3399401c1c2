"""parse_envelope: one test per trigger kind, plus malformed and unknown shapes."""

import base64
import json

import pytest

from shared.errors import ErrorCode, ErrorDetail
from shared.runtime.envelopes import (
    ENVELOPE_KINDS,
    Envelope,
    InboundMessage,
    apig_response,
    is_cloudevent,
    parse_envelope,
)
from shared.validation import decode_json_message

REQ_A = {"request_id": "CHG-A", "change": {"action": "add"}}
REQ_B = {"request_id": "CHG-B", "change": {"action": "remove"}}
TEXT_A, TEXT_B = json.dumps(REQ_A), json.dumps(REQ_B)
CTS_TRACE = {
    "trace_id": "7c1d2e3f-0000-4c6d-8e7f-9a0b1c2d3e4f",
    "trace_name": "createServer",
    "trace_type": "ApiCall",
    "service_type": "ECS",
    "resource_type": "ecs",
    "resource_id": "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60",
    "code": "200",
    "time": 1795899600000,
    "response": {
        "job_id": "ff80",
        "status": "SUCCESS",
        "entities": {"server_id": "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60"},
    },
}


def cloudevent(data, **extra):
    return {
        "specversion": "1.0",
        "id": "ev-1",
        "source": "HC.ECS",
        "type": "ECS:CloudTrace:ApiCall",
        "datacontenttype": "application/json",
        "data": data,
        **extra,
    }


def bodies(envelope: Envelope):
    return [message.body for message in envelope.messages]


def assert_unknown(envelope: Envelope):
    assert envelope.kind == "unknown"
    assert envelope.messages == []
    assert isinstance(envelope.error, ErrorDetail)
    assert (envelope.error.code, envelope.error.path) == (ErrorCode.UNKNOWN_ENVELOPE, "$")


# ---------------------------------------------------------------- kafka / rabbitmq


def kafka_event(**overrides):
    event = {
        "event_version": "v1.0",
        "event_time": 1795899600,
        "trigger_type": "KAFKA",
        "region": "ap-southeast-3",
        "instance_id": "inst-1",
        "records": [{"messages": [TEXT_A, TEXT_B], "topic_id": "t1"}, {"messages": [TEXT_A], "topic_id": "t2"}],
    }
    event.update(overrides)
    return event


def test_kafka():
    envelope = parse_envelope(kafka_event())
    assert envelope.kind == "kafka" and envelope.error is None
    assert bodies(envelope) == [TEXT_A, TEXT_B, TEXT_A]
    assert [m.index for m in envelope.messages] == [0, 1, 2]
    assert [m.source for m in envelope.messages] == [
        "$.records[0].messages[0]",
        "$.records[0].messages[1]",
        "$.records[1].messages[0]",
    ]
    assert envelope.messages[2].meta == {"record_index": 1, "topic_id": "t2", "message_index": 0}
    assert envelope.meta["instance_id"] == "inst-1" and envelope.meta["trigger_type"] == "KAFKA"


@pytest.mark.parametrize(
    "trigger_type, kind",
    [
        ("KAFKA", "kafka"),
        ("DMS", "kafka"),
        ("DMS_KAFKA", "kafka"),
        ("RABBITMQ", "rabbitmq"),
        ("DMS_RABBITMQ", "rabbitmq"),
        ("rabbitmq", "rabbitmq"),
    ],
)
def test_records_trigger_types(trigger_type, kind):
    assert parse_envelope(kafka_event(trigger_type=trigger_type)).kind == kind


def test_records_without_trigger_type_are_kafka():
    event = kafka_event()
    del event["trigger_type"]
    assert parse_envelope(event).kind == "kafka"


def test_poison_kafka_message_stays_as_found_and_alone():
    event = kafka_event(records=[{"messages": [TEXT_A, 42, None, "not json", {"already": "dict"}, TEXT_B]}])
    envelope = parse_envelope(event)
    assert bodies(envelope) == [TEXT_A, 42, None, "not json", {"already": "dict"}, TEXT_B]
    decoded = [decode_json_message(m.body) for m in envelope.messages]
    assert [error is None for _, error in decoded] == [True, False, False, False, True, True]


def test_record_without_messages_list_becomes_one_poison_message():
    event = kafka_event(records=[{"topic_id": "t1"}, "junk", {"messages": [TEXT_A]}])
    envelope = parse_envelope(event)
    assert envelope.kind == "kafka"
    assert len(envelope.messages) == 3
    first, second, third = envelope.messages
    assert first.decode_error.code == ErrorCode.UNKNOWN_ENVELOPE and first.decode_error.path == "$.records[0]"
    assert second.body == "junk" and second.decode_error.path == "$.records[1]"
    assert third.body == TEXT_A and third.decode_error is None


def test_empty_batch_is_kafka_with_no_messages():
    envelope = parse_envelope(kafka_event(records=[]))
    assert (envelope.kind, envelope.messages, envelope.error) == ("kafka", [], None)


@pytest.mark.parametrize("records", [5, "x", {"messages": []}, None])
def test_records_not_a_list_is_unknown(records):
    assert_unknown(parse_envelope(kafka_event(records=records)))


def test_trigger_type_without_records_is_unknown():
    assert_unknown(parse_envelope({"trigger_type": "KAFKA", "event_version": "v1.0"}))


def test_rabbitmq():
    event = kafka_event(trigger_type="RABBITMQ", records=[{"messages": [TEXT_B], "topic_id": "q"}])
    envelope = parse_envelope(event)
    assert envelope.kind == "rabbitmq" and bodies(envelope) == [TEXT_B]


# ---------------------------------------------------------------- smn


def smn_event(*messages):
    return {
        "record": [
            {
                "event_version": "1.0",
                "event_source": "smn",
                "event_subscription_urn": "urn:fss:sub",
                "smn": {
                    "topic_urn": "urn:smn:region:pid:topic",
                    "timestamp": "2026-11-28T21:00:00Z",
                    "message": m,
                    "message_id": f"mid-{i}",
                    "subject": "s",
                    "type": "notification",
                    "message_attributes": None,
                },
            }
            for i, m in enumerate(messages)
        ],
        "functionname": "fn",
        "requestId": "rid",
        "timestamp": "2026-11-28T21:00:00Z",
    }


def test_smn():
    envelope = parse_envelope(smn_event(TEXT_A, TEXT_B))
    assert envelope.kind == "smn"
    assert bodies(envelope) == [TEXT_A, TEXT_B]
    assert envelope.messages[1].meta["message_id"] == "mid-1"
    assert envelope.messages[1].meta["topic_urn"] == "urn:smn:region:pid:topic"
    assert envelope.messages[1].source == "$.record[1].smn.message"
    assert envelope.meta == {"function_name": "fn", "request_id": "rid", "timestamp": "2026-11-28T21:00:00Z"}


def test_smn_record_without_message_is_poison():
    event = smn_event(TEXT_A)
    event["record"].append({"smn": {"topic_urn": "x"}})
    envelope = parse_envelope(event)
    assert len(envelope.messages) == 2
    assert envelope.messages[0].decode_error is None
    assert envelope.messages[1].decode_error.path == "$.record[1]"


def test_smn_record_not_a_list_is_unknown():
    assert_unknown(parse_envelope({"record": {"smn": {"message": TEXT_A}}}))


# ---------------------------------------------------------------- apig


def apig_event(body, b64=False):
    return {
        "httpMethod": "POST",
        "path": "/v1/change-requests",
        "headers": {"authorization": "Bearer secret"},
        "body": body,
        "isBase64Encoded": b64,
        "requestContext": {"requestId": "req-123", "sourceIp": "203.0.113.10", "stage": "RELEASE"},
    }


def test_apig():
    envelope = parse_envelope(apig_event(TEXT_A))
    assert envelope.kind == "apig"
    assert bodies(envelope) == [TEXT_A]
    meta = envelope.messages[0].meta
    assert meta["request_id"] == "req-123" and meta["http_method"] == "POST" and meta["source_ip"] == "203.0.113.10"
    assert "headers" not in meta  # headers may carry credentials: never copied


def test_apig_base64():
    envelope = parse_envelope(apig_event(base64.b64encode(TEXT_A.encode()).decode(), b64=True))
    assert envelope.kind == "apig"
    assert bodies(envelope) == [TEXT_A.encode()]
    assert decode_json_message(envelope.messages[0].body) == (REQ_A, None)


def test_apig_bad_base64_is_marked_on_the_message():
    envelope = parse_envelope(apig_event("***not base64***", b64=True))
    assert envelope.kind == "apig" and envelope.error is None
    (message,) = envelope.messages
    assert message.body == "***not base64***"
    assert message.meta["decode_error"] == message.decode_error
    assert (message.decode_error.code, message.decode_error.path) == (ErrorCode.INVALID_JSON, "$.body")


def test_apig_json_list_body_is_one_message_per_element():
    envelope = parse_envelope(apig_event(json.dumps([REQ_A, REQ_B])))
    assert bodies(envelope) == [REQ_A, REQ_B]
    assert [m.source for m in envelope.messages] == ["$.body[0]", "$.body[1]"]


def test_apig_base64_json_list_body():
    encoded = base64.b64encode(json.dumps([REQ_A, REQ_B]).encode()).decode()
    assert bodies(parse_envelope(apig_event(encoded, b64=True))) == [REQ_A, REQ_B]


def test_apig_broken_list_body_stays_one_raw_message():
    envelope = parse_envelope(apig_event("[1, 2"))
    assert bodies(envelope) == ["[1, 2"]


@pytest.mark.parametrize("body", [None, "", {"already": "decoded"}])
def test_apig_odd_bodies_stay_as_found(body):
    envelope = parse_envelope(apig_event(body))
    assert envelope.kind == "apig" and bodies(envelope) == [body]


def test_apig_response():
    response = apig_response(400, {"outcome": "rejected", "note": "caf\u00e9"})
    assert response["statusCode"] == 400
    assert response["headers"] == {"Content-Type": "application/json"}
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"]) == {"outcome": "rejected", "note": "caf\u00e9"}


# ---------------------------------------------------------------- eventgrid / cts


def test_eventgrid_single_cloudevent():
    envelope = parse_envelope(cloudevent(REQ_A, subject="srv"))
    assert envelope.kind == "eventgrid"
    assert bodies(envelope) == [REQ_A]
    assert envelope.messages[0].meta["id"] == "ev-1"
    assert envelope.messages[0].meta["source"] == "HC.ECS"
    assert envelope.messages[0].meta["type"] == "ECS:CloudTrace:ApiCall"
    assert envelope.messages[0].source == "$.data"


def test_eventgrid_carrying_a_cts_trace_is_still_eventgrid():
    envelope = parse_envelope(cloudevent(CTS_TRACE))
    assert envelope.kind == "eventgrid" and bodies(envelope) == [CTS_TRACE]


def test_eventgrid_list_of_cloudevents():
    envelope = parse_envelope([cloudevent(REQ_A, id="e1"), cloudevent(REQ_B, id="e2")])
    assert envelope.kind == "eventgrid"
    assert bodies(envelope) == [REQ_A, REQ_B]
    assert [m.meta["id"] for m in envelope.messages] == ["e1", "e2"]
    assert [m.source for m in envelope.messages] == ["$[0].data", "$[1].data"]


def test_eventgrid_events_wrapper_with_a_poison_element():
    envelope = parse_envelope({"events": [cloudevent(REQ_A), {"not": "a cloudevent"}, cloudevent(TEXT_B)]})
    assert envelope.kind == "eventgrid"
    assert bodies(envelope) == [REQ_A, {"not": "a cloudevent"}, TEXT_B]
    assert envelope.messages[1].decode_error.path == "$.events[1]"
    assert envelope.messages[0].decode_error is None


def test_eventgrid_data_base64():
    event = cloudevent(None)
    del event["data"]
    event["data_base64"] = base64.b64encode(TEXT_A.encode()).decode()
    assert bodies(parse_envelope(event)) == [TEXT_A.encode()]
    event["data_base64"] = "%%%"
    (message,) = parse_envelope(event).messages
    assert message.decode_error.code == ErrorCode.INVALID_JSON


def test_cts():
    envelope = parse_envelope({"cts": CTS_TRACE})
    assert envelope.kind == "cts"
    assert bodies(envelope) == [CTS_TRACE]
    assert envelope.messages[0].meta["trace_name"] == "createServer"
    assert envelope.messages[0].source == "$.cts"


def test_cts_not_an_object_is_unknown():
    assert_unknown(parse_envelope({"cts": "trace"}))


# ---------------------------------------------------------------- timer / direct


@pytest.mark.parametrize("trigger_type", ["TIMER", "timer"])
def test_timer(trigger_type):
    event = {
        "version": "v1.0",
        "time": "2026-11-28T21:00:00Z",
        "trigger_type": trigger_type,
        "trigger_name": "nightly",
        "user_event": "audit",
    }
    envelope = parse_envelope(event)
    assert (envelope.kind, envelope.messages, envelope.error) == ("timer", [], None)
    assert envelope.meta["trigger_name"] == "nightly" and envelope.meta["user_event"] == "audit"


def test_direct_object():
    envelope = parse_envelope(REQ_A)
    assert envelope.kind == "direct"
    assert envelope.messages == [InboundMessage(0, REQ_A, "$", {})]


def test_direct_empty_object_is_one_message():
    assert bodies(parse_envelope({})) == [{}]


def test_direct_list():
    envelope = parse_envelope([REQ_A, "junk", REQ_B])
    assert envelope.kind == "direct"
    assert bodies(envelope) == [REQ_A, "junk", REQ_B]
    assert [m.source for m in envelope.messages] == ["$[0]", "$[1]", "$[2]"]


def test_list_mixing_cloudevents_and_requests_is_direct():
    envelope = parse_envelope([cloudevent(REQ_A), REQ_B])
    assert envelope.kind == "direct" and len(envelope.messages) == 2


def test_json_text_event_is_unwrapped_once():
    assert parse_envelope(json.dumps(REQ_A)).kind == "direct"
    assert parse_envelope(json.dumps(kafka_event()).encode()).kind == "kafka"


# ---------------------------------------------------------------- unknown


@pytest.mark.parametrize(
    "event",
    [
        None,
        0,
        3.5,
        True,
        "not json",
        "",
        b"\xff\xfe",
        "42",
        '"text"',
        [],
        object(),
        {"records": "x"},
        {"record": 7},
        {"cts": None},
        {"trigger_type": "OBS"},
    ],
    ids=[
        "none",
        "int",
        "float",
        "bool",
        "text",
        "empty_text",
        "bad_bytes",
        "json_number",
        "json_string",
        "empty_list",
        "object",
        "records_str",
        "record_int",
        "cts_none",
        "trigger_without_records",
    ],
)
def test_unknown_shapes(event):
    assert_unknown(parse_envelope(event))


def test_is_cloudevent():
    assert is_cloudevent(cloudevent({}))
    assert not is_cloudevent({"specversion": "1.0", "id": "x", "source": "y"})
    assert not is_cloudevent({"specversion": 1.0, "id": "x", "source": "y", "type": "z"})
    assert not is_cloudevent([])


def test_every_kind_is_listed():
    assert set(ENVELOPE_KINDS) == {
        "kafka",
        "rabbitmq",
        "smn",
        "apig",
        "eventgrid",
        "cts",
        "timer",
        "direct",
        "dead_letter",
        "unknown",
    }

"""Property tests: parse_envelope never raises, whatever arrives."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import ErrorCode, ErrorDetail
from shared.runtime.envelopes import ENVELOPE_KINDS, Envelope, InboundMessage, parse_envelope
from shared.validation import decode_json_message, validate_change_request

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.binary(max_size=20))
envelope_keys = st.sampled_from(
    [
        "records",
        "messages",
        "trigger_type",
        "record",
        "smn",
        "message",
        "httpMethod",
        "body",
        "isBase64Encoded",
        "requestContext",
        "requestId",
        "cts",
        "specversion",
        "id",
        "source",
        "type",
        "data",
        "data_base64",
        "events",
        "topic_id",
        "request_id",
    ]
)
envelope_like = st.recursive(
    scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=4),
        st.dictionaries(st.one_of(envelope_keys, st.text(max_size=8)), c, max_size=6),
    ),
    max_leaves=25,
)
trigger_types = st.sampled_from(["KAFKA", "RABBITMQ", "TIMER", "DMS", "SMN", 5, None])


def _check(envelope):
    assert isinstance(envelope, Envelope)
    assert envelope.kind in ENVELOPE_KINDS
    if envelope.kind == "unknown":
        assert isinstance(envelope.error, ErrorDetail) and envelope.error.code == ErrorCode.UNKNOWN_ENVELOPE
        assert envelope.messages == []
    else:
        assert envelope.error is None
    for position, message in enumerate(envelope.messages):
        assert isinstance(message, InboundMessage)
        assert message.index == position
        assert message.source.startswith("$")
        value, error = decode_json_message(message.body)
        if error is None:
            assert all(isinstance(e, ErrorDetail) for e in validate_change_request(value))
        else:
            assert value is None and isinstance(error, ErrorDetail)


@SETTINGS
@given(envelope_like)
def test_arbitrary_values_never_raise(event):
    _check(parse_envelope(event))


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(event):
    _check(parse_envelope(event))


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(event):
    _check(parse_envelope(event))


@SETTINGS
@given(
    trigger_types,
    st.lists(
        st.one_of(st.dictionaries(st.sampled_from(["messages", "topic_id"]), envelope_like, max_size=2), envelope_like),
        max_size=4,
    ),
)
def test_record_batches_never_raise(trigger_type, records):
    _check(parse_envelope({"trigger_type": trigger_type, "records": records}))


@SETTINGS
@given(envelope_like, st.one_of(st.booleans(), scalars))
def test_apig_shapes_never_raise(body, b64):
    _check(parse_envelope({"httpMethod": "POST", "body": body, "isBase64Encoded": b64, "requestContext": body}))


@SETTINGS
@given(envelope_like)
def test_json_text_of_arbitrary_values_never_raises(value):
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return
    _check(parse_envelope(text))

"""Result events: schema-valid CloudEvents that round-trip through the cloudevents SDK; redaction."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import ErrorCode, ErrorDetail
from shared.records import FrozenInstanceError
from shared.results import (
    OUTCOMES,
    REDACTED,
    EventMeta,
    new_result_data,
    redact,
    rejected,
    result_event,
    to_log_line,
)
from shared.schemas import load_schema
from shared.validation import validate_result_event

NOW = datetime(2026, 11, 28, 21, 0, 0, 123456, tzinfo=timezone.utc)
SERVER = "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60"
TICKET = {"system": "servicenow", "id": "CHG0031337", "requested_by": "alice@example.com"}


def full_data(outcome="succeeded"):
    """Every field of a result filled in, as the pipeline serialises it (data + where it came from)."""
    data = new_result_data(
        outcome,
        request_id="CHG-1",
        ticket=TICKET,
        server_id=SERVER,
        dry_run=True,
        nics=[
            {
                "port_id": "p1",
                "ip": "10.0.0.5",
                "before": ["sg-a"],
                "after": ["sg-b", "sg-a"],
                "status": "changed",
                "port_security_enabled": True,
            },
            {"port_id": "p2", "ip": None, "before": [], "after": []},
        ],
        warnings=[ErrorDetail(ErrorCode.SOFT_LIMIT_EXCEEDED, "6 groups", "$.change")],
        api_calls={"total": 5, "reads": 3, "writes": 2},
        plan=[{"op": "insert", "port_id": "p1", "groups": ["sg-b"], "index": 0}],
        effective_rules=[{"direction": "ingress", "port": 22}],
        rules_matched=["no-any-any"],
        reason="applied",
        retryable=False,
    )
    return data.to_dict(EventMeta(message_index=0, trigger="kafka", function="change_request", duration_ms=12.5))


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_builds_a_valid_event(outcome):
    event = result_event(new_result_data(outcome), function="change_request", now=NOW)
    assert validate_result_event(event) == []
    assert event["type"] == f"com.sgguard.change_request.{outcome}"


def test_full_event_validates_and_has_cloudevent_attributes():
    event = result_event(full_data(), function="change_request", now=NOW, event_id="evt-1")
    assert validate_result_event(event) == []
    assert event["specversion"] == "1.0"
    assert event["id"] == "evt-1"
    assert event["source"] == "urn:sgguard:function:change_request"
    assert event["subject"] == SERVER
    assert event["time"] == "2026-11-28T21:00:00.123Z"
    assert event["datacontenttype"] == "application/json"


def test_default_id_is_a_uuid4_hex_and_unique():
    first = result_event(new_result_data("skipped"), function="audit", now=NOW)
    second = result_event(new_result_data("skipped"), function="audit", now=NOW)
    assert re.fullmatch(r"[0-9a-f]{32}", first["id"])
    assert first["id"] != second["id"]


def test_no_subject_without_server_id():
    assert "subject" not in result_event(new_result_data("rejected"), function="change_request", now=NOW)


def test_time_is_utc_whatever_the_input_zone():
    local = NOW.astimezone(timezone(timedelta(hours=8)))
    assert result_event(new_result_data("failed"), function="x", now=local)["time"] == "2026-11-28T21:00:00.123Z"


def test_new_result_data_defaults():
    assert new_result_data("planned").to_dict() == {
        "outcome": "planned",
        "request_id": None,
        "ticket": None,
        "server_id": None,
        "dry_run": False,
        "errors": [],
        "warnings": [],
        "nics": [],
        "api_calls": {"total": 0, "reads": 0, "writes": 0},
    }


def test_new_result_data_does_not_share_lists():
    first, second = new_result_data("failed"), new_result_data("failed")
    first.errors.append(ErrorDetail("X", "y"))
    assert second.errors == []


def test_a_result_is_a_value_amended_by_copy():
    data = new_result_data("failed", request_id="CHG-1")
    with pytest.raises(FrozenInstanceError):
        data.reason = "mutated"  # type: ignore[misc]
    amended = data.replace(reason="why")
    assert (data.reason, amended.reason, amended.request_id) == (None, "why", "CHG-1")
    assert amended.to_dict(EventMeta(message_index=3))["message_index"] == 3 and "message_index" not in data.to_dict()


def test_outcomes_are_the_result_schemas_outcomes():
    # mypy checks each of OUTCOMES is a word of the Outcome Literal (no typing at run time)
    enum = load_schema("result.v1")["$defs"]["data"]["properties"]["outcome"]["enum"]
    assert OUTCOMES == tuple(enum) and len(set(OUTCOMES)) == len(OUTCOMES) == 12


def test_rejected_converts_error_details():
    errors = [
        ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "bad", "$.request_id"),
        {"code": "SIGNATURE_REQUIRED", "message": "sign it", "path": "$.signature"},
    ]
    data = rejected(errors, request_id="CHG-9")
    assert data.outcome == "rejected" and data.request_id == "CHG-9"
    assert data.to_dict()["errors"] == [
        {"code": "SCHEMA_VIOLATION", "message": "bad", "path": "$.request_id"},
        {"code": "SIGNATURE_REQUIRED", "message": "sign it", "path": "$.signature"},
    ]
    assert validate_result_event(result_event(data, function="change_request", now=NOW)) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda: new_result_data("done"),
        lambda: result_event({"outcome": "nope"}, function="x", now=NOW),
        lambda: result_event(new_result_data("failed"), function="Bad Name", now=NOW),
        lambda: result_event(new_result_data("failed"), function="x", now=datetime(2026, 1, 1)),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------- the schema catches producer bugs


def _event_with(mutate):
    event = result_event(full_data(), function="change_request", now=NOW, event_id="e")
    mutate(event)
    return event


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda e: e["data"].__setitem__("bogus", 1), "$.data.bogus"),
        (lambda e: e["data"].__setitem__("outcome", "done"), "$.data.outcome"),
        (lambda e: e["data"].pop("api_calls"), "$.data.api_calls"),
        (lambda e: e["data"]["api_calls"].__setitem__("writes", -1), "$.data.api_calls.writes"),
        (lambda e: e["data"]["errors"].append({"code": "X", "message": "m"}), "$.data.errors[0].path"),
        (lambda e: e["data"]["nics"][1].pop("before"), "$.data.nics[1].before"),
        (lambda e: e["data"]["nics"][0].__setitem__("extra", 1), "$.data.nics[0].extra"),
        (lambda e: e.__setitem__("specversion", "0.3"), "$.specversion"),
        (lambda e: e.__setitem__("type", "org.other.thing"), "$.type"),
        (lambda e: e.__setitem__("time", "yesterday"), "$.time"),
        (lambda e: e.pop("id"), "$.id"),
        (lambda e: e.__setitem__("Bad-Ext", 1), "$['Bad-Ext']"),
    ],
)
def test_result_schema_catches_producer_bugs(mutate, path):
    assert path in [error.path for error in validate_result_event(_event_with(mutate))]


def test_lowercase_extension_attributes_are_allowed():
    assert validate_result_event(_event_with(lambda e: e.__setitem__("traceparent", "00-abc"))) == []


# ---------------------------------------------------------------- cloudevents SDK round trip


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_round_trips_through_the_cloudevents_sdk(outcome):
    pytest.importorskip("cloudevents.core.formats.json", reason="needs the cloudevents 2.x core API")
    from cloudevents.core.bindings.http import HTTPMessage, from_structured, to_structured
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    data = full_data(outcome)
    event = result_event(data, function="change_request", now=NOW, event_id="evt-rt")
    wire = json.dumps(event).encode("utf-8")

    parsed = from_structured(
        HTTPMessage(headers={"content-type": "application/cloudevents+json"}, body=wire), JSONFormat(), CloudEvent
    )
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_id() == "evt-rt"
    assert parsed.get_source() == event["source"]
    assert parsed.get_type() == event["type"]
    assert parsed.get_subject() == SERVER
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_time() == NOW.replace(microsecond=123000)
    assert parsed.get_data() == data

    back = json.loads(to_structured(parsed, JSONFormat()).body)
    assert back["data"] == data
    assert {k: v for k, v in back.items() if k != "time"} == {k: v for k, v in event.items() if k != "time"}
    assert datetime.fromisoformat(back["time"].replace("Z", "+00:00")) == NOW.replace(microsecond=123000)


def test_legacy_cloudevents_http_api_reads_it_too():
    try:
        from cloudevents.v1.http import from_json  # cloudevents 2.x keeps the 1.x API here
    except ImportError:
        from cloudevents.http import from_json  # cloudevents 1.x

    event = result_event(full_data(), function="change_request", now=NOW, event_id="evt-legacy")
    parsed = from_json(json.dumps(event))
    assert parsed["id"] == "evt-legacy" and parsed["type"] == event["type"]
    assert parsed.data == event["data"]


# ---------------------------------------------------------------- secrets stay out


def test_redact_masks_secret_looking_keys_recursively():
    original = {
        "sk": "SECRET-SK",
        "ak": "AK-visible",
        "security_token": "tok",
        "password": "pw",
        "client_secret": "cs",
        "task_state": "spawning",
        "security_groups": ["sg-1"],
        "nested": [{"X-Auth-Token": "t", "api_key": "k", "db_sk": "x", "token_count": 3}],
        "signature": {"key_id": "k1", "timestamp": "2026-11-28T21:00:00Z", "value": "ab" * 32},
        "secret_but_null": None,
    }
    redacted = redact(original)
    assert redacted["sk"] == REDACTED and redacted["password"] == REDACTED
    assert redacted["security_token"] == REDACTED and redacted["client_secret"] == REDACTED
    assert redacted["ak"] == "AK-visible"
    assert redacted["task_state"] == "spawning" and redacted["security_groups"] == ["sg-1"]
    assert redacted["nested"][0] == {
        "X-Auth-Token": REDACTED,
        "api_key": REDACTED,
        "db_sk": REDACTED,
        "token_count": REDACTED,
    }
    assert redacted["signature"] == {"key_id": "k1", "timestamp": "2026-11-28T21:00:00Z", "value": REDACTED}
    assert redacted["secret_but_null"] is None
    assert original["sk"] == "SECRET-SK"  # input untouched


def test_to_log_line_is_one_redacted_json_line():
    event = result_event(full_data(), function="change_request", now=NOW, event_id="e")
    event["data"]["ticket"] = dict(TICKET, token="leak-me")
    line = to_log_line(event)
    assert "\n" not in line
    assert "leak-me" not in line
    parsed = json.loads(line)
    assert parsed["data"]["ticket"]["token"] == REDACTED
    assert parsed["id"] == "e"


def test_to_log_line_survives_non_json_values():
    assert json.loads(to_log_line({"when": NOW}))["when"].startswith("2026-11-28")


@settings(max_examples=100, deadline=None)
@given(
    outcome=st.sampled_from(OUTCOMES),
    request_id=st.one_of(st.none(), st.text(max_size=20)),
    server_id=st.one_of(st.none(), st.uuids().map(str)),
    dry_run=st.booleans(),
    errors=st.lists(
        st.builds(ErrorDetail, st.sampled_from(sorted(ErrorCode.all())), st.text(max_size=30), st.just("$")), max_size=3
    ),
)
def test_any_built_event_validates(outcome, request_id, server_id, dry_run, errors):
    data = new_result_data(outcome, request_id=request_id, server_id=server_id, dry_run=dry_run, errors=list(errors))
    event = result_event(data, function="change_request", now=NOW)
    assert validate_result_event(event) == []
    assert ("subject" in event) == bool(server_id)

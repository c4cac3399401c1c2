"""Byte-level fuzzing: real samples, mutated, through every parser and both handlers.

No exception escapes, every input gets a result, and nothing malformed ever passes for valid:
a mutated request that still validates and verifies must mean exactly what was signed.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from hypothesis import given

from shared.canonical_json import canonical_json
from shared.errors import ErrorCode, ErrorDetail
from shared.flows.cts import read_creation_trace
from shared.flows.policy import Policy, PolicyError, evaluate, parse_policy
from shared.model import Port, Server, is_uuid
from shared.runtime.envelopes import ENVELOPE_KINDS, Envelope, parse_envelope
from shared.signing import verify_request_signature
from shared.validation import decode_json_message, validate_change_request
from tests.fuzz.corpus import (
    CHANGE_EVENTS,
    ECS_EVENTS,
    KEYS,
    POLICY,
    REQUESTS,
    SETTINGS,
    as_event,
    check_change_request,
    check_ecs_created,
    inner_requests,
    make_context,
    mutated,
    mutated_tree,
)
from tests.support.functions import load_handler

ALL_EVENTS = list(CHANGE_EVENTS.values()) + list(ECS_EVENTS.values())
SIGNED_AT = datetime(2026, 11, 28, 21, 0, 30, tzinfo=timezone.utc)


def _check_envelope(envelope: Envelope) -> None:
    assert isinstance(envelope, Envelope) and envelope.kind in ENVELOPE_KINDS
    assert (envelope.error is not None) == (envelope.kind == "unknown")
    assert [m.index for m in envelope.messages] == list(range(len(envelope.messages)))
    for message in envelope.messages:
        value, error = decode_json_message(message.body)
        if error is None:
            assert all(isinstance(e, ErrorDetail) for e in validate_change_request(value))
            read_creation_trace(value)
        else:
            assert value is None and error.code in (ErrorCode.INVALID_JSON, ErrorCode.MESSAGE_TOO_LARGE)


@SETTINGS
@given(mutated(ALL_EVENTS))
def test_mutated_envelopes_parse_without_raising(raw):
    _check_envelope(parse_envelope(raw))  # as delivered text/bytes
    _check_envelope(parse_envelope(as_event(raw)))  # as the runtime's parsed JSON


def _unsigned(value: dict) -> dict:
    return {k: v for k, v in value.items() if k != "signature"}


@SETTINGS
@given(mutated(REQUESTS))
def test_a_mutated_request_is_refused_or_means_exactly_what_was_signed(raw):
    value, error = decode_json_message(raw)
    if error is not None:
        assert value is None and error.code in (ErrorCode.INVALID_JSON, ErrorCode.MESSAGE_TOO_LARGE)
        return
    errors = validate_change_request(value)
    assert all(e.code == ErrorCode.SCHEMA_VIOLATION and e.path.startswith("$") for e in errors)
    if errors:
        return
    signature_errors = verify_request_signature(value, keys=KEYS, now=SIGNED_AT)
    if signature_errors:
        assert all(isinstance(e, ErrorDetail) for e in signature_errors)
        return
    # it passed: then its content must be one of the originals (whitespace or key order may differ)
    originals = {canonical_json(_unsigned(json.loads(r))) for r in REQUESTS}
    assert canonical_json(_unsigned(value)) in originals


@SETTINGS
@given(mutated(list(ECS_EVENTS.values())))
def test_mutated_creation_traces_are_read_or_skipped(raw):
    event = as_event(raw)
    trace = event.get("cts", event.get("data")) if isinstance(event, dict) else event
    reading = read_creation_trace(trace)
    assert all(is_uuid(server_id) for server_id in reading.server_ids)
    assert bool(reading.skip_reason) != bool(reading.server_ids)
    assert reading.job_id is None or (isinstance(reading.job_id, str) and len(reading.job_id) <= 64)


SERVER = Server(
    "c0000000-0000-4000-8000-000000000001",
    "web-01",
    "ACTIVE",
    tags={"env": "prod", "role": "web"},
    vpc_id="9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50",
    primary_port_id="d0000000-0000-4000-8000-000000000001",
)
PORTS = [
    Port(
        "d0000000-0000-4000-8000-000000000001",
        SERVER.id,
        "compute:az1",
        "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03",
        [("5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03", "10.0.9.10")],
        ["default"],
    )
]


@SETTINGS
@given(mutated([POLICY]))
def test_a_mutated_policy_parses_or_fails_with_a_path(raw):
    text = raw.decode("utf-8", "replace")
    try:
        policy = parse_policy(text)
    except PolicyError as error:
        assert error.errors and all(e.path.startswith("$") for e in error.errors)
        return
    assert isinstance(policy, Policy)
    evaluate(policy, SERVER, PORTS, date(2026, 11, 28))


# ---- the handlers, end to end, with no cloud ----------------------------------------------------
@pytest.fixture(scope="module")
def change_request():
    return load_handler("change_request"), make_context("change_request")


@pytest.fixture(scope="module")
def ecs_created():
    return load_handler("ecs_created"), make_context("ecs_created")


@SETTINGS
@given(mutated(list(CHANGE_EVENTS.values())))
def test_change_request_handler_answers_every_mutated_event(change_request, raw):
    check_change_request(*change_request, as_event(raw))


@SETTINGS
@given(mutated_tree(list(CHANGE_EVENTS.values()) + inner_requests(CHANGE_EVENTS)))
def test_change_request_handler_answers_every_event_with_mutated_parts(change_request, event_):
    check_change_request(*change_request, event_)


@SETTINGS
@given(mutated(list(ECS_EVENTS.values())))
def test_ecs_created_handler_answers_every_mutated_event(ecs_created, raw):
    check_ecs_created(*ecs_created, as_event(raw))


@SETTINGS
@given(mutated_tree(list(ECS_EVENTS.values())))
def test_ecs_created_handler_answers_every_event_with_mutated_parts(ecs_created, event_):
    check_ecs_created(*ecs_created, event_)

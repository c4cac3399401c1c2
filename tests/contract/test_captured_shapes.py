"""Captured shapes as regression tests: every fixture under ``tests/fixtures/captured/`` (written by
``sgguard capture``, see its README) is synthesised back into an event with that shape and fed to
the envelope parser and the CTS readers, which must understand it or refuse it with a reason,
never crash. A shape from a real account, dropped into that folder, becomes a test.

The synthesised event has the captured keys, types, trace names and identity forms; its ids are
fresh uuids, its strings filler of the recorded length (``shared.shapes.synthesise``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.flows.cts import read_creation_trace, read_drift_trace
from shared.runtime.envelopes import parse_envelope
from shared.shapes import FORMAT, is_placeholder, is_vocabulary_word, shape_of, synthesise
from shared.validation import decode_json_message, validate_change_request

CAPTURED = Path(__file__).resolve().parents[1] / "fixtures" / "captured"
FIXTURES = sorted(CAPTURED.glob("*.json"))
CHANGE_REQUEST_KINDS = ("kafka", "rabbitmq", "smn", "apig", "direct")


def _entries() -> list[tuple[str, int, dict]]:
    return [
        (path.name, n, entry)
        for path in FIXTURES
        for n, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["shapes"])
    ]


def _event(entry: dict, agency: str | None = None) -> object:
    value = synthesise(entry["shape"], agency=agency)
    return {"cts": value} if entry["source"] == "cts_trace" else value


def test_the_folder_has_fixtures_in_the_format():
    assert FIXTURES, CAPTURED
    for path in FIXTURES:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["format"] == FORMAT and document["shapes"], path.name
        assert all(set(e) == {"source", "kind", "count", "shape"} for e in document["shapes"]), path.name


@pytest.mark.parametrize("name,number,entry", _entries(), ids=lambda v: v if isinstance(v, (str, int)) else "")
def test_a_captured_shape_is_understood_or_refused_with_a_reason(name, number, entry):
    envelope = parse_envelope(_event(entry))
    assert envelope.kind == entry["kind"], (name, number)  # read as the real event was
    if envelope.kind == "unknown":
        assert envelope.error is not None and envelope.error.message
        return
    for message in envelope.messages:
        if envelope.kind in ("cts", "eventgrid"):
            creation = read_creation_trace(message.body)
            assert creation.server_ids or creation.skip_reason, (name, number, creation)
            drift = read_drift_trace(message.body, agency="sgguard-functions")
            assert drift.kind or drift.skip_reason, (name, number, drift)
        if envelope.kind in CHANGE_REQUEST_KINDS or (envelope.kind == "eventgrid" and not _is_trace(message.body)):
            body, error = decode_json_message(message.body)
            if error is None:
                errors = validate_change_request(body)
                assert all(e.code and e.message for e in errors), (name, number)
            else:
                assert error.code and error.message


def _is_trace(body: object) -> bool:
    return isinstance(body, dict) and "trace_name" in body


def test_a_fixture_holds_only_placeholders_and_vocabulary():
    """What is committed here was redacted: re-shaping it changes nothing but the synthesised
    filler, and no leaf is anything but a placeholder or a vocabulary word."""
    for _, _, entry in _entries():
        text = json.dumps(entry["shape"])
        assert "@" not in text.replace("<email>", "")
        for leaf in _strings(entry["shape"]):
            media_type = leaf in ("application/json", "application/cloudevents+json")
            assert (
                leaf == "$json" or media_type or is_placeholder(leaf) or is_vocabulary_word(leaf) or len(leaf) <= 3
            ), leaf


def test_creation_forms_of_the_documentation_give_their_server():
    """The documented creation forms (CTS Example Traces: createSingleServer as a SystemAction with
    the finished job; createServer with serverIds; EventGrid ECS:CloudTrace:SystemAction) keep,
    once captured and synthesised, what ecs_created reads: a server id."""
    forms = json.loads((CAPTURED / "documented_forms.json").read_text(encoding="utf-8"))["shapes"]
    found = {}
    for entry in forms:
        for message in parse_envelope(_event(entry)).messages:
            reading = read_creation_trace(message.body)
            if reading.trace_name in ("createSingleServer", "createServer"):
                found[(entry["kind"], reading.trace_name)] = reading
    assert set(found) >= {("cts", "createServer"), ("eventgrid", "createSingleServer")}, found
    for key, reading in found.items():
        assert reading.server_ids or reading.skip_reason, key


def test_an_agency_session_of_our_agency_is_our_own_change():
    """Every captured trace whose user is an agency session (``principal_urn`` ``sts::...:
    assumed-agency:*/*``), synthesised as a session of SGGUARD_AGENCY, is skipped by sg_drift as its
    own change; as a session of another agency it is judged."""
    sessions = 0
    for name, number, entry in _entries():
        if "assumed-agency:*" not in json.dumps(entry["shape"]):
            continue
        for agency, own in (("sgguard-functions", True), ("someone-else", False)):
            for message in parse_envelope(_event(entry, agency=agency)).messages:
                if not _is_trace(message.body) or "assumed-agency" not in json.dumps(message.body):
                    continue
                drift = read_drift_trace(message.body, agency="sgguard-functions")
                sessions += 1
                assert (drift.skip_reason is not None) == own, (name, number, agency, drift)
    assert sessions >= 2


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_shape_of_a_synthesised_event_is_stable():
    for _, _, entry in _entries():
        assert shape_of(synthesise(shape_of(synthesise(entry["shape"])))) == shape_of(synthesise(entry["shape"]))

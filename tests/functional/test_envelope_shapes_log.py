"""LOG_ENVELOPE_SHAPES=N: a function logs the redacted shape of its first N envelopes per instance,
one JSON line each, and nothing of the values (the event here carries a requester's e-mail, a
ticket id and a server id)."""

from __future__ import annotations

import json

import pytest

import shared.runtime.handler as handler_module
from tests.support.functions import Invoker

REQUEST = {
    "request_id": "CHG-2026-0042",
    "ticket": {"system": "servicenow", "id": "CHG0031337", "requested_by": "alice@example.com"},
    "target": {"server_id": "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60"},
}
EVENT = {
    "event_version": "v1.0",
    "trigger_type": "KAFKA",
    "region": "cn-north-4",
    "instance_id": "81f7b8d6-2c4a-4f1e-9b3d-7a6c5e4d3b2a",
    "records": [{"messages": [json.dumps(REQUEST)], "topic_id": "sgguard-change-requests"}],
}


@pytest.fixture
def fresh_instance(monkeypatch):
    monkeypatch.setattr(handler_module, "_shapes_logged", 0)  # a new instance: nothing logged yet


def _shape_lines(invoke) -> list[dict]:
    return [line for line in invoke.log_lines if line.get("log") == "envelope_shape"]


def test_the_first_n_envelopes_are_logged_as_shapes(cloud, fresh_instance):
    invoke = Invoker(cloud, "change_request")
    logged = []
    for _ in range(3):
        invoke(EVENT, LOG_ENVELOPE_SHAPES="2")
        logged += _shape_lines(invoke)
    assert [line["number"] for line in logged] == [1, 2]
    first = logged[0]
    assert (first["function"], first["kind"], first["format"]) == ("change_request", "kafka", "sgguard-shapes/1")
    assert first["shape"]["trigger_type"] == "KAFKA"
    message = first["shape"]["records"][0]["messages"][0]["$json"]
    assert message["ticket"]["requested_by"] == "<email>"
    text = json.dumps(logged)
    for value in ("alice@example.com", "CHG0031337", "6f1b3c0e", "81f7b8d6", "CHG-2026-0042"):
        assert value not in text


def test_off_by_default(cloud, fresh_instance):
    invoke = Invoker(cloud, "change_request")
    invoke(EVENT)
    assert _shape_lines(invoke) == [] and handler_module._shapes_logged == 0


def test_a_bad_value_fails_loudly_with_its_name():
    from shared.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="LOG_ENVELOPE_SHAPES"):
        load_settings(environ={"LOG_ENVELOPE_SHAPES": "many"})

"""A dead letter of a dead letter on a broken configuration ends the cycle (and loses nothing silently).

With the function as its own on-failure destination (docs/retries.md), a configuration error makes
every invocation fail, the dead letter too: each give-up would invoke the function again with the
previous payload wrapped once more. The first dead letter still raises (the platform retries it, as
documented); one level deeper the messages are written to the log in full and the invocation ends.
"""

from __future__ import annotations

import json

import pytest

from shared.config import ConfigError
from tests.support.requests import change_request, kafka

BROKEN = {"CONCURRENCY": "lots"}  # any malformed setting: the invocation fails before any message


def destination_payload(event: dict, depth_request_id: str = "req-1") -> dict:
    """What FunctionGraph sends the on_failure destination (huaweicloud-notes: destination payload)."""
    return {
        "timestamp": "2026-12-02T10:00:00Z",
        "request_context": {
            "request_id": depth_request_id,
            "function_urn": "urn:fss:cn-north-4:0a1b:function:default:change_request:latest",
            "condition": "RetriesExhausted",
            "approximate_invoke_count": 4,
        },
        "request_payload": json.dumps(event),
        "response_context": {"status_code": 200, "function_error": "ConfigError"},
        "response_payload": "",
    }


@pytest.fixture
def request_body():
    return change_request("add", [{"name": "web"}])


def test_the_first_dead_letter_on_a_broken_configuration_still_raises(change, request_body):
    with pytest.raises(ConfigError):
        change(destination_payload(kafka(request_body)), **BROKEN)


def test_a_dead_letter_of_a_dead_letter_logs_every_message_and_ends(change, request_body):
    event = destination_payload(destination_payload(kafka(request_body)), "req-2")
    response = change(event, **BROKEN)
    assert response["delivery"] == {"dead_letters_lost": 1}
    lost = [line for line in change.log_lines if line.get("log") == "dead_letter_lost"]
    assert len(lost) == 1 and lost[0]["depth"] == 2
    assert lost[0]["message"]["request_id"] == request_body["request_id"]  # the whole message, as received
    assert lost[0]["message"]["change"] == request_body["change"]
    assert lost[0]["message"]["signature"]["value"] != request_body["signature"]["value"]  # masked
    failed = [line for line in change.log_lines if line.get("data", {}).get("outcome") == "failed"]
    assert failed and all(e["code"] == "CONFIG_INVALID" for line in failed for e in line["data"]["errors"])

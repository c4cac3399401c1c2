"""sgguard invoke's signing of the samples (sgguard_cli.sample_signing) and its outcome summary
(sgguard_cli.outcomes): pure, no emulator."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from sgguard_cli.outcomes import outcome_counts, result_data, result_table, summary_line
from sgguard_cli.sample_signing import sign_event_requests
from shared.runtime.envelopes import parse_envelope
from shared.signing import sign_request, verify_request_signature
from shared.validation import decode_json_message
from tests.support.events import sample_events

KEYS = {"ticketing-1": "local-demo-signing-key-0001"}
STAMP = "2026-11-28T21:00:00Z"
NOW = datetime(2026, 11, 28, 21, 0, 30, tzinfo=timezone.utc)
SAMPLES = sample_events("change_request")


def sign(request):
    return sign_request(request, key_id="ticketing-1", secret=KEYS["ticketing-1"], timestamp=STAMP)


def requests_in(event) -> list[dict]:
    envelope = parse_envelope(event)
    assert envelope.error is None
    decoded = []
    for message in envelope.messages:
        request, error = decode_json_message(message.body)
        assert error is None, error
        decoded.append(request)
    return decoded


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_request_of_every_sample_is_signed_in_its_envelope_and_verifies(name):
    event = SAMPLES[name]
    signed, ids = sign_event_requests(event, sign)
    before, after = requests_in(event), requests_in(signed)
    assert ids == [r["request_id"] for r in before] and len(after) == len(before)
    for original, request in zip(before, after):
        assert verify_request_signature(request, keys=KEYS, now=NOW) == []
        assert {k: v for k, v in request.items() if k != "signature"} == original
    assert parse_envelope(signed).kind == parse_envelope(event).kind
    assert "signature" not in json.dumps(event)  # the argument is not changed


def test_the_base64_apig_body_stays_base64():
    signed, _ = sign_event_requests(SAMPLES["apig_base64"], sign)
    assert signed["isBase64Encoded"] is True
    assert "signature" in json.loads(base64.b64decode(signed["body"], validate=True))


def test_a_request_already_signed_and_a_non_request_are_left_alone():
    signed_request = sign({"request_id": "X-1", "change": {}})
    other = sign_request({"request_id": "X-1", "change": {}}, key_id="other", secret="s" * 16, timestamp=STAMP)
    assert sign_event_requests([other, {"server_id": "c0"}], sign) == ([other, {"server_id": "c0"}], [])
    assert sign_event_requests(signed_request, sign)[1] == []
    trace = sample_events("ecs_created")["cts"]
    assert sign_event_requests(trace, sign) == (trace, [])


def test_not_json_text_passes_through():
    event = {"records": [{"messages": ["not json", 7]}]}
    assert sign_event_requests(event, sign) == (event, [])


def _result(outcome, **data):
    return {"data": {"outcome": outcome, "request_id": "R", "server_id": "S", **data}}


def test_the_summary_counts_what_the_results_say_and_an_apig_body_is_read():
    response = {"results": [_result("succeeded"), _result("rejected", errors=[{"code": "X", "message": "m"}])]}
    counts = outcome_counts(result_data(response))
    assert counts == Counter({"succeeded": 1, "rejected": 1})
    assert summary_line(counts) == "2 results: 1 rejected, 1 succeeded"
    apig = {"statusCode": 200, "body": json.dumps(response)}
    assert outcome_counts(result_data(apig)) == counts
    assert summary_line(Counter()) == "no result" and result_data({"statusCode": 500, "body": "x"}) == []


def test_a_dry_run_prints_its_plan_by_group_name():
    nic = {"port_id": "p1", "ip": "10.0.0.1", "before": ["g1"], "after": ["g2", "g1"], "status": "planned"}
    results = [_result("planned", nics=[nic]), _result("rejected", errors=[{"code": "RISKY_RULE", "message": "no"}])]
    lines = result_table(result_data({"results": results}), {"g1": "web", "g2": "bastion"})
    assert lines[0].split() == ["OUTCOME", "REQUEST", "SERVER", "DETAIL"]
    assert any("RISKY_RULE: no" in line for line in lines)
    assert "plan (dry run, nothing written): 1 interface would change" in lines
    assert lines[-1].split() == ["R", "p1", "(10.0.0.1)", "web", "bastion,", "web"]

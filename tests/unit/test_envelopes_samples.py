"""Every sample under events/change_request is recognised as the kind its file name says."""

import json
from pathlib import Path

import pytest

from shared.runtime.envelopes import ENVELOPE_KINDS, parse_envelope
from shared.validation import decode_json_message, validate_change_request

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "events" / "change_request"
SAMPLES = sorted(SAMPLES_DIR.glob("*.json"))
EXPECTED_FILES = {
    "kafka.json",
    "rabbitmq.json",
    "smn.json",
    "apig.json",
    "apig_base64.json",
    "eventgrid.json",
    "direct.json",
    "direct_list.json",
}


def kind_of(path: Path) -> str:
    return path.stem.split("_", 1)[0]


def test_every_expected_sample_exists():
    assert EXPECTED_FILES <= {path.name for path in SAMPLES}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_is_recognised(path):
    assert kind_of(path) in ENVELOPE_KINDS
    envelope = parse_envelope(json.loads(path.read_text(encoding="utf-8")))
    assert envelope.error is None
    assert envelope.kind == kind_of(path)
    assert len(envelope.messages) >= 1


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_messages_are_valid_unsigned_requests(path):
    envelope = parse_envelope(json.loads(path.read_text(encoding="utf-8")))
    for message in envelope.messages:
        assert message.decode_error is None
        request, error = decode_json_message(message.body)
        assert error is None, error
        assert validate_change_request(request) == []
        assert "signature" not in request


def test_kafka_sample_has_three_messages():
    envelope = parse_envelope(json.loads((SAMPLES_DIR / "kafka.json").read_text(encoding="utf-8")))
    assert len(envelope.messages) == 3

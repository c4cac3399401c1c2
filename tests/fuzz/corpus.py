"""Seed corpus and byte-level mutations for the fuzz tests.

Mutating real samples (the events under ``events/``, signed requests, the example policy) reaches
much deeper into the parsers than random bytes, which rarely get past the first ``{``. Mutations
are drawn through hypothesis, so a failure shrinks to a small reproducible edit.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from shared.runtime.envelopes import parse_envelope
from shared.validation import validate_result_event

ROOT = Path(__file__).resolve().parents[2]
# FUZZ_EXAMPLES=5000 for a longer campaign; the default keeps the whole directory well under 30 s.
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KEYS = {"ticketing-1": "s3cret-signing-key-for-fuzzing-01"}
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens, a connection is refused at once


def _files(folder: str) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((ROOT / "events" / folder).glob("*.json"))}


CHANGE_EVENTS = _files("change_request")
ECS_EVENTS = _files("ecs_created")
POLICY = (ROOT / "policy.yaml").read_bytes()


def signed_requests() -> list[bytes]:
    from shared.signing import sign_request

    base = {
        "request_id": "CHG-fuzz-0001",
        "ticket": {
            "system": "servicenow",
            "id": "CHG0031337",
            "requested_by": "alice@example.com",
            "approved_by": "bob@example.com",
            "url": "https://tickets.example.com/CHG0031337",
        },
        "target": {
            "server_id": "c0000000-0000-4000-8000-000000000001",
            "nics": [
                {"port_id": "d0000000-0000-4000-8000-000000000001"},
                {"ip": "10.0.2.10"},
                {"subnet_id": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03"},
            ],
        },
        "change": {
            "action": "add",
            "position": 0,
            "security_groups": [{"name": "web"}, {"id": "a0000000-0000-4000-8000-000000000008"}],
        },
        "dry_run": False,
    }
    variants = [
        base,
        {
            **base,
            "target": {"server_id": base["target"]["server_id"], "nics": "all"},
            "change": {"action": "replace", "security_groups": [{"name": "baseline"}]},
        },
        {  # issue 19: identities of other scripts and an IDN domain, for mutations to dress up
            **base,
            "ticket": {**base["ticket"], "requested_by": "zoë.müller@bücher.example", "approved_by": "нова"},
        },
    ]
    return [
        json.dumps(
            sign_request(v, key_id="ticketing-1", secret=KEYS["ticketing-1"], timestamp="2026-11-28T21:00:00Z")
        ).encode()
        for v in variants
    ]


REQUESTS = signed_requests()

_TOKENS = [
    b'"',
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\x00",
    b"\xff",
    b"\xc3\x28",
    b"\xef\xbb\xbf",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"NaN",
    b"Infinity",
    b"null",
    b"true",
    b"[[[[[[[[[[[[[[[[[[[[",
    b'{"a":',
    b'"../"',
    b"%2F",
    b"\xf0\x9f\x98\x80",
    b"9" * 40,
    b"\t\n",
    b"'",
    b"!!python/object:os.system",
    b"*anchor",
    b"&anchor",
    b"- ",
    b"? ",
    b"\n  - ",
    b"0x1F",
    b"2027-02-30",
    b'"records"',
    b'"messages"',
    # issue 10: float integers, final newlines, invisible and look-alike characters, hostile nesting
    b"1.0",
    b"1e0",
    b"\\n",
    b"\\u200b",
    b"\\u202e",
    b"\\ufeff",
    b"\xe2\x80\x8b",
    b"\xd0\xb0",
    b"\xef\xbd\x81",
    b'"sub_jobs": 5',
    b'"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["',
    # issue 19: identities dressed up (spaces, blank, display names, quotes, look-alikes, punycode)
    b"\xe2\x80\x8a",
    b"\xc2\xa0",
    b"\xe3\x80\x80",
    b"\xe2\xa0\x80",
    b"\\u2800",
    b"Alice <",
    b">",
    b'\\"alice\\"@',
    b"(c)",
    b"MAILTO:",
    b"\xc9\xa9",
    b"\xd6\x85",
    b"\xe1\x90\xa9",
    b"\xdb\xb0",
    b"@xn--bcher-kva.",
    b"@b\xc3\xbccher.",
    b"+tag@",
    b"..",
]


@st.composite
def mutated(draw, corpus: list[bytes]) -> bytes:
    """One corpus entry after 1-6 edits: bit flips, interesting tokens, deletions, duplications,
    truncation, or a splice with another entry."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "token", "delete", "insert", "duplicate", "truncate", "splice"]))
        size = len(data)
        at = draw(st.integers(0, max(0, size - 1))) if size else 0
        if op == "flip" and size:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "token":
            token = draw(st.sampled_from(_TOKENS))
            data[at : at + draw(st.integers(0, len(token)))] = token
        elif op == "delete" and size:
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "duplicate" and size:
            chunk = bytes(data[at : at + draw(st.integers(1, 64))])
            where = draw(st.integers(0, size))
            data[where:where] = chunk
        elif op == "truncate":
            del data[at:]
        elif op == "splice":
            other = draw(st.sampled_from(corpus))
            data = data[:at] + other[draw(st.integers(0, max(0, len(other) - 1))) :]
    return bytes(data)


def as_event(raw: bytes):
    """What an invoker would hand over: the parsed JSON when it still parses, else the raw text or bytes."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw


def make_context(function: str):
    from localcloud.runtime import FunctionContext

    user_data = {
        "REGION": "cn-north-4",
        "ECS_ENDPOINT": UNREACHABLE,
        "VPC_ENDPOINT": UNREACHABLE,
        "REQUEST_SIGNING_KEYS": json.dumps(KEYS),
        "REQUIRE_SIGNED_REQUESTS": "true",
        "CONNECT_TIMEOUT_S": "0.2",
        "READ_TIMEOUT_S": "0.2",
        "MAX_ATTEMPTS": "1",
        "SAFETY_MARGIN_MS": "0",
        "READINESS_MAX_WAIT_S": "0",
        "CONCURRENCY": "4",
        "GROUP_CACHE_TTL_S": "60",
        "PROJECT_ID": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
    }
    return FunctionContext(
        user_data=user_data,
        ak="FUZZAK000000000000",
        sk="fuzz-secret-key-000000000000",
        security_token="token",
        timeout_s=3600,
        function_name=function,
    )


def invoke(handler, event, context) -> tuple[object, list[dict], BaseException | None]:
    """(return value, the result events it logged, what it raised)."""
    out = io.StringIO()
    response, raised = None, None
    with redirect_stdout(out):
        try:
            response = handler(event, context)
        except Exception as error:  # noqa: BLE001 - the tests decide what may be raised
            raised = error
    logged = []
    for line in out.getvalue().split("\n"):  # the log is newline-delimited (not splitlines: U+2028...)
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict) and "specversion" in value:
                logged.append(value)
    return response, logged, raised


# ---- structure-aware mutations: the envelope stays JSON, its parts do not stay sane ------------
_STRINGS = [
    "",
    " ",
    "../../etc/passwd",
    "%2F..%2F",
    "a" * 300,
    "\u202e\u0000",
    "\ud800",
    "null",
    "{",
    "[]",
    "c0000000-0000-4000-8000-000000000001",
    "C0000000-0000-4000-8000-000000000001",
    "createServer",
    "ECS",
    "KAFKA",
    "TIMER",
    "1.0",
    "2026-11-28T21:00:00Z",
    "9" * 30,
    "primary",
    "all",
    "add",
    "SUCCESS",
]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(_STRINGS),
        st.text(max_size=20),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, prefix + (index,))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_tree(draw, corpus: list[bytes]):
    """A corpus entry as JSON with 1-4 of its nodes replaced, deleted, retyped or - for a string
    that holds JSON text, like a Kafka message - byte-mutated inside."""
    tree = json.loads(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(tree))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent, key = _get(tree, path[:-1]), path[-1]
        value = parent[key]
        op = draw(st.sampled_from(["replace", "delete", "inner", "inner", "wrap"]))
        if op == "inner" and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            parent[key] = draw(mutated([value.encode()])).decode("utf-8", "replace")
        elif op == "inner" and isinstance(value, (dict, list)):
            parent[key] = json.dumps(value)  # an object delivered as JSON text
        elif op == "delete":
            del parent[key]
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[value], {"data": value}, {"messages": [value]}]))
        else:
            parent[key] = draw(json_values)
    return tree


def inner_requests(events: dict[str, bytes]) -> list[bytes]:
    """Change-request samples whose messages are signed requests (as text): targets for ``inner``."""
    kafka = json.loads(events["kafka.json"])
    kafka["records"][0]["messages"] = [r.decode() for r in REQUESTS]
    return [json.dumps(kafka).encode()]


# ---- what every handler answer must look like ---------------------------------------------------
def event_kind(value) -> None:
    """For --hypothesis-show-statistics: how many mutants still reach the handler as JSON."""
    event(f"delivered as {type(value).__name__}, envelope {parse_envelope(value).kind}")


def _results(response) -> list[dict]:
    if isinstance(response, dict) and "statusCode" in response:
        assert response["statusCode"] in (200, 400) and response["isBase64Encoded"] is False
        return json.loads(response["body"])["results"]
    return response["results"]


def expected_results(value, accepts: tuple[str, ...]) -> int:
    """One result per message; one rejection for an unreadable envelope or a trigger the function doesn't serve."""
    envelope = parse_envelope(value)
    if envelope.error is not None or envelope.kind not in accepts:
        return max(1, len(envelope.messages))
    return len(envelope.messages)


def check_change_request(handler, context, event_) -> None:
    from shared.flows.change_request import ACCEPTS

    event_kind(event_)
    response, logged, raised = invoke(handler, event_, context)
    assert raised is None, repr(raised)
    results = _results(response)
    assert len(results) == expected_results(event_, ACCEPTS)
    assert [r["id"] for r in logged] == [r["id"] for r in results]  # each logged once
    for position, result in enumerate(results):
        assert validate_result_event(result) == [], result  # consumers validate against the result schema
        data = result["data"]
        assert data["outcome"] == "rejected"  # nothing garbled is ever authentic
        assert data["api_calls"]["total"] == 0  # ...so nothing reaches the cloud
        assert data["errors"] and data["message_index"] == (position if len(results) > 1 else data["message_index"])


def check_ecs_created(handler, context, event_) -> None:
    from shared.flows.ecs_created.steps import ACCEPTS, REPLAY_GUARD
    from shared.runtime.handler import RetryableFailure

    event_kind(event_)
    REPLAY_GUARD.clear()
    response, logged, raised = invoke(handler, event_, context)
    if raised is not None:  # only the documented "retry me" after a retryable failure was logged
        assert isinstance(raised, RetryableFailure), repr(raised)
        assert any(r["data"]["outcome"] == "failed" and r["data"].get("retryable") for r in logged)
        results = logged
    else:
        results = _results(response)
    envelope = parse_envelope(event_)
    expected = expected_results(event_, ACCEPTS)
    # a batch creation fans out: at least one result per message, every message answered
    assert len(results) >= expected
    assert {r["data"]["message_index"] for r in results} >= set(range(len(envelope.messages) if expected else 0))
    for result in results:
        assert validate_result_event(result) == [], result
        event(f"outcome: {result['data']['outcome']}")
        assert result["data"]["outcome"] in ("rejected", "skipped", "failed", "succeeded", "no_change")
        assert result["data"]["outcome"] not in ("succeeded", "no_change")  # there is no cloud to succeed with

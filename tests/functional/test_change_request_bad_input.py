"""Bad input: each message gets a `rejected` result naming the field, and the cloud hears nothing."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import ErrorCode
from shared.signing import sign_request
from shared.timestamps import format_timestamp
from tests.support.functions import SIGNING_KEYS
from tests.support.requests import change_request, kafka


def unsigned(**kw):
    return change_request(sign=False, **kw)


def resign(request, key_id="ticketing-1", secret=None, when=None):
    request = {k: v for k, v in request.items() if k != "signature"}
    return sign_request(
        request,
        key_id=key_id,
        secret=secret or SIGNING_KEYS[key_id],
        timestamp=format_timestamp(when or datetime.now(timezone.utc)),
    )


def mutate(path, value):
    request = unsigned()
    node = request
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return resign(request)


_DELETE = object()
SERVER = "c0000000-0000-4000-8000-000000000001"

CASES = [
    ("{", ErrorCode.INVALID_JSON, "$"),
    ("", ErrorCode.INVALID_JSON, "$"),
    ('{"a": NaN}', ErrorCode.INVALID_JSON, "$"),
    ('{"a": 1, "a": 2}', ErrorCode.INVALID_JSON, "$"),
    ("[" * 100 + "]" * 100, ErrorCode.INVALID_JSON, "$"),
    ("null", ErrorCode.SCHEMA_VIOLATION, "$"),
    ('"just a string"', ErrorCode.SCHEMA_VIOLATION, "$"),
    (json.dumps({"x": "y" * 70000}), ErrorCode.MESSAGE_TOO_LARGE, "$"),
    (mutate(["request_id"], 5), ErrorCode.SCHEMA_VIOLATION, "$.request_id"),
    (mutate(["request_id"], "A" * 10000), ErrorCode.SCHEMA_VIOLATION, "$.request_id"),
    (mutate(["request_id"], _DELETE), ErrorCode.SCHEMA_VIOLATION, "$.request_id"),
    (mutate(["ticket"], "CHG1"), ErrorCode.SCHEMA_VIOLATION, "$.ticket"),
    (mutate(["ticket", "id"], "x" * 1000), ErrorCode.SCHEMA_VIOLATION, "$.ticket.id"),
    (mutate(["ticket", "url"], "not a url"), ErrorCode.SCHEMA_VIOLATION, "$.ticket.url"),
    (mutate(["ticket", "bogus"], 1), ErrorCode.SCHEMA_VIOLATION, "$.ticket.bogus"),
    (mutate(["target", "server_id"], "../../etc/passwd"), ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"),
    (mutate(["target", "server_id"], "c0000000%2F0000"), ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"),
    (mutate(["target", "server_id"], SERVER + " "), ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"),
    (mutate(["target", "server_id"], SERVER.upper()), ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"),
    (mutate(["target", "nics"], "some"), ErrorCode.SCHEMA_VIOLATION, "$.target.nics"),
    (mutate(["target", "nics"], [{"port_id": "a/b"}]), ErrorCode.SCHEMA_VIOLATION, "$.target.nics[0].port_id"),
    (mutate(["target", "nics"], [{"ip": "10.0.0.999"}]), ErrorCode.SCHEMA_VIOLATION, "$.target.nics[0].ip"),
    (
        mutate(["target", "nics"], [{"port_id": SERVER, "ip": "10.0.0.1"}]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.target.nics[0]",
    ),
    (
        mutate(["target", "nics"], [{"ip": f"10.0.0.{i}"} for i in range(40)]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.target.nics",
    ),
    (mutate(["target", "extra"], True), ErrorCode.SCHEMA_VIOLATION, "$.target.extra"),
    (mutate(["change", "action"], "delete"), ErrorCode.SCHEMA_VIOLATION, "$.change.action"),
    (mutate(["change", "security_groups"], "web"), ErrorCode.SCHEMA_VIOLATION, "$.change.security_groups"),
    (mutate(["change", "security_groups"], []), ErrorCode.SCHEMA_VIOLATION, "$.change.security_groups"),
    (
        mutate(["change", "security_groups"], [{"name": f"g{i}"} for i in range(11)]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.change.security_groups",
    ),
    (
        mutate(["change", "security_groups"], [{"id": "../../x"}]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.change.security_groups[0].id",
    ),
    (
        mutate(["change", "security_groups"], [{"name": "web server"}]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.change.security_groups[0].name",
    ),
    (mutate(["change", "position"], "1"), ErrorCode.SCHEMA_VIOLATION, "$.change.position"),
    (mutate(["dry_run"], "yes"), ErrorCode.SCHEMA_VIOLATION, "$.dry_run"),
    (mutate(["surprise"], 1), ErrorCode.SCHEMA_VIOLATION, "$.surprise"),
    # issue 10: float integers, final newlines, control and invisible characters in identities
    (mutate(["change", "position"], 1.0), ErrorCode.SCHEMA_VIOLATION, "$.change.position"),
    (mutate(["change", "position"], 1e0), ErrorCode.SCHEMA_VIOLATION, "$.change.position"),
    (mutate(["request_id"], "CHG-1\n"), ErrorCode.SCHEMA_VIOLATION, "$.request_id"),
    (mutate(["target", "server_id"], SERVER + "\n"), ErrorCode.SCHEMA_VIOLATION, "$.target.server_id"),
    (
        mutate(["change", "security_groups"], [{"name": "web\n"}]),
        ErrorCode.SCHEMA_VIOLATION,
        "$.change.security_groups[0].name",
    ),
    (mutate(["ticket", "approved_by"], "alice\u200b@example.com"), ErrorCode.SCHEMA_VIOLATION, "$.ticket.approved_by"),
    (mutate(["ticket", "approved_by"], "\u202ealice@example.com"), ErrorCode.SCHEMA_VIOLATION, "$.ticket.approved_by"),
    (mutate(["ticket", "approved_by"], "alice@example.com\ufeff"), ErrorCode.SCHEMA_VIOLATION, "$.ticket.approved_by"),
    (
        mutate(["ticket", "requested_by"], "alice\u00ad@example.com"),
        ErrorCode.SCHEMA_VIOLATION,
        "$.ticket.requested_by",
    ),
    (mutate(["ticket", "requested_by"], "alice@example.com\n"), ErrorCode.SCHEMA_VIOLATION, "$.ticket.requested_by"),
    # issue 19: only a bare address or a plain principal name
    *(
        (mutate(["ticket", field], value), ErrorCode.SCHEMA_VIOLATION, f"$.ticket.{field}")
        for field, value in [
            ("approved_by", "alice\u200a@example.com"),
            ("approved_by", "alice\u00a0@example.com"),
            ("approved_by", "ali\u3000ce@example.com"),
            ("approved_by", "alice@example.com\u2800"),
            ("approved_by", "Alice <alice@example.com>"),
            ("approved_by", "<alice@example.com>"),
            ("approved_by", '"alice"@example.com'),
            ("approved_by", "MAILTO:alice@example.com"),
            ("requested_by", "Alice Smith"),
            ("requested_by", "alice@xn--zzzz.example"),
        ]
    ),
    (unsigned(), ErrorCode.SIGNATURE_REQUIRED, "$.signature"),
    (
        resign(unsigned(), key_id="ticketing-1", secret="wrong-secret-wrong-secret"),
        ErrorCode.SIGNATURE_INVALID,
        "$.signature.value",
    ),
    (
        resign(unsigned(), when=datetime.now(timezone.utc) - timedelta(hours=1)),
        ErrorCode.SIGNATURE_EXPIRED,
        "$.signature.timestamp",
    ),
    (
        resign(unsigned(), when=datetime.now(timezone.utc) + timedelta(hours=1)),
        ErrorCode.SIGNATURE_EXPIRED,
        "$.signature.timestamp",
    ),
]


def _tampered():
    request = change_request()
    request["change"]["security_groups"] = [{"name": "ssh-open"}]
    return request


def _unknown_key():
    request = change_request()
    request["signature"]["key_id"] = "someone-else"
    return request


CASES += [
    (_tampered(), ErrorCode.SIGNATURE_INVALID, "$.signature.value"),
    (_unknown_key(), ErrorCode.SIGNATURE_INVALID, "$.signature.value"),
]


def test_every_bad_input_is_rejected_by_name_and_the_cloud_hears_nothing(cloud, change):
    seq = cloud.last_seq()
    response = change(kafka(*[c[0] for c in CASES]))
    results = [r["data"] for r in response["results"]]
    assert len(results) == len(CASES)
    for (_, code, path), data in zip(CASES, results):
        assert data["outcome"] == "rejected", (code, path, data)
        assert (data["errors"][0]["code"], data["errors"][0]["path"]) == (code, path), data["errors"]
        assert data["api_calls"]["total"] == 0
        assert len(json.dumps(data["errors"])) < 4000  # never echoes huge input
    assert cloud.requests(seq) == []


@pytest.mark.parametrize(
    "event",
    [
        None,
        7,
        "text",
        {"records": "x"},
        {"record": [1]},
        {"httpMethod": "POST", "body": "!!", "isBase64Encoded": True},
        [],
    ],
)
def test_malformed_envelopes_are_rejected_without_cloud_calls(cloud, change, event):
    seq = cloud.last_seq()
    response = change(event)
    results = response["results"] if "results" in response else json.loads(response["body"])["results"]
    assert results and all(r["data"]["outcome"] == "rejected" for r in results)
    assert cloud.requests(seq) == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_paths = st.sampled_from(
    [
        ("request_id",),
        ("ticket",),
        ("ticket", "id"),
        ("target",),
        ("target", "server_id"),
        ("target", "nics"),
        ("change",),
        ("change", "action"),
        ("change", "security_groups"),
        ("change", "position"),
        ("dry_run",),
        ("extra",),
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_paths, _json), min_size=1, max_size=8), st.lists(st.binary(max_size=60), max_size=4))
def test_generated_requests_always_get_one_result_and_rejections_write_nothing(cloud, change, mutations, blobs):
    messages = []
    for path, value in mutations:
        request = copy.deepcopy(unsigned())
        node = request
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = value
        messages.append(json.dumps(resign(request)))
    messages += [blob.decode("latin-1") for blob in blobs]
    seq = cloud.last_seq()
    response = change(kafka(*messages), GROUP_CACHE_TTL_S="60")
    results = [r["data"] for r in response["results"]]
    assert len(results) == len(messages)
    assert all(r["outcome"] in ("rejected", "succeeded", "no_change", "planned") for r in results), results
    if all(r["outcome"] == "rejected" for r in results):
        assert [r for r in cloud.requests(seq) if r["method"] != "GET"] == []

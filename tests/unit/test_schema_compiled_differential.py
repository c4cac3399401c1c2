"""The compiled change-request check against jsonschema on every corpus and thousands of mutants.

``schema_errors`` returns [] on the compiled check's "valid" without asking jsonschema, so a wrong
"valid" would let a bad request through to the rails. Here the two verdicts must agree on: the
valid/invalid tables of test_validation_change_request, the fuzz corpus's signed requests, every
change request inside events/change_request/, the bench's replace requests, and a seeded,
deterministic stream of mutants of all of those (keys dropped, added, renamed to look-alikes,
values retyped, 1 vs 1.0 vs true, bounds +-1, NUL and newlines, Unicode look-alikes, duplicate
array items, extra members in nested objects, both branches of every if/then/else).
"""

from __future__ import annotations

import copy
import functools
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from shared import validation
from shared.runtime.envelopes import parse_envelope
from shared.validation import CHANGE_REQUEST_SCHEMA, decode_json_message, schema_errors, validator_for
from tests.fuzz.corpus import REQUESTS
from tests.unit.test_validation_change_request import BAD, VALID, with_

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = 4000
UUID = "6f1b3c0e-2a4d-4e8f-9c1a-0b2c3d4e5f60"
UUID2 = "3c6f2a1b-9d8e-4f7a-b6c5-d4e3f2a1b0c9"


def fast(instance: object) -> bool:
    check = validation._fast_check_for(CHANGE_REQUEST_SCHEMA)
    assert check is not None
    return check(instance)


def jsonschema_valid(instance: object) -> bool:
    return next(validator_for(CHANGE_REQUEST_SCHEMA).iter_errors(instance), None) is None


@functools.cache
def event_requests() -> list[object]:
    found = []
    for path in sorted((ROOT / "events" / "change_request").glob("*.json")):
        for message in parse_envelope(json.loads(path.read_text(encoding="utf-8"))).messages:
            value, error = decode_json_message(message.body)
            if error is None:
                found.append(value)
    return found


@functools.cache
def bench_requests() -> list[object]:
    from bench.workload import build_seed, generate_changes, sign

    _, fleet = build_seed(40)
    return [sign(m.request) for m in generate_changes(fleet, 60, seed=5)]


@functools.cache
def seeds() -> list[object]:
    """The corpora (shared between tests: a mutant is a deep copy, never an edit in place)."""
    documents: list[object] = [with_(changes) for changes in VALID.values()]
    documents += [document if not isinstance(document, dict) else with_(document) for document, _ in BAD.values()]
    documents += [json.loads(raw) for raw in REQUESTS]
    documents += event_requests()
    documents += bench_requests()
    return documents


# ---- the mutator ---------------------------------------------------------------------------------
def _ids(prefix: str, count: int) -> list[dict[str, str]]:
    return [{prefix: f"00000000-0000-4000-8000-{n:012x}"} for n in range(count)]


STRINGS_BY_KEY: dict[str, list[Any]] = {
    "request_id": ["CHG-1", "A" * 128, "A" * 129, "CHG-1\n", "-CHG", "CHG 1", "ＣＨＧ-1", "CHG-\x00", ""],
    "system": ["jira", "servicenow", "a" * 32, "a" * 33, "Jira", "jira\n", "jira-x_1", "_jira", "jіra"],
    "id": ["CHG0031337", "OPS-4711/#2", "x" * 64, "x" * 65, "#1", "a b", UUID, UUID.upper(), UUID + "\n"],
    "requested_by": [
        "alice@example.com",
        "bob",
        "zoë.müller@bücher.example",
        "нова",
        "alice+tag@example.com",
        "Alice <alice@example.com>",
        "alice @example.com",
        "alice\u200b",
        "a" * 128,
        "a" * 129,
        "alice@xn--bcher-kva.example",
        "alice@xn--zz.example",
        "alice@example.com.",
        "a\u0301\u0301",
        "\u3164",
        "",
    ],
    "url": [
        "https://t.example/1",
        "http://x",
        "ftp://x.example/",
        "https://exa mple.com/",
        "https://example.com/" + "a" * 2028,
        "https://example.com/" + "a" * 2029,
        "https://[::1]/",
        "HTTPS://x.example/",
        "https://x.example/%zz",
    ],
    "server_id": [UUID, UUID.upper(), UUID[:-1], UUID + "0", UUID + "\n", "00000000-0000-0000-0000-000000000000"],
    "account": ["0" * 32, "a" * 31, "a" * 33, "A" * 32, "0" * 32 + "\n"],
    "region": ["cn-north-4", "ap-southeast-1", "cn", "cn-north-4-a-b", "cn-north-4\n", "CN-north-4", "x" * 65],
    "nics": [
        "primary",
        "all",
        "All",
        "primary\n",
        "аll",
        [],
        [{"port_id": UUID}],
        _ids("port_id", 16),
        _ids("port_id", 17),
        [{"port_id": UUID}, {"port_id": UUID}],
        [{"ip": "10.0.0.1"}, {"subnet_id": UUID}],
        [{"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}],
        [{"port_id": UUID, "ip": "10.0.0.1"}],
        [{}],
        [{"port_id": UUID}, "primary"],
    ],
    "ip": [
        "10.0.0.1",
        "2001:db8::1",
        "fe80::1%eth0",
        "010.0.0.1",
        "10.0.0.256",
        "::ffff:10.0.0.1",
        "1.2.3",
        "1" * 46,
        "10.0.0.1\n",
        " 10.0.0.1",
        "١٠.0.0.1",
    ],
    "action": ["replace", "add", "remove", "reorder", "Add", "add\n", "ad", "аdd"],
    "security_groups": [
        [{"id": UUID}],
        [{"name": "web"}, {"id": UUID2}],
        _ids("id", 10),
        _ids("id", 11),
        [{"id": UUID}, {"id": UUID}],
        [{"name": "a"}, {"name": "a"}],
        [{"name": "a"}, {"name": "A"}],
        [],
        [{"id": UUID, "name": "web"}],
        [{}],
        [{"id": UUID, "extra": {"deep": 1}}],
    ],
    "name": ["web", "sg-web_01.prod", "a" * 64, "a" * 65, "web sg", "wеb", "", "web\n", "web\x00"],
    "position": [0, 99, 100, -1, 1.0, 0.0, True, False, "0", None, 2**64, -(2**64), 5e-324, 1e308],
    "dry_run": [True, False, 1, 0, "true", None],
    "schema_version": ["1", "2", 1, 1.0, True, "1\n"],
    "key_id": ["k", "prod-2026.k1", "a" * 64, "a" * 65, "k y", "k\n"],
    "timestamp": [
        "2026-11-28T21:00:00Z",
        "2026-11-28T21:00:00.123456789Z",
        "2026-11-28T21:00:00.1234567890Z",
        "2026-02-30T21:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-12-31T23:59:60Z",
        "2026-11-28t21:00:00z",
        "2026-11-28T21:00:00+00:00",
        "2026-13-01T00:00:00Z",
        "２026-11-28T21:00:00Z",
    ],
    "value": ["0" * 64, "ab" * 32, "A" * 64, "0" * 63, "0" * 65, "0" * 63 + "\n", "g" * 64],
}
STRINGS_BY_KEY["approved_by"] = STRINGS_BY_KEY["requested_by"]
STRINGS_BY_KEY["project_id"] = STRINGS_BY_KEY["account"]
STRINGS_BY_KEY["port_id"] = STRINGS_BY_KEY["subnet_id"] = STRINGS_BY_KEY["server_id"]
ANY_VALUES: list[Any] = [None, True, False, 0, 1, 1.0, -1, 2**70, 0.5, "", "x", "1", "\x00", [], [1], {}, {"a": 1}]
LOOK_ALIKES = {"a": "а", "e": "е", "i": "і", "o": "о", "c": "с", "p": "р", "s": "ѕ", "_": "＿"}
NEW_KEYS = sorted(STRINGS_BY_KEY) + ["bogus", "", "$ref", "__proto__", "ticket", "change", "target", "signature"]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, prefix + (index,))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _twist(value: Any, rng: random.Random) -> Any:
    """A near miss of ``value``: the same type one step off, or the same number in another spelling."""
    if isinstance(value, bool):
        return rng.choice([int(value), not value, float(value)])
    if isinstance(value, int):
        return rng.choice([float(value), value + 1, value - 1, -value, bool(value), str(value)])
    if isinstance(value, float):
        return rng.choice([int(value), value + 0.5, -value])
    if isinstance(value, str):
        if not value:
            return "\x00"
        cut = rng.randrange(len(value) + 1)
        return rng.choice(
            [
                value + rng.choice(["\n", "\x00", " ", "x", "\u200b", "é", "\U0001f600"]),
                value[:cut] + LOOK_ALIKES.get(value[cut : cut + 1], "Z") + value[cut + 1 :],
                value[:-1],
                value.upper(),
                value * 2,
                value + "x" * rng.choice([1, 30, 64, 128, 2100]),
            ]
        )
    if isinstance(value, list):
        if value and rng.random() < 0.6:
            return value + [copy.deepcopy(rng.choice(value))]  # a duplicate item
        return value * rng.choice([0, 2, 6])
    if isinstance(value, dict):
        twisted = dict(value)
        twisted[rng.choice(NEW_KEYS)] = rng.choice(ANY_VALUES)
        return twisted
    return rng.choice(ANY_VALUES)


def mutate(document: Any, rng: random.Random) -> Any:
    tree = copy.deepcopy(document)
    for _ in range(rng.choice([1, 1, 1, 1, 2, 3])):
        paths = _paths(tree)
        known = [p for p in paths if p and isinstance(p[-1], str) and p[-1] in STRINGS_BY_KEY]
        path = rng.choice(known if known and rng.random() < 0.5 else paths)
        if not path:
            if rng.random() < 0.05:
                tree = rng.choice(ANY_VALUES + [[tree]])
            continue
        parent, key = _get(tree, path[:-1]), path[-1]
        value = parent[key]
        op = rng.choice(["pool"] * 6 + ["twist", "twist", "drop", "rename", "add", "retype", "wrap"])
        if op == "pool" and isinstance(key, str) and key in STRINGS_BY_KEY:
            pool = STRINGS_BY_KEY[key]  # its first two entries are valid: half the time, stay valid
            parent[key] = copy.deepcopy(rng.choice(pool[:2] if rng.random() < 0.5 else pool))
        elif op in ("pool", "twist"):
            parent[key] = _twist(value, rng)
        elif op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            del parent[key]
            parent[_twist(key, rng)] = value
        elif op == "add":
            target = value if isinstance(value, dict) else parent
            if isinstance(target, dict):
                name = rng.choice(NEW_KEYS)
                target[name] = copy.deepcopy(rng.choice(STRINGS_BY_KEY.get(name, ANY_VALUES)))
        elif op == "retype":
            parent[key] = rng.choice(ANY_VALUES)
        else:
            parent[key] = rng.choice([[value], {"value": value}, {key if isinstance(key, str) else "k": value}])
    return tree


def mutants(count: int, seed: int = 21) -> list[Any]:
    """Mostly single edits of valid documents (to probe the edge of "valid"), some of invalid ones."""
    rng = random.Random(seed)
    corpus = seeds()
    valid = [document for document in corpus if jsonschema_valid(document)]
    return [mutate(rng.choice(valid if rng.random() < 0.85 else corpus), rng) for _ in range(count)]


# ---- the differential tests -----------------------------------------------------------------------
@pytest.mark.parametrize("index", range(len(seeds())))
def test_every_corpus_document_gets_jsonschemas_verdict(index):
    document = seeds()[index]
    assert fast(document) == jsonschema_valid(document)


def test_thousands_of_mutants_get_jsonschemas_verdict():
    disagreements = []
    valid = 0
    for mutant in mutants(MUTANTS):
        reference = jsonschema_valid(mutant)
        valid += reference
        if fast(mutant) != reference:
            disagreements.append(json.dumps(mutant, ensure_ascii=False)[:400])
    assert disagreements == []
    # Both verdicts well represented, or the comparison proves little.
    assert MUTANTS * 0.15 < valid < MUTANTS * 0.85, valid


def test_the_corpus_holds_both_verdicts_and_each_event_sample():
    documents = seeds()
    assert len(event_requests()) >= 8
    assert sum(map(jsonschema_valid, documents)) >= 60
    assert sum(not jsonschema_valid(d) for d in documents) >= 60


# ---- the fast path is taken, and only for valid input -----------------------------------------------
def _jsonschema_frames_during(call: Any) -> int:
    """How many Python frames of the jsonschema package ran inside ``call()`` (a profile hook: nothing replaced)."""
    seen = 0

    def profile(frame: Any, event: str, _arg: Any) -> None:
        nonlocal seen
        if event == "call" and "/jsonschema/" in frame.f_code.co_filename.replace("\\", "/"):
            seen += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(previous)
    return seen


def test_a_valid_request_is_passed_without_consulting_jsonschema():
    document = json.loads(REQUESTS[0])
    schema_errors(CHANGE_REQUEST_SCHEMA, document)  # built outside the count
    assert _jsonschema_frames_during(lambda: schema_errors(CHANGE_REQUEST_SCHEMA, document)) == 0
    assert schema_errors(CHANGE_REQUEST_SCHEMA, document) == []


def test_an_invalid_request_is_judged_by_jsonschema():
    document = json.loads(REQUESTS[0])
    document["change"]["position"] = 1.0
    assert _jsonschema_frames_during(lambda: schema_errors(CHANGE_REQUEST_SCHEMA, document)) > 0


EXACT_ERRORS = {  # captured from schema_errors before the compiled check existed (jsonschema alone)
    "many_problems": (
        {
            "request_id": "CHG-1\n",
            "ticket": {"system": "Jira", "id": "X", "requested_by": "Alice <alice@example.com>", "bogus": 1},
            "target": {"server_id": UUID.upper(), "nics": [{"ip": "010.0.0.1"}, {"ip": "010.0.0.1"}]},
            "change": {"action": "replace", "position": 1.0, "security_groups": [{"id": UUID2}, {"id": UUID2}]},
        },
        [
            ("must be an integer, got 1.0", "$.change.position"),
            ('position is only allowed when action is "add"', "$.change.position"),
            ("array contains duplicate items", "$.change.security_groups"),
            (
                "must be 1 to 128 ASCII letters, digits, '.', '_', ':' or '-', starting with a letter or digit, "
                "got 'CHG-1\\n'",
                "$.request_id",
            ),
            ("array contains duplicate items", "$.target.nics"),
            ("must be an IPv4 or IPv6 address", "$.target.nics[0].ip"),
            ("must be an IPv4 or IPv6 address", "$.target.nics[1].ip"),
            (
                "must be a UUID (8-4-4-4-12 lowercase hex digits, like 3f2b8c1e-0a4d-4e5f-9a7b-1c2d3e4f5a6b), "
                f"got '{UUID.upper()}'",
                "$.target.server_id",
            ),
            ("unknown property 'bogus' is not allowed", "$.ticket.bogus"),
            (
                "'Alice <alice@example.com>' is not a valid identity: a display name or angle brackets are not "
                "allowed; give the bare address (local@domain)",
                "$.ticket.requested_by",
            ),
            (
                "must be 1 to 32 lowercase ASCII letters, digits, '_' or '-', starting with a letter or digit "
                "(like servicenow), got 'Jira'",
                "$.ticket.system",
            ),
        ],
    ),
    "formats_and_bounds": (
        {
            "request_id": "CHG-1",
            "ticket": {"system": "jira", "id": "X", "requested_by": "bob", "url": "https://exa mple.com/"},
            "target": {"server_id": UUID, "nics": "All"},
            "change": {"action": "add", "position": True, "security_groups": []},
            "signature": {"key_id": "k", "timestamp": "2026-02-30T21:00:00Z", "value": "0" * 63},
        },
        [
            ("must be an integer, got true", "$.change.position"),
            ("array has 0 items; at least 1 allowed", "$.change.security_groups"),
            (
                "'2026-02-30T21:00:00Z' is not a valid date-time (RFC 3339, like 2026-01-31T12:00:00Z)",
                "$.signature.timestamp",
            ),
            (f"must be 64 lowercase hex digits (an HMAC-SHA256), got '{'0' * 63}'", "$.signature.value"),
            ("must be 'primary' or 'all', got 'All'", "$.target.nics"),
            ("'https://exa mple.com/' is not a valid URI", "$.ticket.url"),
        ],
    ),
    "root_list": ([], [("must be an object, got a list", "$")]),
}


@pytest.mark.parametrize(("document", "expected"), EXACT_ERRORS.values(), ids=EXACT_ERRORS.keys())
def test_an_invalid_request_still_gets_todays_exact_error_list(document, expected):
    errors = schema_errors(CHANGE_REQUEST_SCHEMA, document)
    assert [(e.message, e.path) for e in errors] == expected
    assert {e.code for e in errors} == {validation.ErrorCode.SCHEMA_VIOLATION}

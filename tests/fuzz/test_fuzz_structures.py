"""Property-based fuzzing of shapes: traces, policies, signatures and whole envelopes.

The unit property tests already cover parse_envelope and decode/validate on arbitrary values;
these go where they don't: CTS trace reading, policy parsing (YAML and JSON) and evaluation,
signature checks on hostile shapes, and the handlers themselves on generated envelopes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ErrorDetail
from shared.flows.cts import read_creation_trace
from shared.flows.policy import Policy, PolicyError, evaluate, interface_in_scope, next_list, parse_policy
from shared.model import Port, Server, is_uuid
from shared.signing import verify_request_signature
from tests.fuzz.corpus import KEYS, SETTINGS, check_change_request, check_ecs_created, json_values, make_context
from tests.support.functions import load_handler

uuids = st.uuids().map(str)
maybe_json_text = lambda values: st.one_of(values, values.map(json.dumps))  # noqa: E731

# ---- CTS traces ---------------------------------------------------------------------------------
responses = st.fixed_dictionaries(
    {},
    optional={
        "job_id": st.one_of(st.text(max_size=80), st.integers(), uuids),
        "status": st.sampled_from(["SUCCESS", "FAIL", "RUNNING", "ERROR", "success", ""]),
        "entities": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "server_id": st.one_of(uuids, st.text(max_size=40), st.integers()),
                    "sub_jobs": st.one_of(
                        json_values,
                        st.lists(
                            st.one_of(
                                json_values,
                                st.fixed_dictionaries(
                                    {"status": st.sampled_from(["SUCCESS", "FAIL", "INIT"])},
                                    optional={
                                        "entities": st.fixed_dictionaries(
                                            {}, optional={"server_id": st.one_of(uuids, json_values)}
                                        )
                                    },
                                ),
                            ),
                            max_size=4,
                        ),
                    ),  # sub_jobs: 5 was a poison that killed the batch (issue 10)
                    "serverIds": st.lists(st.one_of(uuids, json_values), max_size=4),
                },
            ),
        ),
        "serverIds": st.one_of(st.lists(st.one_of(uuids, st.text(max_size=40)), max_size=4), json_values),
        "server_id": st.one_of(uuids, json_values),
        "fail_reason": json_values,
    },
)
traces = st.fixed_dictionaries(
    {},
    optional={
        "trace_id": st.one_of(uuids, json_values),
        "trace_name": st.sampled_from(
            [
                "createServer",
                "createServerV2",
                "createServerV21",
                "createSingleServer",
                "batchCreateServers",
                "deleteServer",
                "",
                None,
            ]
        ),
        "service_type": st.sampled_from(["ECS", "ecs", "OBS", "", None, 5]),
        "code": st.one_of(st.sampled_from(["200", "202", "400", "500", "2OO", ""]), st.integers(-1, 999), json_values),
        "resource_id": st.one_of(uuids, st.lists(uuids, max_size=3).map(",".join), json_values),
        "request": maybe_json_text(json_values),
        "response": st.one_of(
            maybe_json_text(responses),
            json_values,
            st.text(max_size=30),
            # hostile nesting in a JSON string (RecursionError in a naive json.loads)
            st.integers(1, 30000).map(lambda n: "[" * n + "]" * n),
            st.integers(1, 30000).map(lambda n: '{"a":' * n + "1" + "}" * n),
        ),
    },
)


@SETTINGS
@given(st.one_of(traces, json_values))
def test_any_trace_is_read_or_skipped_with_a_reason(trace):
    reading = read_creation_trace(trace)
    assert bool(reading.skip_reason) != bool(reading.server_ids)
    assert all(is_uuid(server_id) for server_id in reading.server_ids)
    assert len(set(reading.server_ids)) == len(reading.server_ids)
    assert reading.trace_id is None or isinstance(reading.trace_id, str)


# ---- policies -----------------------------------------------------------------------------------
group_refs = st.one_of(
    st.fixed_dictionaries({"name": st.sampled_from(["baseline", "web", "x" * 70, "", "a b"])}),
    st.fixed_dictionaries({"id": st.one_of(uuids, st.text(max_size=10))}),
    json_values,
)
matches = st.fixed_dictionaries(
    {},
    optional={
        "tags": st.one_of(
            st.dictionaries(
                st.sampled_from(["env", "role", ""]),
                st.one_of(
                    st.sampled_from(["prod", "web*", "[", "*", ""]), st.lists(st.sampled_from(["a", "b*"]), max_size=2)
                ),
            ),
            json_values,
        ),
        "name": st.one_of(st.sampled_from(["web-*", "[!", "**"]), json_values),
        "subnet_id": st.one_of(uuids, st.sampled_from(["*"]), json_values),
        "vpc_id": st.one_of(uuids, json_values),
        "flavor": st.sampled_from(["s6.*", 5]),
        "unknown": json_values,
    },
)
rules = st.fixed_dictionaries(
    {
        "name": st.one_of(st.sampled_from(["r1", "prod-web", ""]), json_values),
        "security_groups": st.one_of(st.lists(group_refs, max_size=4), json_values),
    },
    optional={
        "match": st.one_of(matches, json_values),
        "nics": st.sampled_from(["all", "primary", "some", 3]),
        "mode": st.sampled_from(["ensure", "replace", "replace_default", "merge"]),
        "position": st.one_of(st.sampled_from(["first", "last", "middle"]), st.integers(-3, 200)),
        "stop": st.one_of(st.booleans(), json_values),
        "approved_by": json_values,
        "description": json_values,
    },
)
excludes = st.fixed_dictionaries(
    {},
    optional={
        "tags": st.one_of(
            st.dictionaries(st.sampled_from(["sg-automation", "x"]), st.sampled_from(["skip", "*"])), json_values
        ),
        "servers": st.lists(
            st.fixed_dictionaries(
                {"id": st.one_of(uuids, json_values)},
                optional={
                    "until": st.sampled_from(["2027-01-31", "2001-01-01", "2027-02-30", "tomorrow", "2027-1-1"]),
                    "ticket": json_values,
                    "reason": json_values,
                },
            ),
            max_size=3,
        ),
    },
)
policies = st.fixed_dictionaries(
    {"rules": st.one_of(st.lists(rules, max_size=4), json_values)},
    optional={"version": st.sampled_from([1, 2, "1"]), "exclude": st.one_of(excludes, json_values)},
)

SERVER = Server(
    "c0000000-0000-4000-8000-000000000001",
    "web-01",
    "ACTIVE",
    tags={"env": "prod", "role": "web"},
    vpc_id="9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50",
    flavor="s6.large.2",
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
@given(st.one_of(policies, json_values), st.sampled_from(["yaml", "json"]))
def test_any_policy_document_parses_or_fails_with_paths(document, syntax):
    text = json.dumps(document) if syntax == "json" else yaml.safe_dump(document, allow_unicode=True)
    try:
        policy = parse_policy(text)
    except PolicyError as error:
        assert error.errors and all(isinstance(e, ErrorDetail) and e.path.startswith("$") for e in error.errors)
        return
    assert isinstance(policy, Policy) and policy.rules
    evaluation = evaluate(policy, SERVER, PORTS, date(2026, 11, 28))
    for rule in evaluation.rules:
        interface_in_scope(rule, PORTS[0])
        ids = [ref.get("id", ref.get("name")) for ref in rule.security_groups]
        after = next_list(["default", "web"], ids, rule.mode, rule.position, "default")
        assert set(ids) <= set(after)


# ---- signatures on hostile shapes ---------------------------------------------------------------
signatures = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "key_id": st.one_of(st.sampled_from(["ticketing-1", "nope", ""]), json_values),
            "timestamp": st.one_of(
                st.sampled_from(
                    [
                        "2026-11-28T21:00:00Z",
                        "2026-11-28T21:00:00+00:00",
                        "yesterday",
                        "2026-13-45T99:99:99Z",
                        "9999-12-31T23:59:59Z",
                    ]
                ),
                json_values,
            ),
            "value": st.one_of(st.text(alphabet="0123456789abcdefABCDEF", max_size=70), json_values),
        },
    ),
)


@SETTINGS
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5), signatures, st.booleans())
def test_signature_checks_never_raise_and_never_pass_a_forgery(request, signature, required):
    request = dict(request, signature=signature)
    errors = verify_request_signature(
        request, keys=KEYS, now=datetime(2026, 11, 28, 21, tzinfo=timezone.utc), required=required
    )
    if signature is None and not required:
        assert errors == []  # unsigned, and allowed to be
    else:
        assert errors and all(isinstance(e, ErrorDetail) for e in errors)


# ---- the handlers on generated envelopes --------------------------------------------------------
envelope_keys = st.sampled_from(
    [
        "records",
        "messages",
        "trigger_type",
        "record",
        "smn",
        "message",
        "httpMethod",
        "body",
        "isBase64Encoded",
        "cts",
        "specversion",
        "id",
        "source",
        "type",
        "data",
        "data_base64",
        "events",
        "server_id",
        "request_id",
        "trace_name",
        "service_type",
        "backfill",
        "sgguard_continuation",
        "hold",
    ]
)
envelopes = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(
            [
                "KAFKA",
                "TIMER",
                "ECS",
                "createServer",
                "c0000000-0000-4000-8000-000000000001",
                "1.0",
                "POST",
                "{}",
                "[1]",
            ]
        ),
        st.text(max_size=12),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=4), st.dictionaries(st.one_of(envelope_keys, st.text(max_size=6)), c, max_size=6)
    ),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def handlers():
    return {name: (load_handler(name), make_context(name)) for name in ("change_request", "ecs_created")}


@SETTINGS
@given(envelopes)
def test_change_request_handler_answers_generated_envelopes(handlers, event):
    check_change_request(*handlers["change_request"], event)


@SETTINGS
@given(envelopes)
def test_ecs_created_handler_answers_generated_envelopes(handlers, event):
    check_ecs_created(*handlers["ecs_created"], event)

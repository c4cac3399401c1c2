"""Reading ECS creation traces: which servers, which job, or why the trace is skipped."""

import json

import pytest

from shared.flows.cts import read_creation_trace

S1, S2 = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"


def trace(**kw):
    base = {
        "trace_id": "t-1",
        "trace_name": "createServer",
        "service_type": "ECS",
        "code": "200",
        "resource_id": S1,
        "response": {"job_id": "j-1", "status": "SUCCESS", "entities": {"server_id": S1}},
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    "response,ids",
    [
        ({"job_id": "j", "entities": {"server_id": S1}}, [S1]),
        ({"job_id": "j", "serverIds": [S1, S2]}, [S1, S2]),
        (
            {
                "job_id": "j",
                "entities": {
                    "sub_jobs": [
                        {"status": "SUCCESS", "entities": {"server_id": S1}},
                        {"status": "FAIL", "entities": {"server_id": S2}},
                    ]
                },
            },
            [S1],
        ),
        (json.dumps({"job_id": "j", "serverIds": [S2]}), [S2]),
        ("not json", [S1]),  # falls back to resource_id
        ({"job_id": "j", "serverIds": ["../x", S2]}, [S2]),
    ],
)
def test_server_ids(response, ids):
    reading = read_creation_trace(trace(response=response))
    assert reading.skip_reason is None and reading.server_ids == ids


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"service_type": "OBS"}, "not an ECS trace"),
        ({"trace_name": "deleteServer"}, "not a server creation"),
        ({"code": "403"}, "the creation failed"),
        ({"response": {"status": "FAIL", "fail_reason": "quota"}}, "the creation failed (quota)"),
        ({"response": {}, "resource_id": "not-a-uuid"}, "no valid server id"),
        ({"response": {}, "resource_id": None}, "no valid server id"),
    ],
)
def test_skips(change, reason):
    assert reason in read_creation_trace(trace(**change)).skip_reason


def test_not_a_trace():
    assert read_creation_trace("x").skip_reason == "the event carries no CTS trace object"


def test_job_id_is_kept_only_when_sane():
    assert read_creation_trace(trace()).job_id == "j-1"
    for bad in ("x" * 100, "../jobs", "a/b", "j 1", 7):
        assert read_creation_trace(trace(response={"job_id": bad, "entities": {"server_id": S1}})).job_id is None

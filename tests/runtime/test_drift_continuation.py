"""The sweep's continuation in localcloud's runtime: with one server per page and one page per
invocation (``DRIFT_SWEEP_PAGES_PER_INVOCATION``: a work budget, so the verdict never depends on how
much real work fits in a timeout) the sweep stops after each page and invokes itself asynchronously
(FunctionGraph AsyncInvokeFunction through the SDK) until it is complete; each summary names its
continuation; the hops are bounded."""

from __future__ import annotations

import json

from huaweicloudsdkfunctiongraph.v2 import (
    InvokeFunctionRequest,
    ShowFunctionConfigRequest,
    UpdateFunctionConfigRequest,
    UpdateFunctionConfigRequestBody,
)

from shared.flows.sg_drift.continuation import MAX_HOPS
from tests.support.requests import DB, LEGACY
from tests.support.sdk import functiongraph_client


def _one_page_per_hop(env, **user_data: str) -> str:
    """sg_drift with ``user_data`` added (through the SDK's UpdateFunctionConfig); its timeout unchanged."""
    fgs = functiongraph_client(env.cloud)
    cloud = env.cloud
    urn = f"urn:fss:{cloud.region}:{cloud.project_id}:function:default:sg_drift:latest"
    config = fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    data = {**json.loads(config.user_data or "{}"), **user_data}
    body = UpdateFunctionConfigRequestBody(
        func_name="sg_drift",
        runtime=config.runtime,
        handler=config.handler,
        memory_size=config.memory_size,
        timeout=config.timeout,
        user_data=json.dumps(data),
    )
    fgs.update_function_config(UpdateFunctionConfigRequest(function_urn=urn, body=body))
    return urn


ONE_PAGE = {"DRIFT_SWEEP_PAGE": "1", "DRIFT_SWEEP_PAGES_PER_INVOCATION": "1"}


def _summaries(env, count: int) -> list[dict]:
    results = env.wait_results("sg_drift", count, timeout_s=120, outcome="summary")
    return sorted((r["data"] for r in results), key=lambda d: d["summary"]["hop"])


def test_a_sweep_out_of_time_continues_itself_asynchronously_until_complete(env):
    env.deploy()
    _one_page_per_hop(env, **ONE_PAGE)
    fired = env.cloud._call("POST", "functiongraph/timers/fire", {"name": "sgguard_sg_drift_sweep"})
    assert fired

    def complete():  # every hop's summary, the last one complete, and every continuation's execution
        found = [r["data"] for r in env.results("sg_drift") if r["data"]["outcome"] == "summary"]
        hops = sorted(d["summary"]["hop"] for d in found)
        invoked = {d["summary"]["continuation"]["request_id"] for d in found if d["summary"]["continuation"]}
        ran = {e["request_id"] for e in env.executions(function="sg_drift")}
        done = any(d["summary"]["complete"] for d in found) and hops == list(range(len(hops))) and invoked <= ran
        return found if done else None

    assert env.wait_for(complete, 120), [r["data"].get("summary") for r in env.results("sg_drift")]
    summaries = _summaries(env, 2)
    first, *rest = summaries
    assert first["summary"]["hop"] == 0 and first["trigger"] == "timer"
    assert first["summary"]["continue_from"] == {"sweep": {"first_page": 2}}
    continuation = first["summary"]["continuation"]
    assert continuation["invoked"] is True and continuation["hop"] == 1 and continuation["request_id"]
    assert continuation["event"] == {"sweep": {"first_page": 2, "hop": 1, "sweep_id": first["request_id"]}}
    # the continuation is an async invocation of sg_drift itself, with that request id
    executions = env.executions(function="sg_drift")
    assert any(e["request_id"] == continuation["request_id"] for e in executions)
    assert [d["summary"]["hop"] for d in summaries] == list(range(len(summaries))) and len(summaries) <= MAX_HOPS + 1
    assert {d["request_id"] for d in summaries} == {first["request_id"]}  # one sweep id across the hops
    assert summaries[-1]["summary"]["complete"] and summaries[-1]["summary"]["continuation"] is None
    for before, after in zip(summaries, rest):
        assert before["summary"]["continuation"]["request_id"] in {e["request_id"] for e in executions}
        assert after["summary"]["first_page"] == before["summary"]["continue_from"]["sweep"]["first_page"]
    judged = [
        r["data"]["server_id"]
        for r in env.results("sg_drift")
        if r["data"]["outcome"] != "summary" and r["data"].get("request_id") == first["request_id"]
    ]
    assert sorted(judged) == sorted([LEGACY, DB])  # every server exactly once across the hops


def test_the_hops_are_bounded(env):
    env.deploy()
    urn = _one_page_per_hop(env, **ONE_PAGE)
    fgs = functiongraph_client(env.cloud)
    event = {"sweep": {"first_page": 1, "hop": MAX_HOPS, "sweep_id": "sweep:20261129T000000Z"}}
    answer = fgs.invoke_function(InvokeFunctionRequest(function_urn=urn, body=event))
    summary = json.loads(answer.result)["results"][-1]["data"]["summary"]
    assert summary["hop"] == MAX_HOPS and summary["continue_from"] == {"sweep": {"first_page": 2}}
    assert summary["continuation"]["invoked"] is False and "hop limit (5)" in summary["continuation"]["reason"]
    assert summary["complete"] is False

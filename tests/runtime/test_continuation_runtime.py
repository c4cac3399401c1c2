"""The deployed change_request hands what it cannot start to an asynchronous invocation of itself,
and the local runtime runs that continuation (template.yaml deployed into localcloud)."""

from __future__ import annotations

import json

from huaweicloudsdkfunctiongraph.v2 import (
    AsyncInvokeFunctionRequest,
    FunctionGraphClient,
    ShowFunctionConfigRequest,
    UpdateFunctionConfigRequest,
    UpdateFunctionConfigRequestBody,
)

from tests.runtime.conftest import dry_run_request, signed

LEGACY, DB = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"


def test_a_batch_too_big_for_one_invocation_completes_through_a_continuation(env):
    env.deploy()
    fgs = env.client(FunctionGraphClient)
    urn = env.functions()["change_request"]["func_urn"]
    config = fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    body = UpdateFunctionConfigRequestBody(
        func_name="change_request", runtime=config.runtime, handler=config.handler, memory_size=256, timeout=4
    )
    fgs.update_function_config(UpdateFunctionConfigRequest(function_urn=urn, body=body))
    env.cloud.add_fault(kind="latency", latency_ms=150, path="/v*/*/ports*")
    requests = [dry_run_request(900 + i, server_id=(LEGACY, DB)[i % 2]) for i in range(14)]
    batch = [json.loads(signed(r, env.signing_keys)) for r in requests]
    fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body=batch))
    ids = {r["request_id"] for r in requests}
    results = env.wait_results("change_request", len(ids) + 1, timeout_s=60)
    final = {r["data"]["request_id"]: r["data"]["outcome"] for r in results if r["data"]["outcome"] != "deferred"}
    deferred = [r["data"] for r in results if r["data"]["outcome"] == "deferred"]
    assert deferred and {d["continuation"]["hop"] for d in deferred} == {1}
    results = env.wait_results("change_request", len(ids) + len(deferred), timeout_s=60)
    final = {r["data"]["request_id"]: r["data"]["outcome"] for r in results if r["data"]["outcome"] != "deferred"}
    assert final == {request_id: "planned" for request_id in ids}
    invocations = env.invocations("change_request")
    assert len(invocations) >= 2 and "sgguard_continuation" in invocations[-1]["payload"]

"""The deployed change_request hands what it cannot start to an asynchronous invocation of itself,
and the local runtime runs that continuation (template.yaml deployed into localcloud). The batch is
bounded by work (``MAX_MESSAGES_PER_INVOCATION``), not by how much fits in a real timeout."""

from __future__ import annotations

import json

from huaweicloudsdkfunctiongraph.v2 import (
    AsyncInvokeFunctionRequest,
    FunctionGraphClient,
    ShowFunctionConfigRequest,
    UpdateFunctionConfigRequest,
    UpdateFunctionConfigRequestBody,
)

from tests.support.runtime import dry_run_request, signed

LEGACY, DB = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"


def test_a_batch_too_big_for_one_invocation_completes_through_a_continuation(env):
    env.deploy()
    fgs = env.client(FunctionGraphClient)
    urn = env.functions()["change_request"]["func_urn"]
    config = fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    user_data = {**json.loads(config.user_data or "{}"), "MAX_MESSAGES_PER_INVOCATION": "5"}
    body = UpdateFunctionConfigRequestBody(
        func_name="change_request",
        runtime=config.runtime,
        handler=config.handler,
        memory_size=256,
        timeout=config.timeout,
        user_data=json.dumps(user_data),
    )
    fgs.update_function_config(UpdateFunctionConfigRequest(function_urn=urn, body=body))
    requests = [dry_run_request(900 + i, server_id=(LEGACY, DB)[i % 2]) for i in range(12)]
    batch = [json.loads(signed(r, env.signing_keys)) for r in requests]
    fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body=batch))
    ids = {r["request_id"] for r in requests}

    def finished():
        data = [r["data"] for r in env.results("change_request")]
        final = {d["request_id"]: d["outcome"] for d in data if d["outcome"] != "deferred"}
        return (final, [d for d in data if d["outcome"] == "deferred"]) if set(final) >= ids else None

    done = env.wait_for(finished, 90)
    assert done, "not every request reached a final outcome"
    final, deferred = done
    assert final == {request_id: "planned" for request_id in ids}, [
        (d["data"]["outcome"], d["data"]["errors"])
        for d in env.results("change_request")
        if d["data"]["outcome"] not in ("planned", "deferred")
    ][:3]
    # 12 messages, 5 a hop: 7 handed on at hop 0, 2 at hop 1; hop 2 finishes
    assert sorted(d["continuation"]["hop"] for d in deferred) == [1] * 7 + [2] * 2
    invocations = env.invocations("change_request")
    assert len(invocations) == 3 and all("sgguard_continuation" in i["payload"] for i in invocations[1:])

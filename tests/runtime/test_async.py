"""Asynchronous invocations: retried per the async config when the handler raises, then the
on_failure / on_success destination receives the platform's destination payload."""

from __future__ import annotations

import base64
import io
import json
import zipfile

from huaweicloudsdkecs.v2 import EcsClient
from huaweicloudsdkfunctiongraph.v2 import (
    AsyncInvokeFunctionRequest,
    CreateFunctionRequest,
    CreateFunctionRequestBody,
    DeleteFunctionTriggerRequest,
    FuncCode,
    FunctionGraphClient,
    UpdateFunctionAsyncInvokeConfigRequest,
    UpdateFunctionAsyncInvokeConfigRequestBody,
)

from tests.support.ecs import create_servers

SINK = (
    "def handler(event, context):\n    print('destination', event['request_context']['request_id'])\n    return 'ok'\n"
)


def _zip(source: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


def _final(env, request_id: str) -> dict:
    def done():
        return [e for e in env.executions(request_id=request_id) if "async" in e]

    (final,) = env.wait_for(done, 40) or [None]
    assert final is not None, f"no final attempt for {request_id}: {env.executions(request_id=request_id)}"
    return final


def test_a_server_not_ready_in_time_is_retried_then_sent_to_on_failure(env):
    env.deploy(READINESS_MAX_WAIT_S="1")
    env.cloud.settings(build_delay_ms=600_000)  # never ACTIVE during the test
    _, (server_id,) = create_servers(env.client(EcsClient), "web-10", tags={"env": "prod", "role": "web"})
    urn = env.functions()["ecs_created"]["func_urn"]
    payload = {"server_id": server_id, "request_id": "rerun-1"}
    accepted = env.client(FunctionGraphClient).async_invoke_function(
        AsyncInvokeFunctionRequest(function_urn=urn, body=payload)
    )
    final = _final(env, accepted.request_id)
    attempts = env.executions(request_id=accepted.request_id)
    assert [(e["attempt"], e["status"]) for e in attempts] == [(n, "failed") for n in range(1, 5)]  # 1 + 3 retries
    assert attempts[0]["error"]["errorType"] == "RetryableFailure"
    assert any('"outcome":"failed"' in line and '"retryable":true' in line for line in attempts[0]["log"])
    assert final["async"]["condition"] == "RetriesExhausted" and final["async"]["approximate_invoke_count"] == 4
    destination = final["async"]["destination"]
    # on_failure is the function itself (docs/retries.md): it gets the platform's payload and
    # publishes the message, in full, to the dead-letter topic (DEAD_LETTER_TOPIC_URN)
    assert destination["type"] == "FunctionGraph" and destination["target"] == urn and destination["delivered"]
    (dead,) = env.wait_for(lambda: env.executions(request_id=destination["request_id"]), 30) or [None]
    assert dead is not None and dead["status"] == "succeeded"
    (message,) = env.wait_for(lambda: env.smn_messages(env.alert_topic_urn), 30)
    letter = json.loads(message["message"])
    assert letter["message"] == payload
    assert letter["sgguard_dead_letter"] == {
        "function": "ecs_created",
        "condition": "RetriesExhausted",
        "approximate_invoke_count": 4,
        "request_id": accepted.request_id,
        "trigger": "direct",
        "message_index": 0,
    }
    (result,) = [r["data"] for r in env.results("ecs_created") if r["_execution"]["request_id"] == dead["request_id"]]
    assert result["outcome"] == "failed" and result["dead_lettered"] is True
    (invocation,) = [i for i in env.invocations("ecs_created") if i["request_id"] == dead["request_id"]]
    platform = invocation["payload"]  # the platform's destination payload
    assert set(platform) == {"timestamp", "request_context", "request_payload", "response_context", "response_payload"}
    assert platform["request_context"] == {
        "request_id": accepted.request_id,
        "function_urn": urn,
        "condition": "RetriesExhausted",
        "approximate_invoke_count": 4,
    }
    assert json.loads(platform["request_payload"]) == payload
    assert platform["response_context"]["status_code"] == 200
    assert platform["response_context"]["function_error"].startswith("RetryableFailure: 1 result(s) failed")
    assert json.loads(platform["response_payload"])["errorType"] == "RetryableFailure"
    assert env.port_groups(server_id) == [["default"]]


def test_a_retry_that_succeeds_goes_to_on_success(env, monkeypatch):
    env.deploy(READINESS_MAX_WAIT_S="1")
    monkeypatch.setattr(env.runtime, "retry_delay_s", 1.0)  # time to finish the server's creation in between
    fgs = env.client(FunctionGraphClient)
    sink_urn = fgs.create_function(
        CreateFunctionRequest(
            body=CreateFunctionRequestBody(
                func_name="sink",
                package="default",
                runtime="Python3.12",
                handler="index.handler",
                memory_size=128,
                timeout=10,
                code_type="zip",
                func_code=FuncCode(file=_zip(SINK)),
            )
        )
    ).func_urn
    function = env.functions()["ecs_created"]
    urn = function["func_urn"]
    for trigger in function["triggers"]:  # only the invocation below runs ecs_created
        fgs.delete_function_trigger(
            DeleteFunctionTriggerRequest(function_urn=urn, trigger_type_code="CTS", trigger_id=trigger["trigger_id"])
        )
    fgs.update_function_async_invoke_config(
        UpdateFunctionAsyncInvokeConfigRequest(
            function_urn=urn,
            body=UpdateFunctionAsyncInvokeConfigRequestBody(
                max_async_retry_attempts=2,
                max_async_event_age_in_seconds=3600,
                destination_config={
                    "on_success": {"destination": "FunctionGraph", "param": json.dumps({"func_urn": sink_urn})}
                },
            ),
        )
    )
    env.cloud.settings(build_delay_ms=600_000)
    _, (server_id,) = create_servers(env.client(EcsClient), "web-11", tags={"env": "prod", "role": "web"})
    accepted = fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body={"server_id": server_id}))
    assert env.wait_for(lambda: env.executions(request_id=accepted.request_id), 20)  # attempt 1: not ready
    env.cloud._call("POST", f"ecs/servers/{server_id}/status", {"status": "ACTIVE"})
    final = _final(env, accepted.request_id)
    assert [e["status"] for e in env.executions(request_id=accepted.request_id)] == ["failed", "succeeded"]
    assert final["async"]["condition"] == "Success" and final["async"]["approximate_invoke_count"] == 2
    assert final["async"]["destination"]["type"] == "FunctionGraph" and final["async"]["destination"]["delivered"]

    def sink_payloads():
        return [
            i["payload"]
            for i in env.invocations("sink")
            if i["payload"]["request_context"]["request_id"] == accepted.request_id
        ]

    (sent,) = env.wait_for(sink_payloads, 10)
    assert sent["request_context"]["condition"] == "" and sent["request_context"]["approximate_invoke_count"] == 2
    assert sent["request_context"]["function_urn"] == urn
    assert sent["response_context"] == {"status_code": 200, "function_error": ""}
    response = json.loads(sent["response_payload"])
    assert [r["data"]["outcome"] for r in response["results"]] == ["succeeded"]
    assert env.port_groups(server_id) == [["baseline", "web", "monitoring"]]
    sink_runs = env.wait_executions(lambda e: e["function"] == "sink" and e["status"] == "succeeded")
    assert any(line == f"destination {accepted.request_id}" for run in sink_runs for line in run["log"])

"""Each trigger kind invokes the deployed zip, in the platform's envelope (template.yaml deployed into
localcloud with sgguard deploy, the code run by the local runtime)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

from huaweicloudsdkecs.v2 import EcsClient
from huaweicloudsdkeg.v1 import CloudEvents, EgClient, PutEventsReq, PutEventsRequest
from huaweicloudsdkfunctiongraph.v2 import (
    CreateFunctionTriggerRequest,
    CreateFunctionTriggerRequestBody,
    DeleteFunctionTriggerRequest,
    FunctionGraphClient,
)
from huaweicloudsdksmn.v2 import PublishMessageRequest, PublishMessageRequestBody, SmnClient

from sgguard_cli.localenv import APIG_PATH, EG_CHANGE_REQUEST_SOURCE, KAFKA_INSTANCE_ID, KAFKA_TOPIC, RABBITMQ_EXCHANGE
from tests.support.ecs import SUBNET_WEB, create_servers
from tests.support.runtime import dry_run_request, signed


def _source_kind(execution: dict) -> str:
    return execution["source"].split(":")[1]


def test_cts_trigger_runs_ecs_created_when_a_server_is_created(env):
    env.deploy()
    _, (server_id,) = create_servers(env.client(EcsClient), "web-07", tags={"env": "prod", "role": "web"})
    (result,) = env.wait_results("ecs_created", 1, server_id=server_id)
    assert result["data"]["outcome"] == "succeeded", result["data"]
    assert result["data"]["rules_matched"] == ["baseline-everywhere", "prod-web"]
    assert env.port_groups(server_id) == [["baseline", "web", "monitoring"]]
    (invocation,) = env.invocations("ecs_created")
    assert invocation["mode"] == "async" and invocation["source"].startswith("trigger:CTS:")
    trace = invocation["payload"]["cts"]
    assert {
        k: trace[k]
        for k in ("trace_name", "trace_type", "service_type", "resource_type", "resource_id", "resource_name", "code")
    } == {
        "trace_name": "createServer",
        "trace_type": "ApiCall",
        "service_type": "ECS",
        "resource_type": "ecs",
        "resource_id": server_id,
        "resource_name": "web-07",
        "code": "200",
    }
    # CTS delivers request and response as JSON strings (docs/fidelity.md)
    assert isinstance(trace["request"], str) and isinstance(trace["response"], str)
    response, request = json.loads(trace["response"]), json.loads(trace["request"])
    assert response["job_type"] == "createSingleServer" and response["status"] == "SUCCESS"
    assert response["entities"] == {"server_id": server_id} and response["job_id"]
    assert isinstance(trace["time"], int) and trace["record_time"] >= trace["time"]
    assert trace["user"]["name"] and request["server"]["name"] == "web-07"
    (execution,) = env.executions(function="ecs_created")
    assert execution["status"] == "succeeded" and execution["attempt"] == 1
    assert any(line.startswith("{") and '"outcome":"succeeded"' in line for line in execution["log"])


def test_a_cts_trigger_for_other_operations_is_not_fired(env):
    env.deploy()
    fgs = env.client(FunctionGraphClient)
    urn = env.functions()["ecs_created"]["func_urn"]
    (cts,) = [t for t in env.functions()["ecs_created"]["triggers"] if t["trigger_type_code"] == "CTS"]
    fgs.delete_function_trigger(
        DeleteFunctionTriggerRequest(function_urn=urn, trigger_type_code="CTS", trigger_id=cts["trigger_id"])
    )
    fgs.create_function_trigger(
        CreateFunctionTriggerRequest(
            function_urn=urn,
            body=CreateFunctionTriggerRequestBody(
                trigger_type_code="CTS",
                trigger_status="ACTIVE",
                event_data={"name": "deletions", "operations": ["ECS:ecs:deleteServer"]},
            ),
        )
    )
    env.cloud.settings(build_delay_ms=600_000)
    _, (server_id,) = create_servers(env.client(EcsClient), "web-08", tags={"env": "prod", "role": "web"})
    env.cloud._call("POST", f"ecs/servers/{server_id}/status", {"status": "ACTIVE"})  # created: the event is out
    assert env.runtime.wait_idle(5)
    assert env.invocations("ecs_created") == []
    assert env.port_groups(server_id) == [["default"]]


def test_kafka_messages_arrive_in_batches_of_the_triggers_batch_size(env):
    env.deploy()
    fgs = env.client(FunctionGraphClient)
    function = env.functions()["change_request"]
    (kafka,) = [t for t in function["triggers"] if t["trigger_type_code"] == "KAFKA"]
    fgs.delete_function_trigger(
        DeleteFunctionTriggerRequest(
            function_urn=function["func_urn"], trigger_type_code="KAFKA", trigger_id=kafka["trigger_id"]
        )
    )
    fgs.create_function_trigger(
        CreateFunctionTriggerRequest(
            function_urn=function["func_urn"],
            body=CreateFunctionTriggerRequestBody(
                trigger_type_code="KAFKA",
                trigger_status="ACTIVE",
                event_data={"instance_id": KAFKA_INSTANCE_ID, "topic_ids": [KAFKA_TOPIC], "batch_size": 2},
            ),
        )
    )
    messages = [signed(dry_run_request(n), env.signing_keys) for n in range(1, 6)]
    answer = env.publish(messages)
    assert answer["first_offset"] == 0 and [t["batch_size"] for t in answer["triggers"]] == [2]
    results = env.wait_results("change_request", 5)
    assert [r["data"]["request_id"] for r in results] == [f"CHG-TEST-{n:04d}" for n in range(1, 6)]
    assert {r["data"]["outcome"] for r in results} == {"planned"}
    envelopes = [i["payload"] for i in env.invocations("change_request")]
    assert [len(e["records"][0]["messages"]) for e in envelopes] == [2, 2, 1]
    assert [m for e in envelopes for m in e["records"][0]["messages"]] == messages  # queue order kept
    first = envelopes[0]
    assert (first["event_version"], first["trigger_type"], first["region"], first["instance_id"]) == (
        "v1.0",
        "KAFKA",
        env.cloud.region,
        KAFKA_INSTANCE_ID,
    )
    assert first["records"][0]["topic_id"] == KAFKA_TOPIC and isinstance(first["event_time"], int)
    (topic,) = [t for t in env.runtime.broker.describe() if t["name"] == KAFKA_TOPIC]
    assert [b["count"] for b in topic["consumers"][0]["batches"]] == [2, 2, 1]
    assert topic["consumers"][0]["delivered"] == 5 and topic["consumers"][0]["pending"] == 0


def test_rabbitmq_exchange_through_the_control_api(env):
    env.deploy(rabbitmq=True)
    body = json.dumps({"messages": [signed(dry_run_request(11), env.signing_keys)]}).encode()
    request = urllib.request.Request(
        f"{env.cloud.url}/_localcloud/dms/exchanges/{RABBITMQ_EXCHANGE}/messages",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
        assert [t["function"] for t in json.loads(response.read())["triggers"]] == ["change_request"]
    (result,) = env.wait_results("change_request", 1)
    assert result["data"]["outcome"] == "planned" and result["data"]["trigger"] == "rabbitmq"
    (invocation,) = env.invocations("change_request")
    assert invocation["payload"]["trigger_type"] == "RABBITMQ"
    assert invocation["payload"]["records"][0]["topic_id"] == RABBITMQ_EXCHANGE


def test_a_publish_without_messages_is_refused(env):
    request = urllib.request.Request(
        f"{env.cloud.url}/_localcloud/dms/topics/t/messages",
        data=b'{"messages": [1]}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(request)
        raise AssertionError("expected 400")
    except urllib.error.HTTPError as error:
        assert error.code == 400 and b"LocalCloud.DMS" in error.read()


def test_smn_publish_invokes_the_subscribed_function(env):
    values = env.deploy(smn=True)
    smn = env.client(SmnClient)
    message = signed(dry_run_request(21), env.signing_keys)
    smn.publish_message(
        PublishMessageRequest(
            topic_urn=values["SMN_TOPIC_URN"], body=PublishMessageRequestBody(subject="change request", message=message)
        )
    )
    (result,) = env.wait_results("change_request", 1)
    assert result["data"]["outcome"] == "planned" and result["data"]["trigger"] == "smn"
    (invocation,) = env.invocations("change_request")
    record = invocation["payload"]["record"][0]
    assert record["event_source"] == "smn" and record["event_version"] == "1.0"
    assert record["smn"]["message"] == message and record["smn"]["topic_urn"] == values["SMN_TOPIC_URN"]
    assert record["smn"]["subject"] == "change request" and record["smn"]["message_id"]
    assert invocation["payload"]["functionname"] == "change_request"


def _post(url: str, body: bytes, method: str = "POST", content_type: str = "application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_apig_route_invokes_synchronously_and_maps_the_response(env):
    env.deploy(apig=True)
    url = f"{env.cloud.url}/_apig{APIG_PATH}"
    status, headers, body = _post(url + "?trace=1", signed(dry_run_request(31), env.signing_keys).encode())
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    answer = json.loads(body)
    assert [r["data"]["outcome"] for r in answer["results"]] == ["planned"]
    (invocation,) = env.invocations("change_request")
    event = invocation["payload"]
    assert invocation["mode"] == "sync" and invocation["source"].startswith("trigger:APIG:")
    assert event["httpMethod"] == "POST" and event["path"] == APIG_PATH and event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"]))["request_id"] == "CHG-TEST-0031"
    assert event["queryStringParameters"] == {"trace": "1"} and event["headers"]["content-type"] == "application/json"
    assert event["requestContext"]["requestId"] == headers["X-Apig-Request-Id"]
    # a single rejected request: the function answers 400
    status, _, body = _post(url, json.dumps({"request_id": "x"}).encode())
    assert status == 400 and json.loads(body)["results"][0]["data"]["outcome"] == "rejected"
    # no such API: the gateway's 404; the trigger is POST only
    assert _post(f"{env.cloud.url}/_apig/nope", b"{}")[0] == 404
    status, _, body = _post(url, None, method="GET")
    assert status == 404 and json.loads(body)["error_code"] == "APIG.0101"


ORG_CHANNEL_ID = "5c0a7f3e-9d41-4b2a-8e6f-10ca1c10c0ea"


def test_the_home_projects_own_creations_do_not_reach_the_central_channels_triggers(env):
    """The central channel (ORG_EG_CHANNEL_ID) carries what member accounts forward; the home
    project's own ECS events go to its official channel ``default`` (EventGrid's cloud service
    events), so with the organisation's triggers deployed a home server still runs ecs_created
    once, from CTS: no EVENTGRID execution of ecs_created or sg_drift."""
    env.cloud._call(
        "POST", "eg/channels", {"name": "sgguard-org-events", "id": ORG_CHANNEL_ID, "project_id": env.cloud.project_id}
    )
    env.deploy(ORG_EG_CHANNEL_ID=ORG_CHANNEL_ID)
    on_channel = [
        name
        for name, f in env.functions().items()
        for t in f["triggers"]
        if t["trigger_type_code"] == "EVENTGRID" and t["event_data"]["channel_id"] == ORG_CHANNEL_ID
    ]
    assert sorted(on_channel) == ["ecs_created", "sg_drift", "sg_drift"]
    _, (server_id,) = create_servers(
        env.client(EcsClient), "web-10", tags={"env": "prod", "role": "web"}, subnets=(SUBNET_WEB,)
    )
    env.wait_results("ecs_created", 1, server_id=server_id)
    assert env.runtime.wait_idle(timeout_s=30)
    assert sorted(_source_kind(e) for e in env.executions(function="ecs_created")) == ["CTS"]
    assert [e for e in env.executions() if _source_kind(e) == "EVENTGRID"] == []


def test_eventgrid_custom_channel_and_hc_ecs_events(env):
    values = env.deploy(eventgrid=True)
    eg = env.client(EgClient)
    request = json.loads(signed(dry_run_request(41), env.signing_keys))
    eg.put_events(
        PutEventsRequest(
            channel_id=values["EG_CHANNEL_ID"],
            body=PutEventsReq(
                events=[
                    CloudEvents(
                        id="evt-41",
                        source=EG_CHANGE_REQUEST_SOURCE,
                        specversion="1.0",
                        type="com.sgguard.change_request.submitted",
                        datacontenttype="application/json",
                        time="2026-11-28T21:00:00Z",
                        data=request,
                    )
                ]
            ),
        )
    )
    (result,) = env.wait_results("change_request", 1)
    assert result["data"]["outcome"] == "planned" and result["data"]["trigger"] == "eventgrid"
    (invocation,) = env.invocations("change_request")
    assert invocation["payload"]["id"] == "evt-41" and invocation["source"].startswith("trigger:EVENTGRID:")
    # a new server: HC.ECS cloud event through EventGrid as well as the CTS trace
    _, (server_id,) = create_servers(
        env.client(EcsClient), "web-09", tags={"env": "prod", "role": "web"}, subnets=(SUBNET_WEB,)
    )
    executions = env.wait_executions(lambda e: e["function"] == "ecs_created", count=2)
    assert sorted(_source_kind(e) for e in executions) == ["CTS", "EVENTGRID"]
    (cloud_event,) = [i["payload"] for i in env.invocations("ecs_created") if "EVENTGRID" in i["source"]]
    assert (cloud_event["source"], cloud_event["type"], cloud_event["specversion"]) == (
        "HC.ECS",
        "ECS:CloudTrace:ApiCall",
        "1.0",
    )
    assert cloud_event["data"]["resource_id"] == server_id and cloud_event["subject"] == server_id
    env.wait_results("ecs_created", 2, server_id=server_id)

"""Contract of localcloud's FunctionGraph API, through the official SDK: paths, bodies, real error
bodies, and the invocation hooks a local runtime builds on."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.request
import zipfile

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkfunctiongraph.v2 import (
    AsyncInvokeFunctionRequest,
    CreateDependencyRequestBody,
    CreateDependencyVersionRequest,
    CreateFunctionRequest,
    CreateFunctionRequestBody,
    CreateFunctionTriggerRequest,
    CreateFunctionTriggerRequestBody,
    DeleteFunctionRequest,
    FuncCode,
    InvokeFunctionRequest,
    ListDependencyVersionRequest,
    ListFunctionsRequest,
    ListFunctionTriggersRequest,
    ShowFunctionCodeRequest,
    ShowFunctionConfigRequest,
    UpdateFunctionAsyncInvokeConfigRequest,
    UpdateFunctionAsyncInvokeConfigRequestBody,
    UpdateFunctionCodeRequest,
    UpdateFunctionCodeRequestBody,
    UpdateFunctionConfigRequest,
    UpdateFunctionConfigRequestBody,
)

from localcloud.services.functiongraph import register_invoker
from tests.support.sdk import credentials_for, functiongraph_client


def _zip(source: str = "def handler(event, context):\n    return event\n") -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


def _body(**overrides) -> CreateFunctionRequestBody:
    fields = dict(
        func_name="probe",
        package="default",
        runtime="Python3.12",
        handler="index.handler",
        memory_size=256,
        timeout=30,
        code_type="zip",
        func_code=FuncCode(file=_zip()),
        user_data=json.dumps({"REGION": "cn-north-4"}),
    )
    fields.update(overrides)
    return CreateFunctionRequestBody(**fields)


@pytest.fixture
def fgs(cloud):
    client = functiongraph_client(cloud)
    yield client
    register_invoker(cloud.backend, None)


@pytest.fixture
def urn(fgs):
    return fgs.create_function(CreateFunctionRequest(body=_body())).func_urn


def _error(call) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_create_show_list_update_delete(cloud, fgs, urn):
    assert urn == f"urn:fss:{cloud.region}:{cloud.project_id}:function:default:probe:latest"
    config = fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    assert (config.runtime, config.handler, config.memory_size, config.timeout) == (
        "Python3.12",
        "index.handler",
        256,
        30,
    )
    code = fgs.show_function_code(ShowFunctionCodeRequest(function_urn=urn))
    assert len(code.digest) == 128  # SHA-512, as the API documents digest
    base = urn.rsplit(":", 1)[0]  # the URN without its version names the latest too
    assert fgs.show_function_config(ShowFunctionConfigRequest(function_urn=base)).func_name == "probe"
    listed = fgs.list_functions(ListFunctionsRequest())
    assert listed.count == 1 and listed.functions[0].func_urn == urn
    updated = fgs.update_function_config(
        UpdateFunctionConfigRequest(
            function_urn=urn,
            body=UpdateFunctionConfigRequestBody(
                func_name="probe",
                runtime="Python3.10",
                handler="index.handler",
                memory_size=512,
                timeout=60,
                user_data=json.dumps({"A": "1"}),
            ),
        )
    )
    assert (updated.runtime, updated.memory_size, updated.user_data) == ("Python3.10", 512, '{"A": "1"}')
    new_code = fgs.update_function_code(
        UpdateFunctionCodeRequest(
            function_urn=urn,
            body=UpdateFunctionCodeRequestBody(
                code_type="zip", func_code=FuncCode(file=_zip("def handler(e, c):\n    return 2\n"))
            ),
        )
    )
    assert new_code.digest != code.digest
    fgs.delete_function(DeleteFunctionRequest(function_urn=urn))
    assert _error(lambda: fgs.show_function_config(ShowFunctionConfigRequest(function_urn=urn))).status_code == 404


def test_a_bad_signature_is_refused(cloud, urn):
    client = functiongraph_client(cloud, credentials=credentials_for(cloud, sk="not-the-secret-key-0000000000000"))
    error = _error(lambda: client.show_function_config(ShowFunctionConfigRequest(function_urn=urn)))
    assert (error.status_code, error.error_code) == (401, "APIGW.0301")


def test_an_unknown_function_is_404_fss_1051(cloud, fgs):
    unknown = f"urn:fss:{cloud.region}:{cloud.project_id}:function:default:nope:latest"
    calls = [
        lambda: fgs.show_function_config(ShowFunctionConfigRequest(function_urn=unknown)),
        lambda: fgs.show_function_code(ShowFunctionCodeRequest(function_urn=unknown)),
        lambda: fgs.list_function_triggers(ListFunctionTriggersRequest(function_urn=unknown)),
        lambda: fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=unknown, body={})),
        lambda: fgs.invoke_function(InvokeFunctionRequest(function_urn=unknown, body={})),
    ]
    for call in calls:
        error = _error(call)
        assert (error.status_code, error.error_code, error.error_msg) == (404, "FSS.1051", "Not found the function")


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"runtime": "Python3.11"}, "Invalid runtime"),
        ({"memory_size": 300}, "Invalid memory_size"),
        ({"timeout": 901}, "Invalid timeout"),
        ({"handler": "index"}, "Invalid handler"),
        ({"func_name": "1bad"}, "Invalid func_name"),
        ({"code_type": "obs"}, "Invalid code_type"),
        ({"func_code": FuncCode(file="***")}, "not valid base64"),
        ({"user_data": "not json"}, "Invalid user_data"),
        ({"user_data": json.dumps({f"K{i}": "v" * 100 for i in range(40)})}, "at most 4096 bytes"),
        ({"user_data": json.dumps({"_KEY": "v"})}, "bad key names"),
        ({"user_data": json.dumps({"A.B": "v"})}, "bad key names"),
    ],
)
def test_invalid_create_bodies_are_400(fgs, overrides, words):
    error = _error(lambda: fgs.create_function(CreateFunctionRequest(body=_body(**overrides))))
    assert (error.status_code, error.error_code) == (400, "FSS.0400") and words in error.error_msg


def test_a_file_that_is_not_a_zip_is_fss_1011(fgs):
    body = _body(func_code=FuncCode(file=base64.b64encode(b"not a zip at all").decode()))
    error = _error(lambda: fgs.create_function(CreateFunctionRequest(body=body)))
    assert (error.status_code, error.error_code, error.error_msg) == (400, "FSS.1011", "zip: not a valid zip file")


def test_a_duplicate_name_is_409(fgs, urn):
    assert _error(lambda: fgs.create_function(CreateFunctionRequest(body=_body()))).status_code == 409


def test_triggers_and_async_config(cloud, fgs, urn):
    def create(kind, data, status="ACTIVE"):
        return fgs.create_function_trigger(
            CreateFunctionTriggerRequest(
                function_urn=urn,
                body=(CreateFunctionTriggerRequestBody(trigger_type_code=kind, trigger_status=status, event_data=data)),
            )
        )

    cts = create("CTS", {"name": "t1", "operations": ["ECS:ecs:createServer"]})
    create("KAFKA", {"instance_id": "k", "topic_ids": ["t"], "batch_size": 100, "kafka_password": "pw"})
    listed = fgs.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn)).to_json_object()
    assert [t["trigger_type_code"] for t in listed] == ["CTS", "KAFKA"]
    assert "kafka_password" not in listed[1]["event_data"]  # secrets are not returned
    for kind, data, words in [
        ("S3", {}, "Invalid trigger_type_code"),
        ("CTS", {"name": "t2", "operations": ["createServer"]}, "operations"),
        ("KAFKA", {"instance_id": "k", "topic_ids": ["t"], "batch_size": 5000}, "batch_size"),
        ("SMN", {"topic_urn": "not-a-urn"}, "topic_urn"),
    ]:
        error = _error(lambda: create(kind, data))
        assert error.status_code == 400 and words in error.error_msg
    assert _error(lambda: create("CTS", {"name": "t1", "operations": ["ECS:ecs:createServer"]})).status_code == 409
    from huaweicloudsdkfunctiongraph.v2 import DeleteFunctionTriggerRequest

    fgs.delete_function_trigger(
        DeleteFunctionTriggerRequest(function_urn=urn, trigger_type_code="CTS", trigger_id=cts.trigger_id)
    )
    assert (
        _error(
            lambda: fgs.delete_function_trigger(
                DeleteFunctionTriggerRequest(function_urn=urn, trigger_type_code="CTS", trigger_id=cts.trigger_id)
            )
        ).status_code
        == 404
    )

    def async_config(**fields):
        return fgs.update_function_async_invoke_config(
            UpdateFunctionAsyncInvokeConfigRequest(
                function_urn=urn, body=UpdateFunctionAsyncInvokeConfigRequestBody(**fields)
            )
        )

    destination = {"on_failure": {"destination": "SMN", "param": json.dumps({"topic_urn": "urn:smn:r:p:alerts"})}}
    done = async_config(
        max_async_retry_attempts=3, max_async_event_age_in_seconds=3600, destination_config=destination
    ).to_json_object()
    assert done["max_async_retry_attempts"] == 3 and done["destination_config"] == destination
    assert _error(lambda: async_config(max_async_retry_attempts=4)).status_code == 400


def test_async_invocations_are_recorded_and_listed(cloud, fgs, urn):
    accepted = fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body={"hello": "world"}))
    assert accepted.request_id
    with urllib.request.urlopen(f"{cloud.url}/_localcloud/functiongraph/invocations?function=probe") as response:
        invocations = json.loads(response.read())["invocations"]
    assert [(i["request_id"], i["mode"], i["payload"]) for i in invocations] == [
        (accepted.request_id, "async", {"hello": "world"})
    ]
    state = cloud.state()["projects"][cloud.project_id]["functiongraph"]["functions"]["probe"]
    assert state["invocations"][0]["request_id"] == accepted.request_id


def test_a_registered_invoker_runs_outside_the_state_lock(cloud, fgs, urn):
    seen, done = [], threading.Event()

    def invoker(invocation):
        # calling the API from inside the invoker would deadlock if the state lock were held
        config = functiongraph_client(cloud).show_function_config(ShowFunctionConfigRequest(function_urn=urn))
        seen.append((invocation.mode, invocation.payload, config.func_name, invocation.function.sha256))
        if invocation.mode == "async":
            done.set()
        return {"status": 200, "result": {"echo": invocation.payload}, "log": "ran"}

    register_invoker(cloud.backend, invoker)
    result = fgs.invoke_function(InvokeFunctionRequest(function_urn=urn, body={"n": 1}))
    assert (result.status, json.loads(result.result), result.log) == (200, {"echo": {"n": 1}}, "ran")
    fgs.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body={"n": 2}))
    assert done.wait(5)
    assert [s[:3] for s in seen] == [("sync", {"n": 1}, "probe"), ("async", {"n": 2}, "probe")]


def test_dependency_versions(cloud, fgs):
    def create(content: bytes):
        return fgs.create_dependency_version(
            CreateDependencyVersionRequest(
                body=CreateDependencyRequestBody(
                    depend_type="zip",
                    depend_file=base64.b64encode(content).decode(),
                    runtime="Python3.12",
                    name="deps",
                    description="d",
                )
            )
        )

    zipped = base64.b64decode(_zip())
    first, second = create(zipped), create(zipped)
    assert (first.version, second.version) == (1, 2) and first.dep_id == second.dep_id
    versions = fgs.list_dependency_version(ListDependencyVersionRequest(depend_id=first.dep_id)).to_json_object()
    assert [v["id"] for v in versions["dependencies"]] == [first.id, second.id]
    assert _error(lambda: create(b"not a zip")).error_code == "FSS.1011"
    body = _body(depend_version_list=["no-such-version"])
    assert "depend_version_list" in _error(lambda: fgs.create_function(CreateFunctionRequest(body=body))).error_msg

"""The local runtime itself: isolated processes, the FunctionGraph context, logs, timeouts, warm
instances, dependency packages."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
from huaweicloudsdkfunctiongraph.v2 import (
    CreateDependencyRequestBody,
    CreateDependencyVersionRequest,
    CreateFunctionRequest,
    CreateFunctionRequestBody,
    FuncCode,
    FunctionGraphClient,
    InvokeFunctionRequest,
)

from localcloud.runtime.process import PRESET_VARIABLES

# The context table of the FunctionGraph developer guide (Python, "SDK APIs"):
# https://support.huaweicloud.com/devg-functiongraph/functiongraph_02_0502.html — no getProjectID.
DOCUMENTED_CONTEXT_METHODS = (
    "getRequestID",
    "getRemainingTimeInMilliSeconds",
    "getAccessKey",
    "getSecretKey",
    "getSecurityAccessKey",
    "getSecuritySecretKey",
    "getSecurityToken",
    "getUserData",
    "getFunctionName",
    "getRunningTimeInSeconds",
    "getVersion",
    "getMemorySize",
    "getCPUNumber",
    "getPackage",
    "getToken",
    "getLogger",
    "getAlias",
)

PROBE = """
import json, os, sys, time
def handler(event, context):
    print("probe got", json.dumps(event))
    context.getLogger().info("from the context logger")
    print("to stderr", file=sys.stderr)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    try:
        import probe_dep
        dep = probe_dep.VALUE
    except ImportError:
        dep = None
    return {"request_id": context.getRequestID(), "remaining_ms": context.getRemainingTimeInMilliSeconds(),
            "plain": context.getUserData("PLAIN"), "secret": context.getUserData("SECRET"),
            "ak": context.getSecurityAccessKey(), "sk": context.getSecuritySecretKey(),
            "token": context.getSecurityToken(), "project_id": os.environ.get("RUNTIME_PROJECT_ID"),
            "has_get_project_id": hasattr(context, "getProjectID"),
            "methods": sorted(n for n in dir(context) if n.startswith("get")),
            "preset": {k: v for k, v in os.environ.items() if k.startswith("RUNTIME_")},
            "function": context.getFunctionName(), "memory": context.getMemorySize(), "cwd": os.getcwd(),
            "env_plain": os.environ.get("PLAIN"), "pid": os.getpid(), "dep": dep,
            "shared_here": os.path.exists("shared")}
"""


def _zip(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def probe(env):
    """A small function created through the SDK; returns (client, urn)."""
    fgs = env.client(FunctionGraphClient)

    def create(name="probe", timeout=3, xrole="sgguard-functions", depend_version_list=None, files=None):
        body = CreateFunctionRequestBody(
            func_name=name,
            package="default",
            runtime="Python3.12",
            handler="index.handler",
            memory_size=128,
            timeout=timeout,
            code_type="zip",
            xrole=xrole,
            func_code=FuncCode(file=base64.b64encode(_zip(files or {"index.py": PROBE})).decode()),
            user_data=json.dumps({"PLAIN": "p"}),
            encrypted_user_data=json.dumps({"SECRET": "s3cret"}),
            depend_version_list=depend_version_list,
        )
        return fgs.create_function(CreateFunctionRequest(body=body)).func_urn

    return fgs, create


def _invoke(fgs, urn, event):
    response = fgs.invoke_function(InvokeFunctionRequest(function_urn=urn, body=event))
    return response.status, json.loads(response.result), response.log


def test_the_handler_gets_a_functiongraph_context_in_its_own_process(env, probe):
    import os

    fgs, create = probe
    urn = create()
    status, result, log = _invoke(fgs, urn, {"n": 1})
    assert status == 200
    assert result["plain"] == "p" and result["secret"] == "s3cret" and result["env_plain"] == "p"
    assert result["function"] == "probe" and result["project_id"] == env.cloud.project_id and result["memory"] == 128
    assert 2000 < result["remaining_ms"] <= 3000
    # exactly the documented context methods and preset variables (docs/fidelity.md)
    assert not result["has_get_project_id"] and result["methods"] == sorted(DOCUMENTED_CONTEXT_METHODS)
    preset = result["preset"]
    assert sorted(preset) == sorted(PRESET_VARIABLES)
    assert (
        preset["RUNTIME_FUNC_NAME"],
        preset["RUNTIME_HANDLER"],
        preset["RUNTIME_TIMEOUT"],
        preset["RUNTIME_MEMORY"],
        preset["RUNTIME_MAX_RESP_BODY_SIZE"],
    ) == ("probe", "index.handler", "3", "128", "6291456")
    assert json.loads(preset["RUNTIME_USERDATA"]) == {"PLAIN": "p"} and preset["RUNTIME_CODE_ROOT"] == result["cwd"]
    assert result["pid"] != os.getpid() and result["cwd"].endswith("/code/" + env.functions()["probe"]["sha256"])
    credential = env.cloud.backend.credential(result["ak"])  # temporary agency credentials localcloud accepts
    assert credential is not None and credential.sk == result["sk"] and credential.security_token == result["token"]
    assert credential.project_id == env.cloud.project_id and credential.expires_at
    assert log.splitlines()[0] == 'probe got {"n": 1}' and "from the context logger" in log and "to stderr" in log
    (execution,) = env.executions(function="probe")
    assert execution["mode"] == "sync" and execution["status"] == "succeeded" and execution["cold_start"]
    assert execution["log"][0] == 'probe got {"n": 1}' and execution["result"]["request_id"] == execution["request_id"]


def test_no_agency_no_credentials(env, probe):
    fgs, create = probe
    _, result, _ = _invoke(fgs, create(xrole=""), {})
    assert (result["ak"], result["sk"], result["token"]) == ("", "", "")


def test_an_error_and_a_timeout(env, probe):
    fgs, create = probe
    urn = create()
    status, error, log = _invoke(fgs, urn, {"fail": True})
    assert status == 500 and (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")
    assert "Traceback" in log and "runner.py" not in "".join(error["stackTrace"])
    first_pid = _invoke(fgs, urn, {})[1]["pid"]  # the instance survived the error
    status, error, _ = _invoke(fgs, urn, {"sleep": 10})
    assert status == 500 and error["errorType"] == "FunctionTimeout"
    assert [e["status"] for e in env.executions(function="probe")] == ["failed", "succeeded", "timeout"]
    assert _invoke(fgs, urn, {})[1]["pid"] != first_pid  # the timed-out instance was killed


def test_warm_instances_are_reused_and_a_reset_ends_them(env, probe):
    fgs, create = probe
    urn = create()
    pids = {_invoke(fgs, urn, {})[1]["pid"] for _ in range(3)}
    assert len(pids) == 1
    assert [e["cold_start"] for e in env.executions(function="probe")] == [True, False, False]
    assert [i["function"] for i in env.runtime.status()["instances"]] == ["probe"]
    env.cloud.reset()
    assert env.runtime.status()["instances"] == []


def _dependency(fgs, files: dict) -> str:
    body = CreateDependencyRequestBody(
        depend_type="zip", depend_file=base64.b64encode(_zip(files)).decode(), runtime="Python3.12", name="deps"
    )
    return fgs.create_dependency_version(CreateDependencyVersionRequest(body=body)).id


def test_dependency_packages_go_on_the_path_when_they_can_load_here(env, probe):
    fgs, create = probe
    pure = _dependency(fgs, {"probe_dep.py": "VALUE = 'from the dependency'\n"})
    _, result, _ = _invoke(fgs, create(name="pure", depend_version_list=[pure]), {})
    assert result["dep"] == "from the dependency"
    foreign = _dependency(
        fgs,
        {"probe_dep.py": "VALUE = 'foreign'\n", "native/_speedups.cpython-39-x86_64-linux-gnu.so": "not loadable here"},
    )
    _, result, _ = _invoke(fgs, create(name="foreign", depend_version_list=[foreign]), {})
    assert result["dep"] is None
    (execution,) = env.executions(function="foreign")
    assert "native extensions built for another Python" in execution["notes"][0]
    stub = _dependency(fgs, {"sgguard_deps_pins.txt": "jsonschema==4\n"})
    _invoke(fgs, create(name="stub", depend_version_list=[stub]), {})
    assert "the localcloud stand-in" in env.executions(function="stub")[0]["notes"][0]


def test_a_zip_escaping_its_directory_is_not_unpacked(tmp_path):
    # the API refuses such a zip already (FSS.0400); the runtime does not rely on it
    from localcloud.runtime.instances import CodeCache

    cache = CodeCache(tmp_path / "cache")
    with pytest.raises(ValueError, match="unsafe path"):
        cache._unpack("code", "x" * 64, _zip({"index.py": "", "../evil.py": "x = 1\n"}))
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "cache" / "code" / ("x" * 64)).exists()

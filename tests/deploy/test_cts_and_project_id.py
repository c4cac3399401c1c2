"""The CTS trigger subscribes to every documented creation trace name, the plan reads trigger
operations in either spelling, and deploy writes the project id into user data (the documented
context has no getProjectID)."""

from __future__ import annotations

from sgguard_cli.template import load_template
from tests.support.deploy import functions_of as _functions
from tests.support.deploy import sample_env

# ECS "Key Operations Supported by CTS" (createServer, V2, V21) and CTS "Example Traces"
# (createSingleServer, a SystemAction carrying the server id): docs/fidelity.md
ECS_CREATION_TRACES = {"createServer", "createServerV2", "createServerV21", "createSingleServer"}


def _cts_operations(template) -> list[str]:
    (trigger,) = [t for t in template.function("ecs_created").triggers if t.trigger_type_code == "CTS"]
    return list(trigger.event_data["operations"])


def test_the_cts_trigger_lists_exactly_the_documented_creation_traces():
    operations = _cts_operations(load_template(environ=sample_env()))
    assert {op.rsplit(":", 1)[1] for op in operations} == ECS_CREATION_TRACES
    assert all(op.startswith("ECS:ecs:") for op in operations)  # the unconfirmed spelling: docs/fidelity.md


def test_deploy_writes_the_project_id_into_user_data(cloud, deployer):  # noqa: F811
    deployer()
    for function in _functions(cloud).values():
        assert function["user_data"]["PROJECT_ID"] == cloud.project_id
    deployer("--plan")
    assert deployer.lines[0] == "no changes"


def test_the_eventgrid_trigger_takes_every_cloud_trace_type():
    template = load_template(environ={**sample_env(), "EG_CHANNEL_ID": "c0ffee00-0000-4000-8000-000000000001"})
    (trigger,) = [t for t in template.function("ecs_created").triggers if t.trigger_type_code == "EVENTGRID"]
    assert set(trigger.event_data["event_types"]) == {
        f"ECS:CloudTrace:{kind}" for kind in ("ApiCall", "ConsoleAction", "SystemAction")
    }


def test_a_plan_against_triggers_answered_in_the_joined_form_changes_nothing(cloud, deployer):  # noqa: F811
    deployer()
    cloud.settings(cts_operations_joined=1)
    deployer("--plan")
    assert deployer.lines[0] == "no changes", deployer.lines


def test_a_plan_against_terse_trigger_answers_changes_nothing(cloud, deployer):  # noqa: F811
    deployer()
    cloud.settings(terse_trigger_answers=1, cts_operations_joined=1)
    deployer("--plan")
    assert deployer.lines[0] == "no changes", deployer.lines


def test_a_changed_operation_is_still_a_change_in_the_joined_form(cloud, deployer):  # noqa: F811
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateFunctionTriggerRequest,
        CreateFunctionTriggerRequestBody,
        DeleteFunctionTriggerRequest,
        ListFunctionTriggersRequest,
    )

    from tests.support.sdk import functiongraph_client

    deployer()
    cloud.settings(cts_operations_joined=1)
    fgs = functiongraph_client(cloud)
    urn = _functions(cloud)["ecs_created"]["func_urn"]
    triggers = fgs.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn)).body
    (cts,) = [t for t in triggers if t.trigger_type_code == "CTS"]
    fgs.delete_function_trigger(
        DeleteFunctionTriggerRequest(function_urn=urn, trigger_type_code="CTS", trigger_id=cts.trigger_id)
    )
    body = CreateFunctionTriggerRequestBody(
        trigger_type_code="CTS",
        trigger_status="ACTIVE",
        event_type_code="MessageCreated",
        event_data={"name": "sgguard_ecs_created", "operations": ["ECS:ecs:createServer;createServerV2"]},
    )
    fgs.create_function_trigger(CreateFunctionTriggerRequest(function_urn=urn, body=body))
    deployer("--plan")
    assert deployer.lines[0] != "no changes", deployer.lines  # createServerV21 and createSingleServer are gone
    assert any("CTS" in line for line in deployer.lines), deployer.lines


def test_operations_read_the_same_in_every_spelling():
    from sgguard_cli.template import cts_operations, trace_names

    listed = ["ECS:ecs:createServer", "ECS:ecs:createServerV2", "VPC:ports:updatePort"]
    joined = ["ECS:ecs:createServer;createServerV2", "VPC:ports:updatePort"]
    assert cts_operations(listed) == cts_operations(joined)
    assert cts_operations("ECS:ecs:createServer;createServerV2;") == cts_operations(listed[:2])
    assert cts_operations(joined) != cts_operations(["ECS:ecs:createServer"])
    assert cts_operations(["ECS:ecs: createServer ; createServerV2 "]) == cts_operations(listed[:2])
    assert trace_names(joined) == {"createServer", "createServerV2", "updatePort"}
    # malformed entries stay as written: a difference, never silently dropped or merged
    assert cts_operations(["createServer"]) == {"createServer"}
    assert cts_operations(None) == cts_operations(42) == frozenset()

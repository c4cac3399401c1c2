"""The CTS trigger subscribes to ECS's documented creation trace names only, and deploy writes
the project id into user data (the documented context has no getProjectID)."""

from __future__ import annotations

from sgguard_cli.template import load_template
from tests.support.deploy import functions_of as _functions
from tests.support.deploy import sample_env

# ECS user guide, "Key Operations Supported by CTS": the creation trace names (docs/fidelity.md)
ECS_CREATION_TRACES = {"createServer", "createServerV2", "createServerV21"}


def _cts_operations(template) -> list[str]:
    (trigger,) = [t for t in template.function("ecs_created").triggers if t.trigger_type_code == "CTS"]
    return list(trigger.event_data["operations"])


def test_the_cts_trigger_lists_exactly_the_documented_creation_traces():
    operations = _cts_operations(load_template(environ=sample_env()))
    assert not any("createSingleServer" in op for op in operations)  # a job type, not a trace name
    assert {op.rsplit(":", 1)[1] for op in operations} == ECS_CREATION_TRACES
    assert all(op.startswith("ECS:ecs:") for op in operations)  # the unconfirmed spelling: docs/fidelity.md


def test_deploy_writes_the_project_id_into_user_data(cloud, deployer):  # noqa: F811
    deployer()
    for function in _functions(cloud).values():
        assert function["user_data"]["PROJECT_ID"] == cloud.project_id
    deployer("--plan")
    assert deployer.lines[0] == "no changes"

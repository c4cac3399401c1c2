"""Least privilege: the agency grants exactly the actions of the calls the code makes, both ways."""

from __future__ import annotations

from pathlib import Path

from sgguard_cli.permissions import (
    ACTIONS_BY_CALL,
    SDK_METHOD_CALLS,
    operations_in_code,
    required_actions,
    unmapped_sdk_calls,
)
from sgguard_cli.template import load_template
from tests.support.deploy import ROOT, sample_env


def test_the_table_covers_exactly_the_operations_found_in_the_code():
    found = operations_in_code(ROOT)
    missing = found - set(ACTIONS_BY_CALL)
    stale = set(ACTIONS_BY_CALL) - found
    assert not missing, f"operations the code calls with no IAM action in sgguard_cli/permissions.py: {sorted(missing)}"
    assert not stale, f"ACTIONS_BY_CALL entries the code no longer calls: {sorted(stale)}"
    # what the brief's gateway performs today, as a floor
    assert {
        "vpc.list_ports",
        "vpc.show_port",
        "vpc.update_port",
        "vpc.insert_security_groups",
        "vpc.remove_security_groups",
        "vpc.list_security_groups",
        "vpc.show_security_group",
        "ecs.show_server",
        "ecs.show_job",
    } <= found


def test_every_sdk_call_in_the_code_is_known():
    assert unmapped_sdk_calls(ROOT) == {}, "add these SDK calls to SDK_METHOD_CALLS and ACTIONS_BY_CALL"
    assert set(SDK_METHOD_CALLS.values()) - {"ecs.list_server_interfaces"} <= set(ACTIONS_BY_CALL)


def test_the_agency_policy_grants_exactly_the_needed_actions():
    granted = load_template(ROOT / "template.yaml", sample_env()).agency.actions
    needed = required_actions(ROOT)
    assert not needed - granted, f"the agency lacks: {sorted(needed - granted)}"
    assert not granted - needed, f"the agency grants more than the code needs: {sorted(granted - needed)}"
    assert not any("*" in action for action in granted)


def test_the_scanner_finds_gateway_operations_and_direct_sdk_calls(tmp_path: Path):
    shared = tmp_path / "shared" / "sinks"
    shared.mkdir(parents=True)
    (tmp_path / "shared" / "gw.py").write_text(
        'x = self._write("vpc.update_port", lambda: c.update_port(r))\ny = self._read( "ecs.show_server", f)\n'
    )
    (shared / "smn.py").write_text(
        "client.publish_message(PublishMessageRequest(topic_urn=t, body=b))\n"
        "client.delete_topic(r)\nsomething.update(x)\n"
    )
    assert operations_in_code(tmp_path) == {"vpc.update_port", "ecs.show_server", "smn.publish_message"}
    assert unmapped_sdk_calls(tmp_path) == {"delete_topic": ["shared/sinks/smn.py"]}

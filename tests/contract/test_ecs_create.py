"""ECS server creation: bodies, batch names, BUILD -> ACTIVE (by time, by polls), delayed ports,
jobs and their sub-jobs, the failure hook and the ``ecs.server_created`` event."""

from __future__ import annotations

import threading
import time

import pytest
from huaweicloudsdkecs.v2 import (
    CreateServersRequest,
    CreateServersRequestBody,
    ListServerInterfacesRequest,
    PrePaidServer,
    PrePaidServerNic,
    PrePaidServerSecurityGroup,
)
from huaweicloudsdkvpc.v2 import ListPortsRequest

from tests.support.ecs_contract import (
    SG_APP,
    SG_BASELINE,
    SG_WEB,
    SUBNET_APP,
    SUBNET_WEB,
    VPC_ID,
    create,
    job,
    show,
    wait_for,
    wait_job,
    wait_status,
)


@pytest.fixture
def created_events(cloud):
    """Every ``ecs.server_created`` event published during the test."""
    events: list[dict] = []
    lock = threading.Lock()

    def listener(**payload):
        with lock:
            events.append(payload)

    cloud.backend.subscribe("ecs.server_created", listener)
    yield events
    cloud.backend.listeners["ecs.server_created"].remove(listener)


def _ports(vpc_v2, server_id):
    return vpc_v2.list_ports(ListPortsRequest(device_id=server_id)).ports


def test_create_single_server_with_groups_tags_metadata_and_az(cloud, ecs, vpc_v2):
    cloud.settings(build_delay_ms=100)
    response = create(
        ecs,
        "web-a",
        security_groups=[SG_BASELINE, SG_WEB],
        tags={"env": "dev", "team": "blue"},
        metadata={"owner": "ops"},
        availability_zone="cn-north-4b",
    )
    assert len(response.server_ids) == 1 and len(response.job_id) == 32
    server = wait_status(ecs, response.server_ids[0], "ACTIVE")
    assert server.name == "web-a"
    assert server.os_ext_a_zavailability_zone == "cn-north-4b"
    assert sorted(server.tags) == ["env=dev", "team=blue"]
    assert server.metadata["owner"] == "ops" and server.metadata["vpc_id"] == VPC_ID
    assert [(g.id, g.name) for g in server.security_groups] == [(SG_BASELINE, "baseline"), (SG_WEB, "web")]
    assert server.flavor.id == "s6.large.2" and server.flavor.vcpus == "2" and server.flavor.ram == "4096"
    ports = _ports(vpc_v2, server.id)
    assert len(ports) == 1
    assert ports[0].security_groups == [SG_BASELINE, SG_WEB]
    assert ports[0].device_owner == "compute:cn-north-4b"
    assert ports[0].network_id == SUBNET_WEB


def test_create_without_security_groups_uses_the_default_group(cloud, ecs, vpc_v2):
    cloud.settings(build_delay_ms=100)
    response = create(ecs, "web-default", subnets=(SUBNET_WEB, SUBNET_APP))
    server = wait_status(ecs, response.server_ids[0], "ACTIVE")
    assert [g.name for g in server.security_groups] == ["default"]
    ports = _ports(vpc_v2, server.id)
    assert len(ports) == 2
    default_id = server.security_groups[0].id
    assert all(port.security_groups == [default_id] for port in ports)


def test_batch_create_names_servers_with_a_numeric_suffix(cloud, ecs):
    cloud.settings(build_delay_ms=100)
    response = create(ecs, "batch", count=3, security_groups=[SG_APP])
    assert len(response.server_ids) == 3
    current = wait_job(ecs, response.job_id)
    assert current.status == "SUCCESS"
    assert current.job_type == "createServer"
    assert current.entities.sub_jobs_total == 3
    assert {sub.entities.server_id for sub in current.entities.sub_jobs} == set(response.server_ids)
    assert all(sub.job_type == "createSingleServer" and sub.status == "SUCCESS" for sub in current.entities.sub_jobs)
    names = [show(ecs, server_id).name for server_id in response.server_ids]
    assert names == ["batch-0001", "batch-0002", "batch-0003"]
    addresses = {show(ecs, sid).addresses[VPC_ID][0].addr for sid in response.server_ids}
    assert len(addresses) == 3


def test_the_v1_1_create_servers_call_is_served_too(cloud, ecs):
    body = CreateServersRequestBody(
        server=PrePaidServer(
            name="prepaid",
            flavor_ref="s6.small.1",
            image_ref="img",
            vpcid=VPC_ID,
            nics=[PrePaidServerNic(subnet_id=SUBNET_APP, ip_address="10.0.2.77")],
            security_groups=[PrePaidServerSecurityGroup(id=SG_APP)],
        )
    )
    response = ecs.create_servers(CreateServersRequest(body=body))
    assert len(response.server_ids) == 1
    server = wait_status(ecs, response.server_ids[0], "ACTIVE")
    assert server.addresses[VPC_ID][0].addr == "10.0.2.77"


@pytest.mark.slow
def test_build_to_active_by_time_with_task_states(cloud, ecs):
    # a timer by design: the window is wide (1.5 s for one create and one show) so a loaded machine fits
    cloud.settings(build_delay_ms=1500)
    response = create(ecs, "timed")
    server = show(ecs, response.server_ids[0])
    assert server.status == "BUILD"
    assert server.os_ext_st_stask_state == "spawning"
    assert server.os_ext_st_svm_state == "building"
    assert job(ecs, response.job_id).status == "RUNNING"
    # No one polls: the transition happens on its own.
    wait_for(lambda: cloud.state()["projects"][cloud.project_id]["ecs"]["servers"][-1]["status"] == "ACTIVE", 10)
    server = show(ecs, response.server_ids[0])
    assert server.status == "ACTIVE"
    assert server.os_ext_st_stask_state == ""
    assert server.os_ext_st_svm_state == "active"
    assert server.os_ext_st_spower_state == 1
    current = job(ecs, response.job_id)
    assert current.status == "SUCCESS" and current.end_time and current.begin_time


def test_build_to_active_by_polls(cloud, ecs):
    cloud.settings(build_delay_ms=50, build_polls=3)
    response = create(ecs, "polled")
    server_id = response.server_ids[0]
    seen = [show(ecs, server_id).status for _ in range(4)]
    assert seen == ["BUILD", "BUILD", "BUILD", "ACTIVE"]
    assert job(ecs, response.job_id).status == "SUCCESS"


def test_polled_build_does_not_move_with_time(cloud, ecs):
    cloud.settings(build_delay_ms=10, build_polls=2)
    response = create(ecs, "polled-slow")
    wait_for(lambda: job(ecs, response.job_id).status == "RUNNING")
    time.sleep(0.1)
    assert job(ecs, response.job_id).status == "RUNNING"
    assert show(ecs, response.server_ids[0]).status == "BUILD"


@pytest.mark.slow
def test_ports_are_created_after_ports_delay(cloud, ecs, vpc_v2):
    # timers by design: windows of 1.5 s each, wide enough for a loaded machine's few calls
    cloud.settings(build_delay_ms=3000, ports_delay_ms=1500)
    response = create(ecs, "late-ports", security_groups=[SG_WEB])
    server_id = response.server_ids[0]
    server = show(ecs, server_id)
    assert server.status == "BUILD"
    assert server.addresses == {}
    assert _ports(vpc_v2, server_id) == []
    assert ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id)).interface_attachments == []
    assert [g.id for g in server.security_groups] == [SG_WEB]  # the groups asked for, before any port
    assert job(ecs, response.job_id).status == "INIT"
    ports = wait_for(lambda: _ports(vpc_v2, server_id), 10)
    assert show(ecs, server_id).status == "BUILD"
    assert job(ecs, response.job_id).status == "RUNNING"
    assert ports[0].security_groups == [SG_WEB]
    server = wait_status(ecs, server_id, "ACTIVE", timeout=10)
    assert server.addresses[VPC_ID][0].os_ext_ip_sport_id == ports[0].id


def test_activation_builds_ports_still_pending(cloud, ecs, vpc_v2):
    cloud.settings(build_delay_ms=50, ports_delay_ms=5000)
    response = create(ecs, "quick-build")
    server = wait_status(ecs, response.server_ids[0], "ACTIVE")
    assert len(_ports(vpc_v2, server.id)) == 1


def test_fail_build_ends_in_error_and_job_fail(cloud, ecs, vpc_v2, created_events):
    # the build ends on polls, not on a timer: "while it builds" holds however slow the machine is
    cloud.settings(build_polls=1, build_delay_ms=600_000)
    response = create(ecs, "fail-build-1")
    server_id = response.server_ids[0]
    assert len(_ports(vpc_v2, server_id)) == 1  # the NIC exists while it builds...
    assert show(ecs, server_id).status == "BUILD"
    show(ecs, server_id)  # the poll that ends the build (here: in failure)
    current = wait_job(ecs, response.job_id)
    assert current.status == "FAIL"
    assert current.error_code == "Ecs.0204" and current.fail_reason
    sub = current.entities.sub_jobs[0]
    assert sub.status == "FAIL" and sub.error_code == "Ecs.0204" and sub.entities.server_id == server_id
    server = show(ecs, server_id)
    assert server.status == "ERROR" and server.os_ext_st_svm_state == "error"
    assert server.fault["details"] == "Ecs.0204"
    assert _ports(vpc_v2, server_id) == []  # ...and is rolled back
    assert created_events == []


def test_a_batch_with_one_failure_fails_the_batch_job(cloud, ecs):
    cloud.settings(build_delay_ms=50)
    ok = create(ecs, "fine")
    bad = create(ecs, "fail-build-batch", count=2)
    assert wait_job(ecs, ok.job_id).status == "SUCCESS"
    current = wait_job(ecs, bad.job_id)
    assert current.status == "FAIL"
    assert [sub.status for sub in current.entities.sub_jobs] == ["FAIL", "FAIL"]


def test_server_created_event_fires_once_per_server(cloud, ecs, created_events):
    cloud.settings(build_delay_ms=100)
    response = create(ecs, "evt", count=2, tags={"env": "dev"})
    wait_job(ecs, response.job_id)
    for server_id in response.server_ids:  # more polls must not publish again
        show(ecs, server_id)
    assert sorted(event["server"]["id"] for event in created_events) == sorted(response.server_ids)
    event = created_events[0]
    assert event["project"].project_id == cloud.project_id
    assert event["server"]["status"] == "ACTIVE"
    assert event["server"]["tags"] == ["env=dev"]
    assert event["server"]["addresses"][VPC_ID][0]["OS-EXT-IPS:port_id"]
    assert event["job"]["job_type"] == "createSingleServer"
    assert event["job"]["status"] == "SUCCESS"
    assert event["job"]["entities"]["server_id"] == event["server"]["id"]


def test_event_fires_with_polled_builds_too(cloud, ecs, created_events):
    cloud.settings(build_polls=1)
    response = create(ecs, "evt-poll")
    show(ecs, response.server_ids[0])
    assert created_events == []
    assert show(ecs, response.server_ids[0]).status == "ACTIVE"
    assert len(created_events) == 1


def test_zero_build_delay_is_active_at_once(cloud, ecs, created_events):
    cloud.settings(build_delay_ms=0)
    response = create(ecs, "instant")
    assert show(ecs, response.server_ids[0]).status == "ACTIVE"
    assert job(ecs, response.job_id).status == "SUCCESS"
    assert len(created_events) == 1


def test_dry_run_creates_nothing(cloud, ecs):
    before = cloud.state()["projects"][cloud.project_id]["ecs"]["servers"]
    response = create(ecs, "dry", dry_run=True)
    assert response.job_id is None
    assert cloud.state()["projects"][cloud.project_id]["ecs"]["servers"] == before


def test_reset_cancels_pending_transitions(cloud, ecs, created_events):
    cloud.settings(build_delay_ms=300, ports_delay_ms=250)
    create(ecs, "pending", count=2)
    model = cloud.backend.project(cloud.project_id).service("ecs")
    assert model.pending_timers == 4
    cloud.reset()
    assert model.pending_timers == 0
    time.sleep(0.4)
    assert created_events == []
    names = {s["name"] for s in cloud.state()["projects"][cloud.project_id]["ecs"]["servers"]}
    assert names == {"legacy-app-01", "db-01"}

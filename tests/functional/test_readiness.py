"""Readiness polling, deterministic: localcloud keeps a server in BUILD for N polls (not for a time),
and an injected clock makes every back-off sleep instant, so the schedule itself is under test."""

from __future__ import annotations

import pytest

from shared.clock import Clock, Deadline
from shared.cloud.clients import AgencyCredentials, ClientFactory
from shared.cloud.gateway import CallCounter, NetworkGateway, ServerGateway
from shared.cloud.retry import RetryPolicy
from shared.config import load_settings
from shared.flows.ecs_created.readiness import wait_until_ready
from tests.support.clock import FakeTime
from tests.support.ecs import create_servers


@pytest.fixture
def gateways(cloud):
    fake = FakeTime()
    clock = Clock(monotonic=fake.monotonic, sleep=fake.sleep)
    settings = load_settings(None, {"ECS_ENDPOINT": cloud.url, "VPC_ENDPOINT": cloud.url})
    factory = ClientFactory(AgencyCredentials(cloud.ak, cloud.sk, None, cloud.project_id), settings)
    common = dict(clock=clock, deadline=Deadline(clock, 600), policy=RetryPolicy(3, 0.01, 0.05), counter=CallCounter())
    return fake, clock, ServerGateway(factory, **common), NetworkGateway(factory, **common)


def test_ready_after_the_build_with_a_growing_poll_interval(cloud, ecs, gateways):
    fake, clock, servers, network = gateways
    cloud.settings(build_polls=4, build_delay_ms=600_000)
    job, [server] = create_servers(ecs, "polled")
    ready = wait_until_ready(
        server,
        servers=servers,
        network=network,
        clock=clock,
        deadline=Deadline(clock, 600),
        max_wait_s=60,
        poll_s=0.5,
        poll_max_s=1.0,
        job_id=job,
    )
    assert ready.state == "ready" and ready.polls == 5
    assert fake.sleeps == [0.5, 0.75, 1.0, 1.0]  # x1.5, capped
    assert [p.id for p in ready.interfaces] == ready.server.port_ids


def test_not_ready_in_time_is_a_timeout_without_oversleeping(cloud, ecs, gateways):
    fake, clock, servers, network = gateways
    cloud.settings(build_polls=1000, build_delay_ms=600_000)
    job, [server] = create_servers(ecs, "slow")
    ready = wait_until_ready(
        server,
        servers=servers,
        network=network,
        clock=clock,
        deadline=Deadline(clock, 600),
        max_wait_s=5,
        poll_s=0.5,
        poll_max_s=1.0,
        job_id=job,
    )
    assert ready.state == "timeout" and "BUILD" in ready.reason
    assert sum(fake.sleeps) <= 5


def test_the_invocation_deadline_wins_over_the_max_wait(cloud, ecs, gateways):
    fake, clock, servers, network = gateways
    cloud.settings(build_polls=1000, build_delay_ms=600_000)
    job, [server] = create_servers(ecs, "late")
    ready = wait_until_ready(
        server,
        servers=servers,
        network=network,
        clock=clock,
        deadline=Deadline(clock, 2),
        max_wait_s=60,
        poll_s=0.5,
        poll_max_s=1.0,
        job_id=job,
    )
    assert ready.state == "timeout" and sum(fake.sleeps) <= 2


def test_unknown_server_without_a_job_is_gone_after_the_grace(cloud, gateways):
    fake, clock, servers, network = gateways
    ready = wait_until_ready(
        "c0000000-0000-4000-8000-0000000000ee",
        servers=servers,
        network=network,
        clock=clock,
        deadline=Deadline(clock, 600),
        max_wait_s=60,
        poll_s=0.5,
        poll_max_s=1.0,
        not_found_grace_s=2,
    )
    assert ready.state == "gone" and 2 <= fake.now < 4

"""Bounded fault soak: a few hundred change requests and ~20 server creations, faults on every route.

The same code runs larger from ``python -m bench soak --messages 5000``; see :mod:`bench.soak` for
what is checked. Seeds are fixed, so a failure reproduces; no timing is asserted.
"""

from __future__ import annotations

import pytest

from bench.soak import SoakConfig, cloud_handle, run_soak, soak_seed

CONFIG = SoakConfig(
    messages=300,
    servers=60,
    reject_servers=8,
    creations=20,
    batch_size=100,
    probability=0.15,
    seed=11,
    read_timeout_s=0.3,
    hold_ms=450,
    max_attempts=2,
)


@pytest.fixture(scope="module")
def soak_cloud():
    from localcloud import start

    document, fleet = soak_seed(CONFIG)
    cloud = start(seed=document)
    yield cloud, fleet
    cloud.stop()


@pytest.fixture(scope="module")
def report(soak_cloud):
    cloud, fleet = soak_cloud
    return run_soak(cloud_handle(cloud), fleet, CONFIG)


def test_no_invariant_is_violated(report):
    assert report.violations == [], "\n".join(report.violations[:30])


def test_every_input_got_exactly_one_result_per_delivery(report):
    # each change-request batch is delivered twice; creation traces once or more (retries), then twice again
    assert report.results >= 2 * (report.inputs - CONFIG.creations) + 3 * CONFIG.creations
    assert sum(report.outcomes.values()) == report.inputs - CONFIG.creations
    assert sum(report.redelivery_outcomes.values()) == report.inputs - CONFIG.creations


def test_the_soak_exercised_what_it_claims(report):
    """Faults of every kind were injected, and the workload produced the outcomes worth checking."""
    assert all(count > 0 for count in report.faults.values()), report.faults
    assert {"succeeded", "no_change", "planned", "rejected"} <= set(report.outcomes), report.outcomes
    assert set(report.ecs_outcomes) <= {"succeeded", "no_change"}, report.ecs_outcomes
    assert report.writes_applied > 0 and report.ports_checked > 0


def test_the_checks_catch_an_applier_that_resends_writes(soak_cloud, monkeypatch):
    """The soak's power: with a naive applier that re-sends a write after a timeout without
    re-reading the port, the request-log checks must report it."""
    import shared.changes.apply
    from shared.changes.deltas import steps
    from shared.cloud.exceptions import CloudCallError

    def resend_blindly(gateway, progress, *, before, after, recheck, clock, deadline, policy, whole_list=False):
        for operation in steps(before, after, progress.groups):
            for attempt in range(policy.max_attempts):
                progress.wrote = True
                try:
                    progress.groups = list(
                        shared.changes.apply._write(gateway, progress.port.id, operation).security_groups
                    )
                    break
                except CloudCallError as error:
                    if not error.transient or attempt + 1 >= policy.max_attempts:
                        raise

    monkeypatch.setattr(shared.changes.apply, "_converge", resend_blindly)
    cloud, fleet = soak_cloud
    config = SoakConfig(
        messages=80,
        servers=60,
        reject_servers=8,
        creations=2,
        batch_size=80,
        probability=0.0,
        seed=5,
        max_attempts=3,
        extra_faults=[{"kind": "timeout", "phase": "after", "method": "PUT", "every_nth": 4, "hold_ms": 450}],
    )
    report = run_soak(cloud_handle(cloud), fleet, config)
    assert any("applied twice" in v or "refused by the API" in v for v in report.violations), report.violations


def test_a_creation_rolled_back_by_a_transient_fault_asks_for_a_retry(soak_cloud):
    """What the soak found: a 2-interface server whose second write fails transiently ends
    ``rolled_back`` (retryable); the handler must ask the platform to deliver the trace again, as it
    does for ``failed``, or the new server is left without its groups."""
    import contextlib
    import io
    import json

    from bench.ecs import create_server, cts_event, cts_trace, ecs_client, load_handler
    from bench.soak import SUBNET_MGMT, SUBNET_WEB, _context
    from shared.runtime.handler import RetryableFailure

    cloud, _ = soak_cloud
    cloud.reset()
    cloud.settings(build_delay_ms=0)
    job, [server] = create_server(
        ecs_client(cloud.url, cloud.ak, cloud.sk, cloud.project_id), "two-nics", subnets=(SUBNET_WEB, SUBNET_MGMT)
    )
    ports = [p["id"] for p in cloud.state()["projects"][cloud.project_id]["vpc"]["ports"] if p["device_id"] == server]
    cloud.add_fault(kind="error503", method="PUT", path=f"/v*/*/ports/{ports[1]}*")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(RetryableFailure):
        load_handler("ecs_created")(
            cts_event(cts_trace([server], job)),
            _context(cloud_handle(cloud), "ecs_created", SoakConfig(max_attempts=2)),
        )
    [data] = [json.loads(line)["data"] for line in out.getvalue().split("\n") if line.startswith("{")]
    assert data["outcome"] == "rolled_back" and data["retryable"] is True
    cloud.clear_faults()


def test_the_soak_with_the_shared_redis_store_violates_no_invariant(redis_server):
    """The same soak once with IDEMPOTENCY_STORE on a real redis-server (issue 12): every redelivery
    is answered from the shared store, and no invariant is violated."""
    from dataclasses import replace

    from localcloud import start

    config = replace(CONFIG, store=redis_server.url)
    document, fleet = soak_seed(config)
    cloud = start(seed=document)
    try:
        report = run_soak(cloud_handle(cloud), fleet, config)
    finally:
        cloud.stop()
    assert report.violations == [], "\n".join(report.violations[:30])
    assert sum(report.redelivery_outcomes.values()) == report.inputs - config.creations
    assert {"succeeded", "no_change", "planned", "rejected"} <= set(report.outcomes), report.outcomes

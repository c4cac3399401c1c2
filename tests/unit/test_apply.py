"""shared.changes.apply on an in-memory network with fault hooks: the riskiest module, every branch.

The HTTP emulator cannot time "the write landed, then the connection dropped" or "someone else
changed the port between our read and our write" precisely; the in-memory network's hooks can.
"""

from __future__ import annotations

import pytest

from bench.memory_cloud import FakeCloud, FakeNetwork
from shared.changes.apply import apply_plans, report_data
from shared.changes.planning import NicPlan, derive_operations
from shared.clock import Deadline
from shared.cloud.exceptions import CloudCallError
from shared.cloud.gateway import CallCounter
from shared.cloud.retry import RetryPolicy
from shared.errors import ErrorCode
from tests.support.clock import FakeTime

PROJECT = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
SERVER = "c0000000-0000-4000-8000-0000000000a1"
P1, P2 = "d0000000-0000-4000-8000-0000000000a1", "d0000000-0000-4000-8000-0000000000a2"
A, B, C, D = (f"a0000000-0000-4000-8000-00000000000{i}" for i in range(1, 5))


def cloud_with(lists: dict[str, list[str]]) -> FakeCloud:
    seed = {
        "projects": [
            {
                "id": PROJECT,
                "security_groups": [{"id": g, "name": n} for g, n in ((A, "a"), (B, "b"), (C, "c"), (D, "d"))],
                "servers": [
                    {
                        "id": SERVER,
                        "name": "s",
                        "nics": [
                            {"port_id": port, "subnet_id": "n", "ip_address": f"10.0.0.{i}", "security_groups": g}
                            for i, (port, g) in enumerate(lists.items(), start=1)
                        ],
                    }
                ],
            }
        ]
    }
    return FakeCloud(seed, PROJECT)


def transient(operation="vpc.update_port"):
    return CloudCallError(operation, status=503, code="X", message="busy", transient=True)


def refused(operation="vpc.update_port"):
    return CloudCallError(operation, status=400, code="VPC.0002", message="refused", transient=False)


def fail(error, phase):
    """A hook that raises ``error`` in ``phase`` ("before": nothing lands; "after": it landed)."""

    def hook(cloud, port_id, when):
        if when == phase:
            raise error

    return hook


def plans_for(cloud: FakeCloud, wanted: dict[str, list[str]]) -> list[NicPlan]:
    plans = []
    for port_id, after in wanted.items():
        port = cloud.ports[port_id]
        before = list(port.security_groups)
        plans.append(NicPlan(port, before, list(after), derive_operations(before, list(after))))
    return plans


def run(cloud, wanted, *, hooks=None, attempts=4, seconds=60.0):
    fake = FakeTime()
    clock = fake.clock(jitter=1.0)
    counter = CallCounter()
    network = FakeNetwork(cloud, counter, hooks or {})
    report = apply_plans(
        plans_for(cloud, wanted),
        network,
        clock=clock,
        deadline=Deadline(clock, seconds),
        policy=RetryPolicy(attempts, 0.1, 1.0),
        rollback_deadline=lambda: Deadline(clock, 30),
    )
    return report, counter, fake


def groups(cloud, port_id):
    return cloud.ports[port_id].security_groups


def test_a_change_is_one_write_and_its_response_is_the_verification():
    cloud = cloud_with({P1: [A]})
    report, counter, _ = run(cloud, {P1: [B, A]})
    assert report.outcome == "succeeded" and report.nics[0].status == "changed"
    assert groups(cloud, P1) == [B, A]
    assert (counter.reads, counter.writes, counter.log) == (0, 1, ["vpc.insert_security_groups"])


def test_nothing_to_do_is_no_change_and_no_call():
    cloud = cloud_with({P1: [A, B]})
    report, counter, _ = run(cloud, {P1: [A, B]})
    assert report.outcome == "no_change" and counter.total == 0


def test_a_write_that_landed_despite_an_error_is_never_sent_again():
    cloud = cloud_with({P1: [A, B]})
    hooks = {"vpc.update_port": [fail(transient(), "after")]}
    report, counter, fake = run(cloud, {P1: [B, A]}, hooks=hooks)
    assert report.outcome == "succeeded" and groups(cloud, P1) == [B, A]
    # a whole list is written only from a fresh read; after the failure, re-read, saw it landed, done
    assert counter.log == ["vpc.show_port", "vpc.update_port", "vpc.show_port"]
    assert len(fake.sleeps) == 1


def test_an_insert_that_landed_despite_an_error_is_never_sent_again():
    cloud = cloud_with({P1: [A]})
    hooks = {"vpc.insert_security_groups": [fail(transient("vpc.insert_security_groups"), "after")]}
    report, counter, _ = run(cloud, {P1: [C]}, hooks=hooks)
    assert report.outcome == "succeeded" and groups(cloud, P1) == [C]
    assert counter.log == ["vpc.insert_security_groups", "vpc.show_port", "vpc.remove_security_groups"]


def test_a_write_that_did_not_land_is_repeated_after_a_read():
    cloud = cloud_with({P1: [A, B]})
    hooks = {"vpc.remove_security_groups": [fail(transient("vpc.remove_security_groups"), "before")]}
    report, counter, _ = run(cloud, {P1: [A]}, hooks=hooks)
    assert report.outcome == "succeeded" and groups(cloud, P1) == [A]
    assert counter.log == ["vpc.remove_security_groups", "vpc.show_port", "vpc.remove_security_groups"]


def test_a_refusal_on_the_first_interface_changes_nothing_and_is_not_retryable():
    cloud = cloud_with({P1: [A], P2: [A]})
    hooks = {"vpc.insert_security_groups": [fail(refused("vpc.insert_security_groups"), "before")]}
    report, counter, _ = run(cloud, {P1: [A, B], P2: [A, B]}, hooks=hooks)
    assert report.outcome == "failed" and [e.code for e in report.errors] == [ErrorCode.CLOUD_ERROR]
    assert groups(cloud, P1) == [A] and groups(cloud, P2) == [A]
    assert counter.writes == 1
    assert report_data(report, []).retryable is False


def test_a_group_someone_else_attaches_before_our_insert_is_kept_and_said_so():
    cloud = cloud_with({P1: [A]})

    def someone_else(cloud_, port_id, when):
        if when == "before":  # another writer adds D between our read and our insert
            cloud_.ports[port_id].security_groups = [A, D]

    report, counter, _ = run(cloud, {P1: [A, B]}, hooks={"vpc.insert_security_groups": [someone_else]})
    assert report.outcome == "succeeded" and groups(cloud, P1) == [A, D, B]
    assert counter.log == ["vpc.insert_security_groups"]
    assert report.nics[0].after == [A, D, B]
    assert [w.code for w in report.warnings] == [ErrorCode.CONCURRENT_CHANGE] and D in report.warnings[0].message


def test_a_port_that_shows_a_third_list_after_an_ambiguous_failure_is_re_planned_on_it():
    cloud = cloud_with({P1: [A]})

    def lost_and_changed(cloud_, port_id, when):
        if when == "before":
            cloud_.ports[port_id].security_groups = [D]
            raise transient("vpc.insert_security_groups")

    report, _, _ = run(cloud, {P1: [B]}, hooks={"vpc.insert_security_groups": [lost_and_changed]})
    # A (ours to drop) is gone already, D (theirs) stays, B (ours to add) goes in
    assert report.outcome == "succeeded" and groups(cloud, P1) == [D, B]


def test_a_write_whose_answer_lacks_its_effect_is_verify_failed():
    cloud = cloud_with({P1: [A]})

    class Forgetful(FakeNetwork):
        def insert_groups(self, port_id, groups_, index):
            port = super().insert_groups(port_id, groups_, index)
            port.security_groups = [A]  # the answer does not show the insert
            return port

    counter = CallCounter()
    fake = FakeTime()
    clock = fake.clock(jitter=1.0)
    report = apply_plans(
        plans_for(cloud, {P1: [B, A]}),
        Forgetful(cloud, counter, {}),
        clock=clock,
        deadline=Deadline(clock, 60),
        policy=RetryPolicy(3, 0.1, 1.0),
        rollback_deadline=lambda: Deadline(clock, 30),
    )
    assert [e.code for e in report.errors][:1] == [ErrorCode.VERIFY_FAILED]


def test_a_later_failure_rolls_back_the_earlier_interfaces():
    cloud = cloud_with({P1: [A, B], P2: [A, B]})
    hooks = {"vpc.update_port": [None, fail(refused(), "before")]}
    report, _, _ = run(cloud, {P1: [B, A], P2: [B, A]}, hooks=hooks)
    assert report.outcome == "rolled_back"
    assert [n.status for n in report.nics] == ["rolled_back", "failed"]
    assert groups(cloud, P1) == [A, B] and groups(cloud, P2) == [A, B]
    assert report_data(report, []).retryable is False  # the later interface was refused


def test_a_half_done_replace_is_rolled_back_by_its_inverse_deltas():
    cloud = cloud_with({P1: [A], P2: [A]})
    # P2: the insert lands, the remove is refused: P2 is restored too, by removing what was inserted
    hooks = {"vpc.remove_security_groups": [None, fail(refused("vpc.remove_security_groups"), "before")]}
    report, counter, _ = run(cloud, {P1: [B], P2: [B]}, hooks=hooks)
    assert report.outcome == "rolled_back"
    assert [n.status for n in report.nics] == ["rolled_back", "rolled_back"]
    assert groups(cloud, P1) == [A] and groups(cloud, P2) == [A]
    assert "vpc.update_port" not in counter.log
    assert report_data(report, []).retryable is False  # the later interface was refused


def test_a_removal_is_undone_by_inserting_back_at_the_same_place():
    cloud = cloud_with({P1: [A, B, C], P2: [A, B]})
    hooks = {"vpc.update_port": [fail(transient(), "before") for _ in range(5)]}
    report, counter, _ = run(cloud, {P1: [A, C], P2: [B, A]}, hooks=hooks, attempts=2)
    assert report.outcome == "rolled_back" and groups(cloud, P1) == [A, B, C]
    assert "vpc.insert_security_groups" in counter.log
    assert report_data(report, []).retryable is True


def test_a_rollback_that_fails_says_so():
    cloud = cloud_with({P1: [A, B], P2: [A, B]})
    # P1's write succeeds, P2's is refused, then the rollback write of P1 is refused too
    hooks = {"vpc.update_port": [None, fail(refused(), "before"), fail(refused(), "before")]}
    report, _, _ = run(cloud, {P1: [B, A], P2: [B, A]}, hooks=hooks)
    assert report.outcome == "failed"
    assert [n.status for n in report.nics] == ["rollback_failed", "failed"]
    assert ErrorCode.ROLLBACK_FAILED in [e.code for e in report.errors]
    assert groups(cloud, P1) == [B, A]  # left changed, and the result says so
    data = report_data(report, [])
    assert data.to_dict()["nics"][0]["status"] == "rollback_failed"


def test_transient_failures_until_the_deadline_end_in_timeout_not_in_a_blind_resend():
    cloud = cloud_with({P1: [A, B]})
    hooks = {"vpc.update_port": [fail(transient(), "before") for _ in range(10)]}
    report, counter, _ = run(cloud, {P1: [B, A]}, hooks=hooks, attempts=10, seconds=0.25)
    assert [e.code for e in report.errors][:1] == [ErrorCode.TIMEOUT]
    assert groups(cloud, P1) == [A, B]
    assert report_data(report, []).retryable is True
    # every repeated write was preceded by a read that showed the old list
    writes = [i for i, op in enumerate(counter.log) if op == "vpc.update_port"]
    assert all(counter.log[i - 1] == "vpc.show_port" for i in writes[1:])


@pytest.mark.parametrize("attempts", [1, 2, 3])
def test_attempts_are_bounded(attempts):
    cloud = cloud_with({P1: [A, B]})
    hooks = {"vpc.update_port": [fail(transient(), "before") for _ in range(10)]}
    report, counter, _ = run(cloud, {P1: [B, A]}, hooks=hooks, attempts=attempts)
    assert report.outcome in ("failed", "rolled_back")
    assert counter.log.count("vpc.update_port") == attempts


def run_with_rails(cloud, plans, verdict):
    """apply_plans with a rails callback that records what it was asked and answers ``verdict``."""
    fake = FakeTime()
    clock = fake.clock(jitter=1.0)
    counter = CallCounter()
    asked = []

    def recheck(plan):
        asked.append((list(plan.before), list(plan.after)))
        return list(verdict)

    report = apply_plans(
        plans,
        FakeNetwork(cloud, counter, {}),
        clock=clock,
        deadline=Deadline(clock, 60),
        policy=RetryPolicy(3, 0.1, 1.0),
        rollback_deadline=lambda: Deadline(clock, 30),
        recheck=recheck,
    )
    return report, counter, asked


def test_a_whole_list_is_written_only_after_a_fresh_read_and_the_rails_on_it():
    cloud = cloud_with({P1: [A, B]})
    plans = plans_for(cloud, {P1: [B, A]})  # decided on [A, B]
    cloud.ports[P1].security_groups = [D, A, B]  # then someone attached D at the highest priority
    report, counter, asked = run_with_rails(cloud, plans, [])
    assert report.outcome == "succeeded" and groups(cloud, P1) == [D, B, A]
    assert counter.log == ["vpc.show_port", "vpc.update_port"]
    assert asked == [([D, A, B], [D, B, A])]  # the rails judged the list as it was just before the write


def test_rails_refusing_the_re_planned_list_end_it_retryable_with_nothing_written():
    from shared.errors import ErrorDetail

    cloud = cloud_with({P1: [A, B]})
    plans = plans_for(cloud, {P1: [B, A]})
    cloud.ports[P1].security_groups = [A, B, D]
    refusal = ErrorDetail(ErrorCode.PROTECTED_GROUP, "D is protected and pinned first", "$")
    report, counter, _ = run_with_rails(cloud, plans, [refusal])
    assert report.outcome == "failed" and report.retryable is True
    assert [e.code for e in report.errors] == [ErrorCode.CONCURRENT_CHANGE, ErrorCode.PROTECTED_GROUP]
    assert counter.writes == 0 and groups(cloud, P1) == [A, B, D]


def test_deltas_never_ask_the_rails_again():
    cloud = cloud_with({P1: [A]})
    report, counter, asked = run_with_rails(cloud, plans_for(cloud, {P1: [B, C]}), [])
    assert report.outcome == "succeeded" and asked == []
    assert counter.log == ["vpc.insert_security_groups", "vpc.remove_security_groups"]


def test_a_port_that_keeps_changing_is_re_planned_at_most_twice():
    from shared.changes.apply import MAX_REPLANS

    cloud = cloud_with({P1: [A, B]})
    others = iter([C, D, "a0000000-0000-4000-8000-000000000009"])

    def someone_else(cloud_, port_id, when):
        if when == "before":  # each attempt: another group appears, and our write fails transiently
            cloud_.ports[port_id].security_groups.append(next(others))
            raise transient()

    hooks = {"vpc.update_port": [someone_else, someone_else, someone_else]}
    report, counter, _ = run(cloud, {P1: [B, A]}, hooks=hooks, attempts=6)
    assert MAX_REPLANS == 2
    assert report.outcome == "failed" and report.retryable is True
    assert [e.code for e in report.errors] == [ErrorCode.CONCURRENT_CHANGE]
    assert counter.log.count("vpc.update_port") == 1 + MAX_REPLANS and groups(cloud, P1)[:2] == [A, B]

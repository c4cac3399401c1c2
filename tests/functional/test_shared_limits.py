"""Rate limits shared per (account, region, service) through the real Redis the fixture starts
(shared.cloud.limiter + shared.idempotency.limits). Two limiters stand for two function instances;
the clock is injected (FakeTime), nothing waits.

Instances throttled in the same round halve the shared limit once; one instance's halving reaches
the other at its next sync; syncs are per window, not per call (counted by Redis itself,
``INFO commandstats``); accounts, regions and services do not share; a store that does not answer
leaves the local AIMD working.
"""

from __future__ import annotations

import pytest

from shared.clock import Deadline
from shared.cloud.limiter import AimdLimiter
from shared.config import load_settings
from shared.idempotency.limits import RedisSharedLimit
from shared.runtime.run import Run
from tests.support.clock import FakeTime

ACCOUNT = "20" * 16


@pytest.fixture
def client(redis_server):
    from shared.idempotency.redis_backend import shared_client

    return shared_client(redis_server.url)


def _limiter(client, *, account=ACCOUNT, region="cn-north-4", service="vpc", window=None) -> AimdLimiter:
    shared = RedisSharedLimit(client, account, region, service)
    return AimdLimiter(16, window=window, monotonic=FakeTime().monotonic, shared=shared)


def _script_calls(client) -> int:
    stats = client.info("commandstats")
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


def _shared(client, account=ACCOUNT, region="cn-north-4", service="vpc") -> dict:
    return client.hgetall(f"sgguard:limit:{account}:{region}:{service}")


def test_instances_throttled_in_the_same_round_halve_the_shared_limit_once(client):
    a, b = _limiter(client), _limiter(client)
    in_flight_a = [a.acquire(1) for _ in range(4)]
    in_flight_b = [b.acquire(1) for _ in range(4)]
    assert a.limit == b.limit == 16
    a.release(in_flight_a[0], throttled=True)
    assert a.limit == 8 and _shared(client) == {"limit": "8", "epoch": "1"}
    b.release(in_flight_b[0], throttled=True)  # the same round: b had not seen a's halving
    assert b.limit == 8 and _shared(client) == {"limit": "8", "epoch": "1"}
    for epoch in in_flight_a[1:]:  # 429s of calls sent before the halving: nothing more
        a.release(epoch, throttled=True)
    assert _shared(client)["limit"] == "8" and a.decreases == 1


def test_one_instances_halving_reaches_the_other_at_its_next_sync(client):
    a, b = _limiter(client, window=1), _limiter(client, window=1)
    a.release(a.acquire(1), throttled=True)  # 16 -> 8
    b.release(b.acquire(1), throttled=True)  # b's first call: loaded 8, and halves again: a new round
    assert _shared(client)["limit"] == "4" and b.limit == 4
    assert a.limit == 8  # a has not synced since
    for _ in range(8):  # one success window of a's: it grows the shared limit and adopts it
        a.release(a.acquire(1))
    assert a.limit == 5 and _shared(client)["limit"] == "5"


def test_a_round_trip_per_window_not_per_call(client):
    limiter = _limiter(client)  # window: 4 x 16 successes
    before = _script_calls(client)
    for _ in range(1000):  # at its maximum: nothing to grow, only the first load
        limiter.release(limiter.acquire(1))
    assert _script_calls(client) - before == 1 == limiter.syncs
    limiter.release(limiter.acquire(1), throttled=True)  # 16 -> 8: one more
    for _ in range(8 * 64):  # back up to 16: one sync per window of 64 successes
        limiter.release(limiter.acquire(1))
    assert limiter.limit == 16
    assert _script_calls(client) - before == limiter.syncs == 2 + 8


def test_accounts_regions_and_services_do_not_share(client):
    throttled = _limiter(client)
    throttled.release(throttled.acquire(1), throttled=True)
    others = [
        _limiter(client, account="30" * 16),
        _limiter(client, region="ap-southeast-1"),
        _limiter(client, service="ecs"),
    ]
    for other in others:
        other.release(other.acquire(1))
        assert other.limit == 16
    assert _limiter(client).acquire(1) is not None and _shared(client)["limit"] == "8"


def test_a_store_that_does_not_answer_leaves_the_local_limiter_working(redis_server):
    from shared.idempotency.redis_backend import _client

    limiter = _limiter(_client("redis://127.0.0.1:1/0"), window=1)
    limiter.release(limiter.acquire(1), throttled=True)
    assert limiter.limit == 8 and limiter.syncs == 0
    for _ in range(8):
        limiter.release(limiter.acquire(1))
    assert limiter.limit == 9


def _run(**environ) -> Run:
    settings = load_settings(environ={"REGION": "cn-north-4", "PROJECT_ID": "ab" * 16, **environ})
    clock = FakeTime().clock()
    return Run("sg_drift", None, settings, clock, Deadline(clock, 60))


def test_a_run_shares_its_limits_only_with_the_redis_store(redis_server):
    assert _run()._shared_limit("vpc") is None  # memory store: per invocation, as before
    run = _run(IDEMPOTENCY_STORE=redis_server.url)
    assert run.limiter("vpc") is run.limiter("vpc") and run.limiter("vpc") is not run.limiter("ecs")
    assert run._shared_limit("ecs").key == f"sgguard:limit:project-{'ab' * 16}:cn-north-4:ecs"
    member = Run("sg_drift", None, run.settings, run.clock, run.deadline, account=ACCOUNT)
    assert member._shared_limit("vpc").key == f"sgguard:limit:{ACCOUNT}:cn-north-4:vpc"

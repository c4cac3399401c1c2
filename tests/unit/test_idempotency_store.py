"""The idempotency stores: the IDEMPOTENCY_STORE setting, and RedisStore's semantics on a real redis-server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import ConfigError, load_settings
from shared.idempotency import MemoryStore, StoreUnavailable, process_once, store_for
from shared.results import Identity, new_result_data

ROOT = Path(__file__).resolve().parents[2]


# ---- the setting ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, "memory"),
        ("memory", "memory"),
        ("MEMORY", "memory"),
        ("redis://10.0.0.5:6379/0", "redis://10.0.0.5:6379/0"),
        ("redis://:pa55word@dcs.example:6379/3", "redis://:pa55word@dcs.example:6379/3"),
        ("rediss://user:pw@dcs.example:6380", "rediss://user:pw@dcs.example:6380"),
    ],
)
def test_store_setting_accepts_memory_and_redis_urls(raw, expected):
    environ = {} if raw is None else {"IDEMPOTENCY_STORE": raw}
    assert load_settings(environ=environ).idempotency_store == expected


@pytest.mark.parametrize(
    "raw",
    [
        "mysql://h/0",
        "redis://",
        "redis://:s3cr3t-pw@h:99999/0",
        "redis://:s3cr3t-pw@h/x",
        "redis://:s3cr3t-pw@h:6379/0?ssl=1",
        "redis://:s3cr3t-pw@h:6379/256",
        "memcached",
    ],
)
def test_a_malformed_store_url_fails_with_its_name_and_never_the_password(raw):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"IDEMPOTENCY_STORE": raw})
    assert caught.value.name == "IDEMPOTENCY_STORE"
    assert "s3cr3t" not in str(caught.value)


def test_settings_repr_never_shows_the_store_password():
    settings = load_settings(environ={"IDEMPOTENCY_STORE": "redis://:s3cr3t-pw@dcs.example:6379/0"})
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings)
    assert "redis://:***@dcs.example:6379/0" in repr(settings)


def test_the_memory_store_never_imports_redis():
    code = (
        "import sys\nfrom shared.config import load_settings\nfrom shared.idempotency import store_for, MemoryStore\n"
        "import shared.flows.change_request, shared.flows.ecs_created.steps\n"
        "store = store_for(load_settings(environ={}), function='f', project_id='p', memory=MemoryStore())\n"
        "print(type(store).__name__, 'redis' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    assert out == "MemoryStore False"


# ---- RedisStore on a real server -----------------------------------------------------------------
@pytest.fixture
def redis_store(redis_server):
    settings = load_settings(environ={"IDEMPOTENCY_STORE": redis_server.url})
    return store_for(settings, function="change_request", project_id="p1", memory=MemoryStore())


def test_claim_complete_and_duplicates(redis_server, redis_store):
    assert redis_store.claim("R1", "fp", now=0, ttl_s=60, in_progress_s=5).status == "new"
    assert redis_store.claim("R1", "fp", now=0, ttl_s=60).status == "in_progress"
    assert redis_store.claim("R1", "other", now=0, ttl_s=60).status == "reused"
    redis_store.complete("R1", "succeeded")
    claim = redis_store.claim("R1", "fp", now=0, ttl_s=60)
    assert (claim.status, claim.outcome) == ("duplicate", "succeeded")
    assert redis_store.claim("R1", "other", now=0, ttl_s=60).status == "reused"
    client = redis_server.client()
    assert 55_000 < client.pttl("sgguard:change_request:p1:R1") <= 60_000  # the replay window
    client.close()


def test_release_frees_the_id_and_never_deletes_a_later_holders_claim(redis_server, redis_store):
    client = redis_server.client()
    key = "sgguard:change_request:p1:R2"
    assert redis_store.claim("R2", "fp", now=0, ttl_s=60, in_progress_s=5).status == "new"
    redis_store.release("R2")
    assert not client.exists(key)
    # our claim expired and another instance claimed: neither complete nor release touches its claim
    assert redis_store.claim("R2", "fp", now=0, ttl_s=60, in_progress_s=5).status == "new"
    client.set(key, '{"f":"fp","s":"p","t":"theirs"}', px=5000)
    redis_store.complete("R2", "succeeded")
    assert "theirs" in client.get(key)
    assert redis_store.claim("R2", "fp", now=0, ttl_s=60).status == "in_progress"
    client.close()


def test_new_request_costs_one_round_trip_to_claim_and_one_to_complete(redis_server, redis_store):
    client = redis_server.client()
    redis_store.claim("warm", "fp", now=0, ttl_s=60)  # scripts loaded, connection open
    redis_store.complete("warm", "succeeded")
    before = _calls(client)
    data = process_once(
        redis_store, "R3", "fp", now=0, ttl_s=60, identity=Identity(), steps=lambda: new_result_data("succeeded")
    )
    after = _calls(client)
    assert data.outcome == "succeeded"
    delta = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    delta.pop("info")  # ours
    # two round trips (EVALSHA claim, EVALSHA complete); set/get are the scripts' own commands inside Redis
    assert delta == {"evalsha": 2, "set": 2, "get": 1}, delta
    client.close()


def _calls(client) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()}


def test_an_unreachable_store_raises_store_unavailable_quickly():
    settings = load_settings(environ={"IDEMPOTENCY_STORE": "redis://:s3cr3t-pw@127.0.0.1:1/0"})
    store = store_for(settings, function="f", project_id="p", memory=MemoryStore())
    with pytest.raises(StoreUnavailable) as caught:
        store.claim("R", "fp", now=0, ttl_s=60)
    assert "s3cr3t" not in str(caught.value)
    data = process_once(
        store,
        "R",
        "fp",
        now=0,
        ttl_s=60,
        identity=Identity(request_id="R"),
        steps=lambda: pytest.fail("no step may run without a claim"),
    )
    assert data.outcome == "failed" and data.retryable is True
    assert data.errors[0].code == "STORE_UNAVAILABLE" and "s3cr3t" not in str(data.to_dict())

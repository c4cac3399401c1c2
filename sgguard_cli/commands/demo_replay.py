"""The demo's replay across instances: a request delivered again to *another* instance is refused.

With ``IDEMPOTENCY_STORE`` on a shared Redis, R1 (add db to web-01), then R2 (remove it), then R1
delivered again after the function's instances were replaced (as after a scale-out or a DMS
rebalance): the second instance finds R1's record and answers ``no_change`` / ``DUPLICATE_REQUEST``,
so db stays off. With the per-instance memory store the same replay would put db back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

__all__ = ["start_store", "replay_across_instances"]


def start_store(out: Callable[[str], None]) -> Any:
    """A local redis-server for the functions' shared store, or None (no binary: the step is skipped)."""
    from localcloud.redis_server import RedisServer, redis_server_binary

    if not (os.environ.get("REDIS_URL") or redis_server_binary()):
        out("    no redis-server (install the dev extras): the replay-across-instances step is skipped")
        return None
    return RedisServer()


def replay_across_instances(env, web_01: str, sign: Callable[[dict], dict], checks, out, stamp, timeout: float) -> None:
    """R1, R2, then R1 again on fresh instances; checks the replay is refused and db stays off."""

    def request(number: int, action: str) -> dict:
        return {
            "request_id": f"CHG-DEMO-{number:04d}",
            "ticket": {"system": "servicenow", "id": f"CHG00{number:05d}", "requested_by": "alice@example.com"},
            "target": {"server_id": web_01, "nics": "primary"},
            "change": {"action": action, "security_groups": [{"name": "db"}]},
        }

    def send(message: str, request_id: str, count: int) -> dict:
        env.publish([message])

        def answered():
            found = [r for r in env.results("change_request") if r["data"].get("request_id") == request_id]
            return found if len(found) >= count else None

        results = env.wait_for(answered, timeout) or []
        env.runtime.wait_idle(10)
        return results[-1]["data"] if results else {}

    first = json.dumps(sign(request(9, "add")), separators=(",", ":"))
    out(f"{stamp()} replay across instances (IDEMPOTENCY_STORE = a shared Redis):")
    added = send(first, "CHG-DEMO-0009", 1)
    out(f"    CHG-DEMO-0009  web-01  add db       -> {added.get('outcome')}")
    removed = send(json.dumps(sign(request(10, "remove")), separators=(",", ":")), "CHG-DEMO-0010", 1)
    out(f"    CHG-DEMO-0010  web-01  remove db    -> {removed.get('outcome')}")
    env.runtime.pool.retire()  # every warm instance goes: the redelivery meets a new interpreter
    time.sleep(0.05)
    again = send(first, "CHG-DEMO-0009", 2)
    warnings = [w["code"] for w in again.get("warnings") or []]
    out(f"    CHG-DEMO-0009  web-01  add db again, on a new instance -> {again.get('outcome')} {' '.join(warnings)}")
    checks.check(
        added.get("outcome") == "succeeded" and removed.get("outcome") == "succeeded",
        "replay: CHG-DEMO-0009 added db, CHG-DEMO-0010 removed it",
    )
    checks.check(
        again.get("outcome") == "no_change" and "DUPLICATE_REQUEST" in warnings,
        f"replay: CHG-DEMO-0009 delivered again to another instance is refused (got {again.get('outcome')} "
        f"{' '.join(warnings)})",
    )
    now = env.cloud.state()["projects"][env.cloud.project_id]["vpc"]
    db = next(g["id"] for g in now["security_groups"] if g["name"] == "db")
    on_web = [g for p in now["ports"] if p["device_id"] == web_01 for g in p["security_groups"]]
    checks.check(db not in on_web, "replay: db is not back on web-01")

"""Waiting for a new server: creation is asynchronous, the trace can arrive before it is usable.

The server is ready when it is ACTIVE or SHUTOFF with no task in progress and every interface
it reports has its port. A 404 right after creation can mean "still being created": with the
creation job at hand its status decides (FAIL: the creation failed; SUCCESS: the server was
deleted since); without one, a short grace applies. Polling backs off and never outlives
``max_wait_s`` nor the invocation's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError
from shared.cloud.protocols import Network, Servers
from shared.model import Port, Server

__all__ = ["Readiness", "wait_until_ready"]

_SETTLED = ("ACTIVE", "SHUTOFF")


@dataclass
class Readiness:
    state: str  # ready | gone | error | timeout
    server: Server | None = None
    interfaces: list[Port] = field(default_factory=list)
    reason: str = ""
    polls: int = 0


def _job_status(servers: Servers, job_id: str) -> tuple[str, str]:
    try:
        job = servers.show_job(job_id)
    except CloudCallError as error:
        if error.not_found:  # an unknown job tells nothing: fall back to the grace period
            return "UNKNOWN", ""
        raise
    return str(job.get("status") or "").upper(), str(job.get("fail_reason") or "")


def wait_until_ready(
    server_id: str,
    *,
    servers: Servers,
    network: Network,
    clock: Clock,
    deadline: Deadline,
    max_wait_s: float,
    poll_s: float = 1.0,
    poll_max_s: float = 10.0,
    job_id: str | None = None,
    not_found_grace_s: float = 30.0,
) -> Readiness:
    started = clock.monotonic()
    polls = 0
    reason = "not started"
    while True:
        polls += 1
        server = servers.show_server(server_id)
        if server is None:
            status, fail_reason = _job_status(servers, job_id) if job_id else ("UNKNOWN", "")
            if status == "FAIL":
                return Readiness(
                    "gone", reason=f"the creation job failed: {fail_reason or 'no reason given'}", polls=polls
                )
            if status == "SUCCESS":
                return Readiness("gone", reason="the server was deleted after its creation", polls=polls)
            if status == "UNKNOWN" and clock.monotonic() - started >= not_found_grace_s:
                return Readiness("gone", reason="the server does not exist (deleted, or never created)", polls=polls)
            reason = "the server is not visible yet"
        elif server.status == "ERROR":
            return Readiness("error", server, reason="the server is in ERROR", polls=polls)
        elif server.status in _SETTLED and not server.task_state:
            ports = network.list_server_ports(server_id)
            interfaces = [port for port in ports if port.is_interface_of(server_id)]
            expected = set(server.port_ids)
            if interfaces and expected <= {port.id for port in interfaces}:
                return Readiness("ready", server, interfaces, polls=polls)
            reason = "the server's interfaces are not all present yet"
        else:
            reason = f"the server is {server.status}" + (f" ({server.task_state})" if server.task_state else "")
        delay = min(poll_max_s, poll_s * (1.5 ** (polls - 1)))
        waited = clock.monotonic() - started
        if waited + delay > max_wait_s or not deadline.allows(delay):
            return Readiness("timeout", server, reason=f"not ready after {waited:.1f} s: {reason}", polls=polls)
        clock.sleep(delay)

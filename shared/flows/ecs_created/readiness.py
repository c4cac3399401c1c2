"""Waiting for a new server: creation is asynchronous, the trace can arrive before it is usable.

The server is ready when it is ACTIVE or SHUTOFF with no task in progress and every interface
it reports has its port. A 404 right after creation can mean "still being created": with the
creation job at hand its status decides (FAIL: the creation failed; SUCCESS: the server was
deleted since); without one, a short grace applies. Polling backs off and never outlives
``max_wait_s`` nor the invocation's deadline.

A creation event is only believed for a server that is new: with ``max_age_s``, a server whose
``created`` time is older than that (or unknown, unreadable, or more than ``FUTURE_SKEW_S`` ahead of
our clock) ends the wait at once as ``old`` - a stale or replayed trace, or a direct call naming a
long-running server, must not re-apply the creation policy to it (a ``replace`` rule would strip
what it carries now). Back-fills pass ``max_age_s=None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError
from shared.cloud.protocols import Network, Servers
from shared.model import Port, Server

__all__ = ["Readiness", "wait_until_ready", "not_new_because", "FUTURE_SKEW_S"]

_SETTLED = ("ACTIVE", "SHUTOFF")
FUTURE_SKEW_S = 300.0  # a creation time this far ahead of our clock is clock skew; further is not believed


@dataclass
class Readiness:
    state: str  # ready | gone | error | timeout | old
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


def not_new_because(server: Server, now: datetime, max_age_s: float) -> str | None:
    """Why ``server`` is not a new server (None: it is): created more than ``max_age_s`` before
    ``now``, or its creation time is unknown or in the future."""
    if server.created is None:
        return "the server's creation time is missing or unreadable: not treated as a new server"
    age_s = (now - server.created).total_seconds()
    created = server.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    if age_s < -FUTURE_SKEW_S:
        return f"the server's creation time {created} is in the future: not treated as a new server"
    if age_s > max_age_s:
        return (
            f"the server was created at {created}, {age_s:.0f} s ago, more than CREATION_MAX_AGE_S "
            f"({max_age_s:g} s): not a new server (a back-fill says so explicitly)"
        )
    return None


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
    max_age_s: float | None = None,
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
        elif max_age_s is not None and (why := not_new_because(server, clock.now(), max_age_s)):
            return Readiness("old", server, reason=why, polls=polls)
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

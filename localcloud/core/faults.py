"""Fault injection rules, set over ``POST /_localcloud/faults``.

A rule matches a method and a path glob and then, by probability or on every Nth match,
injects one fault: a throttle (429 with the API gateway's APIG.0308 body), a 500 or 503 in the
service's own error format, a read timeout (the server holds the connection, then drops it), a
connection reset, extra latency, or a permission denial (``deny``: 403 with IAM's body
``{"error_code": "IAM.0003", "error_msg": "Policy doesn't allow <action> to be performed."}``,
``action`` naming the IAM action, e.g. ``vpc:ports:update``) — what an agency or user without
the action gets. ``phase: "after"`` applies a timeout or reset *after* the
request was processed: the change happened but the client never hears of it, which is the case
that makes naive retries write twice.

``rate_limit`` (``{"kind": "rate_limit", "per_s": 50, "burst": 50, "path": ...}``) is the API
gateway's flow control: each route the rule matches (``GET /v1/{project_id}/ports`` etc.) gets its
own token bucket of ``per_s`` calls per second (at most ``burst`` at once, default ``per_s``: one
second's worth); a call that finds no token is answered 429 ``APIG.0308`` before it reaches the
service, so nothing it asked for happened. ``probability`` / ``every_nth`` do not apply to it.

``concurrent_write`` is another writer, deterministically between two of a client's calls: when a
request matches (``phase: "before"``: before it is processed; ``"after"``: after it was processed,
before its answer is sent), localcloud first changes a port's groups as a second caller's v3 call
would - ``{"kind": "concurrent_write", "method": "GET", "path": "/v1/*/ports", "phase": "after",
"count": 1, "port_id": "...", "insert": ["<sg id>"], "index": 0}`` (or ``"remove": [...]``), or adds a
rule to a group as a second caller's rule creation would - ``{"kind": "concurrent_write", ...,
"add_rule": {"security_group_id": "...", "direction": "ingress", "protocol": "tcp", "multiport":
"22", "remote_ip_prefix": "0.0.0.0/0"}}`` (the v3 rule fields). The
matched request itself is not faulted (it stacks like latency); a refused change (the group is
already there...) is kept in the rule's ``last_error`` and changes nothing. Tests race with it
instead of with timing.
"""

from __future__ import annotations

import builtins
import fnmatch
import random
import threading
import time
from dataclasses import dataclass, field

from .errors import BadRequest

__all__ = ["FaultRule", "FaultBook", "FAULT_KINDS"]

FAULT_KINDS = (
    "throttle",
    "error500",
    "error503",
    "timeout",
    "reset",
    "latency",
    "deny",
    "rate_limit",
    "concurrent_write",
)
_STACKING = ("latency", "concurrent_write")  # kinds that do not fail the request they match


@dataclass
class FaultRule:
    id: int
    kind: str
    method: str = "*"
    path: str = "*"
    probability: float = 1.0
    every_nth: int = 0
    count: int | None = None  # remaining injections; None = unlimited
    latency_ms: int = 0
    hold_ms: int = 1500
    phase: str = "before"
    action: str = ""  # deny: the IAM action named in the error message
    per_s: float = 0.0  # rate_limit: calls per second per route
    burst: float = 0.0  # rate_limit: bucket size (default per_s)
    seed: int | None = None
    port_change: dict | None = None  # concurrent_write: {"port_id", "insert" | "remove", "index"} | {"add_rule"}
    last_error: str = ""  # concurrent_write: why the last change was refused
    matched: int = 0
    injected: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)
    _buckets: dict = field(default_factory=dict, repr=False)  # rate_limit: route -> (tokens, at)

    def take_token(self, route: str, now: float) -> bool:
        """rate_limit: one token of ``route``'s bucket, if there is one (caller holds the book's lock)."""
        tokens, at = self._buckets.get(route, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_s)
        if tokens >= 1.0:
            self._buckets[route] = (tokens - 1.0, now)
            return True
        self._buckets[route] = (tokens, now)
        return False

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "probability": self.probability,
            "every_nth": self.every_nth,
            "count": self.count,
            "latency_ms": self.latency_ms,
            "hold_ms": self.hold_ms,
            "phase": self.phase,
            "action": self.action,
            "per_s": self.per_s,
            "burst": self.burst,
            "port_change": self.port_change,
            "last_error": self.last_error,
            "matched": self.matched,
            "injected": self.injected,
        }


class FaultBook:
    """Thread-safe set of fault rules; ``pick`` decides which fault (if any) hits a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, spec: dict) -> FaultRule:
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise BadRequest("LocalCloud.Fault", f"kind must be one of {', '.join(FAULT_KINDS)}")
        phase = spec.get("phase", "before")
        if phase not in ("before", "after") or (
            phase == "after" and kind not in ("timeout", "reset", "concurrent_write")
        ):
            raise BadRequest("LocalCloud.Fault", "phase 'after' applies to timeout, reset and concurrent_write only")
        port_change = _port_change(spec) if kind == "concurrent_write" else None
        probability = float(spec.get("probability", 1.0))
        if not 0.0 <= probability <= 1.0:
            raise BadRequest("LocalCloud.Fault", "probability must be within 0..1")
        per_s = float(spec.get("per_s") or 0.0)
        if kind == "rate_limit" and per_s <= 0:
            raise BadRequest("LocalCloud.Fault", "rate_limit needs per_s > 0 (calls per second per route)")
        burst = float(spec.get("burst") or per_s)
        if kind == "rate_limit" and burst < 1:
            raise BadRequest("LocalCloud.Fault", "burst must be at least 1")
        with self._lock:
            rule = FaultRule(
                id=self._next_id,
                kind=kind,
                method=str(spec.get("method", "*")).upper(),
                path=str(spec.get("path", "*")),
                probability=probability,
                every_nth=int(spec.get("every_nth", 0)),
                count=None if spec.get("count") is None else int(spec["count"]),
                latency_ms=int(spec.get("latency_ms", 0)),
                hold_ms=int(spec.get("hold_ms", 1500)),
                phase=phase,
                action=str(spec.get("action") or ""),
                per_s=per_s,
                burst=burst,
                seed=spec.get("seed"),
                port_change=port_change,
            )
            rule._random = random.Random(rule.seed)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def pick(
        self, method: str, path: str, phase: str = "before", route: str | None = None
    ) -> builtins.list[FaultRule]:  # ``list`` here is the method above
        """Every rule of this phase that fires for this request (latency can stack with one failure).

        ``route`` (``"GET /v1/{project_id}/ports"``) keys a rate limit's buckets; else the path."""
        fired: list[FaultRule] = []
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                if rule.phase != phase or (rule.count is not None and rule.count <= 0):
                    continue
                if not rule.matches(method, path):
                    continue
                rule.matched += 1
                if rule.kind == "rate_limit":
                    if any(r.kind not in _STACKING for r in fired) or rule.take_token(route or f"{method} {path}", now):
                        continue
                elif rule.every_nth and rule.matched % rule.every_nth:
                    continue
                elif not rule.every_nth and rule._random.random() >= rule.probability:
                    continue
                if rule.kind not in _STACKING and any(r.kind not in _STACKING for r in fired):
                    continue
                rule.injected += 1
                if rule.count is not None:
                    rule.count -= 1
                fired.append(rule)
        return fired


def _port_change(spec: dict) -> dict:
    """A concurrent_write's change: one port, groups to insert (at ``index``) or to remove; or a
    rule added to a group (``add_rule``: the v3 rule fields and ``security_group_id``)."""
    rule = spec.get("add_rule")
    if rule is not None:
        if not isinstance(rule, dict) or not isinstance(rule.get("security_group_id"), str):
            raise BadRequest("LocalCloud.Fault", "concurrent_write: add_rule is an object with security_group_id")
        return {"add_rule": dict(rule)}
    port_id = spec.get("port_id")
    insert, remove = spec.get("insert"), spec.get("remove")
    if not isinstance(port_id, str) or (insert is None) == (remove is None):
        raise BadRequest("LocalCloud.Fault", "concurrent_write needs port_id and one of insert / remove")
    groups = insert if insert is not None else remove
    if not isinstance(groups, list) or not groups or not all(isinstance(g, str) for g in groups):
        raise BadRequest("LocalCloud.Fault", "concurrent_write: insert / remove is a non-empty list of group ids")
    index = spec.get("index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
        raise BadRequest("LocalCloud.Fault", "concurrent_write: index is an integer >= 0")
    return {"port_id": port_id, "insert" if insert is not None else "remove": list(groups), "index": index}

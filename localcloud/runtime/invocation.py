"""What one invocation of a function needs, sends and gives back.

A :class:`FunctionSnapshot` is the function as the engine copied it under the state lock (code,
dependencies, configuration); :func:`invocation_request` turns it and an event into the one-line
request :mod:`.runner` reads; an :class:`Outcome` is one execution's result. Plain data, shared by
the code cache (:mod:`.codecache`), the instance processes (:mod:`.process`), the pool
(:mod:`.instances`) and the engine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

__all__ = ["Dependency", "FunctionSnapshot", "Outcome", "invocation_request"]


@dataclass(frozen=True)
class Dependency:
    version_id: str
    name: str
    sha256: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class FunctionSnapshot:
    """What one invocation needs of a function, copied under the state lock."""

    project_id: str
    name: str
    package: str
    urn: str
    runtime: str
    handler: str
    timeout: int
    memory_size: int
    code: bytes = field(repr=False)
    sha256: str = ""
    user_data: dict = field(default_factory=dict, repr=False)
    encrypted_user_data: dict = field(default_factory=dict, repr=False)
    xrole: str = ""
    initializer_handler: str = ""
    initializer_timeout: int = 0
    concurrency: int = -1
    dependencies: tuple[Dependency, ...] = ()
    async_config: dict | None = None

    @property
    def fingerprint(self) -> str:
        """Instances are reused only for the same code, dependencies and configuration."""
        digest = hashlib.sha256()
        for part in (
            self.project_id,
            self.name,
            self.sha256,
            self.handler,
            str(self.timeout),
            str(self.memory_size),
            json.dumps(self.user_data, sort_keys=True),
            json.dumps(self.encrypted_user_data, sort_keys=True),
            self.xrole,
            self.initializer_handler,
            str(self.initializer_timeout),
            ",".join(d.sha256 for d in self.dependencies),
        ):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def merged_user_data(self) -> dict:
        """What ``context.getUserData`` answers: plain and encrypted user data together."""
        return {**self.user_data, **self.encrypted_user_data}


@dataclass
class Outcome:
    """One execution: ``ok`` with ``result``, or ``error`` (``errorType`` / ``errorMessage``)."""

    ok: bool
    result: object = None
    error: dict | None = None
    log: str = ""
    duration_ms: float = 0.0
    init_ms: float = 0.0
    cold_start: bool = False
    timed_out: bool = False
    system_error: bool = False  # the platform failed (could not start / crashed), not the handler
    instance_id: str = ""
    notes: list = field(default_factory=list)


def invocation_request(
    snapshot: FunctionSnapshot,
    request_id: str,
    event: object,
    timeout_s: float,
    credentials: tuple[str, str, str] = ("", "", ""),
) -> dict:
    """One request line for :mod:`.runner`: the event and the FunctionGraph context's fields."""
    ak, sk, token = credentials
    return {
        "request_id": request_id,
        "handler": snapshot.handler,
        "event": event,
        "timeout_s": timeout_s,
        "context": {
            "user_data": snapshot.merged_user_data(),
            "ak": ak,
            "sk": sk,
            "security_token": token,
            "function_name": snapshot.name,
            "version": "latest",
            "memory_mb": snapshot.memory_size,
            "request_id": request_id,
        },
        "initializer": (
            {"handler": snapshot.initializer_handler, "timeout_s": snapshot.initializer_timeout}
            if snapshot.initializer_handler
            else None
        ),
    }

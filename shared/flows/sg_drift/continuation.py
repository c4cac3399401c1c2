"""The sweep's continuation: a sweep that stops for time (or its work budget) hands the rest on.

When the next server page may not fit in the invocation's remaining time, or the invocation has
judged ``DRIFT_SWEEP_PAGES_PER_INVOCATION`` pages, the sweep (:mod:`shared.flows.sg_drift.sweep`)
stops and invokes its own function asynchronously with
``{"sweep": {"first_page": N, "hop": H, "sweep_id": ...}}``, through the one self-invocation
(:func:`shared.runtime.continuation.invoke_self`). At most :data:`MAX_HOPS` continuations follow one
timer event: after that the summary keeps ``continue_from`` and says the bound was reached (a loop
can never run away). The continuation carries the sweep's id, so its results and summary share
the first one's ``request_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.runtime.continuation import MAX_HOPS, invoke_self
from shared.runtime.envelopes import Envelope
from shared.runtime.run import Run

__all__ = ["MAX_HOPS", "SweepStart", "read_sweep_start", "continue_sweep"]

_SWEEP_ID = re.compile(r"^sweep:[0-9]{8}T[0-9]{6}Z\Z")
_HEX32 = re.compile(r"^[0-9a-f]{32}\Z")
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]{1,20}){1,3}\Z")  # the change request schema's


@dataclass(frozen=True)
class SweepStart:
    first_page: int = 1
    hop: int = 0  # 0: the timer's (or a direct) sweep; 1..MAX_HOPS: a continuation
    sweep_id: str | None = None
    target: dict[str, str | None] | None = None  # TARGETS: the one target this invocation sweeps
    malformed_target: bool = False  # a "target" was given and is not {account?, region, project_id}


def _int(value: object, low: int, high: int, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return value if ok and isinstance(value, int) else default


def read_sweep_start(envelope: Envelope) -> SweepStart:
    """Where a sweep starts: page 1 for a timer; ``{"sweep": {...}}``'s fields for a direct call."""
    if envelope.kind != "direct" or not envelope.messages:
        return SweepStart()
    body = envelope.messages[0].body
    sweep = body.get("sweep") if isinstance(body, dict) else None
    if not isinstance(sweep, dict):
        return SweepStart()
    sweep_id = sweep.get("sweep_id")
    target = _target(sweep["target"]) if "target" in sweep else None
    return SweepStart(
        _int(sweep.get("first_page"), 1, 1000, 1),
        _int(sweep.get("hop"), 0, MAX_HOPS, 0),
        sweep_id if isinstance(sweep_id, str) and _SWEEP_ID.match(sweep_id) else None,
        target,
        "target" in sweep and target is None,
    )


def _target(value: object) -> dict[str, str | None] | None:
    """``{"account": 32 hex | null, "region", "project_id": 32 hex}`` exactly, or None."""
    if not isinstance(value, dict) or set(value) - {"account", "region", "project_id"}:
        return None
    account, region, project_id = value.get("account"), value.get("region"), value.get("project_id")
    if account is not None and not (isinstance(account, str) and _HEX32.match(account)):
        return None
    if not (isinstance(region, str) and _REGION.match(region) and isinstance(project_id, str)):
        return None
    if not _HEX32.match(project_id):
        return None
    return {"account": account, "region": region, "project_id": project_id}


def continue_sweep(run: Run, start: SweepStart, sweep_id: str, next_page: int) -> dict[str, Any]:
    """Invoke this function asynchronously with the rest of the sweep; what the summary says of it."""
    hop = start.hop + 1
    event: dict[str, Any] = {"sweep": {"first_page": next_page, "hop": hop, "sweep_id": sweep_id}}
    if start.target is not None:
        event["sweep"]["target"] = dict(start.target)
    if hop > MAX_HOPS:
        return {"hop": start.hop, "invoked": False, "reason": f"hop limit ({MAX_HOPS}) reached", "event": event}
    try:
        request_id = invoke_self(run, event)
    except LookupError as error:
        return {"hop": hop, "invoked": False, "reason": str(error), "event": event}
    except Exception as error:  # noqa: BLE001 - reported in the summary (and the sweep is retried hourly)
        detail = getattr(error, "message", None) or type(error).__name__
        return {"hop": hop, "invoked": False, "reason": f"async invocation failed: {detail}", "event": event}
    return {"hop": hop, "invoked": True, "request_id": request_id, "event": event}

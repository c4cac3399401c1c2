"""TIMER triggers: the local runtime invokes functions on their schedule, as FunctionGraph does.

``event_data``: ``{"name", "schedule_type": "Rate" | "Cron", "schedule", "user_event"?}``. ``Rate``
is ``<n>m`` / ``<n>h`` / ``<n>d``; ``Cron`` is FunctionGraph's six-field expression (``seconds
minutes hours day-of-month month day-of-week``, ``?`` = any; ``*``, lists, ranges and ``/`` steps).
The event is the documented timer event ``{"version": "v1.0", "time", "trigger_type": "TIMER",
"trigger_name", "user_event"}``, invoked asynchronously. A background thread checks every second;
``fire_timers`` (control route ``POST /_localcloud/functiongraph/timers/fire``) fires every ACTIVE
timer now, for tests and ``make demo`` that cannot wait an hour.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

__all__ = ["TimerLoop", "fire_timers", "timer_event", "cron_matches", "rate_seconds"]


def timer_event(trigger: dict, now: float | None = None) -> dict:
    data = trigger.get("event_data") or {}
    when = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    return {
        "version": "v1.0",
        "time": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "trigger_type": "TIMER",
        "trigger_name": data.get("name") or trigger.get("trigger_id"),
        "user_event": data.get("user_event") or "",
    }


def rate_seconds(schedule: str) -> float | None:
    text = str(schedule).strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text) > 1 and text[-1] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * units[text[-1]]
    return None


def _field_matches(spec: str, value: int, low: int) -> bool:
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, 10**6
        elif "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
        else:
            start = end = int(part)
        if start <= value <= end and (value - start) % step == 0:
            return True
    return False


def cron_matches(expression: str, when: datetime) -> bool:
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) < 6:
        return False
    values = [(when.second, 0), (when.minute, 0), (when.hour, 0), (when.day, 1), (when.month, 1)]
    values.append(((when.isoweekday() % 7), 0))  # 0 = Sunday
    try:
        return all(_field_matches(spec, value, low) for spec, (value, low) in zip(fields[:6], values))
    except ValueError:
        return False


def _timers(runtime: Any) -> list[tuple[Any, Any, dict]]:
    backend = runtime.backend
    found = []
    with backend.lock:
        for project_id in list(backend.projects):
            state = backend.project(project_id)
            if state is None:
                continue
            model = state.service("functiongraph")
            for function, trigger in model.functions_with_trigger("TIMER"):
                found.append((model, function, trigger))
    return found


def fire_timers(runtime: Any, *, name: str | None = None) -> list[str]:
    """Invoke every ACTIVE timer (or the one named ``name``) now; returns the trigger ids fired."""
    fired, invocations = [], []
    backend = runtime.backend
    for model, function, trigger in _timers(runtime):
        if name and (trigger.get("event_data") or {}).get("name") != name:
            continue
        with backend.lock:
            invocations.append(
                model.receive(function, timer_event(trigger), "async", source=f"trigger:TIMER:{trigger['trigger_id']}")
            )
        fired.append(trigger["trigger_id"])
    for invocation in invocations:
        runtime.spawn(runtime.run_async, invocation)
    return fired


class TimerLoop:
    """Checks every ``tick_s`` which timers are due and fires them."""

    def __init__(self, runtime: Any, tick_s: float = 1.0):
        self.runtime = runtime
        self.tick_s = tick_s
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fgs-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _due(self, trigger: dict, now: float) -> bool:
        data = trigger.get("event_data") or {}
        key = trigger["trigger_id"]
        if str(data.get("schedule_type", "")).lower() == "rate":
            period = rate_seconds(str(data.get("schedule", "")))
            if period is None:
                return False
            last = self._last.setdefault(key, now)
            return now - last >= period
        when = datetime.fromtimestamp(int(now), timezone.utc)
        return int(self._last.get(key, 0)) != int(now) and cron_matches(str(data.get("schedule", "")), when)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                now = time.time()
                for model, function, trigger in _timers(self.runtime):
                    if self._due(trigger, now):
                        self._last[trigger["trigger_id"]] = now
                        with self.runtime.backend.lock:
                            invocation = model.receive(
                                function,
                                timer_event(trigger, now),
                                "async",
                                source=f"trigger:TIMER:{trigger['trigger_id']}",
                            )
                        self.runtime.spawn(self.runtime.run_async, invocation)
            except Exception:  # noqa: BLE001 - a reset in the middle must not end the loop
                continue

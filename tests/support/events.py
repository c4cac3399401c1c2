"""Sample trigger events: ``events/<function>/<name>.json``, loaded by this one helper.

Used by the tests, so the samples stay in use and true (moved from ``localcloud.runtime.events``:
nothing outside the tests used it; ``scripts/invoke.py`` reads an event file by its path).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["EVENTS_DIR", "load_event", "sample_events"]

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"  # tests/support/ -> the repo root


def load_event(function: str, name: str) -> object:
    path = EVENTS_DIR / function / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def sample_events(function: str) -> dict[str, object]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((EVENTS_DIR / function).glob("*.json"))
    }

"""Result sinks: every result event goes to every configured sink (``RESULT_SINKS``).

``log`` is always on: one JSON line per result on stdout, which FunctionGraph ships to LTS.
Other sinks are imported only when configured, so an unused SDK never costs cold start.
"""

from __future__ import annotations

import sys
from typing import Any

from ..results import to_log_line

__all__ = ["deliver"]


def deliver(events: list[dict], run: Any, stream=None) -> dict:
    """Send ``events`` to every sink; returns delivery counts per sink."""
    stream = stream or sys.stdout
    for event in events:
        stream.write(to_log_line(event) + "\n")
    stream.flush()
    return {"log": {"delivered": len(events), "undelivered": 0}}

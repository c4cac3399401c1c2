"""Result sinks: every result event goes to every configured sink (``RESULT_SINKS``).

``log`` is always on: one JSON line per result on stdout, which FunctionGraph ships to LTS.
The other sinks (``functiongraph``, ``eventgrid``, ``smn``, ``webhook``) and their SDKs are
imported only when configured, so an unused SDK never costs cold start: importing this package
imports no SDK at all. See ``docs/sinks.md`` and :mod:`shared.sinks.core`.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from shared.sinks.base import SinkRun

__all__ = ["deliver"]


def deliver(events: list[dict[str, Any]], run: SinkRun, stream: TextIO | None = None) -> dict[str, Any]:
    """Send ``events`` to the log and to every configured sink; never raises.

    Returns the counts per sink plus the total of results some sink could not take (each of
    which was also written to ``stream`` as one ``{"undelivered": true, ...}`` line)::

        {"log": {"delivered": 2, "undelivered": 0}, "smn": {"delivered": 2, "undelivered": 0},
         "undelivered": 0}
    """
    stream = stream if stream is not None else sys.stdout
    try:
        from shared.sinks.core import deliver_events

        return deliver_events(events, run, stream)
    except Exception as error:  # noqa: BLE001 - last resort: delivery never fails the invocation
        import traceback

        traceback.print_exc(file=sys.stderr)
        return {"error": f"unexpected {type(error).__name__} in result delivery", "undelivered": len(events)}

"""The ``log`` sink, always on: one compact, redacted JSON line per result on the stream.

FunctionGraph ships a function's stdout to LTS, so these lines are the record of last resort:
written first, before any other sink is tried, whatever ``RESULT_SINKS`` says.
"""

from __future__ import annotations

import sys

from shared.results import to_log_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["write_results"]


def write_results(events: list[dict[str, Any]], stream: TextIO) -> dict[str, int]:
    """Write one line per event (``shared.results.to_log_line``); returns the log sink's counts."""
    written = 0
    try:
        for event in events:
            stream.write(to_log_line(event) + "\n")
            written += 1
        stream.flush()
    except Exception:  # noqa: BLE001 - a closed stdout must not fail the invocation
        import traceback  # only when writing failed (cold start: ~2 ms with textwrap)

        traceback.print_exc(file=sys.stderr)
    return {"delivered": written, "undelivered": len(events) - written}

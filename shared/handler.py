"""What every handler does around the pipeline: start the run, answer the trigger.

Kept apart from the pipeline so that a handler reads as its four steps: parse the envelope,
run the pipeline, emit, return.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .config import ConfigError
from .envelopes import Envelope, apig_response
from .errors import ErrorCode, ErrorDetail
from .pipeline import Run, failure_data
from .results import result_event, to_log_line

__all__ = ["start_run", "respond"]


def start_run(function: str, context: Any, envelope: Envelope, **overrides: Any) -> Run:
    """The invocation's Run. A broken configuration fails the invocation loudly, after logging one
    ``failed`` result per message (the sinks themselves may be what is misconfigured)."""
    try:
        return Run.start(function, context, **overrides)
    except ConfigError as error:
        from .clock import SYSTEM_CLOCK

        detail = ErrorDetail(ErrorCode.CONFIG_INVALID, str(error), "$")
        for message in envelope.messages or [None]:
            data = failure_data(detail, retryable=True)
            data.update(function=function, trigger=envelope.kind,
                        message_index=message.index if message else 0)
            sys.stdout.write(to_log_line(result_event(data, function=function, now=SYSTEM_CLOCK.now())) + "\n")
        sys.stdout.flush()
        raise


def respond(envelope: Envelope, results: list[dict], delivery: dict) -> dict:
    """The handler's return value; for APIG, a proper APIG response."""
    payload = {"results": results, "delivery": delivery}
    if envelope.kind != "apig":
        return payload
    single_rejected = len(results) == 1 and results[0]["data"]["outcome"] == "rejected"
    return apig_response(400 if single_rejected else 200, json.loads(json.dumps(payload)))

"""FunctionGraph handler ``index.handler``: new ECS servers get the groups the policy requires.

Triggers: CTS (ECS creation operations), EventGrid (CTS traces as CloudEvents), or a direct
invocation ``{"server_id": ...}`` for re-runs and back-fills. Raises after emitting when a
server was not ready in time, so that the platform's async retry delivers the trace again.
"""

from pathlib import Path

from shared.flows.ecs_created.steps import ACCEPTS, load_run_policy, prepare, process
from shared.runtime.batch import process_batch
from shared.runtime.envelopes import parse_envelope
from shared.runtime.handler import raise_for_retry, respond, start_run
from shared.sinks import deliver

CODE_DIR = Path(__file__).resolve().parent


def handler(event, context):
    envelope = parse_envelope(event)
    run = start_run(
        "ecs_created", context, envelope, event=event, setup={"policy": lambda r: load_run_policy(r, CODE_DIR)}
    )
    results = process_batch(envelope, run, prepare=prepare, step=process, accepts=ACCEPTS)
    response = respond(envelope, results, deliver(results, run))
    raise_for_retry(results)
    return response

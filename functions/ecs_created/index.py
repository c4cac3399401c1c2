"""FunctionGraph handler ``index.handler``: new ECS servers get the groups the policy requires.

Triggers: CTS (ECS creation operations), EventGrid (CTS traces as CloudEvents), or a direct
invocation ``{"server_id": ...}`` for re-runs and back-fills. A server not ready in time (or another
retryable failure) in a trace batch goes to the retry lane; elsewhere the handler raises after
emitting, so that the platform's async retry delivers the event again (docs/retries.md).
"""

from pathlib import Path

from shared.flows.ecs_created.steps import ACCEPTS, load_run_policy, needs_policy, prepare, process
from shared.runtime.batch import process_batch
from shared.runtime.envelopes import parse_envelope
from shared.runtime.handler import DeadLetterLost, continuation_of, raise_for_retry, respond, retry_lane, start_run
from shared.sinks import deliver

CODE_DIR = Path(__file__).resolve().parent


def handler(event, context):
    envelope = parse_envelope(event)
    setup = {
        # only when a message may be a creation: the central channel forwards every ECS event
        "policy": lambda r: load_run_policy(r, CODE_DIR) if needs_policy(envelope, r) else None,
        "continuation": lambda r: continuation_of(envelope, r),
        "code_dir": lambda r: CODE_DIR,  # a target's policy_file is looked up here too
    }
    try:
        run = start_run("ecs_created", context, envelope, event=event, setup=setup)
    except DeadLetterLost as lost:  # a dead letter of a dead letter on a broken configuration: logged
        return lost.response
    results = process_batch(envelope, run, prepare=prepare, step=process, accepts=ACCEPTS, retry_lane=retry_lane)
    response = respond(envelope, results, deliver(results, run))
    raise_for_retry(results, run, envelope, always=True)
    return response

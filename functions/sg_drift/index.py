"""FunctionGraph handler ``index.handler``: security groups changed outside sgguard are found (and repaired).

Triggers: CTS (port and security-group-rule changes), TIMER (the scheduled sweep of every server),
EventGrid (CTS traces as CloudEvents), or a direct invocation ``{"server_id": ...}`` /
``{"sweep": {}}``. ``DRIFT_MODE=report`` (default) only emits; ``enforce`` repairs.
"""

from pathlib import Path

from shared.flows.sg_drift.steps import ACCEPTS, load_run_policy, prepare, process
from shared.flows.sg_drift.sweep import is_sweep, run_sweep
from shared.runtime.batch import process_batch
from shared.runtime.envelopes import parse_envelope
from shared.runtime.handler import DeadLetterLost, continuation_of, raise_for_retry, respond, retry_lane, start_run
from shared.sinks import deliver

CODE_DIR = Path(__file__).resolve().parent


def handler(event, context):
    envelope = parse_envelope(event)
    setup = {
        "policy": lambda r: load_run_policy(r, CODE_DIR),
        "continuation": lambda r: continuation_of(envelope, r),
        "code_dir": lambda r: CODE_DIR,  # a target's policy_file is looked up here too
    }
    try:
        run = start_run("sg_drift", context, envelope, event=event, setup=setup)
    except DeadLetterLost as lost:  # a dead letter of a dead letter on a broken configuration: logged
        return lost.response
    if is_sweep(envelope):
        if run.settings.targets is None:
            results = run_sweep(envelope, run)  # the home project, in process
        else:  # the plan, or one target's sweep (imported only with TARGETS: cold start)
            from shared.flows.sg_drift.fanout import run_sweeps

            results = run_sweeps(envelope, run)
    else:
        results = process_batch(envelope, run, prepare=prepare, step=process, accepts=ACCEPTS, retry_lane=retry_lane)
    response = respond(envelope, results, deliver(results, run))
    raise_for_retry(results, run, envelope)  # the retry lane's repairs: FunctionGraph retries them
    return response

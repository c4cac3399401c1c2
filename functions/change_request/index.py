"""FunctionGraph handler ``index.handler``: ticket change requests in, one result event each out.

Triggers: DMS for Kafka, DMS for RabbitMQ, SMN, APIG, EventGrid, or a direct invocation.
"""

from shared.runtime.batch import process_batch
from shared.runtime.envelopes import CHANGE_REQUEST_TRIGGERS, parse_envelope
from shared.runtime.handler import DeadLetterLost, continuation_of, raise_for_retry, respond, start_run
from shared.sinks import deliver


def handler(event, context):
    envelope = parse_envelope(event)
    setup = {"continuation": lambda run: continuation_of(envelope, run)}
    try:
        run = start_run("change_request", context, envelope, event=event, setup=setup)
    except DeadLetterLost as lost:  # a dead letter of a dead letter on a broken configuration: logged
        return lost.response
    results = process_batch(
        envelope,
        run,
        prepare=_prepare,
        ready=_ready,
        step=_process,
        accepts=CHANGE_REQUEST_TRIGGERS,
        hand_on=_hand_on,
        retry_lane=_retry_lane,
    )
    response = respond(envelope, results, deliver(results, run))
    raise_for_retry(results, run, envelope)  # in the retry lane only: FunctionGraph retries it
    return response


# The steps are imported on first use: a timer tick or an unreadable envelope never needs them.
def _prepare(message, run):
    from shared.flows.change_request import prepare

    return prepare(message, run)


def _ready(run, prepared):
    from shared.flows.change_request import expect

    expect(run, prepared)


def _process(job, run):
    from shared.flows.change_request import process

    return process(job, run)


def _hand_on(run, envelope, prepared):
    from shared.flows.change_request import hold
    from shared.runtime.continuation import hand_on

    return hand_on(run, envelope, prepared, hold=hold)


def _retry_lane(run, envelope, prepared, failures):
    from shared.flows.change_request import hold
    from shared.runtime.continuation import RETRY_LANE, hand_on

    return hand_on(run, envelope, prepared, hold=hold, lane=RETRY_LANE, failures=failures)

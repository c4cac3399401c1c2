"""FunctionGraph handler ``index.handler``: ticket change requests in, one result event each out.

Triggers: DMS for Kafka, DMS for RabbitMQ, SMN, APIG, EventGrid, or a direct invocation.
"""

from shared.change_request import ACCEPTS, prepare, process
from shared.continuation import hand_on, read_continuation
from shared.envelopes import parse_envelope
from shared.handler import respond, start_run
from shared.pipeline import process_batch
from shared.sinks import deliver


def handler(event, context):
    envelope = parse_envelope(event)
    setup = {"continuation": lambda run: read_continuation(envelope, run.settings)}
    run = start_run("change_request", context, envelope, setup=setup)
    results = process_batch(envelope, run, prepare=prepare, step=process, accepts=ACCEPTS, hand_on=hand_on)
    return respond(envelope, results, deliver(results, run))

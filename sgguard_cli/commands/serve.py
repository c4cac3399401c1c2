"""``sgguard serve``: keep localcloud and the deployed functions running, to try the ticket path by
hand (``make serve``)."""

from __future__ import annotations

import json
import signal
import sys
import threading

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run"]

SUMMARY = "run localcloud with template.yaml deployed into it, printing every execution, until Ctrl-C"
DETAILS = """
Starts localcloud (the default seed plus the servers the samples under events/ name: docs/samples.md)
with the local FunctionGraph runtime, packages and deploys
template.yaml into it (sgguard package --local-dependencies, sgguard deploy --endpoint), with every
change-request trigger on: DMS Kafka (always), RabbitMQ, SMN, APIG (and EventGrid with --eventgrid).
Results go to the log and to the SMN topic sgguard-results. Prints the URL, the credentials, the
topic names and how to submit; then one line per execution (and the handler's log lines) until
Ctrl-C or SIGTERM.
"""
EPILOG = """
examples:
  sgguard serve                          # = make serve, on http://127.0.0.1:8787
  sgguard serve --port 0 --eventgrid     # any free port; EventGrid triggers too
"""


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0: any free port")
    parser.add_argument("--build-delay-ms", type=int, default=300, help="how long a new server stays in BUILD")
    parser.add_argument("--eventgrid", action="store_true", help="also deploy the EventGrid triggers")
    parser.add_argument("--no-rabbitmq", action="store_true")
    parser.add_argument("--no-smn", action="store_true")
    parser.add_argument("--no-apig", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="do not print the executions")


def run(args, ctx) -> int:
    from ..localenv import APIG_PATH, KAFKA_TOPIC, RABBITMQ_EXCHANGE, LocalEnv

    def say(line: str) -> None:
        ctx.out(line)
        sys.stdout.flush()

    echo = None if args.quiet else say
    from datetime import datetime, timezone

    from localcloud.seed import default_seed, with_samples

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = LocalEnv.start(
        host=args.host,
        port=args.port,
        build_delay_ms=args.build_delay_ms,
        echo=echo,
        seed=with_samples(default_seed(), now),  # `sgguard invoke` of a sample then finds its server here too
    )
    try:
        cloud = env.cloud
        say(f"localcloud {cloud.url} (region {cloud.region}); packaging and deploying template.yaml ...")
        env.package()
        parameters = env.trigger_parameters(
            rabbitmq=not args.no_rabbitmq, smn=not args.no_smn, apig=not args.no_apig, eventgrid=args.eventgrid
        )
        env.deploy(**parameters)
        say(env.deploy_lines[-1])
        key_id, secret = next(iter(env.signing_keys.items()))
        lines = [
            "",
            f"localcloud:   {cloud.url}",
            f"credentials:  HUAWEICLOUD_SDK_AK={cloud.ak} HUAWEICLOUD_SDK_SK={cloud.sk} "
            f"HUAWEICLOUD_SDK_PROJECT_ID={cloud.project_id}",
            f"signing key:  key id {key_id}, secret {secret} (local only)",
            f"Kafka topic:  {KAFKA_TOPIC}   (POST {cloud.url}/_localcloud/dms/topics/{KAFKA_TOPIC}/messages)",
        ]
        if not args.no_rabbitmq:
            lines.append(
                f"RabbitMQ:     exchange {RABBITMQ_EXCHANGE}   "
                f"(POST {cloud.url}/_localcloud/dms/exchanges/{RABBITMQ_EXCHANGE}/messages)"
            )
        if "SMN_TOPIC_URN" in parameters:
            lines.append(f"SMN trigger:  {parameters['SMN_TOPIC_URN']}   (SMN publish_message)")
        if not args.no_apig:
            lines.append(f"APIG:         POST {cloud.url}/_apig{APIG_PATH}")
        if args.eventgrid:
            lines.append(f"EventGrid:    channel {parameters['EG_CHANNEL_ID']}, source sgguard.ticketing")
        lines += [
            f"results:      log lines (GET {cloud.url}/_localcloud/functiongraph/executions) and SMN "
            f"{env.result_topic_urn} (GET {cloud.url}/_localcloud/smn/messages)",
            "",
            "try:",
            f"  export LOCALCLOUD_URL={cloud.url} HUAWEICLOUD_SDK_AK={cloud.ak} HUAWEICLOUD_SDK_SK={cloud.sk} "
            f"HUAWEICLOUD_SDK_PROJECT_ID={cloud.project_id}",
            f"  export SGGUARD_SIGNING_SECRET={secret}",
            "  sgguard show c0000000-0000-4000-8000-000000000001 --endpoint $LOCALCLOUD_URL",
            f"  sgguard submit --key-id {key_id} --wait \\",
            "      --server c0000000-0000-4000-8000-000000000001 --action add --groups monitoring",
            f"  sgguard submit --via apig --key-id {key_id} \\",
            "      --server c0000000-0000-4000-8000-000000000001 --action add --groups db --position 0 --dry-run",
            "  sgguard dms topics",
            "  sgguard invoke change_request events/change_request/kafka.json   # a sample, signed with the local key",
            "",
            "serving until Ctrl-C",
        ]
        say("\n".join(lines))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        say(json.dumps({"stopping": True, "executions": len(env.executions())}))
    finally:
        env.stop()
    return 0

#!/usr/bin/env python3
"""Keep localcloud and the deployed functions running, to try the ticket path by hand.

    .venv/bin/python scripts/serve.py [--port 8787] [--host 127.0.0.1] [--build-delay-ms 300]
                                      [--eventgrid] [--no-rabbitmq] [--no-smn] [--no-apig] [--quiet]
    make serve

Starts localcloud (default seed) with the local FunctionGraph runtime, packages and deploys
template.yaml into it (scripts/package.py --local-dependencies, scripts/deploy.py --endpoint),
with every change-request trigger on: DMS Kafka (always), RabbitMQ, SMN, APIG (and EventGrid
with --eventgrid). Results go to the log and to the SMN topic sgguard-results. Prints the URL,
the credentials, the topic names and how to submit; then prints one line per execution (and the
handler's log lines) until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0: any free port")
    parser.add_argument("--build-delay-ms", type=int, default=300, help="how long a new server stays in BUILD")
    parser.add_argument("--eventgrid", action="store_true", help="also deploy the EventGrid triggers")
    parser.add_argument("--no-rabbitmq", action="store_true")
    parser.add_argument("--no-smn", action="store_true")
    parser.add_argument("--no-apig", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="do not print the executions")
    args = parser.parse_args(argv)

    from scripts.localenv import (APIG_PATH, KAFKA_TOPIC, RABBITMQ_EXCHANGE, LocalEnv)

    echo = None if args.quiet else (lambda line: print(line, flush=True))
    env = LocalEnv.start(host=args.host, port=args.port, build_delay_ms=args.build_delay_ms, echo=echo)
    try:
        cloud = env.cloud
        print(f"localcloud {cloud.url} (region {cloud.region}); packaging and deploying template.yaml ...", flush=True)
        env.package()
        parameters = env.trigger_parameters(rabbitmq=not args.no_rabbitmq, smn=not args.no_smn,
                                            apig=not args.no_apig, eventgrid=args.eventgrid)
        env.deploy(**parameters)
        print(env.deploy_lines[-1])
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
            lines.append(f"RabbitMQ:     exchange {RABBITMQ_EXCHANGE}   "
                         f"(POST {cloud.url}/_localcloud/dms/exchanges/{RABBITMQ_EXCHANGE}/messages)")
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
            "  .venv/bin/python scripts/show.py c0000000-0000-4000-8000-000000000001 --endpoint $LOCALCLOUD_URL",
            f"  .venv/bin/python scripts/submit.py --key-id {key_id} --secret {secret} --wait \\",
            "      --server c0000000-0000-4000-8000-000000000001 --action add --groups monitoring",
            f"  .venv/bin/python scripts/submit.py --via apig --key-id {key_id} --secret {secret} \\",
            "      --server c0000000-0000-4000-8000-000000000001 --action add --groups db --position 0 --dry-run",
            "  .venv/bin/python scripts/dms.py topics",
            "",
            "serving until Ctrl-C",
        ]
        print("\n".join(lines), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print(json.dumps({"stopping": True, "executions": len(env.executions())}), flush=True)
    finally:
        env.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""localcloud's DMS topics (Kafka) and exchanges (RabbitMQ), from the terminal.

    scripts/dms.py publish TOPIC [MESSAGE ...] [--file F] [--lines F] [--rabbitmq] [--instance-id ID]
    scripts/dms.py topics [--messages]

``publish`` puts messages (strings, sent as they are: nothing is signed; see scripts/submit.py
for change requests) on a Kafka topic, or with ``--rabbitmq`` on an exchange; ``--file`` sends a
file's whole content as one message, ``--lines`` each non-empty line of a file as one message.
``topics`` lists the topics, their triggers' consumers, offsets and the batches delivered.
The endpoint is --endpoint, else $LOCALCLOUD_URL, else http://127.0.0.1:8787.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("LOCALCLOUD_URL", "http://127.0.0.1:8787"))
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish", help="publish messages to a topic or exchange")
    publish.add_argument("topic")
    publish.add_argument("messages", nargs="*")
    publish.add_argument("--file", action="append", default=[], help="a file's content as one message")
    publish.add_argument("--lines", help="each non-empty line of this file as one message")
    publish.add_argument("--rabbitmq", action="store_true", help="an exchange (RABBITMQ triggers), not a Kafka topic")
    publish.add_argument("--instance-id")
    topics = commands.add_parser("topics", help="list topics, consumers and batches")
    topics.add_argument("--messages", action="store_true", help="include every message")
    args = parser.parse_args(argv)

    from scripts.submit import publish as publish_messages

    try:
        if args.command == "publish":
            messages = list(args.messages)
            messages += [Path(path).read_text(encoding="utf-8") for path in args.file]
            if args.lines:
                messages += [line for line in Path(args.lines).read_text(encoding="utf-8").splitlines() if line.strip()]
            if not messages:
                parser.error("no message: give MESSAGE arguments, --file or --lines")
            answer = publish_messages(args.endpoint, messages, via="rabbitmq" if args.rabbitmq else "kafka",
                                      topic=args.topic, instance_id=args.instance_id)
            print(json.dumps(answer, indent=2))
        else:
            url = f"{args.endpoint.rstrip('/')}/_localcloud/dms/topics" + ("?messages=true" if args.messages else "")
            with urllib.request.urlopen(url, timeout=30) as response:
                print(json.dumps(json.loads(response.read()), indent=2))
    except (OSError, RuntimeError, ValueError) as error:
        print(f"dms: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

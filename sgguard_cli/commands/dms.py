"""``sgguard dms``: localcloud's DMS topics (Kafka) and exchanges (RabbitMQ), from the terminal."""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

from ..errors import CliError, UsageError

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run"]

SUMMARY = "publish raw messages to a localcloud DMS topic or exchange; list topics and their consumers"
DETAILS = """
publish puts messages (strings, sent as they are: nothing is signed; sgguard submit sends change
requests) on a Kafka topic, or with --rabbitmq on an exchange; --file sends a file's whole content
as one message, --lines each non-empty line of a file as one message. topics lists the topics,
their triggers' consumers, offsets and the batches delivered. The endpoint is --endpoint, else
$LOCALCLOUD_URL, else http://127.0.0.1:8787.
"""
EPILOG = """
examples:
  sgguard dms publish sg-change-requests 'not json'
  sgguard dms publish sg-change-requests --lines requests.jsonl
  sgguard dms topics --messages
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="localcloud (default: $LOCALCLOUD_URL, else http://127.0.0.1:8787)",
    )
    commands = parser.add_subparsers(
        dest="dms_command", metavar="{publish,topics}", required=True, parser_class=type(parser)
    )
    publish = commands.add_parser("publish", help="publish messages to a topic or exchange")
    publish.add_argument("topic", metavar="TOPIC")
    publish.add_argument("messages", nargs="*", metavar="MESSAGE")
    publish.add_argument("--file", action="append", default=[], help="a file's content as one message")
    publish.add_argument("--lines", help="each non-empty line of this file as one message")
    publish.add_argument("--rabbitmq", action="store_true", help="an exchange (RABBITMQ triggers), not a Kafka topic")
    publish.add_argument("--instance-id")
    topics = commands.add_parser("topics", help="list topics, consumers and batches")
    topics.add_argument("--messages", action="store_true", help="include every message")


def run(args, ctx) -> int:
    from .submit import localcloud_url
    from .submit import publish as publish_messages

    endpoint = localcloud_url(args, ctx.environ)
    try:
        if args.dms_command == "publish":
            messages = list(args.messages)
            try:
                messages += [Path(path).read_text(encoding="utf-8") for path in args.file]
                if args.lines:
                    messages += [
                        line for line in Path(args.lines).read_text(encoding="utf-8").splitlines() if line.strip()
                    ]
            except OSError as error:
                raise UsageError(f"{error.filename}: {error.strerror}") from None
            if not messages:
                raise UsageError("no message: give MESSAGE arguments, --file or --lines")
            answer = publish_messages(
                endpoint,
                messages,
                via="rabbitmq" if args.rabbitmq else "kafka",
                topic=args.topic,
                instance_id=args.instance_id,
            )
            ctx.out(json.dumps(answer, indent=2))
        else:
            url = f"{endpoint}/_localcloud/dms/topics" + ("?messages=true" if args.messages else "")
            with urllib.request.urlopen(url, timeout=30) as response:
                ctx.out(json.dumps(json.loads(response.read()), indent=2))
    except (OSError, RuntimeError, ValueError) as error:
        raise CliError(f"{endpoint}: {error}") from None
    return 0

"""``sgguard submit``: sign a change request and hand it to sgguard, as a ticketing system would."""

from __future__ import annotations

import json
import re
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import CliError, Problems, UsageError
from ..local_publish import DEFAULT_APIG_PATH, last_execution_seq, post_apig, publish, wait_for_result
from ..publishing import PublishError, to_account
from ..request_checks import check_request, check_secret
from .sign import read_secret

__all__ = [
    "SUMMARY",
    "EPILOG",
    "add_arguments",
    "run",
    "build_request",
    "sign",
    "publish",
    "post_apig",
    "wait_for_result",
    "localcloud_url",
]

SUMMARY = "sign a change request and send it: an APIG URL, DMS Kafka or SMN topic, or localcloud's"
DETAILS = """
The request is a JSON file, or built from --server/--action/--groups. It is signed with
shared.signing.sign_request (README, "Signing"); the secret comes from --secret-file (or '-', stdin),
$SGGUARD_SIGNING_SECRET, or with the key id from $SIGNING_KEYS_JSON (the first key); --secret is
accepted for localcloud's published key only. --unsigned sends it as it is.

On an account (docs/ticketing.md): --url URL POSTs it over HTTPS to the API (APIG_OPEN_GROUP_ID's
auth NONE: no Huawei credentials needed) and prints the answer; --via dms --instance-id ID [--topic
T] produces it to DMS for Kafka, --via smn --topic-urn URN to SMN, through the official SDKs with
HUAWEICLOUD_SDK_AK/SK/PROJECT_ID (DMS_ENDPOINT, SMN_ENDPOINT, --endpoint or $LOCALCLOUD_URL).

Where it goes on localcloud (sgguard serve): --via kafka (default) publishes it to the DMS Kafka topic;
rabbitmq to the exchange; apig POSTs it to the APIG route and prints the function's answer. --wait
then waits for the result event (from the change_request function's log lines) and prints it
(localcloud only: on an account, read the result sink). The endpoint is --endpoint, else
$LOCALCLOUD_URL, else http://127.0.0.1:8787. --print only prints the signed request. Exit status:
0 sent (and, with --wait, a result arrived and the request did not end rejected, failed or
rolled_back), 1 such an outcome, no result in time or APIG answered 5xx, 2 usage, 3 the endpoint
unreachable or refused (an APIG 401/403: the API wants Huawei credentials).
"""
EPILOG = """
examples:
  export LOCALCLOUD_URL=http://127.0.0.1:8787 SGGUARD_SIGNING_SECRET=local-demo-signing-key-0001
  sgguard submit --key-id ticketing-1 --wait \\
      --server c0000000-0000-4000-8000-000000000001 --action add --groups monitoring --position 0
  sgguard submit --key-id ticketing-1 request.json                # a request written by hand
  sgguard submit --via apig --key-id ticketing-1 --json request.json  # synchronous: the answer as JSON
  sgguard submit --print --key-id ticketing-1 request.json        # only sign (see also sgguard sign)
  sgguard submit --key-id ticketing-1 --secret-file key.txt request.json \
      --url https://GROUP.apic.REGION.huaweicloudapis.com/sgguard/change-requests   # an account's API
  sgguard submit --via dms --instance-id INSTANCE --key-id ticketing-1 --secret-file key.txt request.json
  sgguard submit --via smn --topic-urn urn:smn:REGION:PROJECT:sg-change-requests --key-id ... request.json
"""

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEFAULT_ENDPOINT = "http://127.0.0.1:8787"


def localcloud_url(args, environ) -> str:
    """--endpoint (before or after the subcommand), else $LOCALCLOUD_URL, else the serve default."""
    return (getattr(args, "endpoint", None) or environ.get("LOCALCLOUD_URL") or DEFAULT_ENDPOINT).rstrip("/")


def _groups(text: str) -> list[dict]:
    refs = [item.strip() for item in text.split(",") if item.strip()]
    return [{"id": ref} if _UUID.match(ref) else {"name": ref} for ref in refs]


def _nics(text: str):
    if text in ("primary", "all"):
        return text
    selectors = []
    for item in text.split(","):
        kind, _, value = item.strip().partition(":")
        key = {
            "port": "port_id",
            "port_id": "port_id",
            "ip": "ip",
            "subnet": "subnet_id",
            "subnet_id": "subnet_id",
        }.get(kind)
        if key is None or not value:
            raise ValueError(f"--nics: {item!r} is not primary, all, port:ID, ip:ADDRESS or subnet:ID")
        selectors.append({key: value})
    return selectors


def build_request(
    *,
    server: str,
    action: str,
    groups: str = "",
    nics: str = "primary",
    position: int | None = None,
    dry_run: bool = False,
    request_id: str | None = None,
    ticket_system: str = "local",
    ticket_id: str | None = None,
    requested_by: str = "someone@example.com",
    approved_by: str | None = None,
    ticket_url: str | None = None,
) -> dict:
    """A change request (schema shared/schemas/change_request.v1.json) from the flags."""
    request_id = request_id or f"CHG-LOCAL-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    ticket = {"system": ticket_system, "id": ticket_id or request_id, "requested_by": requested_by}
    if approved_by:
        ticket["approved_by"] = approved_by
    if ticket_url:
        ticket["url"] = ticket_url
    change: dict = {"action": action, "security_groups": _groups(groups)}
    if position is not None:
        change["position"] = position
    request: dict[str, Any] = {
        "request_id": request_id,
        "ticket": ticket,
        "target": {"server_id": server, "nics": _nics(nics)},
        "change": change,
    }
    if dry_run:
        request["dry_run"] = True
    return request


def sign(request: dict, key_id: str, secret: str, now: datetime | None = None) -> dict:
    from shared.signing import sign_request

    moment = now or datetime.now(timezone.utc)
    return sign_request(request, key_id=key_id, secret=secret, timestamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _signing_key(args, environ) -> tuple[str | None, str | None]:
    secret = args.secret
    if not secret and args.secret_file:
        secret = read_secret(args.secret_file)
    key_id, secret = args.key_id, secret or environ.get("SGGUARD_SIGNING_SECRET")
    if not secret and environ.get("SIGNING_KEYS_JSON"):
        keys = json.loads(environ["SIGNING_KEYS_JSON"])
        if key_id:
            secret = keys.get(key_id)
        elif keys:
            key_id, secret = next(iter(keys.items()))
    return key_id, secret


def add_arguments(parser) -> None:
    parser.add_argument(
        "request", nargs="?", metavar="REQUEST.json", help="a change request (JSON file, '-' for stdin)"
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        default=argparse_suppress(),
        help="localcloud (default: $LOCALCLOUD_URL, else http://127.0.0.1:8787)",
    )
    parser.add_argument(
        "--via",
        choices=("kafka", "rabbitmq", "apig", "dms", "smn"),
        help="kafka (default), rabbitmq, apig: localcloud's; dms, smn: an account's (or localcloud's) APIs",
    )
    parser.add_argument("--url", help="the APIG URL to POST to (an account's API; implies --via apig)")
    parser.add_argument("--topic", default="sg-change-requests", help="Kafka topic or RabbitMQ exchange")
    parser.add_argument("--topic-urn", help="the SMN topic (--via smn)")
    parser.add_argument("--instance-id", help="the DMS instance (--via dms); localcloud: only its triggers")
    parser.add_argument("--region", default=argparse_suppress(), help="region of --via dms/smn")
    parser.add_argument("--apig-path", default=DEFAULT_APIG_PATH)
    parser.add_argument("--key-id")
    parser.add_argument("--secret-file", metavar="FILE", help="file holding the signing secret ('-': stdin)")
    parser.add_argument("--secret", help="the signing secret itself: localcloud's published key only")
    parser.add_argument("--unsigned", action="store_true", help="send the request without a signature")
    parser.add_argument(
        "--print", dest="print_only", action="store_true", help="print the signed request; send nothing"
    )
    parser.add_argument(
        "--wait",
        nargs="?",
        type=_seconds_or_request,
        const=30.0,
        metavar="SECONDS",
        help="wait for the result event (default 30 s)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: what was sent, the answer, the result"
    )
    built = parser.add_argument_group("building the request from flags (instead of REQUEST.json)")
    built.add_argument("--server")
    built.add_argument("--action", choices=("replace", "add", "remove", "reorder"))
    built.add_argument("--groups", default="", help="comma list of group names or ids, in priority order")
    built.add_argument("--nics", default="primary", help="primary | all | port:ID,ip:ADDRESS,subnet:ID")
    built.add_argument("--position", type=int)
    built.add_argument("--dry-run", action="store_true")
    built.add_argument("--request-id")
    built.add_argument("--ticket-system", default="local")
    built.add_argument("--ticket-id")
    built.add_argument("--requested-by", default="someone@example.com")
    built.add_argument("--approved-by")
    built.add_argument("--ticket-url")


UNSUCCESSFUL = ("rejected", "failed", "rolled_back")


def _seconds_or_request(text: str) -> float | str:
    """``--wait``'s optional value: seconds; anything else is the REQUEST.json it swallowed
    (``--wait req.json``), handed back to the positional in :func:`run`."""
    try:
        seconds = float(text)
    except ValueError:
        return text
    if not 0 < seconds <= 3600:
        import argparse

        raise argparse.ArgumentTypeError(f"{text}: between 0 and 3600 seconds")
    return seconds


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


def run(args, ctx) -> int:
    if isinstance(args.wait, str):  # `--wait req.json`: the file is the request, the wait the default
        if args.request:
            raise UsageError(f"--wait {args.wait}: not a number of seconds")
        args.request, args.wait = args.wait, 30.0
    endpoint = localcloud_url(args, ctx.environ)
    try:
        if args.request:
            text = sys.stdin.read() if args.request == "-" else Path(args.request).read_text(encoding="utf-8")
            request = json.loads(text)
            if not isinstance(request, dict):
                raise UsageError("the request file must hold one JSON object")
        elif args.server and args.action:
            request = build_request(
                server=args.server,
                action=args.action,
                groups=args.groups,
                nics=args.nics,
                position=args.position,
                dry_run=args.dry_run,
                request_id=args.request_id,
                ticket_system=args.ticket_system,
                ticket_id=args.ticket_id,
                requested_by=args.requested_by,
                approved_by=args.approved_by,
                ticket_url=args.ticket_url,
            )
        else:
            raise UsageError("give REQUEST.json, or --server and --action (and --groups)")
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    check_request(request, args.request or "built from the options")  # what the functions reject is never sent
    if not args.unsigned:
        key_id, secret = _signing_key(args, ctx.environ)
        if not key_id or not secret:
            raise UsageError(
                "--key-id and a secret (--secret-file, SGGUARD_SIGNING_SECRET or SIGNING_KEYS_JSON) "
                "are needed to sign; --unsigned sends the request as it is"
            )
        check_secret(key_id, secret)
        request = sign(request, key_id, secret)
    message = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    if args.print_only:
        ctx.out(json.dumps(request, indent=2, ensure_ascii=False))
        return 0
    via = args.via or ("apig" if args.url else "kafka")
    account = bool(args.url) or via in ("dms", "smn")  # an account's API (or localcloud's emulation of it)
    if args.url and via != "apig":
        raise UsageError(f"--url is an APIG URL: it goes with --via apig, not --via {via}")
    if account and args.wait and not (getattr(args, "endpoint", None) or ctx.environ.get("LOCALCLOUD_URL")):
        raise UsageError("--wait reads localcloud's executions: on an account, read the result sink instead")
    report: dict = {"request": request, "via": via, "endpoint": args.url or endpoint}
    say = (lambda text: None) if args.json else ctx.out
    problem = ""
    try:
        since = last_execution_seq(endpoint) if args.wait else 0
        if account:
            problem = to_account(args, ctx.environ, via, request, message, report, say)
        elif via == "apig":
            status, answer = post_apig(endpoint, request, args.apig_path)
            report.update(status=status, answer=answer)
            say(f"APIG answered {status}")
            say(json.dumps(answer, indent=2) if not isinstance(answer, str) else answer)
            if not 200 <= status < 500:
                problem = f"APIG answered {status}"
        else:
            answer = publish(endpoint, [message], via=via, topic=args.topic, instance_id=args.instance_id)
            report.update(published=answer)
            receivers = ", ".join(t["function"] for t in answer["triggers"]) or "no trigger (nothing will run)"
            say(
                f"published {request.get('request_id')} to {via} {args.topic} at offset "
                f"{answer['first_offset']}; delivered to: {receivers}"
            )
        if args.wait and not problem:
            event = wait_for_result(endpoint, str(request.get("request_id")), since, args.wait)
            report["result"] = event
            if event is None:
                problem = f"no result for {request.get('request_id')} within {args.wait:g} s"
            else:
                event.pop("_execution", None)
                data = event["data"]
                codes = ", ".join(e["code"] for e in data.get("errors") or []) or "-"
                say(f"result: {data['outcome']} (errors: {codes})")
                say(json.dumps(event, indent=2))
                if data["outcome"] in UNSUCCESSFUL:  # a CI step must not pass on a refused change
                    problem = f"{request.get('request_id')} ended {data['outcome']} ({codes})"
    except PublishError as error:
        if error.usage:
            raise UsageError(str(error)) from None
        raise CliError(str(error)) from None
    except (OSError, RuntimeError, ValueError) as error:
        raise CliError(f"{args.url or endpoint}: {error}") from None
    if args.json:
        ctx.out(json.dumps(report, indent=2, ensure_ascii=False))
    if problem:
        raise Problems(problem)
    return 0

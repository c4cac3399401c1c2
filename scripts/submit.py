#!/usr/bin/env python3
"""Sign a security-group change request and hand it to sgguard, as a ticketing system would.

    scripts/submit.py [--endpoint URL] [--via kafka|rabbitmq|apig] [--topic T]
                      --key-id K --secret S  REQUEST.json
    scripts/submit.py --key-id K --secret S --server ID --action add --groups web,monitoring \\
                      [--nics primary|all|port:ID,ip:IP,subnet:ID] [--position N] [--dry-run] \\
                      [--request-id ID] [--ticket-system S] [--ticket-id T] [--requested-by P] \\
                      [--approved-by P] [--ticket-url URL]  [--wait [SECONDS]] [--print]

The request is signed with shared.signing.sign_request (HMAC-SHA256 over the timestamp and the
canonical JSON: README, "Signing"); the secret may also come from SGGUARD_SIGNING_SECRET, or the
key id and secret from SIGNING_KEYS_JSON (the first key). ``--unsigned`` sends it as it is.

Where it goes (localcloud, ``scripts/serve.py``): ``--via kafka`` (default) publishes it to the DMS
Kafka topic (``POST /_localcloud/dms/topics/{topic}/messages``); ``rabbitmq`` to the exchange;
``apig`` POSTs it to the APIG route (``/_apig/sgguard/change-requests``) and prints the function's
answer. ``--wait`` then waits for the result event (found in the change_request function's log
lines) and prints it. The endpoint defaults to $LOCALCLOUD_URL, else http://127.0.0.1:8787.
``--print`` only prints the signed request (for another transport).
Exit status: 0 sent (and, with --wait, a result arrived), 1 error, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["build_request", "sign", "publish", "post_apig", "wait_for_result", "main"]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEFAULT_ENDPOINT = "http://127.0.0.1:8787"
DEFAULT_APIG_PATH = "/sgguard/change-requests"


def _groups(text: str) -> list[dict]:
    refs = [item.strip() for item in text.split(",") if item.strip()]
    return [{"id": ref} if _UUID.match(ref) else {"name": ref} for ref in refs]


def _nics(text: str):
    if text in ("primary", "all"):
        return text
    selectors = []
    for item in text.split(","):
        kind, _, value = item.strip().partition(":")
        key = {"port": "port_id", "port_id": "port_id", "ip": "ip", "subnet": "subnet_id",
               "subnet_id": "subnet_id"}.get(kind)
        if key is None or not value:
            raise ValueError(f"--nics: {item!r} is not primary, all, port:ID, ip:ADDRESS or subnet:ID")
        selectors.append({key: value})
    return selectors


def build_request(*, server: str, action: str, groups: str = "", nics: str = "primary", position: int | None = None,
                  dry_run: bool = False, request_id: str | None = None, ticket_system: str = "local",
                  ticket_id: str | None = None, requested_by: str = "someone@example.com",
                  approved_by: str | None = None, ticket_url: str | None = None) -> dict:
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
    request = {"request_id": request_id, "ticket": ticket, "target": {"server_id": server, "nics": _nics(nics)},
               "change": change}
    if dry_run:
        request["dry_run"] = True
    return request


def sign(request: dict, key_id: str, secret: str, now: datetime | None = None) -> dict:
    from shared.signing import sign_request

    moment = now or datetime.now(timezone.utc)
    return sign_request(request, key_id=key_id, secret=secret, timestamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _call(url: str, body: bytes | None, method: str = "POST", content_type: str = "application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def publish(endpoint: str, messages: list[str], *, via: str = "kafka", topic: str = "sg-change-requests",
            instance_id: str | None = None) -> dict:
    """Put messages on a localcloud DMS topic (kafka) or exchange (rabbitmq)."""
    kind = "topics" if via == "kafka" else "exchanges"
    body = {"messages": messages}
    if instance_id:
        body["instance_id"] = instance_id
    status, raw = _call(f"{endpoint.rstrip('/')}/_localcloud/dms/{kind}/{quote(topic, safe='')}/messages",
                        json.dumps(body).encode())
    answer = json.loads(raw) if raw else {}
    if status != 202:
        raise RuntimeError(f"publishing answered {status}: {answer}")
    return answer


def post_apig(endpoint: str, request: dict, path: str = DEFAULT_APIG_PATH) -> tuple[int, object]:
    status, raw = _call(f"{endpoint.rstrip('/')}/_apig{path}", json.dumps(request).encode())
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def _executions(endpoint: str, since: int) -> list[dict]:
    status, raw = _call(f"{endpoint.rstrip('/')}/_localcloud/functiongraph/executions?function=change_request"
                        f"&since={since}", None, method="GET")
    if status != 200:
        raise RuntimeError(f"listing executions answered {status}: {raw[:300]!r}")
    return json.loads(raw)["executions"]


def last_execution_seq(endpoint: str) -> int:
    executions = _executions(endpoint, 0)
    return executions[-1]["seq"] if executions else 0


def wait_for_result(endpoint: str, request_id: str, since: int, timeout_s: float) -> dict | None:
    """The result event of ``request_id`` logged by change_request after execution ``since``."""
    from scripts.localenv import read_results

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in read_results(_executions(endpoint, since)):
            if event["data"].get("request_id") == request_id:
                return event
        time.sleep(0.2)
    return None


def _signing_key(args) -> tuple[str | None, str | None]:
    key_id, secret = args.key_id, args.secret or os.environ.get("SGGUARD_SIGNING_SECRET")
    if not secret and os.environ.get("SIGNING_KEYS_JSON"):
        keys = json.loads(os.environ["SIGNING_KEYS_JSON"])
        if key_id:
            secret = keys.get(key_id)
        elif keys:
            key_id, secret = next(iter(keys.items()))
    return key_id, secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("request", nargs="?", help="a change request (JSON file, '-' for stdin)")
    parser.add_argument("--endpoint", default=os.environ.get("LOCALCLOUD_URL", DEFAULT_ENDPOINT))
    parser.add_argument("--via", choices=("kafka", "rabbitmq", "apig"), default="kafka")
    parser.add_argument("--topic", default="sg-change-requests", help="Kafka topic or RabbitMQ exchange")
    parser.add_argument("--instance-id", help="only the triggers of this DMS instance")
    parser.add_argument("--apig-path", default=DEFAULT_APIG_PATH)
    parser.add_argument("--key-id")
    parser.add_argument("--secret", help="signing secret (or SGGUARD_SIGNING_SECRET, or SIGNING_KEYS_JSON)")
    parser.add_argument("--unsigned", action="store_true", help="send the request without a signature")
    parser.add_argument("--print", dest="print_only", action="store_true", help="print the signed request; send nothing")
    parser.add_argument("--wait", nargs="?", type=float, const=30.0, metavar="SECONDS",
                        help="wait for the result event (default 30 s)")
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
    args = parser.parse_args(argv)

    try:
        if args.request:
            text = sys.stdin.read() if args.request == "-" else Path(args.request).read_text(encoding="utf-8")
            request = json.loads(text)
            if not isinstance(request, dict):
                parser.error("the request file must hold one JSON object")
        elif args.server and args.action:
            request = build_request(server=args.server, action=args.action, groups=args.groups, nics=args.nics,
                                    position=args.position, dry_run=args.dry_run, request_id=args.request_id,
                                    ticket_system=args.ticket_system, ticket_id=args.ticket_id,
                                    requested_by=args.requested_by, approved_by=args.approved_by,
                                    ticket_url=args.ticket_url)
        else:
            parser.error("give REQUEST.json, or --server and --action (and --groups)")
    except (OSError, ValueError) as error:
        print(f"submit: {error}", file=sys.stderr)
        return 2
    if not args.unsigned:
        key_id, secret = _signing_key(args)
        if not key_id or not secret:
            parser.error("--key-id and --secret (or SGGUARD_SIGNING_SECRET / SIGNING_KEYS_JSON) are needed to sign; "
                         "--unsigned sends the request as it is")
        request = sign(request, key_id, secret)
    message = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    if args.print_only:
        print(json.dumps(request, indent=2, ensure_ascii=False))
        return 0
    try:
        since = last_execution_seq(args.endpoint) if args.wait else 0
        if args.via == "apig":
            status, answer = post_apig(args.endpoint, request, args.apig_path)
            print(f"APIG answered {status}")
            print(json.dumps(answer, indent=2) if not isinstance(answer, str) else answer)
            if not 200 <= status < 500:
                return 1
        else:
            answer = publish(args.endpoint, [message], via=args.via, topic=args.topic, instance_id=args.instance_id)
            receivers = ", ".join(t["function"] for t in answer["triggers"]) or "no trigger (nothing will run)"
            print(f"published {request.get('request_id')} to {args.via} {args.topic} at offset "
                  f"{answer['first_offset']}; delivered to: {receivers}")
        if args.wait:
            event = wait_for_result(args.endpoint, str(request.get("request_id")), since, args.wait)
            if event is None:
                print(f"no result for {request.get('request_id')} within {args.wait:g} s", file=sys.stderr)
                return 1
            event.pop("_execution", None)
            data = event["data"]
            codes = ", ".join(e["code"] for e in data.get("errors") or []) or "-"
            print(f"result: {data['outcome']} (errors: {codes})")
            print(json.dumps(event, indent=2))
    except (OSError, RuntimeError, ValueError) as error:
        print(f"submit: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

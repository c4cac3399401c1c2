"""``sgguard capture``: the shapes of real trigger events and CTS traces, redacted, into a JSON
fixture a user can share (issue 20: learning from the first real account).

Read-only and opt-in: it reads event files the user saved (``.json``: one event; ``.jsonl``: one
per line; a directory: every such file under it) and, with ``--traces``, the project's recent CTS
traces through CTS ``ListTraces`` (a GET). Each event or trace becomes its shape
(:mod:`shared.shapes`): keys, types, trace names, identity forms; every other value a placeholder.
Identical shapes are counted once. The fixture names no file (a file name can be a server's or a
person's name): a file that cannot be read is counted under ``skipped`` with the reason only.

Fixture (``format: sgguard-shapes/1``)::

    {"format": "sgguard-shapes/1", "captured_by": "sgguard capture",
     "shapes": [{"source": "event" | "cts_trace", "kind": "cts", "count": 2, "shape": {...}}],
     "skipped": [{"source": "event", "reason": "not JSON"}]}

``kind`` is what :func:`shared.runtime.envelopes.parse_envelope` recognises (a trace is judged
as the CTS trigger would deliver it, ``{"cts": trace}``). Put a fixture under
``tests/fixtures/captured/`` and ``tests/contract/test_captured_shapes.py`` replays it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "capture_events", "fixture", "read_traces"]

SUMMARY = "record the redacted shapes of saved trigger events and CTS traces into a shareable JSON fixture"
DETAILS = f"""
Read-only. Every value that is not a fixed vocabulary (trace names, trace types, service and
resource types, event types, HTTP methods, known enums) is replaced by a placeholder such as
"<str:len=36:uuid>", "<int>", "<ip>", "<email>" or "<urn:sts::*:assumed-agency:*/*>"; no id,
secret, address or name is written. --traces also reads the last --minutes of CTS traces
(ListTraces; {CREDENTIALS_HELP}; --service-type, default ECS and VPC). Exit status: 0 shapes
written, 1 nothing could be captured, 2 usage (a path that does not exist), 3 a cloud error.
"""
EPILOG = """
examples:
  sgguard capture saved-events/ --out shapes.json
  sgguard capture event.json other.jsonl
  sgguard capture --traces --minutes 120 --service-type ECS --out cts-shapes.json
"""

_MAX_FILE_BYTES = 8 * 2**20


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="event file (.json, .jsonl) or a directory of them")
    parser.add_argument("--out", metavar="FILE", help="write the fixture here (default: standard output)")
    parser.add_argument("--traces", action="store_true", help="also read recent CTS traces (ListTraces, read-only)")
    parser.add_argument("--minutes", type=int, default=60, help="--traces: how far back (default 60)")
    parser.add_argument(
        "--service-type", action="append", dest="service_types", help="--traces: CTS service type (repeatable)"
    )
    parser.add_argument("--limit", type=int, default=200, help="--traces: at most this many traces per service")
    add_cloud_arguments(parser, endpoint_help="CTS endpoint URL (e.g. localcloud's); default $CTS_ENDPOINT")


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl"))
    else:
        yield path


def capture_events(paths: list[Path]) -> tuple[list[Any], list[dict]]:
    """(events, skipped) from files and directories; a file that cannot be used is skipped with
    its reason, never with its name."""
    events: list[Any] = []
    skipped: list[dict] = []
    for root in paths:
        for path in _files(root):
            try:
                if path.stat().st_size > _MAX_FILE_BYTES:
                    skipped.append({"source": "event", "reason": f"larger than {_MAX_FILE_BYTES} bytes"})
                    continue
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                skipped.append({"source": "event", "reason": f"unreadable: {type(error).__name__}"})
                continue
            lines = text.splitlines() if path.suffix == ".jsonl" else [text]
            for line in lines:
                if not line.strip():
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:
                    skipped.append({"source": "event", "reason": "not JSON"})
    return events, skipped


def fixture(items: list[tuple[str, Any]], skipped: list[dict]) -> dict:
    """The shareable fixture: one entry per distinct (source, kind, shape), with its count."""
    from shared.runtime.envelopes import parse_envelope
    from shared.shapes import FORMAT, shape_of

    entries: list[dict] = []
    for source, value in items:
        kind = parse_envelope({"cts": value} if source == "cts_trace" else value).kind
        shape = shape_of(value)
        for entry in entries:
            if (entry["source"], entry["kind"], entry["shape"]) == (source, kind, shape):
                entry["count"] += 1
                break
        else:
            entries.append({"source": source, "kind": kind, "count": 1, "shape": shape})
    return {"format": FORMAT, "captured_by": "sgguard capture", "shapes": entries, "skipped": skipped}


def read_traces(args, environ) -> list[Any]:
    """The project's recent CTS traces (``ListTraces``, ``trace_type=system``), as the API answered
    them (the raw JSON, so that fields the SDK's model lacks are seen too)."""
    from shared.clock import SYSTEM_CLOCK

    from ..cloudargs import cloud_target
    from ..deployer.cts import CtsApi

    target = cloud_target(args, environ)
    api = CtsApi.build(target)
    now_ms = int(SYSTEM_CLOCK.epoch() * 1000)
    traces: list[Any] = []
    for service in args.service_types or ["ECS", "VPC"]:
        traces += api.list_traces(service, now_ms - args.minutes * 60_000, now_ms, args.limit)
    return traces


def run(args, ctx) -> int:
    from ..errors import ConfigError, UsageError

    if not args.paths and not args.traces:
        raise UsageError("name event files or directories, or pass --traces")
    if args.minutes < 1 or args.limit < 1:
        raise UsageError("--minutes and --limit must be at least 1")
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    events, skipped = capture_events(paths)
    items: list[tuple[str, Any]] = [("event", event) for event in events]
    if args.traces:
        from ..deployer.cts import CtsError

        try:
            items += [("cts_trace", trace) for trace in read_traces(args, ctx.environ)]
        except CtsError as error:
            raise ConfigError(str(error)) from None
    document = fixture(items, skipped)
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        ctx.warn(
            f"{len(document['shapes'])} shape(s) from {len(items)} event(s) and trace(s), "
            f"{len(skipped)} skipped: {args.out}"
        )
    else:
        ctx.out(text)
    return 0 if document["shapes"] else 1

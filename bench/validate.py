"""The change-request schema check per message: ``python -m bench validate``.

The bench's 200 signed ``replace`` requests (the replace batch of the full run), unwrapped from
their Kafka event and decoded as the handler does, are checked in turns, interleaved so that a
noisy machine slows every contender alike:

* ``jsonschema``: the Draft 2020-12 validator alone (what ``schema_errors`` ran for every message
  before the compiled check);
* ``fast``: the compiled check of :mod:`shared.schemas.compiled` alone;
* ``schema_errors``: the function the handler calls, as it now is (compiled check, then nothing);
* ``fast_new_requesters``: the compiled check on copies whose requester it has never seen (its
  memo of accepted identities does not help: the identity check is most of its CPU).

Figures are CPU microseconds per message (``time.process_time``), the median over ``--rounds``
rounds; and the build time of the compiled check (median of 20 builds, after the first).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["render_validate", "run_validate"]


def _payloads(count: int) -> list[object]:
    from shared.runtime.envelopes import parse_envelope
    from shared.validation import decode_json_message

    from .workload import build_seed, generate_changes, kafka, sign

    _, fleet = build_seed(300)
    messages = generate_changes(fleet, count, seed=5, prefix="REPLACE", mix={"replace": 1})
    envelope = parse_envelope(kafka([sign(m.request) for m in messages]))
    payloads = []
    for message in envelope.messages:
        payload, error = decode_json_message(message.body)
        if error is not None:
            raise RuntimeError(f"bench message {message.index} does not decode: {error.message}")
        payloads.append(payload)
    return payloads


def _cpu_us_per_message(check: Callable[[object], Any], payloads: list[object], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for payload in payloads:
            check(payload)
    return (time.process_time() - started) * 1e6 / (repeat * len(payloads))


def _with_new_requesters(payloads: list[object], round_: int) -> list[object]:
    fresh: list[object] = []
    for index, payload in enumerate(payloads):
        assert isinstance(payload, dict)
        stranger = {**payload, "ticket": {**payload["ticket"], "requested_by": f"r{round_}-{index}@example.com"}}
        fresh.append(stranger)
    return fresh


def run_validate(count: int = 200, rounds: int = 7, repeat: int = 5) -> dict[str, Any]:
    from shared.schemas.compiled import compile_for_validator
    from shared.validation import CHANGE_REQUEST_SCHEMA, _fast_check_for, schema_errors, validator_for

    payloads = _payloads(count)
    validator = validator_for(CHANGE_REQUEST_SCHEMA)
    started = time.process_time()
    fast = _fast_check_for(CHANGE_REQUEST_SCHEMA)
    first_build_ms = (time.process_time() - started) * 1000
    if fast is None:
        raise RuntimeError("the change-request schema has no compiled check")

    def build() -> float:
        began = time.process_time()
        compile_for_validator(validator)
        return (time.process_time() - began) * 1000

    contenders: dict[str, Callable[[object], Any]] = {
        "jsonschema": lambda payload: next(validator.iter_errors(payload), None),
        "fast": fast,
        "schema_errors": lambda payload: schema_errors(CHANGE_REQUEST_SCHEMA, payload),
    }
    verdicts = {name: [bool(check(p)) for p in payloads] for name, check in contenders.items()}
    invalid = sum(v is not None for v in map(contenders["jsonschema"], payloads))
    samples: dict[str, list[float]] = {name: [] for name in [*contenders, "fast_new_requesters"]}
    for round_ in range(rounds):
        for name, check in contenders.items():
            samples[name].append(_cpu_us_per_message(check, payloads, repeat))
        # The compiled check remembers identities it accepted: here every message's is new to it.
        strangers = _with_new_requesters(payloads * repeat, round_)
        samples["fast_new_requesters"].append(_cpu_us_per_message(fast, strangers, 1))
    medians = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    return {
        "messages": len(payloads),
        "invalid_by_jsonschema": invalid,
        "fast_says_valid": sum(verdicts["fast"]),
        "cpu_us_per_message": medians,
        "speedup": round(medians["jsonschema"] / medians["schema_errors"], 1),
        "first_build_ms": round(first_build_ms, 2),
        "build_ms_median": round(statistics.median(build() for _ in range(20)), 2),
        "rounds": rounds,
        "repeat": repeat,
    }


def render_validate(report: dict[str, Any]) -> str:
    cpu = report["cpu_us_per_message"]
    lines = [
        f"{report['messages']} replace messages ({report['invalid_by_jsonschema']} invalid by jsonschema, "
        f"{report['fast_says_valid']} valid by the compiled check); CPU us per message, median of "
        f"{report['rounds']} interleaved rounds x {report['repeat']}:",
        *(f"  {name:20s} {value:8.1f}" for name, value in cpu.items()),
        f"  schema_errors is {report['speedup']}x faster than jsonschema alone",
        f"compiled check build: first {report['first_build_ms']} ms (with its imports), "
        f"then {report['build_ms_median']} ms (median of 20)",
    ]
    return "\n".join(lines)

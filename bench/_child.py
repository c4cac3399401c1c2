"""What a measured child process runs: ``python bench/_child.py MODE --out FILE ...``.

Run by path, not as part of the ``bench`` package, and stdlib-only until the mode imports what it
measures: a cold start must not pay for the harness. Modes:

* ``floor``    - import only the given modules (``--modules a,b``), as a code path's minimum;
* ``handler``  - load ``functions/<name>/index.py`` as FunctionGraph does and run one event;
* ``batch``    - warm-up event, then one timed event (throughput and peak RSS);
* ``overhead`` - the same batch against an in-memory cloud (no HTTP, no SDK), one message at a
  time, then validation plus signature check alone.

Each writes one JSON summary to ``--out``. The handler's own stdout (one JSON line per result)
goes to /dev/null, so writing the log lines is still paid for.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import sys
import time

T0 = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Run by path, Python puts bench/ first on sys.path, where no deployed function has it: bench/org.py
# was then imported as ``org`` by the stdlib's ``copy`` (its ``from org.python.core import
# PyStringMap`` probe for Jython), with datetime and typing, inside every handler's cold start.
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != HERE]
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


class Context:
    """The FunctionGraph context (the runtime's method names), from a JSON description."""

    def __init__(self, spec: dict):
        self._spec = spec
        self._ends = time.monotonic() + float(spec.get("timeout_s", 300))

    def getRequestID(self):
        return "bench"

    def getRemainingTimeInMilliSeconds(self):
        return max(0, int((self._ends - time.monotonic()) * 1000))

    def getSecurityAccessKey(self):
        return self._spec.get("ak", "")

    def getSecuritySecretKey(self):
        return self._spec.get("sk", "")

    def getSecurityToken(self):
        return self._spec.get("security_token", "")

    def getUserData(self, key, default=None):
        return self._spec.get("user_data", {}).get(key, default)

    def getFunctionName(self):
        return self._spec.get("function_name", "bench")

    def getVersion(self):
        return "latest"

    def getMemorySize(self):
        return 128

    def getLogger(self):
        import logging

        return logging.getLogger("bench")


def _load(path: str):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_handler(function: str):
    path = os.path.join(ROOT, "functions", function, "index.py")
    spec = importlib.util.spec_from_file_location("index", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@contextlib.contextmanager
def quiet():
    """The handler's stdout (its result log lines) to /dev/null."""
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        yield


def invoke(handler, event, context):
    with quiet():
        try:
            return handler(event, context)
        except Exception as error:  # noqa: BLE001 - ecs_created raises to ask for a retry
            return {"raised": type(error).__name__, "results": []}


def _modules() -> dict:
    sdk = sorted(
        {
            name
            for name in sys.modules
            if name.startswith("huaweicloudsdk") and name.count(".") <= 1 and sys.modules[name] is not None
        }
    )
    return {"sdk": sdk, "jsonschema": "jsonschema" in sys.modules, "yaml": "yaml" in sys.modules}


def _results(response) -> list:
    if isinstance(response, dict) and "statusCode" in response:
        return json.loads(response["body"])["results"]
    return response.get("results", []) if isinstance(response, dict) else []


def _maxrss_kb() -> int:
    """Peak RSS of this process's own memory (VmHWM). getrusage's ru_maxrss is no good here: a
    child forked from a bigger parent reports the parent's peak (Linux carries it across exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def mode_floor(args) -> dict:
    if args.hide_rfc3987:
        sys.modules["rfc3987_syntax"] = None  # as shared.validation does before importing jsonschema
    for name in filter(None, args.modules.split(",")):
        importlib.import_module(name)
    return {"modules": _modules(), "elapsed_s": time.perf_counter() - T0, "maxrss_kb": _maxrss_kb()}


def mode_handler(args) -> dict:
    handler = load_handler(args.function)
    imported = time.perf_counter()
    response = invoke(handler, _load(args.event), Context(_load(args.context)))
    done = time.perf_counter()
    return {
        "import_s": imported - T0,
        "invoke_s": done - imported,
        "modules": _modules(),
        "outcomes": [r["data"]["outcome"] for r in _results(response)],
        "api_calls": [r["data"].get("api_calls") for r in _results(response)],
        "maxrss_kb": _maxrss_kb(),
    }


def _summary(results: list) -> list:
    rows = []
    for event in results:
        data = event["data"]
        calls = data.get("api_calls") or {}
        rows.append(
            [
                data.get("request_id"),
                data["outcome"],
                calls.get("reads", 0),
                calls.get("writes", 0),
                [[n["port_id"], n["after"]] for n in data.get("nics", [])],
                [e["code"] for e in data.get("errors", [])],
                calls.get("facts", 0),
            ]
        )
    return rows


def mode_batch(args) -> dict:
    handler = load_handler(args.function)
    context = Context(_load(args.context))
    warm_started = time.perf_counter()
    warm = _results(invoke(handler, _load(args.warmup), context)) if args.warmup else []
    warm_s = time.perf_counter() - warm_started
    event = _load(args.event)
    profiler = None
    if args.profile:  # only the calling thread is profiled: run with CONCURRENCY 1
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu0, started, epoch = time.process_time(), time.perf_counter(), time.time()
    response = invoke(handler, event, context)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    if profiler:
        profiler.disable()
    results = _results(response)
    summary = {
        "wall_s": wall,
        "cpu_s": cpu,
        "warmup_s": warm_s,
        "started_at": epoch,
        "warmup_outcomes": [r["data"]["outcome"] for r in warm],
        "results": _summary(results),
        "maxrss_kb": _maxrss_kb(),
        "modules": _modules(),
    }
    if profiler:
        summary["profile"] = _profile_summary(profiler, len(results))
    if args.floor:
        from bench._floor import sdk_floor

        summary["floor"] = sdk_floor(_load(args.floor), context, int(context.getUserData("CONCURRENCY") or 16))
    return summary


_BUCKETS = (  # first match wins: (label, path fragments)
    (
        "waiting on the network (socket reads, select)",
        (
            "<method 'recv_into'",
            "<method 'poll'",
            "<built-in method select",
            "<method 'connect'",
            "<method 'sendall'",
            "<method 'acquire'",
        ),
    ),
    ("bench harness", (os.sep + "bench" + os.sep,)),
    ("sgguard: shared/ and functions/", (os.sep + "shared" + os.sep, os.sep + "functions" + os.sep)),
    ("SDK core (signing, request building, response parsing)", ("huaweicloudsdkcore",)),
    ("SDK service models (vpc, ecs)", ("huaweicloudsdkvpc", "huaweicloudsdkecs")),
    ("requests", (os.sep + "requests" + os.sep,)),
    ("urllib3", ("urllib3",)),
    ("http.client, email header parsing", ("http" + os.sep + "client", "email" + os.sep)),
    ("jsonschema and its deps", ("jsonschema", "referencing", "rpds", "rfc3339", "rfc3986")),
    ("json", ("json" + os.sep, "<built-in method _json", "<method 'encode' of '_json")),
    ("hmac, hashlib", ("hmac", "hashlib", "<built-in method _hashlib", "<built-in function openssl")),
)


_NEUTRAL = "stdlib and builtins called from elsewhere"


def _bucket(key) -> str | None:
    """The bucket a function's own time belongs to; None for stdlib and builtins, whose time goes to
    whoever called them (``os.environ`` lookups made by requests count as requests)."""
    filename, _, name = key
    text = f"{filename}:{name}"
    for label, fragments in _BUCKETS:
        if any(fragment in text for fragment in fragments):
            return label
    if filename == "~" or filename.startswith("<") or "site-packages" not in filename:
        return None
    return "other third-party packages"


def _profile_summary(profiler, messages: int) -> dict:
    """Self time per bucket; stdlib and builtins are charged to their callers (by the time each
    caller spent in them), up to a few levels up."""
    import pstats

    stats = pstats.Stats(profiler).stats
    memo: dict = {}

    def shares(func, depth=0) -> dict:
        if func in memo:
            return memo[func]
        label = _bucket(func)
        callers = stats.get(func, (0, 0, 0, 0, {}))[4]
        if label is not None or depth >= 8 or not callers:
            result = {label or _NEUTRAL: 1.0}
        else:
            memo[func] = {_NEUTRAL: 1.0}  # cycles: stop here
            weights = {caller: edge[2] for caller, edge in callers.items()}
            total = sum(weights.values()) or float(len(weights))
            result = {}
            for caller, weight in weights.items():
                fraction = (weight / total) if sum(weights.values()) else 1.0 / len(weights)
                for bucket, part in shares(caller, depth + 1).items():
                    result[bucket] = result.get(bucket, 0.0) + fraction * part
        memo[func] = result
        return result

    buckets: dict = {}
    total = 0.0
    for func, (_, _, self_time, _, _) in stats.items():
        total += self_time
        for bucket, part in shares(func).items():
            buckets[bucket] = buckets.get(bucket, 0.0) + self_time * part
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:15]
    return {
        "self_ms_per_message": {
            k: round(v * 1000 / messages, 3) for k, v in sorted(buckets.items(), key=lambda kv: -kv[1])
        },
        "total_ms_per_message": round(total * 1000 / messages, 3),
        "top_self": [[f"{os.path.basename(k[0])}:{k[1]}:{k[2]}", round(v[2] * 1000 / messages, 4)] for k, v in top],
    }


def mode_overhead(args) -> dict:
    from bench.memory_cloud import install

    install(_load(args.seed))
    handler = load_handler(args.function)
    context = Context(_load(args.context))
    if args.warmup:
        invoke(handler, _load(args.warmup), context)
    event = _load(args.event)
    started = time.perf_counter()
    response = invoke(handler, event, context)
    wall = time.perf_counter() - started
    results = _results(response)
    # validation alone: decode + schema + signature, per message, one thread
    from datetime import datetime, timezone

    from shared.signing import verify_request_signature
    from shared.validation import decode_json_message, validate_change_request

    keys = json.loads(context.getUserData("REQUEST_SIGNING_KEYS"))
    bodies = [m for record in event["records"] for m in record["messages"]]
    now = datetime.now(timezone.utc)
    for body in bodies[:50]:  # warm
        value, _ = decode_json_message(body)
        validate_change_request(value)
    started = time.perf_counter()
    invalid = 0
    for body in bodies:
        value, error = decode_json_message(body)
        errors = [error] if error else validate_change_request(value)
        errors = errors or verify_request_signature(value, keys=keys, now=now)
        invalid += bool(errors)
    validation_wall = time.perf_counter() - started
    started = time.perf_counter()
    for body in bodies:
        value, error = decode_json_message(body)
        validate_change_request(value)
    schema_wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "messages": len(bodies),
        "results": _summary(results),
        "validation_s": validation_wall,
        "schema_only_s": schema_wall,
        "invalid": invalid,
        "maxrss_kb": _maxrss_kb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["floor", "handler", "batch", "overhead"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--modules", default="")
    parser.add_argument("--hide-rfc3987", action="store_true")
    parser.add_argument("--function", default="change_request")
    parser.add_argument("--event")
    parser.add_argument("--warmup")
    parser.add_argument("--context")
    parser.add_argument("--seed")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--floor", help="batch: then the bare SDK replays these calls (JSON)")
    args = parser.parse_args()
    summary = {"floor": mode_floor, "handler": mode_handler, "batch": mode_batch, "overhead": mode_overhead}[args.mode](
        args
    )
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(summary, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())

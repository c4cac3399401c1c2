"""``python -m localcloud``: serve until killed; the first stdout line is one JSON object."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", help="seed document (JSON); default: the bundled default seed")
    parser.add_argument("--empty", action="store_true", help="start with no seed at all")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every API call")
    args = parser.parse_args(argv)

    from . import start
    from .core.errors import CloudError

    seed: dict | None = {} if args.empty else None
    if args.seed:
        with open(args.seed, encoding="utf-8") as handle:
            seed = json.load(handle)
    try:
        cloud = start(host=args.host, port=args.port, seed=seed, latency_ms=args.latency_ms, serve=False)
    except CloudError as error:
        print(json.dumps({"error": error.code, "message": error.message}), file=sys.stderr)
        return 2
    print(json.dumps(cloud.info), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=cloud.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

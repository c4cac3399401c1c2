"""Run tests with every CPU busy: no verdict may depend on how fast the machine is.

``make stress-test`` (or ``python scripts/stress_test.py [pytest args]``) starts one CPU hog per
core (a busy loop in a child process, at the same priority as the tests), runs pytest — by
default the runtime and functional tests, the ones that drive real processes, threads and
timeouts — and stops the hogs whatever happens. ``--runs N`` repeats the run N times and stops at
the first failure. The exit code is pytest's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time

DEFAULT_TESTS = ["tests/runtime", "tests/functional"]


def hog(stop_after_s: float) -> None:
    """Spin until killed (or, should the parent die without killing it, until ``stop_after_s``)."""
    deadline = time.monotonic() + stop_after_s
    while time.monotonic() < deadline:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="run the tests this many times (stop at a failure)")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2, help="busy processes (default: one per core)")
    args, pytest_args = parser.parse_known_args(argv)
    tests = pytest_args or DEFAULT_TESTS
    hogs = [multiprocessing.Process(target=hog, args=(3 * 3600,), daemon=True) for _ in range(args.hogs)]
    for process in hogs:
        process.start()
    code = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests])
            print(
                f"stress run {run}/{args.runs}: exit {code}, {time.monotonic() - started:.0f} s, {args.hogs} CPU hogs"
            )
            if code:
                break
    finally:
        for process in hogs:
            process.kill()
            process.join()
    return code


if __name__ == "__main__":
    sys.exit(main())

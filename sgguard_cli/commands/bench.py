"""``sgguard bench``: the benchmark and the large fault soak (``python -m bench``)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from ..errors import ConfigError

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run"]

SUMMARY = "run the benchmarks or the large fault soak (needs a source checkout: bench/ is not installed)"
DETAILS = """
Delegates to the bench package of the source checkout (bench/__main__.py main(argv)); bench/ and the
tests/ it reuses are not part of the installed package, so this subcommand works only in a source
checkout (the project directory, or SGGUARD_PROJECT_DIR). Every argument after `bench` is passed
on: see `sgguard bench -- --help`. Phases are counted on stderr.
"""
EPILOG = """
examples:
  sgguard bench                          # = make bench: tables + bench/results/latest.json (~70 s on 2 cores)
  sgguard bench --quick                  # fewer runs, no profile (~40 s)
  sgguard bench -- --help                # the options of python -m bench
  sgguard bench soak --messages 5000     # = make soak: the large fault soak
  sgguard bench org                      # the organisation sweep, 20 targets x 500 servers (docs/benchmarks.md)
  sgguard bench coldstart --runs 7       # the cold-start scenario alone: each path's ratio to its floor
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "bench_args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="arguments of python -m bench (e.g. --quick, soak --messages 5000)",
    )


def run(args, ctx) -> int:
    argv = list(args.bench_args)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    try:  # importable: a source checkout on sys.path (python -m sgguard_cli from it, the test suite)
        from bench.__main__ import main as bench_main
    except ImportError:
        pass
    else:
        return int(bench_main(argv) or 0)
    from ..project import find_project_root

    root = find_project_root(environ=ctx.environ)
    if root is None or not (root / "bench" / "__main__.py").is_file():
        raise ConfigError(
            "sgguard bench needs a source checkout (bench/ is not installed): run it in the "
            "project directory or set SGGUARD_PROJECT_DIR"
        )
    # `python -m bench` run in the checkout puts it first on the path: no sys.path patching here
    return subprocess.call([sys.executable, "-m", "bench", *argv], cwd=root)

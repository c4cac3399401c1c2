"""``sgguard``: the one command (``[project.scripts] sgguard = "sgguard_cli.main:main"``).

One argparse tree; every subcommand is a module of :mod:`sgguard_cli.commands` with ``SUMMARY``
(its one-line help), ``EPILOG`` (examples), ``add_arguments(parser)`` and ``run(args, ctx) -> int``.
Errors: ``sgguard: error: ...`` on stderr; exit status 0 ok, 1 problems found, 2 usage, 3 cloud or
configuration (:mod:`sgguard_cli.errors`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from .cloudargs import add_cloud_arguments
from .errors import CliError, UsageError
from .progress import Progress

__all__ = ["main", "build_parser", "Context", "COMMANDS"]

PROG = "sgguard"

# subcommand -> module of sgguard_cli.commands, in the order of the help
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "serve": "serve",
    "package": "package",
    "bootstrap": "bootstrap",
    "deploy": "deploy",
    "preflight": "preflight",
    "validate-policy": "validate_policy",
    "targets": "targets",
    "show": "show",
    "report": "report",
    "drift": "drift",
    "history": "history",
    "capture": "capture",
    "invoke": "invoke",
    "submit": "submit",
    "sign": "sign",
    "dms": "dms",
    "bench": "bench",
}

EPILOG = """\
examples:
  sgguard demo                                   # the whole function set against localcloud (= make demo)
  sgguard serve                                  # localcloud + the deployed functions until Ctrl-C (= make serve)
  sgguard validate-policy policy.yaml
  sgguard preflight --server SERVER_ID           # read-only checks with real credentials
  sgguard report --out build/report              # every server's compliance: HTML, JSON, CSV
  sgguard capture saved-events/ --out shapes.json   # redacted shapes of real events, to share
  sgguard deploy --plan                          # what would change; changes nothing
  sgguard <command> --help                       # options and examples of one command

environment: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID (and
HUAWEICLOUD_SDK_SECURITY_TOKEN) for credentials, never options; REGION or HUAWEICLOUD_SDK_REGION;
SGGUARD_PROJECT_DIR: the directory of template.yaml (default: the current one or a parent).
exit status: 0 ok, 1 problems found (a check failed, a policy is invalid...), 2 usage error,
3 cloud or configuration error."""


class Parser(argparse.ArgumentParser):
    """Usage errors raise instead of exiting, so :func:`main` reports them in its one style. No
    abbreviated options: ``sign --secret X`` must fail, not be read as ``--secret-file X``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401 - argparse's hook
        raise _ArgumentError(self, message)


class _ArgumentError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


@dataclass
class Context:
    """What a command may use instead of globals: the environment, stdout lines, stderr."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    out: Callable[[str], None] = print
    err: TextIO | None = None

    @property
    def stderr(self) -> TextIO:
        return self.err if self.err is not None else sys.stderr

    def warn(self, text: str) -> None:
        print(text, file=self.stderr, flush=True)

    def progress(self, total: int, label: str = "") -> Progress:
        return Progress(total, label, stream=self.stderr)


def command_module(name: str):
    return importlib.import_module(f"sgguard_cli.commands.{COMMANDS[name]}")


def _version() -> str:
    """The installed distribution's version (a source checkout without an install: "unknown")."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sgguard")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Keep the security groups of Huawei Cloud ECS servers right: package, "
        "deploy and check the FunctionGraph functions, run them locally, sign and submit changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    add_cloud_arguments(
        parser,
        top_level=True,
        endpoint_help="one endpoint URL for every service (e.g. localcloud's); default: "
        "$<SERVICE>_ENDPOINT, else the region's public endpoints",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for name in COMMANDS:
        module = command_module(name)
        sub = commands.add_parser(
            name,
            help=module.SUMMARY,
            description=module.SUMMARY + ("\n\n" + module.DETAILS.strip() if getattr(module, "DETAILS", "") else ""),
            epilog=module.EPILOG.strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def _report(message: str, code: int, ctx: Context, parser: argparse.ArgumentParser | None = None) -> int:
    if parser is not None:
        ctx.stderr.write(parser.format_usage())
    print(f"{PROG}: error: {message}", file=ctx.stderr, flush=True)
    return code


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as a Unix tool killed by SIGPIPE
    would (status 141), and point stdout at /dev/null so the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture): nothing to flush
        pass
    return 141


def main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    out: Callable[[str], None] | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``sgguard ARGV``; returns the exit status (the console script exits with it)."""
    ctx = Context(environ=os.environ if environ is None else environ, out=out or print, err=err)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
        if extra and args.command == "bench":  # everything after `bench` belongs to python -m bench
            args.bench_args = [*args.bench_args, *extra]
        elif extra:
            args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except _ArgumentError as error:
        return _report(str(error), 2, ctx, error.parser)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        code = int(args._run(args, ctx) or 0)
        sys.stdout.flush()  # a closed pipe (`sgguard show | head`) shows here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except UsageError as error:
        return _report(str(error), error.code, ctx, args._parser)
    except CliError as error:
        return _report(str(error), error.code, ctx)
    except OSError as error:  # a file the command needed (template.yaml, a zip...): configuration
        where = f"{error.filename}: " if error.filename else ""
        return _report(f"{where}{error.strerror or error}", 3, ctx)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=ctx.stderr)
        return 130

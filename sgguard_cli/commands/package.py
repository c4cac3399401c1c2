"""``sgguard package``: build the deployment packages into build/."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "packaging_template"]

SUMMARY = "build the function zips (and the dependency package) into build/"
DETAILS = """
One reproducible zip per function, and optionally the dependency package. Prints each zip's size
and sha256. Parameters of template.yaml without a value in the environment are not needed for
packaging: placeholders stand in for them.
"""
EPILOG = """
examples:
  sgguard package                         # function zips
  sgguard package --dependencies          # + build/sgguard-deps.zip (downloads wheels)
  sgguard package --local-dependencies    # + build/sgguard-deps-local.zip, a stub for localcloud
                                          #   (DEPENDENCY_ZIP=build/sgguard-deps-local.zip)
"""


def add_arguments(parser) -> None:
    parser.add_argument("--template", help="the deployment descriptor (default: template.yaml of the project)")
    parser.add_argument("--out", help="output directory (default: build/ of the project)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--dependencies", action="store_true", help="also build the dependency package (needs PyPI)")
    kind.add_argument(
        "--local-dependencies",
        action="store_true",
        help="also write a stub dependency package, for deploying into localcloud only",
    )


def packaging_template(path: Path, environ=None):
    """The template with placeholders for whatever the environment does not set (packaging only
    needs the build sections)."""
    import yaml

    from ..template import parse_template

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    environ = dict(os.environ if environ is None else environ)
    for name, spec in (document.get("parameters") or {}).items():
        if name not in environ and spec.get("default") is None:
            environ[name] = "urn:smn:placeholder" if name.endswith("_URN") else "placeholder"
    return parse_template(document, environ, root=path.resolve().parent)


def run(args, ctx) -> int:
    from ..deployer.packaging import PackagingError, build_dependency_zip, build_function_zip, stub_dependency_zip
    from ..project import project_root
    from ..template import TemplateError

    try:
        path = Path(args.template) if args.template else project_root(environ=ctx.environ) / "template.yaml"
        template = packaging_template(path, ctx.environ)
        out = Path(args.out) if args.out else template.root / "build"
        for function in template.functions:
            ctx.out(build_function_zip(template.root, function, out).line())
        for dependency in template.dependencies:
            target = template.root / dependency.file
            if args.dependencies:
                ctx.out(build_dependency_zip(template.root, dependency, target, out / "wheels").line())
            elif args.local_dependencies:  # never at the real package's path: deploy refuses stubs for a real region
                local = target.with_name(target.stem + "-local.zip")
                ctx.out(stub_dependency_zip(template.root, local, dependency.name).line())
    except (OSError, TemplateError, PackagingError) as error:
        raise ConfigError(str(error)) from None
    return 0

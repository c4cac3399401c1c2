"""Build the deployment packages into build/: one reproducible zip per function, and optionally
the dependency package.

    .venv/bin/python scripts/package.py                 # function zips
    .venv/bin/python scripts/package.py --dependencies  # + build/sgguard-deps.zip (downloads wheels)
    .venv/bin/python scripts/package.py --local-dependencies  # + build/sgguard-deps-local.zip, a stub
                                                              #   for localcloud (DEPENDENCY_ZIP=...)

Prints each zip's size and sha256. Parameters of template.yaml without a value in the environment
are not needed for packaging: placeholders stand in for them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def packaging_template(path: Path):
    """The template with placeholders for whatever the environment does not set (packaging only
    needs the build sections)."""
    import yaml

    from scripts.template import parse_template

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    environ = dict(os.environ)
    for name, spec in (document.get("parameters") or {}).items():
        if name not in environ and spec.get("default") is None:
            environ[name] = "urn:smn:placeholder" if name.endswith("_URN") else "placeholder"
    return parse_template(document, environ, root=path.resolve().parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--out", default=str(ROOT / "build"))
    parser.add_argument("--dependencies", action="store_true", help="also build the dependency package (needs PyPI)")
    parser.add_argument("--local-dependencies", action="store_true",
                        help="also write a stub dependency package, for deploying into localcloud only")
    args = parser.parse_args(argv)

    from scripts.deployer.packaging import (PackagingError, build_dependency_zip, build_function_zip,
                                            stub_dependency_zip)
    from scripts.template import TemplateError

    try:
        template = packaging_template(Path(args.template))
        out = Path(args.out)
        for function in template.functions:
            print(build_function_zip(template.root, function, out).line())
        for dependency in template.dependencies:
            target = template.root / dependency.file
            if args.dependencies:
                print(build_dependency_zip(template.root, dependency, target, out / "wheels").line())
            elif args.local_dependencies:  # never at the real package's path: deploy refuses stubs for a real region
                local = target.with_name(target.stem + "-local.zip")
                print(stub_dependency_zip(template.root, local, dependency.name).line())
    except (TemplateError, PackagingError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

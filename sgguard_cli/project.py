"""Where the project's files are: template.yaml, policy.yaml, functions/, build/.

The CLI is an installed package, so it never assumes it sits in the source tree. The project
directory is ``$SGGUARD_PROJECT_DIR``, else the first of the current directory and its parents
holding ``template.yaml``, else the source checkout this package was installed from in editable
mode. Explicit paths (``--template``, ``--policy``, a file argument) never need it.
"""

from __future__ import annotations

import os
from pathlib import Path

import shared

from .errors import ConfigError

__all__ = ["project_root", "find_project_root", "shared_sources_root", "shared_schema"]

_PACKAGE_PARENT = Path(__file__).resolve().parents[1]


def find_project_root(start: Path | None = None, environ=None) -> Path | None:
    environ = os.environ if environ is None else environ
    if environ.get("SGGUARD_PROJECT_DIR"):
        return Path(environ["SGGUARD_PROJECT_DIR"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder
    if (_PACKAGE_PARENT / "template.yaml").is_file():  # an editable install: the checkout
        return _PACKAGE_PARENT
    return None


def project_root(start: Path | None = None, environ=None) -> Path:
    root = find_project_root(start, environ)
    if root is None:
        raise ConfigError(
            "no template.yaml in this directory or above it: run sgguard in the project directory, "
            "or set SGGUARD_PROJECT_DIR"
        )
    return root


def shared_sources_root() -> Path:
    """The folder holding the ``shared`` package the functions are built from (installed or not)."""
    return Path(shared.__file__).resolve().parents[1]


def shared_schema(name: str) -> Path:
    return Path(shared.__file__).resolve().parent / "schemas" / name

"""The code cache: function code and dependency packages, unpacked once per SHA-256.

* A function's zip is unpacked once per SHA-256 under the runtime's cache directory
  (``code/<sha256>``), a dependency package once per SHA-256 (``deps/<sha256>``). Entries with
  absolute paths or ``..`` are refused.
* A dependency directory goes on ``PYTHONPATH`` after the code directory when it can run here.
  The localcloud stand-in (``scripts/package.py --local-dependencies``: a zip holding only
  ``sgguard_deps_pins.txt``) adds nothing: the interpreter's own environment (the project's
  ``.venv``, same pins) is the dependency layer. A real package whose native extensions were
  built for another Python (``*.cpython-312-*.so`` under Python 3.11) cannot load here either: it
  is left out and the instance notes it; the local environment stands in.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import sysconfig
import threading
import zipfile
from pathlib import Path

from .invocation import FunctionSnapshot

__all__ = ["CodeCache", "STUB_DEPENDENCY_NAMES"]

STUB_DEPENDENCY_NAMES = ["sgguard_deps_pins.txt"]  # scripts/deployer/packaging.py:stub_dependency_zip


class CodeCache:
    """Unpacked code and dependency packages, one directory per SHA-256."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._compatible: dict[str, tuple[bool, str]] = {}

    def _unpack(self, kind: str, sha256: str, content: bytes) -> Path:
        target = self.root / kind / sha256
        if target.is_dir():
            return target
        with self._lock:
            if target.is_dir():
                return target
            staging = self.root / kind / f".{sha256}.{os.getpid()}.{threading.get_ident()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            try:
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    for info in archive.infolist():
                        name = info.filename
                        parts = Path(name).parts
                        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                            raise ValueError(f"unsafe path in the zip: {name!r}")
                        if info.is_dir():
                            (staging / name).mkdir(parents=True, exist_ok=True)
                            continue
                        destination = staging / name
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        destination.write_bytes(archive.read(info))
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return target

    def code_dir(self, snapshot: FunctionSnapshot) -> Path:
        return self._unpack("code", snapshot.sha256, snapshot.code)

    def dependency_dirs(self, snapshot: FunctionSnapshot) -> tuple[list[str], list[str]]:
        """``(directories for PYTHONPATH, notes)``."""
        paths, notes = [], []
        for dependency in snapshot.dependencies:
            with zipfile.ZipFile(io.BytesIO(dependency.content)) as archive:
                names = archive.namelist()
            if names == STUB_DEPENDENCY_NAMES:
                notes.append(
                    f"dependency {dependency.name}: the localcloud stand-in; the local environment "
                    f"({sys.prefix}) provides the libraries"
                )
                continue
            usable, why = self._usable(dependency.sha256, names)
            if not usable:
                notes.append(
                    f"dependency {dependency.name}: {why}; the local environment ({sys.prefix}) provides "
                    "the libraries instead"
                )
                continue
            paths.append(str(self._unpack("deps", dependency.sha256, dependency.content)))
        return paths, notes

    def _usable(self, sha256: str, names: list[str]) -> tuple[bool, str]:
        if sha256 not in self._compatible:
            here = sysconfig.get_config_var("EXT_SUFFIX") or ""
            foreign = sorted(
                {
                    name.rsplit("/", 1)[-1].split(".", 1)[1]
                    for name in names
                    if name.endswith((".so", ".pyd")) and ".cpython-" in name and not name.endswith(here)
                }
            )
            if foreign:
                self._compatible[sha256] = (
                    False,
                    f"native extensions built for another Python ({foreign[0]}; this interpreter loads *{here})",
                )
            else:
                self._compatible[sha256] = (True, "")
        return self._compatible[sha256]

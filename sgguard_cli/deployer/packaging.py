"""Reproducible code zips (one per function) and the dependency package.

A function zip holds the function's directory (``index.py`` at the root, plus e.g. ``policy.yaml``),
the project's ``shared/`` package, and any ``build.include`` file. Entries are sorted, dated
1980-01-01 00:00:00, mode 0644, deflated at level 9, with no directory entries, caches, tests or
compiled files: the same sources always give the same bytes, hence the same digest.

The dependency package (FunctionGraph "dependency", referenced by ``depend_version_list``) holds
the third-party libraries, unpacked from wheels built for the function's runtime
(``pip download --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12``),
pinned to the versions installed in the build environment. It is zipped the same reproducible
way. Why a dependency package rather than vendoring: docs/template.md.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Artifact",
    "PackagingError",
    "build_function_zip",
    "function_entries",
    "write_zip",
    "dependency_pins",
    "project_table",
    "build_dependency_zip",
    "artifact_of",
    "zip_from_wheels",
    "stub_dependency_zip",
    "FIXED_DATE",
    "MAX_CODE_ZIP_BYTES",
    "MAX_UNZIPPED_BYTES",
    "MAX_DEPENDENCY_ZIP_BYTES",
    "PLATFORM",
]

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
MAX_CODE_ZIP_BYTES = 50 * 2**20  # a zip sent through the API (func_code.file); the console takes 40 MB
MAX_UNZIPPED_BYTES = 1500 * 2**20
MAX_DEPENDENCY_ZIP_BYTES = 10 * 2**20  # a private dependency uploaded directly; larger ones go through OBS
PLATFORM = "manylinux2014_x86_64"
_EXCLUDED_DIRS = {"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache", ".git"}
_EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".orig", ".rej", ".swp")
_EXCLUDED_SHARED = {"shared/schemas/template.v1.json"}  # the deploy tool's, not the functions'


class PackagingError(Exception):
    pass


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    size: int
    sha256: str
    sha512: str  # what FunctionGraph reports as a function's code ``digest``
    entries: int
    unpacked: int

    def line(self) -> str:
        return f"{self.name:<16} {self.size:>10} bytes  {self.entries:>4} files  sha256 {self.sha256}  {self.path}"


def _wanted(relative: Path) -> bool:
    parts = relative.parts
    return not (
        any(part in _EXCLUDED_DIRS or part.startswith(".") for part in parts)
        or relative.name.endswith(_EXCLUDED_SUFFIXES)
    )


def _tree(base: Path, prefix: str = "") -> dict[str, Path]:
    entries = {}
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if path.is_file() and _wanted(relative):
            entries[f"{prefix}{relative.as_posix()}"] = path
    return entries


def function_entries(root: Path, source: str, include: Iterable[str] = ()) -> dict[str, Path]:
    """Archive name -> file for one function (what goes in its zip)."""
    source_dir = root / source
    if not (source_dir / "index.py").is_file():
        raise PackagingError(f"{source}/index.py not found: the handler module must be at the zip root")
    entries = _tree(source_dir)
    shared = {name: path for name, path in _tree(root / "shared", "shared/").items() if name not in _EXCLUDED_SHARED}
    for name in shared:
        if name in entries:
            raise PackagingError(f"{source}/{name} would shadow the shared package")
    entries.update(shared)
    for item in include:
        path = root / item
        if not path.is_file():
            raise PackagingError(f"build.include: {item} not found")
        entries[Path(item).as_posix()] = path
    return entries


def write_zip(entries: Mapping[str, bytes | Path], path: Path, name: str | None = None) -> Artifact:
    """Write a reproducible zip and describe it."""
    buffer = io.BytesIO()
    unpacked = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(entries):
            source = entries[arcname]
            data = source.read_bytes() if isinstance(source, Path) else source
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr holds the mode
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            unpacked += len(data)
    data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Artifact(
        name or path.stem,
        path,
        len(data),
        hashlib.sha256(data).hexdigest(),
        hashlib.sha512(data).hexdigest(),
        len(entries),
        unpacked,
    )


def artifact_of(path: Path, name: str) -> Artifact:
    """Describe an existing zip (e.g. the dependency package built earlier)."""
    if not path.is_file():
        raise PackagingError(
            f"{path} not found: build it with sgguard package --dependencies (or --local-dependencies for localcloud)"
        )
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise PackagingError(f"{path} is not a zip file") from None
    return Artifact(
        name,
        path,
        len(data),
        hashlib.sha256(data).hexdigest(),
        hashlib.sha512(data).hexdigest(),
        len(infos),
        sum(info.file_size for info in infos),
    )


def build_function_zip(root: Path, function, out_dir: Path) -> Artifact:
    """``function`` is a :class:`sgguard_cli.template.FunctionSpec`."""
    artifact = write_zip(
        function_entries(root, function.source, function.include), out_dir / function.code_filename, function.func_name
    )
    check_limits(artifact, MAX_CODE_ZIP_BYTES)
    return artifact


def check_limits(artifact: Artifact, max_zip: int) -> None:
    if artifact.size > max_zip:
        raise PackagingError(f"{artifact.name}: {artifact.size} bytes, more than the {max_zip} FunctionGraph takes")
    if artifact.unpacked > MAX_UNZIPPED_BYTES:
        raise PackagingError(f"{artifact.name}: {artifact.unpacked} bytes unpacked, more than {MAX_UNZIPPED_BYTES}")


# ---- dependency package ----------------------------------------------------------------------------
def dependency_pins(root: Path, extras: Iterable[str] = ("sinks",)) -> list[str]:
    """``name==version`` for the runtime requirements (pyproject) and everything they pull in, at
    the versions installed here, so that the package is built from exactly what was tested."""
    import re
    from importlib.metadata import PackageNotFoundError, distribution

    project = project_table(root / "pyproject.toml")
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += [r for r in project.get("optional-dependencies", {}).get(extra, []) if not r.startswith("sgguard")]
    pins: dict[str, str] = {}
    queue = [re.split(r"[<>=!~;\[ ]", item, maxsplit=1)[0] for item in wanted]
    while queue:
        name = queue.pop().lower().replace("_", "-")
        if name in pins:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise PackagingError(f"{name} is not installed in {sys.prefix}: run make setup") from None
        pins[name] = dist.version
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            if "python_version < '3.9'" in marker.replace('"', "'") or not _marker_holds(marker):
                continue
            queue.append(re.split(r"[<>=!~;\[ (]", requirement, maxsplit=1)[0])
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _marker_holds(marker: str) -> bool:
    """An environment marker (e.g. redis's ``async-timeout; python_full_version < '3.11.3'``) evaluated for
    the interpreter building the package; without the ``packaging`` library every marker holds."""
    if not marker.strip():
        return True
    try:
        from packaging.markers import InvalidMarker, Marker
    except ImportError:
        return True
    try:
        return Marker(marker).evaluate()
    except InvalidMarker:
        return True


def project_table(path: Path) -> dict:
    """``[project]`` of pyproject.toml (tomllib on 3.11+; on 3.10 just the requirement lists)."""
    text = path.read_text()
    try:
        import tomllib
    except ImportError:  # Python 3.10: read the arrays of quoted requirements we need
        import re

        def array(name: str) -> list[str]:
            match = re.search(rf"^{name}\s*=\s*\[(.*?)\]", text, re.S | re.M)
            body = re.sub(r"#[^\n]*", "", match.group(1)) if match else ""
            return re.findall(r'"([^"]+)"', body)

        return {"dependencies": array("dependencies"), "optional-dependencies": {"sinks": array("sinks")}}
    return tomllib.loads(text)["project"]


def zip_from_wheels(wheels: Iterable[Path], path: Path, name: str) -> Artifact:
    """Unpack wheels into one site-packages tree (the zip root) and write it reproducibly."""
    entries: dict[str, bytes] = {}
    for wheel in sorted(wheels):
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                relative = Path(info.filename)
                if info.is_dir() or not _wanted(relative) or relative.name == "RECORD":
                    continue
                entries[relative.as_posix()] = archive.read(info)
    artifact = write_zip(entries, path, name)
    check_limits(artifact, MAX_DEPENDENCY_ZIP_BYTES)
    return artifact


def build_dependency_zip(root: Path, dependency, out: Path, wheel_dir: Path) -> Artifact:
    """Download the pinned wheels for the dependency's runtime and zip them (needs PyPI)."""
    version = dependency.runtime.removeprefix("Python")  # Python3.12 -> 3.12
    abi = "cp" + version.replace(".", "")
    pins = dependency_pins(root)
    target = wheel_dir / abi
    target.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--abi",
        abi,
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--dest",
        str(target),
        *pins,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"pip download failed:\n{result.stderr.strip()[-2000:]}")
    wheels = [
        w
        for w in target.glob("*.whl")
        if _wheel_name(w) in {p.split("==")[0].replace("-", "_").lower() for p in pins}
        and _wheel_version(w) in {p.split("==")[1] for p in pins}
    ]
    return zip_from_wheels(wheels, out, dependency.name)


def _wheel_name(wheel: Path) -> str:
    return wheel.name.split("-")[0].replace("-", "_").lower()


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def stub_dependency_zip(root: Path, out: Path, name: str) -> Artifact:
    """A tiny stand-in listing the pins, for localcloud (its runtime uses the local environment)."""
    pins = "\n".join(dependency_pins(root)) + "\n"
    return write_zip({"sgguard_deps_pins.txt": pins.encode()}, out, name)

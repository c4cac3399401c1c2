"""Function instances: unpacked code, one ``python runner.py`` process each, and a warm pool.

* **Code cache.** A function's zip is unpacked once per SHA-256 under the runtime's cache
  directory (``code/<sha256>``), a dependency package once per SHA-256 (``deps/<sha256>``).
  Entries with absolute paths or ``..`` are refused.
* **Dependencies.** A dependency directory goes on ``PYTHONPATH`` after the code directory when
  it can run here. The localcloud stand-in (``scripts/package.py --local-dependencies``: a zip
  holding only ``sgguard_deps_pins.txt``) adds nothing: the interpreter's own environment (the
  project's ``.venv``, same pins) is the dependency layer. A real package whose native
  extensions were built for another Python (``*.cpython-312-*.so`` under Python 3.11) cannot load
  here either: it is left out and the instance notes it; the local environment stands in.
* **Instances.** One process per instance (:mod:`.runner`), environment = the user data (plain and
  encrypted, non-empty values) plus the platform's ``RUNTIME_*`` variables, a private ``HOME``,
  cwd = the code directory. One invocation at a time per instance; a timeout kills the process
  group. With ``warm`` the instance is kept for the next invocation of the same function
  configuration (``fingerprint``) until ``idle_s`` passes; otherwise it serves one invocation.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import zipfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FunctionSnapshot", "CodeCache", "Instance", "InstancePool", "Outcome", "STUB_DEPENDENCY_NAMES",
           "invocation_request"]

RUNNER = Path(__file__).resolve().parent / "runner.py"
STUB_DEPENDENCY_NAMES = ["sgguard_deps_pins.txt"]  # scripts/deployer/packaging.py:stub_dependency_zip
_STDERR_TAIL = 200  # lines kept per instance


@dataclass(frozen=True)
class Dependency:
    version_id: str
    name: str
    sha256: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class FunctionSnapshot:
    """What one invocation needs of a function, copied under the state lock."""

    project_id: str
    name: str
    package: str
    urn: str
    runtime: str
    handler: str
    timeout: int
    memory_size: int
    code: bytes = field(repr=False)
    sha256: str = ""
    user_data: dict = field(default_factory=dict, repr=False)
    encrypted_user_data: dict = field(default_factory=dict, repr=False)
    xrole: str = ""
    initializer_handler: str = ""
    initializer_timeout: int = 0
    concurrency: int = -1
    dependencies: tuple[Dependency, ...] = ()
    async_config: dict | None = None

    @property
    def fingerprint(self) -> str:
        """Instances are reused only for the same code, dependencies and configuration."""
        digest = hashlib.sha256()
        for part in (self.project_id, self.name, self.sha256, self.handler, str(self.timeout), str(self.memory_size),
                     json.dumps(self.user_data, sort_keys=True), json.dumps(self.encrypted_user_data, sort_keys=True),
                     self.xrole, self.initializer_handler, str(self.initializer_timeout),
                     ",".join(d.sha256 for d in self.dependencies)):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def merged_user_data(self) -> dict:
        """What ``context.getUserData`` answers: plain and encrypted user data together."""
        return {**self.user_data, **self.encrypted_user_data}


@dataclass
class Outcome:
    """One execution: ``ok`` with ``result``, or ``error`` (``errorType`` / ``errorMessage``)."""

    ok: bool
    result: object = None
    error: dict | None = None
    log: str = ""
    duration_ms: float = 0.0
    init_ms: float = 0.0
    cold_start: bool = False
    timed_out: bool = False
    system_error: bool = False  # the platform failed (could not start / crashed), not the handler
    instance_id: str = ""
    notes: list = field(default_factory=list)


def invocation_request(snapshot: FunctionSnapshot, request_id: str, event: object, timeout_s: float,
                       credentials: tuple[str, str, str] = ("", "", "")) -> dict:
    """One request line for :mod:`.runner`: the event and the FunctionGraph context's fields."""
    ak, sk, token = credentials
    return {
        "request_id": request_id, "handler": snapshot.handler, "event": event, "timeout_s": timeout_s,
        "context": {"user_data": snapshot.merged_user_data(), "ak": ak, "sk": sk, "security_token": token,
                    "project_id": snapshot.project_id, "function_name": snapshot.name, "version": "latest",
                    "memory_mb": snapshot.memory_size, "request_id": request_id},
        "initializer": ({"handler": snapshot.initializer_handler, "timeout_s": snapshot.initializer_timeout}
                        if snapshot.initializer_handler else None),
    }


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
                notes.append(f"dependency {dependency.name}: the localcloud stand-in; the local environment "
                             f"({sys.prefix}) provides the libraries")
                continue
            usable, why = self._usable(dependency.sha256, names)
            if not usable:
                notes.append(f"dependency {dependency.name}: {why}; the local environment ({sys.prefix}) provides "
                             "the libraries instead")
                continue
            paths.append(str(self._unpack("deps", dependency.sha256, dependency.content)))
        return paths, notes

    def _usable(self, sha256: str, names: list[str]) -> tuple[bool, str]:
        if sha256 not in self._compatible:
            here = sysconfig.get_config_var("EXT_SUFFIX") or ""
            foreign = sorted({name.rsplit("/", 1)[-1].split(".", 1)[1] for name in names
                              if name.endswith((".so", ".pyd")) and ".cpython-" in name
                              and not name.endswith(here)})
            if foreign:
                self._compatible[sha256] = (False, f"native extensions built for another Python ({foreign[0]}; "
                                                   f"this interpreter loads *{here})")
            else:
                self._compatible[sha256] = (True, "")
        return self._compatible[sha256]


class Instance:
    """One function instance: a runner process serving invocations one at a time."""

    _ids = iter(range(1, 1 << 62))

    def __init__(self, snapshot: FunctionSnapshot, cache: CodeCache, home: Path):
        self.id = f"{snapshot.name}-{next(self._ids)}"
        self.fingerprint = snapshot.fingerprint
        self.function = snapshot.name
        self.project_id = snapshot.project_id
        self.invocations = 0
        self.last_used = time.monotonic()
        self.notes: list[str] = []
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self._answers: queue.Queue = queue.Queue()
        code_dir = cache.code_dir(snapshot)
        dependency_dirs, self.notes = cache.dependency_dirs(snapshot)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home),
               "PYTHONPATH": os.pathsep.join([str(code_dir), *dependency_dirs]), "PYTHONIOENCODING": "utf-8",
               "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
               "RUNTIME_CODE_ROOT": str(code_dir), "RUNTIME_PROJECT_ID": snapshot.project_id,
               "RUNTIME_FUNC_NAME": snapshot.name, "RUNTIME_FUNC_VERSION": "latest",
               "RUNTIME_PACKAGE": snapshot.package, "RUNTIME_HANDLER": snapshot.handler,
               "RUNTIME_TIMEOUT": str(snapshot.timeout), "RUNTIME_MEMORY": str(snapshot.memory_size),
               "RUNTIME_CPU": str(max(1, snapshot.memory_size // 128) * 50)}
        for key, value in snapshot.merged_user_data().items():
            if isinstance(value, str) and value and key not in env:
                env[key] = value
        self.process = subprocess.Popen([sys.executable, "-u", str(RUNNER)], cwd=code_dir, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True, text=True, encoding="utf-8", errors="replace",
                                        bufsize=1)
        threading.Thread(target=self._read_answers, name=f"fgs-out-{self.id}", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"fgs-err-{self.id}", daemon=True).start()

    def _read_answers(self) -> None:
        for line in self.process.stdout:
            try:
                self._answers.put(json.loads(line))
            except ValueError:
                self.stderr_tail.append(line.rstrip("\n"))
        self._answers.put(None)  # the process ended

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_tail.append(line.rstrip("\n"))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request: dict, timeout_s: float) -> Outcome:
        cold = self.invocations == 0
        self.invocations += 1
        started = time.monotonic()
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.kill()
            return self._crashed(cold, started)
        try:
            answer = self._answers.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            self.kill()
            return Outcome(False, error={"errorType": "FunctionTimeout", "errorMessage":
                                         f"invocation timed out after {timeout_s:.3g} s (the instance was killed)",
                                         "stackTrace": []},
                           duration_ms=round((time.monotonic() - started) * 1000, 3), cold_start=cold, timed_out=True,
                           instance_id=self.id, notes=list(self.notes))
        self.last_used = time.monotonic()
        if answer is None:
            return self._crashed(cold, started)
        return Outcome(bool(answer.get("ok")), answer.get("result"), answer.get("error"), answer.get("log") or "",
                       answer.get("duration_ms", 0.0), answer.get("init_ms", 0.0), cold, instance_id=self.id,
                       notes=list(self.notes))

    def _crashed(self, cold: bool, started: float) -> Outcome:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        tail = "\n".join(list(self.stderr_tail)[-20:])
        return Outcome(False, error={"errorType": "RuntimeExited", "errorMessage":
                                     f"the function instance exited (code {code}) without answering", "stackTrace": []},
                       log=tail, duration_ms=round((time.monotonic() - started) * 1000, 3), cold_start=cold,
                       system_error=True, instance_id=self.id, notes=list(self.notes))

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def close(self) -> None:
        """End a healthy idle instance: close its stdin (the runner exits), then make sure."""
        try:
            self.process.stdin.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class InstancePool:
    """Instances per function configuration, within a per-function and a global cap."""

    def __init__(self, cache: CodeCache, home: Path, *, warm: bool = True, idle_s: float = 300.0,
                 max_instances: int = 8):
        self.cache = cache
        self.home = home
        self.warm = warm
        self.idle_s = idle_s
        self.max_instances = max_instances
        self._cond = threading.Condition()
        self._idle: dict[str, list[Instance]] = {}
        self._busy: set[Instance] = set()
        self._generation = 0
        self._spawning: dict[tuple[str, str], int] = {}

    def _count(self, function_key: tuple[str, str] | None = None) -> int:
        instances = [i for group in self._idle.values() for i in group] + list(self._busy)
        if function_key is not None:
            instances = [i for i in instances if (i.project_id, i.function) == function_key]
            return len(instances) + self._spawning.get(function_key, 0)
        return len(instances) + sum(self._spawning.values())

    def acquire(self, snapshot: FunctionSnapshot, deadline: float) -> tuple[Instance | None, int]:
        """An instance for ``snapshot`` (idle and warm, or new), or None when none could be had by
        ``deadline``. Returns ``(instance, generation)``."""
        fingerprint = snapshot.fingerprint
        key = (snapshot.project_id, snapshot.name)
        with self._cond:
            while True:
                self._reap_locked()
                idle = self._idle.get(fingerprint) or []
                while idle:
                    instance = idle.pop()
                    if instance.alive:
                        self._busy.add(instance)
                        return instance, self._generation
                    instance.kill()
                self._retire_stale_locked(key, fingerprint)
                cap_function = snapshot.concurrency if snapshot.concurrency and snapshot.concurrency > 0 else None
                if self._count() < self.max_instances and (cap_function is None or self._count(key) < cap_function):
                    self._spawning[key] = self._spawning.get(key, 0) + 1
                    break
                # at a cap: an idle instance of another configuration can make room
                if self._evict_one_locked(None if self._count() >= self.max_instances else key):
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, self._generation
                self._cond.wait(min(remaining, 0.5))
            generation = self._generation
        try:
            instance = Instance(snapshot, self.cache, self.home)
        except BaseException:
            with self._cond:
                self._spawning[key] -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self._spawning[key] -= 1
            self._busy.add(instance)
        return instance, generation

    def release(self, instance: Instance, generation: int, healthy: bool) -> None:
        with self._cond:
            self._busy.discard(instance)
            keep = healthy and self.warm and instance.alive and generation == self._generation
            if keep:
                self._idle.setdefault(instance.fingerprint, []).append(instance)
            self._cond.notify_all()
        if not keep:
            instance.close() if healthy else instance.kill()

    def _retire_stale_locked(self, key: tuple[str, str], fingerprint: str) -> None:
        """Idle instances of an older code or configuration of the function are of no more use."""
        for other, group in list(self._idle.items()):
            if other == fingerprint:
                continue
            for instance in [i for i in group if (i.project_id, i.function) == key]:
                group.remove(instance)
                threading.Thread(target=instance.close, daemon=True).start()
            if not group:
                del self._idle[other]

    def _evict_one_locked(self, key: tuple[str, str] | None) -> bool:
        oldest = None
        for group in self._idle.values():
            for instance in group:
                if key is not None and (instance.project_id, instance.function) != key:
                    continue
                if oldest is None or instance.last_used < oldest.last_used:
                    oldest = instance
        if oldest is None:
            return False
        self._idle[oldest.fingerprint].remove(oldest)
        threading.Thread(target=oldest.close, daemon=True).start()
        return True

    def _reap_locked(self) -> None:
        now = time.monotonic()
        for fingerprint, group in list(self._idle.items()):
            for instance in list(group):
                if not instance.alive or now - instance.last_used > self.idle_s:
                    group.remove(instance)
                    threading.Thread(target=instance.close, daemon=True).start()
            if not group:
                del self._idle[fingerprint]

    def retire(self, predicate=None) -> None:
        """Stop idle instances (all, or those ``predicate(instance)`` names); busy ones end after
        their invocation (a new generation is never kept warm)."""
        with self._cond:
            if predicate is None:
                self._generation += 1
            doomed = []
            for fingerprint, group in list(self._idle.items()):
                for instance in list(group):
                    if predicate is None or predicate(instance):
                        group.remove(instance)
                        doomed.append(instance)
                if not group:
                    del self._idle[fingerprint]
            self._cond.notify_all()
        for instance in doomed:
            instance.kill()

    def describe(self) -> list[dict]:
        with self._cond:
            entries = [(i, "idle") for group in self._idle.values() for i in group] + [(i, "busy") for i in self._busy]
        return [{"id": i.id, "project_id": i.project_id, "function": i.function, "state": state, "pid": i.process.pid,
                 "invocations": i.invocations, "notes": list(i.notes)} for i, state in entries]

    def busy_count(self) -> int:
        with self._cond:
            return len(self._busy) + sum(self._spawning.values())

    def close(self) -> None:
        self.retire()
        deadline = time.monotonic() + 5
        with self._cond:
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(0.1)
            busy = list(self._busy)
        for instance in busy:
            instance.kill()

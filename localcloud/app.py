"""Assembly: a :class:`LocalCloud` serves every emulated service on one port."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .client import ControlClient
from .control import control, register_initial_seed
from .core.accounts import Directory
from .core.server import LocalCloudServer, serve_in_thread
from .core.state import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_REGION, DEFAULT_SK, Backend
from .seed import default_seed, load_seed
from .services import all_routers
from .services.cts.control import record_trace

__all__ = ["LocalCloud", "start"]


class LocalCloud(ControlClient):
    """A running emulator: its URL, default credentials, state access and control calls."""

    def __init__(self, server: LocalCloudServer, seed_summary: dict):
        super().__init__(server.url)
        self.server = server
        self.backend = server.backend
        self.region = server.backend.region
        self.project_id = DEFAULT_PROJECT_ID
        self.ak = DEFAULT_AK
        self.sk = DEFAULT_SK
        self.seed_summary = seed_summary
        self._thread: threading.Thread | None = None
        self._before_stop: list[Callable[[], None]] = []

    @property
    def info(self) -> dict:
        return {"url": self.url, "region": self.region, "project_id": self.project_id, "ak": self.ak, "sk": self.sk}

    @property
    def ids(self) -> dict:
        """Name -> id maps of what the start-up seed created in the default project."""
        return self.seed_summary.get("projects", {}).get(self.project_id, {})

    def before_stop(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` first on every ``stop()`` (say, stopping a runtime installed on this cloud)."""
        self._before_stop.append(hook)

    def stop(self) -> None:
        for hook in list(self._before_stop):
            hook()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalCloud:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: dict | None = None,
    latency_ms: int = 0,
    region: str = DEFAULT_REGION,
    serve: bool = True,
    directory: Directory | None = None,
) -> LocalCloud:
    """Start the emulator (in a background thread unless ``serve`` is False).

    ``seed`` defaults to the bundled default seed (one project with the dev credentials, a VPC,
    subnets and security groups); pass ``{}`` for an empty cloud. ``directory``: the accounts,
    agencies and AKs of another started region's cloud, shared (one emulated cloud, several regions,
    each on its own port: the SDK's ``HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION>`` points at each).
    """
    backend = Backend(region=region, directory=directory)
    # CTS records every trace a change made through the API (ListTraces answers them)
    backend.subscribe("cloud.trace", lambda project, trace, **_: record_trace(project, trace))
    server = LocalCloudServer((host, port), backend, all_routers(), control, latency_ms=latency_ms)
    document = default_seed() if seed is None else seed
    register_initial_seed(server, document)
    summary = load_seed(backend, document) if document else {}
    cloud = LocalCloud(server, summary)
    if serve:
        cloud._thread = serve_in_thread(server)
    return cloud

"""localcloud: a local, stateful emulator of the Huawei Cloud APIs this project calls.

Served over real HTTP so that the official SDK clients talk to it unchanged
(``.with_endpoints([cloud.url])``). It verifies SDK-HMAC-SHA256 signatures, keeps state per
project, answers with each service's real error bodies, and injects faults and latency on
request. Never deployed: it is for tests, the local demo and the benchmarks.

    from localcloud import start
    with start() as cloud:
        ...  # cloud.url, cloud.ak, cloud.sk, cloud.project_id, cloud.add_fault(...), cloud.state()
"""

from .app import LocalCloud, start
from .core.state import DEFAULT_AK, DEFAULT_PROJECT_ID, DEFAULT_REGION, DEFAULT_SK

__all__ = ["LocalCloud", "start", "DEFAULT_AK", "DEFAULT_SK", "DEFAULT_PROJECT_ID", "DEFAULT_REGION"]

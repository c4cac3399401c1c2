"""Fixtures: one localcloud per test session, reset to its start-up seed before each test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# The SDK writes $HOME/.huaweicloud on import; keep test runs out of the user's home.
os.environ["HOME"] = str(ROOT / ".pytest_home")

# Folders whose every test is slow (real processes, deployed zips, soaks, the installed CLI, fuzz
# corpora): ``make quick`` (``-m "not slow"``) leaves them out. A slow test elsewhere carries
# ``@pytest.mark.slow`` itself.
SLOW_FOLDERS = ("runtime", "soak", "fuzz", "cli", "deploy")


def pytest_collection_modifyitems(config, items):
    tests = ROOT / "tests"
    for item in items:
        parts = Path(str(item.path)).relative_to(tests).parts
        if parts and parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def localcloud_session():
    from localcloud import start

    cloud = start()
    yield cloud
    cloud.stop()


@pytest.fixture(autouse=True)
def _fresh_ledger():
    """Each test starts with an empty in-process ledger of what sgguard added (the seed's ports are
    the same in every test: one test's change must not protect a group in the next)."""
    from shared.idempotency.ledger import MEMORY_LEDGER

    MEMORY_LEDGER.clear()


@pytest.fixture
def cloud(localcloud_session):
    """A running localcloud in its start-up state (default seed, no faults)."""
    localcloud_session.reset()
    return localcloud_session


@pytest.fixture
def vpc_v2(cloud):
    from tests.support.sdk import vpc_v2_client

    return vpc_v2_client(cloud)


@pytest.fixture
def vpc_v3(cloud):
    from tests.support.sdk import vpc_v3_client

    return vpc_v3_client(cloud)


@pytest.fixture
def ecs(cloud):
    from tests.support.sdk import ecs_client

    return ecs_client(cloud)


@pytest.fixture(scope="session")
def redis_session():
    """A real redis-server for the whole session (REDIS_URL, or one started here: tests/support/redis_server.py)."""
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    yield server
    from shared.idempotency.redis_backend import close_clients

    close_clients()
    server.close()


@pytest.fixture
def redis_server(redis_session):
    """The session's Redis, running, its database emptied first (a REDIS_URL must name a scratch database)."""
    if redis_session.can_stop and redis_session.process is None:
        redis_session.start()
    client = redis_session.client()
    client.flushdb()
    client.close()
    return redis_session


@pytest.fixture(scope="session")
def org_session():
    """An organisation in localcloud: 4 accounts, a server per account in each of 2 regions, one
    server per region sharing the accounts (tests/support/organisation.py)."""
    from tests.support.organisation import Organisation

    organisation = Organisation.start()
    yield organisation
    organisation.stop()


@pytest.fixture
def org(org_session, monkeypatch):
    """The organisation in its seeded state; the SDK's endpoint variables pointing at its regions;
    no member session cached from an earlier test."""
    from shared.cloud.agencies import SESSIONS
    from shared.cloud.discovery import DISCOVERY
    from shared.cloud.targets import TARGET_CLIENTS

    org_session.reset()
    SESSIONS.clear()
    TARGET_CLIENTS.clear()
    DISCOVERY.clear()
    for name, value in org_session.endpoint_environment().items():
        monkeypatch.setenv(name, value)
    return org_session

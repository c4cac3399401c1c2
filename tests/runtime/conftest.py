"""Fixtures of the local runtime suite: one localcloud with the runtime per session, the functions
packaged once, and a fresh deployment of template.yaml per test (after a reset). Helpers:
``tests.support.runtime``."""

from __future__ import annotations

import pytest

from sgguard_cli.localenv import LocalEnv
from tests.support.runtime import Deployer


@pytest.fixture(scope="session")
def local_env(tmp_path_factory):
    env = LocalEnv.start(build_delay_ms=300)
    env.runtime.retry_delay_s = 0.05  # async retries: keep the suite fast
    LocalEnv.package()
    env.build_dir = tmp_path_factory.mktemp("runtime-build")
    yield env
    env.stop()


@pytest.fixture
def env(local_env):
    """The session's LocalEnv, reset to the default seed; call ``deploy(...)`` to deploy."""
    local_env.cloud.reset()
    local_env.prepare(build_delay_ms=300)
    return Deployer(local_env)


@pytest.fixture(scope="module")
def org_runtime():
    """An organisation (tests/support/organisation.py) whose every region runs the local runtime,
    the functions packaged first; stopped after the module."""
    from localcloud.runtime import install, uninstall
    from tests.support.organisation import Organisation

    LocalEnv.package()
    organisation = Organisation.start()
    for cloud in organisation.clouds.values():
        install(cloud, warm=False)
        cloud.runtime.retry_delay_s = 0.05
    yield organisation
    for cloud in organisation.clouds.values():
        uninstall(cloud)
    organisation.stop()

"""Fixtures of the contract tests (helpers: ``tests.support.vpc_contract``, ``tests.support.ecs_contract``)."""

import pytest

from tests.support.vpc_contract import seed_ports


@pytest.fixture
def ports(cloud):
    """The default seed plus three compute ports of our own (see ``tests.support.vpc_contract``)."""
    return seed_ports(cloud)

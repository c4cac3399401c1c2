"""Fixtures of the contract tests (helpers: ``vpc_support``, ``ecs_support``)."""

import pytest

from tests.contract.vpc_support import seed_ports


@pytest.fixture
def ports(cloud):
    """The default seed plus three compute ports of our own (see ``vpc_support``)."""
    return seed_ports(cloud)

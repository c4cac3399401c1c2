import pytest

from tests.support.functions import Invoker


@pytest.fixture
def change(cloud):
    """The real change_request handler, invoked against localcloud."""
    return Invoker(cloud, "change_request")

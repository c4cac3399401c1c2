import pytest

from tests.support.functions import Invoker


@pytest.fixture
def change(cloud):
    """The real change_request handler, invoked against localcloud."""
    return Invoker(cloud, "change_request")


def port_groups(cloud, port_id):
    for project in cloud.state()["projects"].values():
        for port in project["vpc"]["ports"]:
            if port["id"] == port_id:
                return port["security_groups"]
    raise KeyError(port_id)


def writes_since(cloud, seq):
    return [r for r in cloud.requests(seq) if r["method"] in ("PUT", "POST", "DELETE")]

"""Reading localcloud's state in tests: a port's groups, the writes since a point in the request log."""

from __future__ import annotations

__all__ = ["port_groups", "writes_since"]


def port_groups(cloud, port_id):
    for project in cloud.state()["projects"].values():
        for port in project["vpc"]["ports"]:
            if port["id"] == port_id:
                return port["security_groups"]
    raise KeyError(port_id)


def writes_since(cloud, seq):
    return [r for r in cloud.requests(seq) if r["method"] in ("PUT", "POST", "DELETE")]

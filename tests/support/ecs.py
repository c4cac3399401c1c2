"""Servers created through the official ECS SDK, and the CTS traces that announce them."""

from __future__ import annotations

import uuid

# bench owns these (it may not import tests/); the tests use the same ones
from bench.ecs import SUBNET_APP, SUBNET_MGMT, SUBNET_WEB, VPC_ID, create_servers  # noqa: F401
from bench.ecs import creation_trace as cts_trace  # noqa: F401


def cts_event(trace) -> dict:
    return {"cts": trace}


def eventgrid_event(trace) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "HC.ECS",
        "type": "ECS:CloudTrace:ApiCall",
        "subject": trace["resource_id"],
        "time": "2026-11-28T21:00:00Z",
        "datacontenttype": "application/json",
        "data": trace,
    }

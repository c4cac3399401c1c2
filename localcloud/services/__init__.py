"""Emulated services. Each package registers its models and exposes ``ROUTERS``."""

from __future__ import annotations

import importlib

__all__ = ["SERVICES", "all_routers"]

SERVICES = ("vpc", "ecs", "functiongraph", "eg", "smn", "cts", "iam", "dms", "sts", "kafka", "organizations")


def all_routers() -> list:
    routers = []
    for name in SERVICES:
        routers.extend(importlib.import_module(f"{__name__}.{name}").ROUTERS)
    return routers

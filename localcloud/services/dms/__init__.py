"""DMS for Kafka management emulation: the instances of a project (created through the control API:
localcloud never invents one) and their topics — ShowInstance, ListInstanceTopics,
CreateInstanceTopic, the calls ``sgguard bootstrap`` and ``preflight`` make. Publishing to a topic
and the triggers that consume it are :mod:`localcloud.runtime.dms`'s.

Importing registers the ``dms`` model and the control route ``POST /_localcloud/dms/instances``.
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control route)
from .models import DmsModel
from .routes import router

__all__ = ["DmsModel", "ROUTERS"]

register_model("dms", DmsModel)

ROUTERS = [router]

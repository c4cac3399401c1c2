"""ECS (Elastic Cloud Server) emulation: servers, jobs, tags; NICs are VPC ports.

Importing registers the ``ecs`` model and the control route
``POST /_localcloud/ecs/servers/{server_id}/status`` (see :mod:`.control`).
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control route)
from .models import EcsModel
from .routes import router

__all__ = ["EcsModel", "ROUTERS"]

register_model("ecs", EcsModel)

ROUTERS = [router]

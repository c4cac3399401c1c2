"""EG (EventGrid) emulation: custom channels and PutEvents.

Importing registers the ``eg`` model and the control routes ``POST /_localcloud/eg/channels`` and
``GET /_localcloud/eg/events`` (see :mod:`.control`).
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control routes)
from .models import EgModel
from .routes import router

__all__ = ["EgModel", "ROUTERS"]

register_model("eg", EgModel)

ROUTERS = [router]

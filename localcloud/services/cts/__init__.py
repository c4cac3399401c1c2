"""CTS (Cloud Trace Service) emulation: ListOperations (the trace names a service records) and
ListTraces (the traces localcloud's own changes produced, and any a test adds).

Importing registers the ``cts`` model and the control routes under ``/_localcloud/cts/`` (see
:mod:`.control`). :func:`.control.record_trace` is the ``cloud.trace`` listener that records the
traces the VPC emulation publishes.
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control routes)
from .models import CtsModel
from .routes import router

__all__ = ["CtsModel", "ROUTERS"]

register_model("cts", CtsModel)

ROUTERS = [router]

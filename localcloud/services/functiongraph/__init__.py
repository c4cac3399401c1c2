"""FunctionGraph emulation: the management API the deploy command uses (functions, code, config,
triggers, async invoke config, private dependencies) and invocation endpoints that record what
they receive and hand it to a registered invoker (see :mod:`.models`).

Importing registers the ``functiongraph`` model and the control route
``GET /_localcloud/functiongraph/invocations`` (see :mod:`.control`).
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control route)
from .models import Function, FunctionGraphModel, Invocation, function_urn, register_invoker
from .routes import router

__all__ = ["FunctionGraphModel", "Function", "Invocation", "register_invoker", "function_urn", "ROUTERS"]

register_model("functiongraph", FunctionGraphModel)

ROUTERS = [router]

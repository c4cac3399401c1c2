"""SMN (Simple Message Notification) emulation: topics, subscriptions, publish_message.

Importing registers the ``smn`` model and the control routes under ``/_localcloud/smn/`` (see
:mod:`.control`). Every publish is announced as ``smn.message_published`` on the backend (see
:mod:`.models`), the hook for invoking subscribed functions.
"""

from __future__ import annotations

from localcloud.core.state import register_model

from . import control as _control  # noqa: F401  (registers the control routes)
from .models import SmnModel
from .routes import router

__all__ = ["SmnModel", "ROUTERS"]

register_model("smn", SmnModel)

ROUTERS = [router]

"""Fixtures of the sink tests: destinations created in localcloud, a webhook receiver (helpers:
``tests.support.sinks``).

Everything is real: the change_request handler (``tests.support.functions.Invoker``), the
official SDK clients over HTTP to localcloud, a real HTTP receiver for webhooks.
"""

from __future__ import annotations

import pytest

from tests.support.functions import Invoker
from tests.support.sdk import create_inline_function
from tests.support.sinks import EG_SOURCE, HOOK_KEYS
from tests.support.webhook import WebhookReceiver


# ---- destinations in localcloud ----------------------------------------------------------------
@pytest.fixture
def topic(cloud) -> str:
    return cloud._call("POST", "smn/topics", {"name": "sgguard-results"})["topic"]["topic_urn"]


@pytest.fixture
def channel(cloud) -> str:
    return cloud._call("POST", "eg/channels", {"name": "sgguard-results", "sources": [EG_SOURCE]})["channel"]["id"]


@pytest.fixture
def ticket_updater(cloud) -> str:
    """A function to invoke asynchronously (created with the official SDK, inline code)."""
    return create_inline_function(cloud, "ticket-updater", b"def handler(event, context):\n    return {'ok': True}\n")


@pytest.fixture
def hook():
    with WebhookReceiver(HOOK_KEYS) as receiver:
        yield receiver


@pytest.fixture
def change(cloud):
    return Invoker(cloud, "change_request")

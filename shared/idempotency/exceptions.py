"""Errors of the idempotency store (their text never carries a password)."""

from __future__ import annotations

__all__ = ["StoreError", "StoreUnavailable", "ServerLocked"]


class StoreError(Exception):
    """Base of the idempotency store's own errors (never carries a password)."""


class StoreUnavailable(StoreError):
    """The store did not answer (connection refused, timeout, error reply): fail closed."""


class ServerLocked(StoreError):
    """Another instance held the server's lock for longer than this invocation could wait."""

"""STS emulation: ``AssumeAgency`` (``POST /v5/agencies/assume``), a global service.

The agencies and the accounts they trust live in the shared :class:`localcloud.core.accounts.Directory`;
credentials it issues are an account's (valid in every region the emulated cloud serves).
"""

from __future__ import annotations

from .routes import router

__all__ = ["ROUTERS"]

ROUTERS = [router]

"""Organizations emulation: ``ListAccounts`` (``GET /v1/organizations/accounts``), a global service.

The organisation (its management account, delegated administrators, root and OUs) and its member
accounts live in the shared :class:`localcloud.core.accounts.Directory`, like STS's agencies.
"""

from __future__ import annotations

from .routes import router

__all__ = ["ROUTERS"]

ROUTERS = [router]

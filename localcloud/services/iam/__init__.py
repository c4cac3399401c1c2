"""IAM emulation, the part sgguard reads: ``KeystoneListProjects`` (``GET /v3/projects``).

Global, like STS: it answers the caller's account's projects, every region's, from the shared
:class:`localcloud.core.accounts.Directory`.
"""

from __future__ import annotations

from .routes import router

__all__ = ["ROUTERS"]

ROUTERS = [router]

"""Every IAM error the emulator's IAM routes raise, in one place.

IAM's documented 403 body is ``{"error_code": "IAM.0003", "error_msg": "Policy doesn't allow ...
to be performed."}`` (the core renders the ``iam`` style); here it answers a listing of another
account's projects, or a caller that belongs to no account.
"""

from __future__ import annotations

from localcloud.core.errors import Forbidden

__all__ = ["listing_denied"]


def listing_denied() -> Forbidden:
    return Forbidden("IAM.0003", "Policy doesn't allow iam:projects:list to be performed.")

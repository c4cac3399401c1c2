"""ListAccounts: the organisation's accounts, one page at a time, for its administrators only.

Accounts come in a stable order (joining time, then id); ``marker`` is the id of the last account
of the previous page (opaque to callers: the API reference says only "pagination marker"), and
``page_info.next_marker`` is null on the last page. With ``parent_id`` only the accounts directly
under that root or OU are listed.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from . import errors

__all__ = ["list_accounts", "DEFAULT_LIMIT", "CONTACT_LIMIT"]

DEFAULT_LIMIT = 1000  # the page's default (doc)
CONTACT_LIMIT = 200  # the most with with_register_contact_info (doc)
_PARENT = re.compile(r"^(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{8,32})$")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise errors.invalid_parameter("with_register_contact_info", "must be true or false")
    return value.lower() == "true"


def list_accounts(
    directory: Any,
    caller_account: str | None,
    *,
    parent_id: str | None,
    limit: int | None,
    marker: str | None,
    contacts: str | None,
) -> dict:
    """The ListAccounts answer for a caller of ``caller_account``, or a typed error."""
    organization = directory.organization
    if organization is None or not organization.may_list_accounts(caller_account):
        raise errors.not_administrator()
    with_contacts = _flag(contacts)
    most = CONTACT_LIMIT if with_contacts else DEFAULT_LIMIT
    size = most if limit is None else limit
    if not 1 <= size <= most:
        raise errors.invalid_parameter("limit", f"must be within 1..{most}")
    if parent_id is not None:
        if len(parent_id) > 100 or not _PARENT.fullmatch(parent_id):
            raise errors.invalid_parameter("parent_id", "malformed")
        if parent_id != organization.root_id and parent_id not in organization.units:
            raise errors.parent_not_found(parent_id)
    with directory.lock:
        accounts = sorted(directory.accounts.values(), key=lambda a: (a.joined_at, a.domain_id))
    if parent_id is not None:
        accounts = [a for a in accounts if (a.parent_id or organization.root_id) == parent_id]
    start = 0
    if marker is not None:
        ids = [a.domain_id for a in accounts]
        if marker not in ids:
            raise errors.invalid_parameter("marker", "unknown")
        start = ids.index(marker) + 1
    page = accounts[start : start + size]
    more = start + size < len(accounts)
    return {
        "accounts": [_account(organization, account, with_contacts) for account in page],
        "page_info": {"next_marker": page[-1].domain_id if more and page else None, "current_count": len(page)},
    }


def _account(organization: Any, account: Any, with_contacts: bool) -> dict:
    shown = {
        "id": account.domain_id,
        "urn": f"organizations::{organization.management_account}:account:{organization.org_id}/{account.domain_id}",
        "join_method": "created" if account.domain_id != organization.management_account else "invited",
        "status": account.status,
        "joined_at": _iso(account.joined_at),
        "name": account.name,
    }
    if with_contacts:
        shown.update(mobile_phone=None, intl_number_prefix=None, email=None)
    return shown

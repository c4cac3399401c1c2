"""TARGETS discovery: member accounts from Organizations ``ListAccounts`` (docs/organisation.md).

``discover: {organizations: true, ou_ids: [...], exclude_accounts: [...]}``: the function's own
agency credentials call ``ListAccounts`` (``huaweicloudsdkorganizations.v1``, ``GET
/v1/organizations/accounts``, a global service: account-scoped ``GlobalCredentials`` with the home
account's id; IAM ``organizations:accounts:list``), page by page (``limit`` / ``marker`` until
``page_info.next_marker`` is null), once for the whole organisation or once per OU (the accounts
directly under it). Only the management account or a delegated administrator may call it; any
other caller gets 403, reported as ``DISCOVERY_FAILED``.

:func:`member_accounts` is what plans targets: the TARGETS accounts plus the discovered ones
(:meth:`shared.targets.Targets.with_discovered`), the listing cached per process for
:data:`DISCOVERY_TTL_S` (the next invocations of the instance reuse it), one listing at a time
(single flight), a refusal remembered for :data:`REFUSAL_TTL_S`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.cloud.exceptions import CloudCallError
from shared.cloud.gateway import Gateway
from shared.errors import ErrorCode
from shared.targets import ListedAccount

if TYPE_CHECKING:
    from shared.clock import Clock, Deadline
    from shared.cloud.retry import RetryPolicy
    from shared.targets import Targets


class RunLike(Protocol):
    """What discovery needs of an invocation (``shared.runtime.run.Run`` is one; cloud sits below it)."""

    clock: Clock
    deadline: Deadline

    @property
    def retry_policy(self) -> RetryPolicy: ...

    def factory(self) -> Any: ...


__all__ = [
    "DiscoveryFailed",
    "OrganizationsGateway",
    "DiscoveryCache",
    "DISCOVERY",
    "member_accounts",
    "DISCOVERY_TTL_S",
    "REFUSAL_TTL_S",
]

DISCOVERY_TTL_S = 300.0  # an organisation's listing is reused this long: accounts join and leave rarely
REFUSAL_TTL_S = 60.0  # a refused listing is answered from memory this long
PAGE_LIMIT = 1000  # ListAccounts' default and maximum page (doc)
MAX_PAGES = 100  # 100 000 accounts: a marker that never ends stops here


class DiscoveryFailed(Exception):
    """ListAccounts was refused or failed: ``code`` (``DISCOVERY_FAILED``) and whether to retry."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.code = ErrorCode.DISCOVERY_FAILED
        self.message = message
        self.retryable = retryable


class OrganizationsGateway(Gateway):
    """Organizations with the function's own (home) credentials; reads retried like any read."""

    def list_accounts(self, home_domain: str, parent_id: str | None = None) -> list[ListedAccount]:
        """Every account of the organisation (or directly under ``parent_id``), all pages."""
        from huaweicloudsdkorganizations.v1 import ListAccountsRequest

        client = self.factory.organizations(home_domain)
        listed: list[ListedAccount] = []
        marker: str | None = None
        for _ in range(MAX_PAGES):
            request = ListAccountsRequest(parent_id=parent_id, limit=PAGE_LIMIT, marker=marker)
            try:
                response = self._read("organizations.list_accounts", lambda: client.list_accounts(request))
            except CloudCallError as error:
                raise _refusal(error) from None
            listed.extend(
                ListedAccount(str(a.id), a.name, str(a.status or "")) for a in response.accounts or [] if a.id
            )
            page = response.page_info
            marker = page.next_marker if page is not None else None
            if not marker:
                return listed
        raise DiscoveryFailed(f"ListAccounts still had more pages after {MAX_PAGES}", retryable=False)


def _refusal(error: CloudCallError) -> DiscoveryFailed:
    if error.status == 403:
        message = (
            f"Organizations ListAccounts was refused ({error.code}): the home account must be the "
            "organisation's management account or a delegated administrator, and the function's "
            "agency needs organizations:accounts:list"
        )
        return DiscoveryFailed(message, retryable=False)
    retryable = error.transient or error.status in (None, 401)
    return DiscoveryFailed(f"Organizations ListAccounts: {error.describe()}", retryable=retryable)


@dataclass(frozen=True)
class _Entry:
    until: float
    listed: tuple[ListedAccount, ...] = ()
    error: DiscoveryFailed | None = None


class DiscoveryCache:
    """(home account, OU ids) -> the listed accounts, per process; ``listings`` counts the fetches."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, tuple[str, ...]], _Entry] = {}
        self._lock = threading.Lock()  # single flight: the others wait for the first one's listing
        self.listings = 0

    def listed(
        self, key: tuple[str, tuple[str, ...]], now: float, fetch: Callable[[], list[ListedAccount]]
    ) -> tuple[ListedAccount, ...]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.until > now:
                if entry.error is not None:
                    raise entry.error
                return entry.listed
            self.listings += 1
            try:
                listed = tuple(fetch())
            except DiscoveryFailed as error:
                if not error.retryable:
                    self._entries[key] = _Entry(now + REFUSAL_TTL_S, error=error)
                raise
            self._entries[key] = _Entry(now + DISCOVERY_TTL_S, listed)
            return listed

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.listings = 0


DISCOVERY = DiscoveryCache()


def member_accounts(targets: Targets, run: RunLike) -> Targets:
    """``targets`` with the discovered members (itself without ``discover``); raises
    :class:`DiscoveryFailed` when the organisation cannot be listed."""
    discovery = targets.discovery
    if discovery is None:
        return targets
    home = targets.home_account or ""  # parse_targets requires it with discover
    gateway = OrganizationsGateway(run.factory(), clock=run.clock, deadline=run.deadline, policy=run.retry_policy)

    def fetch() -> list[ListedAccount]:
        if not discovery.ou_ids:
            return gateway.list_accounts(home)
        return [account for ou in discovery.ou_ids for account in gateway.list_accounts(home, ou)]

    listed = DISCOVERY.listed((home, discovery.ou_ids), run.clock.monotonic(), fetch)
    return targets.with_discovered(listed)

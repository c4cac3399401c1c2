"""The security-group catalog: names to ids, cached per project for a short time.

One listing of the project's groups serves the name lookups of every message of a batch (and of
the next invocations of the same instance, within ``GROUP_CACHE_TTL_S``); a name the cache does not
know triggers one refresh, so a group created a moment ago is still found. The cache serves names
only: what the guard rails decide on (which groups exist, their names and rules) comes from
:mod:`shared.rails.facts`, fresh within ``FACTS_MAX_AGE_MS``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from shared.cloud.protocols import Network
from shared.errors import ErrorCode, ErrorDetail
from shared.model import SecurityGroup

__all__ = ["GroupCatalog", "catalog_for", "read_address_groups"]


class GroupCatalog:
    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # single flight: one listing when many threads miss at once
        self._groups: dict[str, SecurityGroup] = {}
        self._loaded_at: float | None = None

    def _fresh(self, now: float) -> bool:
        return self._loaded_at is not None and now - self._loaded_at < self.ttl_s

    def _refresh(self, gateway: Network, now: float) -> None:
        groups = gateway.list_security_groups()
        with self._lock:
            self._groups = {group.id: group for group in groups}
            self._loaded_at = now

    def groups(self, gateway: Network, now: float, *, force: bool = False) -> dict[str, SecurityGroup]:
        if force or not self._fresh(now):
            with self._refresh_lock:
                # Another thread may have refreshed while this one waited (its ``now`` may be a little
                # older than this one's: a TTL miss only needs a fresh catalog, a forced refresh a newer one).
                if self._loaded_at is None or not (self._loaded_at >= now if force else self._fresh(now)):
                    self._refresh(gateway, now)
        return self._groups

    def resolve(
        self, refs: list[dict[str, Any]], gateway: Network, now: float, path: str = "$.change.security_groups"
    ) -> tuple[list[str], list[ErrorDetail]]:
        """Ids in request order for ``[{"id": ...} | {"name": ...}]``; unknown or ambiguous names are errors.

        An id is passed through as it is: whether that group exists, and what it allows, is read
        fresh for the decision (:mod:`shared.rails.facts`), never answered by this cache.
        """
        groups = self.groups(gateway, now)
        # An unknown name forces one re-listing, at most once a second (a poison batch that names a
        # missing group in every message must not turn into one listing per message).
        names = {group.name for group in groups.values()}
        if (
            any("name" in ref and ref["name"] not in names for ref in refs)
            and now - (self._loaded_at or float("-inf")) > 1.0
        ):
            groups = self.groups(gateway, now, force=True)
        ids: list[str] = []
        errors: list[ErrorDetail] = []
        for index, ref in enumerate(refs):
            if "id" in ref:
                ids.append(ref["id"])
                continue
            matches = [group.id for group in groups.values() if group.name == ref["name"]]
            if len(matches) == 1:
                ids.append(matches[0])
            elif not matches:
                errors.append(
                    ErrorDetail(
                        ErrorCode.SECURITY_GROUP_NOT_FOUND,
                        f"no security group named {ref['name']!r}",
                        f"{path}[{index}].name",
                    )
                )
            else:
                errors.append(
                    ErrorDetail(
                        ErrorCode.SECURITY_GROUP_AMBIGUOUS,
                        f"{len(matches)} security groups are named {ref['name']!r}; use its id "
                        f"({', '.join(sorted(matches))})",
                        f"{path}[{index}].name",
                    )
                )
        return ids, errors

    def known(self) -> dict[str, SecurityGroup]:
        """What the last listing said (nothing before the first): never a call."""
        return self._groups

    def current(self, gateway: Network, now: float) -> dict[str, SecurityGroup]:
        """What the last listing said (listing only if there was none): for checks that need no refresh."""
        return self._groups if self._loaded_at is not None else self.groups(gateway, now)

    def name_counts(self, fresh: dict[str, SecurityGroup]) -> Counter[str]:
        """How many groups carry each name: the catalog, overridden by what was just read."""
        merged = {**self._groups, **fresh}
        return Counter(group.name for group in merged.values())


def read_address_groups(
    groups: Iterable[SecurityGroup], gateway: Network, known: Mapping[str, list[str] | None] | None = None
) -> dict[str, list[str] | None]:
    """The ``ip_set`` of every IP address group that an inbound rule of ``groups`` names, each read
    once (None: it could not be read, and counts as everyone); ``known`` ones are not read again."""
    found: dict[str, list[str] | None] = {}
    for group in groups:
        for rule in group.rules or []:
            ref = rule.remote_address_group_id
            if ref and ref not in found and rule.direction == "ingress":
                found[ref] = known[ref] if known is not None and ref in known else gateway.show_address_group(ref)
    return found


_CATALOGS: dict[tuple[str, str], GroupCatalog] = {}
_CATALOGS_LOCK = threading.Lock()


def catalog_for(project_id: str, endpoint: str, ttl_s: float) -> GroupCatalog:
    with _CATALOGS_LOCK:
        catalog = _CATALOGS.get((project_id, endpoint))
        if catalog is None or catalog.ttl_s != ttl_s:
            catalog = GroupCatalog(ttl_s)
            _CATALOGS[(project_id, endpoint)] = catalog
        return catalog

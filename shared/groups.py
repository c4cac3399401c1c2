"""The security-group catalog: names to ids, and rules, cached per project for a short time.

One listing of the project's groups serves every message of a batch (and the next invocations of
the same instance, within ``GROUP_CACHE_TTL_S``); rules are read once per group. A reference the
cache does not know triggers one refresh, so a group created a moment ago is still found.
"""

from __future__ import annotations

import threading

from .cloud.gateway import NetworkGateway
from .errors import ErrorCode, ErrorDetail
from .model import SecurityGroup

__all__ = ["GroupCatalog", "catalog_for"]


class GroupCatalog:
    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # single flight: one listing when many threads miss at once
        self._rules_lock = threading.Lock()
        self._groups: dict[str, SecurityGroup] = {}
        self._loaded_at: float | None = None
        self._rules: dict[str, tuple[float, SecurityGroup]] = {}

    def _fresh(self, now: float) -> bool:
        return self._loaded_at is not None and now - self._loaded_at < self.ttl_s

    def _refresh(self, gateway: NetworkGateway, now: float) -> None:
        groups = gateway.list_security_groups()
        with self._lock:
            self._groups = {group.id: group for group in groups}
            self._loaded_at = now

    def groups(self, gateway: NetworkGateway, now: float, *, force: bool = False) -> dict[str, SecurityGroup]:
        if force or not self._fresh(now):
            with self._refresh_lock:
                # Another thread may have refreshed while this one waited (its ``now`` may be a little
                # older than this one's: a TTL miss only needs a fresh catalog, a forced refresh a newer one).
                if self._loaded_at is None or not (self._loaded_at >= now if force else self._fresh(now)):
                    self._refresh(gateway, now)
        return self._groups

    def resolve(self, refs: list[dict], gateway: NetworkGateway, now: float,
                path: str = "$.change.security_groups") -> tuple[list[str], list[ErrorDetail]]:
        """Ids in request order for ``[{"id": ...} | {"name": ...}]``; unknown or ambiguous refs are errors."""
        groups = self.groups(gateway, now)
        # An unknown reference forces one re-listing, at most once a second (a poison batch that names a
        # missing group in every message must not turn into one listing per message).
        if self._needs_refresh(refs, groups) and now - (self._loaded_at or float("-inf")) > 1.0:
            groups = self.groups(gateway, now, force=True)
        ids: list[str] = []
        errors: list[ErrorDetail] = []
        for index, ref in enumerate(refs):
            if "id" in ref:
                if ref["id"] in groups:
                    ids.append(ref["id"])
                else:
                    errors.append(ErrorDetail(ErrorCode.SECURITY_GROUP_NOT_FOUND,
                                              f"no security group with id {ref['id']}", f"{path}[{index}].id"))
                continue
            matches = [group.id for group in groups.values() if group.name == ref["name"]]
            if len(matches) == 1:
                ids.append(matches[0])
            elif not matches:
                errors.append(ErrorDetail(ErrorCode.SECURITY_GROUP_NOT_FOUND,
                                          f"no security group named {ref['name']!r}", f"{path}[{index}].name"))
            else:
                errors.append(ErrorDetail(ErrorCode.SECURITY_GROUP_AMBIGUOUS,
                                          f"{len(matches)} security groups are named {ref['name']!r}; use its id "
                                          f"({', '.join(sorted(matches))})", f"{path}[{index}].name"))
        return ids, errors

    @staticmethod
    def _needs_refresh(refs: list[dict], groups: dict[str, SecurityGroup]) -> bool:
        names = {group.name for group in groups.values()}
        return any(("id" in ref and ref["id"] not in groups) or ("name" in ref and ref["name"] not in names)
                   for ref in refs)

    def with_rules(self, group_ids, gateway: NetworkGateway, now: float) -> dict[str, SecurityGroup]:
        """The groups with their rules (read once per group per TTL)."""
        result: dict[str, SecurityGroup] = {}
        for group_id in dict.fromkeys(group_ids):
            cached = self._rules.get(group_id)
            if cached is None or now - cached[0] >= self.ttl_s:
                with self._rules_lock:
                    cached = self._rules.get(group_id)
                    if cached is None or now - cached[0] >= self.ttl_s:
                        cached = (now, gateway.show_security_group(group_id))
                        self._rules[group_id] = cached
            result[group_id] = cached[1]
        return result

    def for_guardrails(self, plans, gateway: NetworkGateway, now: float) -> dict[str, SecurityGroup]:
        """Every group the plans mention, with the rules of those being attached (the risky check)."""
        added = [g for plan in plans for g in plan.after if g not in plan.before]
        groups = self.known({g for plan in plans for g in plan.before + plan.after})
        groups.update(self.with_rules(added, gateway, now))
        return groups

    def known(self, group_ids) -> dict[str, SecurityGroup]:
        """Catalog entries (without rules) for ids, with a placeholder for ids it lacks."""
        return {gid: self._groups.get(gid) or SecurityGroup(gid, "") for gid in group_ids}


_CATALOGS: dict[tuple[str, str], GroupCatalog] = {}
_CATALOGS_LOCK = threading.Lock()


def catalog_for(project_id: str, endpoint: str, ttl_s: float) -> GroupCatalog:
    with _CATALOGS_LOCK:
        catalog = _CATALOGS.get((project_id, endpoint))
        if catalog is None or catalog.ttl_s != ttl_s:
            catalog = GroupCatalog(ttl_s)
            _CATALOGS[(project_id, endpoint)] = catalog
        return catalog

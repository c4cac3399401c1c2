"""Clients per target: the member's session (:mod:`shared.cloud.agencies`) and the region's endpoints.

Endpoints of a region other than the home one come from the SDK's own conventions,
``<Service>Region.value_of(region)``, which reads ``HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION>``
(and ``HUAWEICLOUD_SDK_REGIONS_FILE``) before its built-in table: one mechanism for the real cloud
and localcloud. The home region keeps ``ECS_ENDPOINT`` / ``VPC_ENDPOINT``.

With ``projects: all`` a member's project is checked against the account's own project listing
(IAM ``KeystoneListProjects``, ``iam:projects:list`` in the member agency): a region's project is
named after the region, a sub-project ``<region>_<name>``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared import records
from shared.cloud.agencies import SESSIONS, AssumeFailed, MemberSession, StsGateway, session_name
from shared.cloud.clients import AgencyCredentials, ClientFactory
from shared.cloud.exceptions import CloudCallError
from shared.cloud.gateway import Gateway
from shared.errors import ErrorCode

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.targets import MemberAccount, Target

__all__ = ["region_endpoints", "target_settings", "TargetClients", "project_in_listing"]

_OVERRIDABLE = {"protected_groups": tuple, "allowed_groups": tuple, "drift_mode": str, "ecs_created_mode": str}
_FACTORY_LIMIT = 64


def region_endpoints(settings: Settings, region: str) -> tuple[str, str]:
    """(VPC, ECS) endpoints of ``region``."""
    if region == settings.region:
        return settings.vpc_endpoint, settings.ecs_endpoint
    from huaweicloudsdkecs.v2.region.ecs_region import EcsRegion
    from huaweicloudsdkvpc.v2.region.vpc_region import VpcRegion

    try:
        return VpcRegion.value_of(region).endpoints[0], EcsRegion.value_of(region).endpoints[0]
    except KeyError:
        raise AssumeFailed(
            ErrorCode.ASSUME_FAILED, f"no VPC / ECS endpoint known for region {region}", retryable=False
        ) from None


def target_settings(settings: Settings, target: Target) -> Settings:
    """The settings of a target: its region, project and endpoints; its TARGETS overrides."""
    vpc, ecs = region_endpoints(settings, target.region)
    changes: dict[str, Any] = {"region": target.region, "project_id": target.project_id}
    changes.update(vpc_endpoint=vpc, ecs_endpoint=ecs)
    overrides = settings.targets.overrides(target) if settings.targets else {}
    for name, kind in _OVERRIDABLE.items():
        if name in overrides:
            changes[name] = kind(overrides[name])
    if "policy_file" in overrides:
        changes["policy_file"] = overrides["policy_file"]
    return records.replace(settings, **changes)


def project_in_listing(projects: list[Any], region: str, project_id: str) -> bool:
    """Is ``project_id`` one of the listed projects of ``region`` (the region's or a sub-project)?"""
    return any(p.id == project_id and (p.name == region or str(p.name).startswith(region + "_")) for p in projects)


class TargetClients:
    """Client factories per target, on the sessions of :data:`SESSIONS` (per process)."""

    def __init__(self) -> None:
        self._factories: dict[tuple[str, str], ClientFactory] = {}
        self._projects: dict[tuple[str, str], tuple[float, list[Any]]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._factories.clear()
            self._projects.clear()

    def factory(
        self, target: Target, member: MemberAccount, settings: Settings, sts: StsGateway, run_ids: tuple[str, str]
    ) -> ClientFactory:
        """The factory of ``target`` (``settings``: the target's), assuming the member's agency first
        when no valid session is cached. ``run_ids``: the function and the request id (session name)."""
        targets = settings.targets
        duration_s = targets.duration_s if targets else 3600
        name = session_name(*run_ids)
        session = SESSIONS.session(
            member, sts.clock.epoch(), lambda: sts.assume(member, session=name, duration_s=duration_s)
        )
        return self._factory_for(target, session, settings)

    def _factory_for(self, target: Target, session: MemberSession, settings: Settings) -> ClientFactory:
        key = (target.key, session.ak)
        with self._lock:
            factory = self._factories.get(key)
            if factory is None:
                if len(self._factories) >= _FACTORY_LIMIT:  # renewed sessions: drop the oldest
                    self._factories.pop(next(iter(self._factories)))
                credentials = AgencyCredentials(session.ak, session.sk, session.security_token, target.project_id)
                factory = ClientFactory(credentials, settings, pool_size=max(4, settings.concurrency))
                self._factories[key] = factory
            return factory

    def check_listed(self, target: Target, factory: ClientFactory, gateway: Gateway, ttl_s: float) -> bool:
        """``projects: all``: is the target's project one of its account's in its region (IAM's listing,
        read once per account and ``ttl_s``)?"""
        return project_in_listing(self._listing(target, factory, gateway, ttl_s), target.region, target.project_id)

    def listed_projects(self, target: Target, factory: ClientFactory, gateway: Gateway, ttl_s: float) -> list[Any]:
        """The projects of the target's account as its IAM listing gives them (cached per account and
        ``ttl_s``; the fanned-out sweep plans ``projects: all`` from it)."""
        return self._listing(target, factory, gateway, ttl_s)

    def region_of(self, target: Target, factory: ClientFactory, gateway: Gateway, ttl_s: float) -> str | None:
        """The region of ``target``'s project, as its account's project listing names it (``<region>``
        or ``<region>_<name>``); None when the account has no such project."""
        projects = self._listing(target, factory, gateway, ttl_s)
        for project in projects:
            if project.id == target.project_id:
                name = str(project.name)
                return name.partition("_")[0] if "_" in name else name
        return None

    def _listing(self, target: Target, factory: ClientFactory, gateway: Gateway, ttl_s: float) -> list[Any]:
        """The account's projects (IAM ``KeystoneListProjects``: every region's), once per account and ``ttl_s``."""
        from huaweicloudsdkiam.v3 import KeystoneListProjectsRequest

        key = (target.account or "", "")
        now = gateway.clock.monotonic()
        with self._lock:
            cached = self._projects.get(key)
        if cached is None or cached[0] <= now:
            client = factory.iam(target.account or "")
            try:
                response = gateway._read(
                    "iam.keystone_list_projects", lambda: client.keystone_list_projects(KeystoneListProjectsRequest())
                )
            except CloudCallError as error:
                if error.status == 403:
                    message = f"listing the projects of account {target.account} was refused ({error.code})"
                    raise AssumeFailed(ErrorCode.ACCESS_DENIED, message, retryable=False) from None
                raise
            cached = (now + ttl_s, list(response.projects or []))
            with self._lock:
                self._projects[key] = cached
        return cached[1]


TARGET_CLIENTS = TargetClients()
__all__ += ["TARGET_CLIENTS"]

"""``sgguard targets --check``: can each resolved target be reached from the home account?

For the home project nothing is assumed (the caller's own credentials). With ``discover`` the
organisation is listed first (Organizations ListAccounts, as the functions do:
``shared.cloud.discovery``). For each member account: STS AssumeAgency of its agency (the
functions' own :class:`shared.cloud.agencies.StsGateway`, so a refusal carries the code a
function would report: ``AGENCY_MISSING``, ``ACCESS_DENIED``, ``ASSUME_FAILED``), then, per region,
with ``projects: all``, the account's IAM project listing (the region's project and its
sub-projects, less ``exclude_projects``); listed projects are taken as they are. Every row is
one target (account, region, project) or the reason a whole account or region is not reachable.
Nothing is written; the sessions are not kept.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["check_targets", "walk_targets", "discover", "endpoint_environment", "SESSION_S"]

SESSION_S = 900  # AssumeAgency's shortest session: the check only proves it can be had


def _row(account: Any, region: str | None, project: str | None, code: str | None, message: str) -> dict:
    return {
        "account": getattr(account, "domain_id", account),
        "name": getattr(account, "name", None),
        "region": region,
        "project_id": project,
        "ok": code is None,
        "code": code,
        "message": message,
    }


def _projects(run: Any, member: Any, session: Any, region: str, iam_endpoint: str) -> list[str]:
    """The account's projects of ``region`` by its own IAM listing (``projects: all``)."""
    from huaweicloudsdkcore.auth.credentials import GlobalCredentials
    from huaweicloudsdkiam.v3 import IamClient, KeystoneListProjectsRequest

    from shared.cloud.clients import AgencyCredentials, ClientFactory
    from shared.cloud.gateway import Gateway
    from shared.cloud.targets import project_in_listing

    factory = ClientFactory(AgencyCredentials(session.ak, session.sk, session.security_token, ""), run.settings)
    credentials = GlobalCredentials(session.ak, session.sk, member.domain_id).with_security_token(
        session.security_token
    )
    client = factory.client("iam", IamClient, iam_endpoint, credentials)
    gateway = Gateway(factory, clock=run.clock, deadline=run.deadline, policy=run.retry_policy)
    listed = gateway._read(
        "iam.keystone_list_projects", lambda: client.keystone_list_projects(KeystoneListProjectsRequest())
    )
    projects = list(listed.projects or [])
    return [p.id for p in projects if project_in_listing([p], region, p.id) and p.id not in member.exclude_projects]


def _iam_endpoint(region: str, override: str | None) -> str:
    if override:
        return override
    from huaweicloudsdkiam.v3.region.iam_region import IamRegion

    return str(IamRegion.value_of(region).endpoints[0])


def walk_targets(targets: Any, run: Any, *, endpoint_override: str | None = None) -> Iterator[tuple[dict, Any, Any]]:
    """Each member target (or unreachable scope) as ``(row, member, session)``; ``session`` None when
    the row is a failure. ``targets``: already with the discovered members."""
    from shared.cloud.agencies import AssumeFailed, StsGateway, session_name
    from shared.cloud.exceptions import CloudCallError

    sts = StsGateway(run.factory(), clock=run.clock, deadline=run.deadline, policy=run.retry_policy)
    name = session_name("targets-check", uuid.uuid4().hex[:12])
    for member in targets.accounts.values():
        try:
            session = sts.assume(member, session=name, duration_s=SESSION_S)
        except AssumeFailed as error:
            yield _row(member, None, None, error.code, error.message), member, None
            continue
        for region in member.regions:
            if member.projects is not None:
                for project in member.projects:
                    if project not in member.exclude_projects:
                        yield _row(member, region, project, None, "assumed"), member, session
                continue
            try:
                found = _projects(run, member, session, region, _iam_endpoint(region, endpoint_override))
            except CloudCallError as error:
                code = "ACCESS_DENIED" if error.status == 403 else "ASSUME_FAILED"
                message = f"assumed, but listing its projects: {error.describe()}"
                yield _row(member, region, None, code, message), member, None
                continue
            except KeyError:
                yield _row(member, region, None, "ASSUME_FAILED", f"no IAM endpoint known for {region}"), member, None
                continue
            if not found:
                message = f"the account has no project in {region}"
                yield _row(member, region, None, "TARGET_NOT_ALLOWED", message), member, None
            for project in found:
                yield _row(member, region, project, None, "assumed; project listed by the account"), member, session


def discover(targets: Any, run: Any) -> tuple[Any, dict | None]:
    """``targets`` with the discovered members, and the discovery's own row (None without ``discover``)."""
    from shared.cloud.discovery import DiscoveryFailed, member_accounts

    if targets.discovery is None:
        return targets, None
    try:
        found = member_accounts(targets, run)
    except DiscoveryFailed as error:
        return targets, {"ok": False, "code": error.code, "message": error.message}
    return found, {"ok": True, "code": None, "message": f"{len(found.discovered)} member(s) discovered"}


def check_targets(targets: Any, run: Any, *, endpoint_override: str | None = None) -> dict:
    """``{"discovery": {...} | None, "targets": [row, ...]}``: one row per target or unreachable scope."""
    home = targets.home_account
    rows = [_row(home or "home", run.settings.region, run.settings.project_id, None, "home project: the caller's own")]
    targets, discovery = discover(targets, run)
    rows.extend(row for row, _member, _session in walk_targets(targets, run, endpoint_override=endpoint_override))
    return {"discovery": discovery, "targets": rows}


@contextmanager
def endpoint_environment(endpoint: str | None, regions: set[str]) -> Iterator[None]:
    """With ``--endpoint`` (one URL for every service, localcloud's), the SDK's own endpoint
    variables for the global services the check calls, for the time of the check only."""
    if not endpoint:
        yield
        return
    names = [f"HUAWEICLOUD_SDK_REGION_ORGANIZATIONS_{r.replace('-', '_').upper()}" for r in regions]
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: endpoint for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

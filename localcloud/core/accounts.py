"""Accounts (IAM domains), their projects in every region, and their agencies: global state.

One :class:`Directory` is shared by the backends of every region an emulated cloud serves (IAM
and STS are global services): a project belongs to one account and one region, an AK to one
account, an agency to the account that created it. A backend's per-project service state stays
in :class:`localcloud.core.state.Backend`; this module only says who owns what.

A project that no account registered (the single-project seeds of the past) belongs to nobody:
its credentials work as before, bound to that project alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Account",
    "ProjectRecord",
    "Agency",
    "Organization",
    "Directory",
    "DEFAULT_DOMAIN_ID",
    "AGENCY_DURATION_LIMITS",
]

DEFAULT_DOMAIN_ID = "d0d0d0d0d0d0400080000000000000a1"  # the default seed's account (32 hex, like IAM's)
# STS AssumeAgency: 900..43200 s, at most 3600 s when the caller signs with temporary credentials (doc)
AGENCY_DURATION_LIMITS = (900, 43200, 3600)


@dataclass
class Account:
    domain_id: str
    name: str
    status: str = "active"  # Organizations' account status: active | suspended | pending_closure
    parent_id: str | None = None  # its organisational unit (None: the organisation's root)
    joined_at: float = 0.0  # epoch seconds it joined the organisation


@dataclass
class ProjectRecord:
    project_id: str
    domain_id: str
    region: str
    name: str
    parent_id: str  # the account for a region's project, the region's project for a sub-project


@dataclass
class Agency:
    """A member account's agency: which account may assume it, with which external id."""

    domain_id: str
    name: str
    trusted_domain_id: str
    external_id: str | None = None
    max_duration_s: int = 3600
    agency_id: str = ""

    @property
    def urn(self) -> str:
        return f"iam::{self.domain_id}:agency:{self.name}"


@dataclass
class Organization:
    """Huawei Cloud Organizations: one management account, its delegated administrators, its
    root and organisational units; every account of the directory is a member."""

    org_id: str
    management_account: str
    root_id: str
    delegated_administrators: set[str] = field(default_factory=set)
    units: dict[str, str] = field(default_factory=dict)  # ou id -> name

    def may_list_accounts(self, domain_id: str | None) -> bool:
        return domain_id is not None and (
            domain_id == self.management_account or domain_id in self.delegated_administrators
        )


@dataclass
class Directory:
    accounts: dict[str, Account] = field(default_factory=dict)
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    agencies: dict[tuple[str, str], Agency] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)  # AK -> state.Credential, valid in every region
    organization: Organization | None = None
    # region -> its state.Backend (EventGrid forwards to another region's channel); kept by clear()
    backends: dict[str, Any] = field(default_factory=dict, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def add_account(self, domain_id: str, name: str, status: str = "active") -> Account:
        with self.lock:
            account = self.accounts.setdefault(domain_id, Account(domain_id, name, status))
            account.name, account.status = name, status
            return account

    def add_project(
        self, project_id: str, domain_id: str, region: str, name: str, parent_id: str | None = None
    ) -> ProjectRecord:
        with self.lock:
            record = ProjectRecord(project_id, domain_id, region, name, parent_id or domain_id)
            self.projects[project_id] = record
            return record

    def add_agency(self, agency: Agency) -> Agency:
        with self.lock:
            if not agency.agency_id:
                agency.agency_id = f"{len(self.agencies) + 1:032x}"
            self.agencies[(agency.domain_id, agency.name)] = agency
            return agency

    def owner_of(self, project_id: str | None) -> str | None:
        """The account a project belongs to, or None for an unregistered one."""
        record = self.projects.get(project_id or "")
        return record.domain_id if record else None

    def agency(self, domain_id: str, name: str) -> Agency | None:
        return self.agencies.get((domain_id, name))

    def projects_of(self, domain_id: str) -> list[ProjectRecord]:
        with self.lock:
            return sorted((r for r in self.projects.values() if r.domain_id == domain_id), key=lambda r: r.name)

    def clear(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.projects.clear()
            self.agencies.clear()
            self.credentials.clear()
            self.organization = None

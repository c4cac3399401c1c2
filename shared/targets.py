"""TARGETS: the member accounts, regions and projects one deployment governs (pure, no I/O).

The setting (``TARGETS`` inline JSON, or ``TARGETS_FILE``, YAML in the package) is schema-checked
against ``shared/schemas/targets.v1.json`` and then by the rules a schema cannot say (an account
listed twice, the home account listed as a member). :func:`parse_targets` turns it into a
:class:`Targets`; :meth:`Targets.resolve` decides which :class:`Target` a change request names,
or why it may not. The home project (the function's own account, region and project) is always a
target, implied. Overrides layer defaults < account < region < project.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ErrorCode, ErrorDetail

__all__ = [
    "Target",
    "MemberAccount",
    "Discovery",
    "ListedAccount",
    "Targets",
    "TargetsError",
    "parse_targets",
    "TARGETS_SCHEMA",
]

TARGETS_SCHEMA = "targets.v1"
DEFAULT_AGENCY = "sgguard-member"
_DOMAIN_ID = re.compile(r"[0-9a-f]{32}")
DEFAULT_DURATION_S = 3600  # AssumeAgency's default and the cap for a caller holding temporary credentials


class TargetsError(ValueError):
    """TARGETS is malformed: every problem with its JSON path."""

    def __init__(self, details: list[ErrorDetail]):
        super().__init__("; ".join(f"{d.path}: {d.message}" for d in details))
        self.details = details


@dataclass(frozen=True)
class Target:
    """One governed (account, region, project); ``home``: the function's own."""

    account: str | None  # domain id (None: the home account, when TARGETS does not give its id)
    region: str
    project_id: str
    home: bool = False
    account_name: str | None = None

    @property
    def key(self) -> str:
        """Names the target in idempotency keys, locks and caches."""
        return f"{self.account or 'home'}/{self.region}/{self.project_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_name": self.account_name,
            "region": self.region,
            "project_id": self.project_id,
            "home": self.home,
        }


@dataclass(frozen=True)
class MemberAccount:
    domain_id: str
    name: str | None
    agency: str
    external_id: str | None = field(default=None, repr=False)
    regions: tuple[str, ...] = ()
    projects: tuple[str, ...] | None = None  # None: "all" (the account's own project listing decides)
    exclude_projects: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    region_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    project_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def agency_urn(self) -> str:
        return f"iam::{self.domain_id}:agency:{self.agency}"

    def project_listed(self, project_id: str) -> bool | None:
        """True / False from TARGETS alone; None: ``projects: all``, the account's listing decides."""
        if project_id in self.exclude_projects:
            return False
        return None if self.projects is None else project_id in self.projects


@dataclass(frozen=True)
class ListedAccount:
    """One account as Organizations ListAccounts lists it."""

    domain_id: str
    name: str | None
    status: str  # active | suspended | pending_closure (doc)


@dataclass(frozen=True)
class Discovery:
    """``discover: {organizations: true}``: members from Organizations ListAccounts, given the
    defaults (agency, regions, projects) of an account TARGETS does not list."""

    ou_ids: tuple[str, ...] = ()  # empty: the whole organisation; else the accounts directly under each
    exclude_accounts: frozenset[str] = frozenset()
    agency: str = DEFAULT_AGENCY
    regions: tuple[str, ...] = ()
    projects: tuple[str, ...] | None = None

    def member(self, listed: ListedAccount) -> MemberAccount:
        return MemberAccount(listed.domain_id, listed.name, self.agency, regions=self.regions, projects=self.projects)


@dataclass(frozen=True)
class Targets:
    accounts: Mapping[str, MemberAccount]
    home_account: str | None = None
    home_name: str | None = None
    defaults_overrides: Mapping[str, Any] = field(default_factory=dict)
    duration_s: int = DEFAULT_DURATION_S
    discovery: Discovery | None = None
    discovered: frozenset[str] = frozenset()  # the accounts :meth:`with_discovered` added

    def with_discovered(self, listed: Iterable[ListedAccount]) -> Targets:
        """These targets with the members ListAccounts found: active accounts only, the home account
        and ``exclude_accounts`` left out; an account TARGETS lists keeps its own entry."""
        if self.discovery is None:
            return self
        found: dict[str, MemberAccount] = {}
        for account in listed:
            # an id that is not 32 lowercase hex (as IAM writes them) is no member: it would go into
            # an agency URN and a header, and no request could name it (the schema's id pattern)
            malformed = not _DOMAIN_ID.fullmatch(account.domain_id)
            skip = malformed or account.status != "active" or account.domain_id == self.home_account
            if skip or account.domain_id in self.discovery.exclude_accounts or account.domain_id in self.accounts:
                continue
            found.setdefault(account.domain_id, self.discovery.member(account))
        merged = {**self.accounts, **found}  # TARGETS order first, then the organisation's
        return dataclasses.replace(self, accounts=merged, discovered=frozenset(found))

    def member(self, domain_id: str | None) -> MemberAccount | None:
        return self.accounts.get(domain_id or "")

    def overrides(self, target: Target) -> dict[str, Any]:
        """The overrides of a member ``target``: defaults < account < region < project. The home
        project keeps its own settings (none: TARGETS never changes how the home project is governed)."""
        member = None if target.home else self.member(target.account)
        if member is None:
            return {}
        layered = dict(self.defaults_overrides)
        layered.update(member.overrides)
        layered.update(member.region_overrides.get(target.region, {}))
        layered.update(member.project_overrides.get(target.project_id, {}))
        return layered

    def home_target(self, region: str, project_id: str) -> Target:
        return Target(self.home_account, region, project_id, home=True, account_name=self.home_name)

    def resolve(self, named: Mapping[str, Any], home: Target) -> tuple[Target | None, ErrorDetail | None]:
        """The target a request's ``target`` names (``account``, ``region``, ``project_id``; absent:
        the home project's), or the ``TARGET_NOT_ALLOWED`` refusal with the field's path."""
        return resolve_target(self, named, home)


def _refusal(message: str, path: str) -> tuple[None, ErrorDetail]:
    return None, ErrorDetail(ErrorCode.TARGET_NOT_ALLOWED, message, path)


def resolve_target(
    targets: Targets | None, named: Mapping[str, Any], home: Target
) -> tuple[Target | None, ErrorDetail | None]:
    """See :meth:`Targets.resolve`; ``targets`` None (no TARGETS): the home project only."""
    account, region, project_id = named.get("account"), named.get("region"), named.get("project_id")
    home_account = targets.home_account if targets else None
    if account is None or (home_account is not None and account == home_account):
        if region not in (None, home.region):
            return _refusal(f"region {region} is not the home project's ({home.region})", "$.target.region")
        if project_id not in (None, home.project_id):
            return _refusal("project_id is not the home project's", "$.target.project_id")
        return home, None
    member = targets.member(account) if targets else None
    if member is None:
        return _refusal(f"account {account} is not one of TARGETS", "$.target.account")
    if region is None or project_id is None:
        missing = "$.target.region" if region is None else "$.target.project_id"
        return _refusal("a member account's request names its region and project_id too", missing)
    if region not in member.regions:
        return _refusal(f"region {region} is not one of account {account}'s in TARGETS", "$.target.region")
    if member.project_listed(project_id) is False:
        return _refusal(f"project {project_id} is not one of account {account}'s in TARGETS", "$.target.project_id")
    return Target(account, region, project_id, account_name=member.name), None


def _layer_regions(defaults: Mapping[str, Any], doc: Mapping[str, Any], home_region: str) -> tuple[str, ...]:
    if "regions" in doc:
        return tuple(doc["regions"])
    base = tuple(defaults.get("regions") or (home_region,))
    excluded = set(doc.get("exclude_regions", ()))
    return tuple(region for region in base if region not in excluded)


def _projects(defaults: Mapping[str, Any], doc: Mapping[str, Any]) -> tuple[str, ...] | None:
    value = doc.get("projects", defaults.get("projects", "all"))
    return None if value == "all" else tuple(value)


_EXCLUSIVE: tuple[tuple[str, str], ...] = (("regions", "exclude_regions"), ("projects", "exclude_projects"))


def _both_lists(document: Any) -> list[ErrorDetail]:
    """Each scope takes an include list or an exclude list, not both (schema-valid ``document``)."""
    scopes: list[tuple[str, Any, tuple[tuple[str, str], ...]]]
    scopes = [(f"$.accounts[{i}]", doc, _EXCLUSIVE) for i, doc in enumerate(document.get("accounts", []))]
    problems = [
        ErrorDetail(ErrorCode.SCHEMA_VIOLATION, f"give {include} or {exclude}, not both", f"{path}.{exclude}")
        for path, doc, pairs in scopes
        for include, exclude in pairs
        if include in doc and exclude in doc
    ]
    return problems + _policy_files_outside(document)


def _policy_files_outside(document: Any) -> list[ErrorDetail]:
    """An override's ``policy_file`` stays inside the code package: no ``..`` part."""
    scopes = [("$.defaults.overrides", document.get("defaults", {}).get("overrides", {}))]
    for i, doc in enumerate(document.get("accounts", [])):
        scopes.append((f"$.accounts[{i}].overrides", doc.get("overrides", {})))
        for kind in ("region_overrides", "project_overrides"):
            scopes.extend((f"$.accounts[{i}].{kind}.{key}", value) for key, value in doc.get(kind, {}).items())
    message = "must be a relative path inside the code package (no '..' part)"
    return [
        ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, f"{path}.policy_file")
        for path, overrides in scopes
        if ".." in str(overrides.get("policy_file", "")).split("/")
    ]


def parse_targets(document: object, *, home_region: str) -> Targets:
    """A schema-checked TARGETS document as :class:`Targets`; :class:`TargetsError` otherwise."""
    from shared.validation import schema_errors  # jsonschema: only when TARGETS is set

    errors = schema_errors(TARGETS_SCHEMA, document) or _both_lists(document)
    if errors:
        raise TargetsError(errors)
    assert isinstance(document, dict)
    defaults = document.get("defaults", {})
    home = document.get("home", {})
    accounts: dict[str, MemberAccount] = {}
    problems: list[ErrorDetail] = []
    for index, doc in enumerate(document.get("accounts", [])):
        domain_id, path = doc["domain_id"], f"$.accounts[{index}].domain_id"
        if domain_id in accounts:
            problems.append(ErrorDetail(ErrorCode.SCHEMA_VIOLATION, f"account {domain_id} is listed twice", path))
            continue
        if domain_id == home.get("domain_id"):
            message = "the home account is a target already (implied): list only member accounts"
            problems.append(ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, path))
            continue
        regions = _layer_regions(defaults, doc, home_region)
        if not regions:
            message = "no region left after exclude_regions"
            problems.append(ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, f"$.accounts[{index}].exclude_regions"))
        accounts[domain_id] = MemberAccount(
            domain_id=domain_id,
            name=doc.get("name"),
            agency=doc.get("agency", defaults.get("agency", DEFAULT_AGENCY)),
            external_id=doc.get("external_id"),
            regions=regions,
            projects=_projects(defaults, doc),
            exclude_projects=tuple(doc.get("exclude_projects", ())),
            overrides=dict(doc.get("overrides", {})),
            region_overrides={k: dict(v) for k, v in doc.get("region_overrides", {}).items()},
            project_overrides={k: dict(v) for k, v in doc.get("project_overrides", {}).items()},
        )
    discovery = _discovery(document, defaults, home_region, accounts, problems)
    if problems:
        raise TargetsError(problems)
    return Targets(
        discovery=discovery,
        accounts=accounts,
        home_account=home.get("domain_id"),
        home_name=home.get("name"),
        defaults_overrides=dict(defaults.get("overrides", {})),
        duration_s=defaults.get("duration_s", DEFAULT_DURATION_S),
    )


def _discovery(
    document: Mapping[str, Any],
    defaults: Mapping[str, Any],
    home_region: str,
    accounts: Mapping[str, MemberAccount],
    problems: list[ErrorDetail],
) -> Discovery | None:
    """``discover``: None unless ``organizations: true``; the rules a schema cannot say go to ``problems``."""
    discover = document.get("discover", {})
    if not discover.get("organizations"):
        return None
    if not document.get("home", {}).get("domain_id"):
        message = "discover.organizations needs the home account's id (ListAccounts is called as it; it is no member)"
        problems.append(ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, "$.home.domain_id"))
    excluded = frozenset(discover.get("exclude_accounts", ()))
    for index, doc in enumerate(document.get("accounts", [])):
        if doc["domain_id"] in excluded:
            message = f"account {doc['domain_id']} is listed and excluded: remove it from one of them"
            problems.append(ErrorDetail(ErrorCode.SCHEMA_VIOLATION, message, f"$.accounts[{index}].domain_id"))
    return Discovery(
        ou_ids=tuple(discover.get("ou_ids", ())),
        exclude_accounts=excluded,
        agency=defaults.get("agency", DEFAULT_AGENCY),
        regions=_layer_regions(defaults, {}, home_region),
        projects=_projects(defaults, {}),
    )

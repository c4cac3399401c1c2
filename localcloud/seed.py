"""Seed documents: validated with ``schemas/seed.json``, then loaded service by service.

Each service model loads its own part (``load_seed(project_doc) -> summary``); VPC loads before
ECS because servers reference subnets and security groups by name. The summary maps names to the
ids that were created, so tests and the demo can address what they seeded.

``seeds/samples.json`` holds what the sample events under ``events/`` name (servers, groups, a VPC);
:func:`with_samples` adds it to a document's first project, so every sample finds its server.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from .core.accounts import Agency, Organization
from .core.errors import BadRequest
from .core.state import Backend

__all__ = ["load_seed", "validate_seed", "default_seed", "with_samples", "SEED_LOAD_ORDER"]

_HERE = Path(__file__).parent
SEED_LOAD_ORDER = ("vpc", "ecs")


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    schema = json.loads((_HERE / "schemas" / "seed.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_seed(document: dict) -> list[str]:
    """Every schema error as ``"$.path: message"``; empty when valid."""
    errors = []
    for error in sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.append(f"{path}: {error.message[:200]}")
    return errors


def default_seed() -> dict:
    return json.loads((_HERE / "seeds" / "default.json").read_text())


def with_samples(document: dict, now: str) -> dict:
    """``document`` (not changed) plus ``seeds/samples.json`` in its first project. A sample server
    without ``created`` is created at ``now`` (RFC 3339 UTC): the new servers of the ecs_created
    samples, which a long-running server would not be (CREATION_MAX_AGE_S)."""
    samples = json.loads((_HERE / "seeds" / "samples.json").read_text())
    merged = copy.deepcopy(document)
    project = merged["projects"][0]
    for key in ("vpcs", "security_groups", "servers", "ports"):
        additions = copy.deepcopy(samples.get(key, []))
        if key == "servers":
            additions = [{"created": now, **server} for server in additions]
        project[key] = [*project.get(key, []), *additions]
    return merged


def load_seed(backend: Backend, document: dict) -> dict:
    errors = validate_seed(document)
    if errors:
        raise BadRequest("LocalCloud.InvalidSeed", "; ".join(errors[:10]))
    summary: dict = {"projects": {}}
    with backend.lock:
        for key, value in document.get("settings", {}).items():
            setattr(backend.settings, key, value)
        _load_accounts(backend, document.get("accounts", []))
        if "organization" in document:
            _load_organization(backend, document["organization"])
        for project_doc in document.get("projects", []):
            project = backend.project(project_doc["id"], create=True)
            if project_doc.get("name"):
                project.name = project_doc["name"]
            if project_doc.get("domain_id"):
                backend.directory.add_project(
                    project.project_id,
                    project_doc["domain_id"],
                    backend.region,
                    project.name,
                    project_doc.get("parent_id"),
                )
            for credential in project_doc.get("credentials", []):
                backend.add_credential(credential["ak"], credential["sk"], project.project_id)
            project_summary: dict = {}
            for service in SEED_LOAD_ORDER:
                project_summary.update(project.service(service).load_seed(project_doc))
            summary["projects"][project.project_id] = project_summary
    return summary


def _load_accounts(backend: Backend, accounts: list[dict]) -> None:
    """Accounts are global: loading the same one from every region's seed is harmless."""
    directory = backend.directory
    for doc in accounts:
        account = directory.add_account(doc["domain_id"], doc["name"], doc.get("status", "active"))
        account.parent_id = doc.get("ou_id")
        account.joined_at = account.joined_at or backend.clock()
        for credential in doc.get("credentials", []):
            backend.add_credential(credential["ak"], credential["sk"], "", domain_id=account.domain_id)
        for agency in doc.get("agencies", []):
            directory.add_agency(
                Agency(
                    account.domain_id,
                    agency["name"],
                    agency["trusted_domain_id"],
                    agency.get("external_id"),
                    agency.get("max_duration_s", 3600),
                )
            )


def _load_organization(backend: Backend, doc: dict) -> None:
    """The organisation (global, like the accounts: every region's seed may carry it)."""
    management = doc["management_account"]
    backend.directory.organization = Organization(
        org_id=doc.get("id", "o-" + management[:16]),
        management_account=management,
        root_id=doc.get("root_id", "r-" + management[:4]),
        delegated_administrators=set(doc.get("delegated_administrators", [])),
        units={unit["id"]: unit["name"] for unit in doc.get("units", [])},
    )

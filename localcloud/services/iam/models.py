"""The IAM model of one account (here: of one project's credential): its domain, agencies, custom
policies and the policies granted to an agency on a project.

Field names and rules from the IAM API reference (v3.0 OS-AGENCY and OS-ROLE pages) and the SDK
3.1.219 models (``CreateAgencyOption``, ``ServicePolicyRoleOption``, ``AgencyResult``, ``RoleResult``):

- an agency's ``name`` is 1..64 characters, unique in the domain; ``domain_id`` must be the
  caller's; a cloud-service agency names the service as ``trust_domain_name`` (``op_svc_cff`` for
  FunctionGraph); ``duration`` is ``"FOREVER"`` or a number of days;
- a custom policy has ``display_name`` (1..128), ``type`` ``AX`` (global) or ``XA`` (projects),
  ``description`` and ``policy`` ``{"Version": "1.1", "Statement": [{"Effect", "Action"}]}``;
- granting a policy to an agency on a project is idempotent (PUT), checked with HEAD.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from localcloud.core.timefmt import iso_millis

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["IamModel", "domain_id_of"]


def domain_id_of(project_id: str) -> str:
    """The emulated account id of a project's credential (stable, 32 hex digits)."""
    return hashlib.sha256(f"domain:{project_id}".encode()).hexdigest()[:32]


def _text(body: dict, name: str, low: int, high: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise errors.invalid(f"{name} must be a string of {low} to {high} characters")
    return value


def _policy(value: object) -> dict:
    if not isinstance(value, dict) or value.get("Version") != "1.1":
        raise errors.invalid('policy.Version must be "1.1"')
    statements = value.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise errors.invalid("policy.Statement must be a non-empty list")
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise errors.invalid("policy.Statement[].Effect must be Allow or Deny")
        actions = statement.get("Action")
        if not isinstance(actions, list) or not all(isinstance(a, str) and a.count(":") == 2 for a in actions):
            raise errors.invalid("policy.Statement[].Action must be a list of service:resource:action")
    return copy.deepcopy(value)


class IamModel:
    def __init__(self, project: ProjectState):
        self.project = project
        # the account the project belongs to (seeded accounts), else one derived from the project
        self.domain_id = project.backend.directory.owner_of(project.project_id) or domain_id_of(project.project_id)
        self.agencies: dict[str, dict[str, Any]] = {}  # id -> agency
        self.roles: dict[str, dict[str, Any]] = {}  # id -> custom policy
        self.grants: set[tuple[str, str, str]] = set()  # (project_id, agency_id, role_id)

    def _now(self) -> str:
        return iso_millis(self.project.backend.clock())

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain_id": self.domain_id,
            "agencies": {a["name"]: copy.deepcopy(a) for a in self.agencies.values()},
            "roles": {r["display_name"]: copy.deepcopy(r) for r in self.roles.values()},
            "grants": sorted(list(g) for g in self.grants),
        }

    def domains(self) -> dict[str, Any]:
        return {"domains": [{"id": self.domain_id, "name": f"localcloud-{self.domain_id[:6]}", "enabled": True}]}

    # ---- agencies -------------------------------------------------------------------------
    def create_agency(self, body: object) -> dict[str, Any]:
        agency = (body or {}).get("agency") if isinstance(body, dict) else None
        if not isinstance(agency, dict):
            raise errors.invalid("send {agency: {...}}")
        name = _text(agency, "name", 1, 64)
        if agency.get("domain_id") != self.domain_id:
            raise errors.invalid("domain_id must be the caller's account id")
        if not (agency.get("trust_domain_id") or agency.get("trust_domain_name")):
            raise errors.invalid("trust_domain_id or trust_domain_name is required")
        duration = agency.get("duration", "FOREVER")
        if duration not in ("FOREVER", "ONEDAY") and not str(duration).isdigit():
            raise errors.invalid('duration must be "FOREVER" or a number of days')
        if any(a["name"] == name for a in self.agencies.values()):
            raise errors.agency_exists(name)
        agency_id = uuid.uuid4().hex
        created = {
            "id": agency_id,
            "name": name,
            "domain_id": self.domain_id,
            "trust_domain_id": agency.get("trust_domain_id") or "",
            "trust_domain_name": agency.get("trust_domain_name") or "",
            "description": agency.get("description") or "",
            "duration": str(duration),
            "create_time": self._now(),
            "expire_time": None,
        }
        self.agencies[agency_id] = created
        return {"agency": copy.deepcopy(created)}

    def list_agencies(self, domain_id: str | None, name: str | None) -> dict[str, Any]:
        if domain_id != self.domain_id:
            raise errors.invalid("domain_id is required and must be the caller's account id")
        found = [copy.deepcopy(a) for a in self.agencies.values() if not name or a["name"] == name]
        return {"agencies": found}

    def agency(self, agency_id: str) -> dict[str, Any]:
        agency = self.agencies.get(agency_id)
        if agency is None:
            raise errors.agency_not_found()
        return agency

    # ---- custom policies ------------------------------------------------------------------
    def _role(self, body: object) -> dict[str, Any]:
        role = (body or {}).get("role") if isinstance(body, dict) else None
        if not isinstance(role, dict):
            raise errors.invalid("send {role: {...}}")
        if role.get("type") not in ("AX", "XA"):
            raise errors.invalid("type must be AX or XA")
        return {
            "display_name": _text(role, "display_name", 1, 128),
            "type": role["type"],
            "description": _text(role, "description", 0, 256),
            "policy": _policy(role.get("policy")),
        }

    def create_role(self, body: object) -> dict[str, Any]:
        fields = self._role(body)
        now = self._now()
        role = {
            "id": uuid.uuid4().hex,
            "domain_id": self.domain_id,
            "catalog": "CUSTOMED",
            "flag": "fine_grained",
            "name": f"custom_{self.domain_id[:8]}_{len(self.roles)}",
            "created_time": now,
            "updated_time": now,
            **fields,
        }
        self.roles[role["id"]] = role
        return {"role": copy.deepcopy(role)}

    def update_role(self, role_id: str, body: object) -> dict[str, Any]:
        role = self.roles.get(role_id)
        if role is None:
            raise errors.role_not_found()
        role.update(self._role(body), updated_time=self._now())
        return {"role": copy.deepcopy(role)}

    def list_roles(self) -> dict[str, Any]:
        roles = [copy.deepcopy(r) for r in self.roles.values()]
        return {"roles": roles, "total_number": len(roles), "links": {"self": "", "previous": None, "next": None}}

    # ---- grants ---------------------------------------------------------------------------
    def grant(self, project_id: str, agency_id: str, role_id: str) -> None:
        self.agency(agency_id)
        if role_id not in self.roles:
            raise errors.role_not_found()
        self.grants.add((project_id, agency_id, role_id))

    def check_grant(self, project_id: str, agency_id: str, role_id: str) -> None:
        self.agency(agency_id)
        if (project_id, agency_id, role_id) not in self.grants:
            raise errors.permission_not_found()

    def list_grants(self, project_id: str, agency_id: str) -> dict[str, Any]:
        self.agency(agency_id)
        roles = [copy.deepcopy(self.roles[r]) for p, a, r in sorted(self.grants) if p == project_id and a == agency_id]
        return {"roles": roles}

"""IP address groups (VPC API v3 ``/v3/{project_id}/vpc/address-groups``): state per project.

An address group is a named set of IPv4 or IPv6 addresses, CIDRs and "a-b" ranges that
security-group rules reference through ``remote_address_group_id``. Stored in the neutral form
``{id, name, description, ip_version, max_capacity, ip_set, ip_extra_set, enterprise_project_id,
tenant_id, status, status_message, created_at, updated_at}`` (the fields of the SDK's
``huaweicloudsdkvpc.v3.model.AddressGroup``), which is also the v3 view.

Limits from the API reference (CreateAddressGroup): 50 groups per project, ``max_capacity``
0-20 entries (default 20), name 1-64 letters, digits, '_', '-', '.', description at most 255
characters without '<' or '>'; ``ip_set`` and ``ip_extra_set`` are mutually exclusive.

Error codes: the public error-code table names none for address groups, so these are *chosen*:
VPC.1801 (invalid parameter, 400), VPC.1802 (not found, 404), VPC.1803 (quota, 409),
VPC.1804 (in use by a security-group rule, 409).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import uuid
from typing import TYPE_CHECKING

from localcloud.core.timefmt import iso_seconds

from .errors import address_group_in_use, address_group_invalid, address_group_not_found, address_group_quota

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["AddressGroupModel", "ADDRESS_GROUP_QUOTA", "MAX_CAPACITY"]

ADDRESS_GROUP_QUOTA = 50
MAX_CAPACITY = 20
_NAME_RE = re.compile(r"^[\w.\-]{1,64}$")


def _check_entry(entry, version: int) -> str:
    """One ip_set entry (address, CIDR or "a-b" range) of the group's IP version, as given."""
    if not isinstance(entry, str) or not entry.strip():
        raise address_group_invalid("ip_set entries must be non-empty strings.")
    text = entry.strip()
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            if first.version != last.version or int(first) > int(last):
                raise ValueError(text)
            found = first.version
        else:
            found = ipaddress.ip_network(text, strict=False).version
    except ValueError:
        raise address_group_invalid(f"ip_set entry {entry!r} is not an IP address, CIDR or range.") from None
    if found != version:
        raise address_group_invalid(f"ip_set entry {entry!r} does not match ip_version {version}.")
    return text


class AddressGroupModel:
    """The address groups of one project (registered as the ``vpc_address_groups`` model)."""

    def __init__(self, project: ProjectState) -> None:
        self.project = project
        self._groups: dict[str, dict] = {}  # insertion order = creation order

    def _now(self) -> str:
        return iso_seconds(self.project.backend.clock())

    # ---- look-ups ---------------------------------------------------------------------------
    def address_group(self, group_id: str) -> dict:
        group = self._groups.get(group_id)
        if group is None:
            raise address_group_not_found(group_id)
        return copy.deepcopy(group)

    def list_address_groups(self) -> list[dict]:
        return copy.deepcopy(list(self._groups.values()))

    # ---- changes ------------------------------------------------------------------------------
    def create_address_group(
        self,
        *,
        name,
        ip_version,
        ip_set=None,
        ip_extra_set=None,
        description="",
        max_capacity=None,
        enterprise_project_id=None,
        group_id: str | None = None,
        dry_run: bool = False,
    ) -> dict | None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise address_group_invalid("name is invalid: 1-64 letters, digits, '_', '-' or '.'.")
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > 255 or "<" in description or ">" in description:
            raise address_group_invalid("description must be a string of at most 255 characters without '<' or '>'.")
        if isinstance(ip_version, bool) or ip_version not in (4, 6):
            raise address_group_invalid("ip_version must be 4 or 6.")
        max_capacity = MAX_CAPACITY if max_capacity is None else max_capacity
        if isinstance(max_capacity, bool) or not isinstance(max_capacity, int) or not 0 <= max_capacity <= MAX_CAPACITY:
            raise address_group_invalid(f"max_capacity must be an integer within 0-{MAX_CAPACITY}.")
        if enterprise_project_id is not None and not isinstance(enterprise_project_id, str):
            raise address_group_invalid("enterprise_project_id must be a string.")
        if ip_set is not None and ip_extra_set is not None:
            raise address_group_invalid("ip_set and ip_extra_set are mutually exclusive.")
        extra = self._extra_set(ip_set, ip_extra_set, ip_version)
        if len(extra) > max_capacity:
            raise address_group_invalid(f"ip_set holds {len(extra)} entries; max_capacity is {max_capacity}.")
        if group_id is not None and group_id in self._groups:
            raise address_group_invalid(f"Address group {group_id} already exists.")
        if len(self._groups) >= ADDRESS_GROUP_QUOTA:
            raise address_group_quota(ADDRESS_GROUP_QUOTA)
        if dry_run:
            return None
        now = self._now()
        group = {
            "id": group_id or str(uuid.uuid4()),
            "name": name,
            "description": description,
            "ip_version": ip_version,
            "max_capacity": max_capacity,
            "ip_set": [item["ip"] for item in extra],
            "ip_extra_set": extra,
            "enterprise_project_id": enterprise_project_id or "0",
            "tenant_id": self.project.project_id,
            "status": "NORMAL",
            "status_message": "",
            "tags": [],
            "created_at": now,
            "updated_at": now,
        }
        self._groups[group["id"]] = group
        return copy.deepcopy(group)

    def delete_address_group(self, group_id: str) -> None:
        if group_id not in self._groups:
            raise address_group_not_found(group_id)
        users = [
            rule["id"]
            for rule in self.project.service("vpc").list_security_group_rules()
            if rule.get("remote_address_group_id") == group_id
        ]
        if users:
            raise address_group_in_use(group_id, users)
        del self._groups[group_id]

    @staticmethod
    def _extra_set(ip_set, ip_extra_set, version: int) -> list[dict]:
        if ip_extra_set is not None:
            if not isinstance(ip_extra_set, list) or not all(isinstance(item, dict) for item in ip_extra_set):
                raise address_group_invalid("ip_extra_set must be a list of {ip, remarks} objects.")
            extra = []
            for item in ip_extra_set:
                remarks = item.get("remarks")
                if remarks is not None and (not isinstance(remarks, str) or len(remarks) > 255):
                    raise address_group_invalid("remarks must be a string of at most 255 characters.")
                extra.append({"ip": _check_entry(item.get("ip"), version), "remarks": remarks})
            return extra
        if ip_set is None:
            return []
        if not isinstance(ip_set, list):
            raise address_group_invalid("ip_set must be a list of strings.")
        return [{"ip": _check_entry(entry, version), "remarks": None} for entry in ip_set]

    # ---- seed and snapshot ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"address_groups": self.list_address_groups()}

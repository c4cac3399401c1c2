"""What the report adds to sg_drift's judgement: names beside ids, a fix for every finding, and the
interfaces whose port security is off.

sg_drift's findings carry group ids (``groups``, ``expected``, ``actual``); the report adds
``group_names`` (``name (id)`` each) and ``fix``: what to do, in words, with the command that does
it where there is one. An interface with port security disabled filters nothing whatever groups it
carries; sg_drift only warns about it, the report makes it a finding (``port_security_disabled``,
source ``report``), so such a server is never a green "compliant".
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PORT_SECURITY_KIND", "REPORT_SOURCE", "annotate", "port_security_finding", "fix_for"]

PORT_SECURITY_KIND = "port_security_disabled"
REPORT_SOURCE = "report"


def _named(ids: object, names: Mapping[str, str]) -> list[str]:
    if not isinstance(ids, list):
        return []
    return [f"{names[g]} ({g})" if names.get(g) else str(g) for g in ids]


def _plain(ids: object, names: Mapping[str, str]) -> str:
    """The groups by name, as one shell word for ``--groups`` (a name read from the cloud is quoted)."""
    return shlex.quote(",".join(names.get(g) or str(g) for g in ids)) if isinstance(ids, list) else "''"


def _where(finding: Mapping[str, Any], server_id: str) -> str:
    return f"--server {server_id} --nics port:{finding.get('port_id')}"


def _missing(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    groups = _plain(f.get("groups"), names)
    return (
        f"attach {groups} to the interface: sgguard submit {_where(f, server)} --action add --groups {groups} "
        "(with its ticket), or let sg_drift repair it (DRIFT_MODE=enforce); or exclude the server in the policy"
    )


def _unexpected(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    groups = _plain(f.get("groups"), names)
    return (
        f"detach {groups}: sgguard submit {_where(f, server)} --action remove --groups {groups}; or, if it "
        f"belongs there, add it to the policy rule {str(f.get('source', '')).removeprefix('rule:')}"
    )


def _order(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    return (
        f"put the groups in the policy's order: sgguard submit {_where(f, server)} --action reorder "
        f"--groups {_plain(f.get('expected'), names)}"
    )


def _protected(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    return (
        f"move the protected group(s) {_plain(f.get('groups'), names)} first (PIN_PROTECTED_FIRST): "
        f"sgguard submit {_where(f, server)} --action reorder --groups {_plain(f.get('expected'), names)}"
    )


def _exposure(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    groups = _plain(f.get("groups"), names)
    return (
        f"remove or narrow the rule of {groups} that opens the port to the Internet (sgguard show {server} "
        f"lists it), or detach {groups} from the interface (sgguard submit {_where(f, server)} --action remove "
        f"--groups {groups}; DRIFT_REMOVE_RISKY=true lets sg_drift enforce do it)"
    )


def _too_many(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    return (
        "detach groups until the interface carries at most MAX_GROUPS_PER_NIC_HARD of them: "
        f"sgguard submit {_where(f, server)} --action remove --groups GROUP"
    )


def _port_security(f: Mapping[str, Any], names: Mapping[str, str], server: str) -> str:
    return (
        "turn port security on for the interface (VPC console: the network interface's port security; API: "
        "UpdatePort port_security_enabled=true), then let sg_drift or ecs_created attach what the policy "
        "requires; if it must stay off (a virtual IP, an appliance), exclude the server in the policy"
    )


_FIXES: dict[str, Callable[[Mapping[str, Any], Mapping[str, str], str], str]] = {
    "missing_group": _missing,
    "unexpected_group": _unexpected,
    "order": _order,
    "protected_not_first": _protected,
    "exposure": _exposure,
    "too_many_groups": _too_many,
    PORT_SECURITY_KIND: _port_security,
}


def fix_for(finding: Mapping[str, Any], names: Mapping[str, str], server_id: str) -> str:
    build = _FIXES.get(str(finding.get("kind")))
    return build(finding, names, server_id) if build else "see the message; sgguard show lists the interface"


def port_security_finding(port: Any) -> dict[str, Any]:
    return {
        "kind": PORT_SECURITY_KIND,
        "source": REPORT_SOURCE,
        "port_id": port.id,
        "expected": True,
        "actual": False,
        "groups": list(port.security_groups),
        "message": f"interface {port.ip or '-'} ({port.id}) has port security disabled: none of its groups applies",
        "repaired": False,
    }


def annotate(finding: Mapping[str, Any], names: Mapping[str, str], server_id: str) -> dict[str, Any]:
    """``finding`` with ``group_names`` and ``fix`` added (the original keys unchanged)."""
    return {**finding, "group_names": _named(finding.get("groups"), names), "fix": fix_for(finding, names, server_id)}

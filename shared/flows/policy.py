"""The organisation's baseline for new servers: which groups, on which interfaces, in what order.

A policy is YAML or JSON, validated against ``schemas/policy.v1.json`` when first loaded (an
invalid policy fails loudly, naming the JSON path of the error). Rules are evaluated in order;
every condition given must hold; a matching rule with ``stop: true`` ends the evaluation.
Exclusions (opt-out tags, per-server exemptions that expire) win over every rule.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shared.config import ConfigError
from shared.errors import ErrorCode, ErrorDetail
from shared.model import Port, Server

__all__ = [
    "Policy",
    "PolicyRule",
    "PolicyError",
    "Evaluation",
    "parse_policy",
    "expired_exemptions",
    "load_policy",
    "policy_errors",
    "next_list",
    "interface_in_scope",
    "evaluate",
]


class PolicyError(ConfigError):
    """The policy is missing or invalid; ``errors`` name the JSON paths, ``lines`` (YAML / JSON
    text only) map paths to 1-based line numbers (:func:`shared.flows.policy_source.line_of` looks one up)."""

    def __init__(self, errors: list[ErrorDetail], source: str, lines: dict[str, int] | None = None):
        self.errors = errors
        self.source = source
        self.lines = lines or {}
        summary = "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        super().__init__("POLICY", f"invalid policy ({source}): {summary}")


@dataclass(frozen=True)
class PolicyRule:
    index: int
    name: str
    match: dict[str, Any]
    nics: str
    security_groups: tuple[dict[str, Any], ...]
    mode: str
    position: str | int  # "first" | "last" | int
    stop: bool
    approved_by: str | None
    continuous: bool = False  # sg_drift may enforce a replace rule only when it says so

    @property
    def path(self) -> str:
        return f"$.rules[{self.index}]"


@dataclass(frozen=True)
class Policy:
    rules: tuple[PolicyRule, ...]
    exclude_tags: dict[str, Any] = field(default_factory=dict)
    exempt_servers: tuple[dict[str, Any], ...] = ()
    digest: str = ""


@dataclass
class Evaluation:
    rules: list[PolicyRule] = field(default_factory=list)
    excluded: str | None = None
    warnings: list[ErrorDetail] = field(default_factory=list)


def policy_errors(document: object) -> list[ErrorDetail]:
    from shared.validation import schema_errors

    return [ErrorDetail(ErrorCode.POLICY_INVALID, e.message, e.path) for e in schema_errors("policy.v1", document)]


def parse_policy(text: str, source: str = "POLICY") -> Policy:
    """Parse YAML or JSON text into a validated :class:`Policy` (raises :class:`PolicyError`).

    Refused besides the schema: a key given twice in one mapping (YAML and JSON parsers keep the
    last one silently) and two rules of the same name (results name rules by name)."""
    from shared.flows.policy_source import SyntaxProblem, read_document, source_lines

    try:
        document = read_document(text)
    except SyntaxProblem as problem:
        lines = {problem.path: problem.line} if problem.line else {}
        raise PolicyError([ErrorDetail(ErrorCode.POLICY_INVALID, str(problem), problem.path)], source, lines) from None
    errors = policy_errors(document) + _duplicate_rule_names(document)
    if errors:
        raise PolicyError(errors, source, source_lines(text))
    rules = tuple(
        PolicyRule(
            index,
            rule["name"],
            rule.get("match", {}),
            rule.get("nics", "all"),
            tuple(rule["security_groups"]),
            rule.get("mode", "ensure"),
            rule.get("position", "last"),
            rule.get("stop", False),
            rule.get("approved_by"),
            rule.get("continuous", False),
        )
        for index, rule in enumerate(document["rules"])
    )
    exclude = document.get("exclude", {})
    return Policy(
        rules,
        exclude.get("tags", {}),
        tuple(exclude.get("servers", [])),
        hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def _duplicate_rule_names(document: object) -> list[ErrorDetail]:
    """A rule name used twice (checked on a document the schema may have refused: shapes vary)."""
    rules = document.get("rules") if isinstance(document, dict) else None
    first: dict[str, int] = {}
    errors = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
            continue
        if rule["name"] in first:
            errors.append(
                ErrorDetail(
                    ErrorCode.POLICY_INVALID,
                    f"rule name {rule['name']!r} is already used by $.rules[{first[rule['name']]}]; "
                    "results name rules by name, so each needs its own",
                    f"$.rules[{index}].name",
                )
            )
        first.setdefault(rule["name"], index)
    return errors


def expired_exemptions(policy: Policy, today: date) -> list[ErrorDetail]:
    """An EXEMPTION_EXPIRED warning for every exemption whose ``until`` is before ``today``."""
    warnings = []
    for index, exemption in enumerate(policy.exempt_servers):
        until = exemption.get("until")
        if until is not None and date.fromisoformat(until) < today:
            days = (today - date.fromisoformat(until)).days
            warnings.append(
                ErrorDetail(
                    ErrorCode.EXEMPTION_EXPIRED,
                    f"the exemption of server {exemption['id']} expired on {until} ({days} days ago), so the "
                    "policy applies to it again; remove the entry or give a new until date",
                    f"$.exclude.servers[{index}].until",
                )
            )
    return warnings


_CACHE: dict[str, Policy] = {}
_CACHE_LOCK = threading.Lock()


def load_policy(inline: str | None, file_name: str, search_dirs: Iterable[Path]) -> Policy:
    """The policy from the ``POLICY`` setting, else from ``POLICY_FILE`` in the code package."""
    if inline:
        text, source = inline, "POLICY setting"
    else:
        candidates = [Path(file_name)] if Path(file_name).is_absolute() else [d / file_name for d in search_dirs]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise PolicyError(
                [
                    ErrorDetail(
                        ErrorCode.POLICY_INVALID,
                        f"no POLICY setting and no policy file {file_name!r} in the package",
                        "$",
                    )
                ],
                "POLICY_FILE",
            )
        text, source = found.read_text(encoding="utf-8"), str(found)
    key = hashlib.sha256(text.encode()).hexdigest()
    with _CACHE_LOCK:
        policy = _CACHE.get(key)
    if policy is None:
        policy = parse_policy(text, source)
        with _CACHE_LOCK:
            _CACHE[key] = policy
    return policy


# ---- evaluation (pure) ---------------------------------------------------------------------------
def _globs(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(value: str | None, patterns: str | Iterable[str]) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, pattern) for pattern in _globs(patterns))


def _tags_match(tags: dict[str, str], wanted: dict[str, Any]) -> bool:
    return all(key in tags and _matches(tags[key], patterns) for key, patterns in wanted.items())


def _rule_matches(match: dict[str, Any], server: Server, interfaces: list[Port]) -> bool:
    checks = {
        "name": lambda p: _matches(server.name, p),
        "vpc_id": lambda p: _matches(server.vpc_id, p),
        "enterprise_project_id": lambda p: _matches(server.enterprise_project_id, p),
        "availability_zone": lambda p: _matches(server.availability_zone, p),
        "flavor": lambda p: _matches(server.flavor, p),
        "tags": lambda p: _tags_match(server.tags, p),
        "subnet_id": lambda p: any(
            _matches(port.network_id, p) or any(_matches(s, p) for s, _ in port.fixed_ips) for port in interfaces
        ),
    }
    return all(checks[key](patterns) for key, patterns in match.items())


def evaluate(policy: Policy, server: Server, interfaces: list[Port], today: date) -> Evaluation:
    result = Evaluation()
    if policy.exclude_tags and _tags_match(server.tags, policy.exclude_tags):
        result.excluded = (
            "excluded by tag (" + ", ".join(f"{k}={server.tags.get(k)}" for k in policy.exclude_tags) + ")"
        )
        return result
    for index, exemption in enumerate(policy.exempt_servers):
        if exemption["id"] != server.id:
            continue
        until = exemption.get("until")
        if until is None or date.fromisoformat(until) >= today:
            ticket = f", ticket {exemption['ticket']}" if exemption.get("ticket") else ""
            result.excluded = f"exempted until {until or 'further notice'}{ticket}"
            return result
        result.warnings.append(
            ErrorDetail(
                ErrorCode.EXEMPTION_EXPIRED,
                f"the exemption of this server expired on {until}; policy applies",
                f"$.exclude.servers[{index}].until",
            )
        )
    for rule in policy.rules:
        if _rule_matches(rule.match, server, interfaces):
            result.rules.append(rule)
            if rule.stop:
                break
    return result


def interface_in_scope(rule: PolicyRule, port: Port) -> bool:
    """A rule with a ``subnet_id`` condition applies only to the interfaces in those subnets."""
    patterns = rule.match.get("subnet_id")
    return (
        patterns is None or _matches(port.network_id, patterns) or any(_matches(s, patterns) for s, _ in port.fixed_ips)
    )


def next_list(
    current: list[str], rule_groups: list[str], mode: str, position: str | int, default_group: str | None
) -> list[str]:
    """An interface's ordered list after one rule (pure)."""
    wanted = list(dict.fromkeys(rule_groups))
    if mode == "replace":
        return wanted
    if mode == "replace_default":
        current = [group for group in current if group != default_group]
    missing = [group for group in wanted if group not in current]
    if position == "first":
        at = 0
    elif position == "last":
        at = len(current)
    else:
        at = min(int(position), len(current))
    return current[:at] + missing + current[at:]

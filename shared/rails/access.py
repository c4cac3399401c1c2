"""Effective access: from which sources an interface's ordered group list lets a port be reached.

How the platform matches inbound traffic (the seed, ``/work/shared/reference/huaweicloud-notes.md``;
VPC "How Traffic Matches Security Group Rules" / FAQ "Which Security Group Rule Has a High Priority
When Multiple Security Group Rules Conflict?" (vpc_faq_0077); "Security Group and Security Group
Rule Overview" (en-us_topic_0073379079: "traffic ... is matched by priority"); the v3 rule fields
``priority`` 1-100, 1 highest, and ``action`` allow | deny (VPC v3 API, SDK ``SecurityGroupRule``);
OTC "Adding a Security Group Rule": deny wins over allow at the same priority):

* only ingress rules decide inbound traffic; a packet matching no rule is denied;
* groups are matched in the interface's order (first = highest priority), then, inside a group,
  rules by ``priority`` (smaller first), a deny before an allow of the same priority;
* the first rule that matches the packet's protocol, port and source decides.

The documentation also says conflicting rules of several groups "are aggregated to take effect",
which reads as one pool of rules ordered by priority alone. Both readings are evaluated
(:data:`READINGS`: ``ordered`` and ``global``); a caller treats a change as widening access if it
widens under either.

Two bounds, so that nothing that cannot be read can hide an exposure (:data:`UPPER`, :data:`LOWER`):
the *upper* bound is the most that may be reachable - a group whose rules were not read is an
allow-everything group, an unreadable address group or prefix in an allow is everyone and in a
deny is nobody, a disabled allow still counts and a disabled deny protects nothing, a remote
security group is its (private, never public) members; the *lower* bound is the least that surely
is reachable (every doubt the other way). Sources are :class:`~shared.rails.addresses.AddressSet`
intervals: no address is ever enumerated.

Pure and stdlib-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.rails.addresses import EMPTY, EVERYONE, FAMILIES, NON_PUBLIC, PUBLIC, AddressSet, parse_entry
from shared.rails.matchers import PORT_PROTOCOLS, read_ports, read_protocol, rule_families
from shared.rails.wording import count_words, port_words, reach_words, sources_words

__all__ = [
    "AccessModel",
    "READINGS",
    "UPPER",
    "LOWER",
    "Reach",
    "Widening",
    "count_text",
    "port_classes",
    "reach",
    "widenings",
]

READINGS = ("ordered", "global")
UPPER = "upper"
LOWER = "lower"
_LATE = 10**9  # a priority that cannot be read: late for a rule that would help the bound, early otherwise


@dataclass(frozen=True)
class _Rule:
    group_index: int
    group_id: str
    rule_id: str
    priority: int
    deny: bool
    protocols: frozenset[int] | None  # None = every protocol
    ports: tuple[tuple[int, int], ...]
    sources: AddressSet

    def matches(self, protocol: int, port: int) -> bool:
        return (self.protocols is None or protocol in self.protocols) and any(
            low <= port <= high for low, high in self.ports
        )


def _field(rule: Any, name: str, default: Any = None) -> Any:
    if isinstance(rule, Mapping):
        return rule.get(name, default)
    return getattr(rule, name, default)


def _whole(families: Iterable[str], wide: bool) -> AddressSet:
    families = tuple(families)
    # All of IPv6 holds the IPv4-mapped block: read wide, all of IPv4 too.
    return EVERYONE if wide and "IPv6" in families else AddressSet.whole(families)


def _sources(rule: Any, families: tuple[str, ...], address_groups: Mapping[str, Any], wide: bool) -> AddressSet:
    prefix = _field(rule, "remote_ip_prefix")
    group = _field(rule, "remote_group_id")
    address_group = _field(rule, "remote_address_group_id")
    if prefix in (None, "") and address_group in (None, ""):
        if group in (None, ""):
            return _whole(families, wide)  # no remote at all: every source of the ethertype
        return NON_PUBLIC & _whole(families, True) if wide else EMPTY  # members of a group: private
    scope = _whole(families, wide)
    found = EMPTY
    entries: list[Any] = []
    if prefix not in (None, ""):
        entries.append(prefix)
    if address_group not in (None, ""):
        ip_set = address_groups.get(address_group)
        if ip_set is None:  # unknown or unreadable
            if wide:
                return scope
        else:
            entries.extend([ip_set] if isinstance(ip_set, str) else ip_set)
    for entry in entries:
        parsed = parse_entry(entry, mapped=wide)
        if parsed is None:
            if wide:
                return scope
            continue
        found = found | parsed
    return found if wide else found & scope


def _prepare(
    group_index: int,
    group_id: str,
    rule: Any,
    address_groups: Mapping[str, Any],
    bound: str,
    ports_of_interest: frozenset[int] | None,
    within: AddressSet | None,
) -> _Rule | None:
    direction = str(_field(rule, "direction") or "").strip().lower()
    action = str(_field(rule, "action") or "allow").strip().lower()
    deny = action == "deny" or (action != "allow" and bound == LOWER)  # an unknown action: the bound's worst
    wide = deny == (bound == LOWER)  # read wide what helps this bound, narrow what does not
    enabled = _field(rule, "enabled", True)
    if direction == "egress" or (not wide and (direction != "ingress" or enabled is False)):
        return None
    protocols, protocol_known = read_protocol(_field(rule, "protocol"))
    ports, ports_known = read_ports(_field(rule, "multiport"))
    families, families_known = rule_families(_field(rule, "ethertype"))
    if not wide and not (protocol_known and ports_known and families_known):
        return None
    if ports_of_interest is not None and not any(low <= p <= high for p in ports_of_interest for low, high in ports):
        return None  # it can never decide a port the caller asks about
    sources = _sources(rule, families, address_groups, wide)
    if within is not None:
        sources = sources & within
    if not sources:
        return None
    try:
        priority = int(_field(rule, "priority"))
    except (TypeError, ValueError):
        priority = -_LATE if wide else _LATE
    return _Rule(group_index, group_id, str(_field(rule, "id") or ""), priority, deny, protocols, tuple(ports), sources)


class AccessModel:
    """The inbound access of one ordered group list, per reading, for one bound.

    ``groups``: group id -> object with ``rules`` (None or missing = not read); ``address_groups``:
    address group id -> ``ip_set`` (None = could not be read). ``ports``: only these ports will be
    asked about (rules that match none of them are dropped); ``within``: only these sources matter
    (every rule's sources are cut to them: first match is decided per address, so the access found
    is exactly the full model's, cut to ``within``). Both only make the model cheaper.
    """

    def __init__(
        self,
        group_ids: Sequence[str],
        groups: Mapping[str, Any],
        address_groups: Mapping[str, Any] | None = None,
        *,
        bound: str = UPPER,
        ports: Iterable[int] | None = None,
        within: AddressSet | None = None,
    ):
        address_groups = address_groups or {}
        ports_of_interest = None if ports is None else frozenset(int(p) for p in ports)
        self.group_ids = list(group_ids)
        prepared: list[_Rule] = []
        for index, group_id in enumerate(self.group_ids):
            group = groups.get(group_id)
            rules = _field(group, "rules") if group is not None else None
            if rules is None:
                if bound == UPPER:  # not read: it may allow anything
                    anyone = EVERYONE if within is None else EVERYONE & within
                    prepared.append(_Rule(index, group_id, "(unread)", -_LATE, False, None, ((1, 65535),), anyone))
                continue
            for rule in rules:
                item = _prepare(index, group_id, rule, address_groups, bound, ports_of_interest, within)
                if item is not None:
                    prepared.append(item)
        self.rules = prepared
        self._order = {
            "ordered": sorted(prepared, key=lambda r: (r.group_index, r.priority, not r.deny)),
            "global": sorted(prepared, key=lambda r: (r.priority, not r.deny, r.group_index)),
        }
        self.named_protocols = frozenset(p for r in prepared if r.protocols is not None for p in r.protocols)
        self._cache: dict[tuple[Any, int, str], AddressSet] = {}

    def allowed(self, protocol: int, port: int, reading: str) -> AddressSet:
        """The sources from which ``protocol``/``port`` is reachable under ``reading``: first match decides."""
        key = (protocol if protocol in self.named_protocols else "other", port, reading)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        decided, allowed = EMPTY, EMPTY
        for rule in self._order[reading]:
            if not rule.matches(protocol, port):
                continue
            fresh = rule.sources - decided
            if not fresh:
                continue
            if not rule.deny:
                allowed = allowed | fresh
            decided = decided | fresh
            if decided == EVERYONE:
                break
        self._cache[key] = allowed
        return allowed

    def allowing(self, protocol: int, port: int, sources: AddressSet) -> list[_Rule]:
        """The allow rules that match ``protocol``/``port`` and name some of ``sources``."""
        return [r for r in self.rules if not r.deny and r.matches(protocol, port) and r.sources & sources]

    def denying(self, protocol: int, port: int) -> list[_Rule]:
        return [r for r in self.rules if r.deny and r.matches(protocol, port)]


def count_text(number: int) -> str:
    """A count as people read it: 2^96 rather than 29 digits."""
    power = number.bit_length() - 1
    return f"2^{power}" if number >= 2**16 and number == 2**power else str(number)


def port_classes(ports: Iterable[int]) -> list[tuple[int, int, str]]:
    """(port, protocol number, protocol name) for every risky port and port-carrying protocol."""
    return [
        (port, number, name)
        for port in sorted({int(p) for p in ports})
        for number, name in sorted(PORT_PROTOCOLS.items(), key=lambda item: item[1])
    ]


@dataclass(frozen=True)
class Reach:
    """One risky port reachable over one protocol from public sources of one family."""

    port: int
    protocol: str
    family: str
    reading: str
    sources: AddressSet
    public_addresses: int
    rule_ids: tuple[str, ...]
    group_ids: tuple[str, ...]

    @property
    def everyone(self) -> bool:
        return self.sources.is_whole(self.family)

    def describe(self) -> str:
        """``TCP port 22 (SSH) is open to everyone on the internet over IPv4 (rule b7d8...)``."""
        return reach_words(self.protocol, self.port, self.family, self.public_addresses, self.everyone, self.rule_ids)


def reach(model: AccessModel, ports: Iterable[int], thresholds: Mapping[str, int]) -> list[Reach]:
    """Every (port, protocol, family) reachable from more public addresses than ``thresholds[family]``
    under either reading (the reading with more public addresses is reported)."""
    found = []
    for port, number, name in port_classes(ports):
        for family in FAMILIES:
            best: tuple[int, str, AddressSet] | None = None
            for reading in READINGS:
                allowed = model.allowed(number, port, reading)
                public = allowed.public_size(family)
                if public > thresholds[family] and (best is None or public > best[0]):
                    best = (public, reading, allowed)
            if best is not None:
                public, reading, allowed = best
                rules = model.allowing(number, port, allowed & AddressSet.whole((family,)))
                found.append(
                    Reach(
                        port,
                        name,
                        family,
                        reading,
                        AddressSet.whole((family,)) & allowed,
                        public,
                        tuple(dict.fromkeys(r.rule_id for r in rules)),
                        tuple(dict.fromkeys(r.group_id for r in rules)),
                    )
                )
    return found


@dataclass(frozen=True)
class Widening:
    """A risky port that a change makes reachable from public sources it was not reachable from."""

    port: int
    protocol: str
    protocol_number: int
    family: str
    reading: str
    new: AddressSet  # public, reachable after, and not reachable before through the groups that stay
    new_public: int
    after_public: int
    everyone: bool  # after the change, every public address of the family reaches it

    def new_ranges(self) -> str:
        """The newly reachable public addresses, as ranges (the first few)."""
        return self.new.describe(self.family)

    def describe(self) -> str:
        """``TCP port 22 (SSH) reachable from everyone on the internet over IPv4, 2^24 of them new (...)``."""
        who = sources_words(self.family, self.after_public, self.everyone)
        return (
            f"{port_words(self.protocol, self.port)} reachable from {who}, {count_words(self.new_public)} of them "
            f"new ({self.new_ranges()}; {self.reading} reading)"
        )


def widenings(
    before: Sequence[str],
    after: Sequence[str],
    groups: Mapping[str, Any],
    address_groups: Mapping[str, Any] | None,
    ports: Iterable[int],
    thresholds: Mapping[str, int],
) -> list[Widening]:
    """What a change of an interface's list from ``before`` to ``after`` newly opens to the public.

    Per risky port, protocol, family and reading: new = after - (before & kept), kept being the
    groups that stay, in their order before: access that only the removed or reordered groups gave
    (or took away) is not counted as pre-existing. Reported when some new address is public and,
    after the change, more public addresses than ``thresholds[family]`` reach the port (so a
    partner's /24 passes, and splitting "everyone" over several changes does not).
    ``after`` is judged on the upper bound, ``before`` and ``kept`` on the lower one.
    """
    ports = list(ports)
    # Only public sources count: every model is cut to them (cheap, and exact for what is asked).
    after_model = AccessModel(after, groups, address_groups, bound=UPPER, ports=ports, within=PUBLIC)
    if not after_model.rules:
        return []  # the common case: no rule of the groups after lets the public reach a risky port
    candidates = []
    for port, number, name in port_classes(ports):
        for reading in READINGS:
            allowed = after_model.allowed(number, port, reading)
            for family in FAMILIES:
                public = allowed.size(family)
                if public > thresholds[family]:
                    candidates.append((port, number, name, reading, family, allowed, public))
    if not candidates:
        return []  # the common case: nothing risky is wide open after the change
    before_model = AccessModel(before, groups, address_groups, bound=LOWER, ports=ports, within=PUBLIC)
    kept = [g for g in before if g in after]
    kept_model = AccessModel(kept, groups, address_groups, bound=LOWER, ports=ports, within=PUBLIC)
    found = []
    for port, number, name, reading, family, allowed, public in candidates:
        stays = before_model.allowed(number, port, reading) & kept_model.allowed(number, port, reading)
        new = (allowed - stays) & AddressSet.whole((family,))
        new_public = new.size(family)
        if new_public > 0:
            everyone = public == PUBLIC.size(family)
            found.append(Widening(port, name, number, family, reading, new, new_public, public, everyone))
    return found

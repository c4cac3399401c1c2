"""Which risky ports a set of security-group rules exposes to everyone: computed, not pattern-matched.

The rules are the union of the rules of every group on one network interface (an attacker needs
only one group to let a packet in). Per risky port and per port-carrying protocol (tcp, udp,
sctp, dccp, udplite) the source addresses of every inbound *allow* rule that reaches that port
are merged into integer intervals, one set per address family, and compared with the family's
whole address space. Deny rules are ignored (a deny of higher priority could close the hole, but
the rail stays conservative) and egress rules never expose anything.

Conservative readings, so that no spelling the API accepts hides an exposure:

* protocol: names in any case, IP protocol numbers ("6", 17), and None / "" / "any" / "all" /
  "-1" / "0" (Neutron's "any") all mean every protocol; an unrecognised value also means every
  protocol. ICMP, GRE... carry no ports and never reach a port.
* ports: ``multiport`` "22", "1-30", "22, 3389,80"; None / "" = all ports; anything unparseable
  (or out of 1-65535, or a descending range) = all ports.
* sources: ``remote_ip_prefix`` read with ``strict=False`` (host bits, netmask spellings, any
  IPv6 spelling of ``::/0``, a bare address = /32 or /128); an unparseable prefix, or no remote
  at all, = the whole space of the rule's ethertype (an unknown ethertype = both families).
  ``remote_group_id`` alone = members of a project's group: private, never an exposure.
  ``remote_address_group_id`` = the group's ``ip_set`` from ``address_groups`` (addresses, CIDRs,
  "a-b" ranges); a group missing from the mapping or mapped to None = the whole space of the
  rule's ethertype; an unparseable entry likewise. IPv6 sources that hold addresses of
  ``::ffff:0:0/96`` (IPv4-mapped) also count as the IPv4 addresses they map: so all of IPv6
  (``::/0``, or an IPv6 rule with no remote) is all of IPv4 as well.

Exposure = the union covers a family's whole space ("everyone"), or, when
``max_public_addresses`` is given, it holds more public addresses than that. Public = not in
the IANA special-purpose ranges marked not globally reachable (the ``ipaddress.is_global``
semantics of Python 3.13, frozen here as explicit interval lists so that the count is exact,
fast on huge unions and the same on every Python version).

Pure and stdlib-only: cheap to import in a function.

Over 400 lines: one pure computation (protocols, ports, address intervals, public ranges);
the IANA tables take a fifth of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.rails.matchers import PORT_PROTOCOLS, multiport_from_range, normalise_protocol, parse_ports

__all__ = ["Exposure", "PORT_PROTOCOLS", "risky_exposures", "normalise_protocol", "parse_ports", "multiport_from_range"]

_ALL_PORTS = [(1, 65535)]
_FAMILIES = ("IPv4", "IPv6")
_BITS = {"IPv4": 32, "IPv6": 128}
_MAPPED_BASE = 0xFFFF << 32  # ::ffff:0:0/96, IPv4-mapped IPv6 addresses

Interval = tuple[int, int]  # inclusive bounds


@dataclass(frozen=True)
class Exposure:
    """One risky port reachable over one protocol from too many sources of one address family."""

    port: int
    protocol: str  # "tcp", "udp", "sctp", "dccp", "udplite"
    family: str  # "IPv4" | "IPv6"
    everyone: bool  # the sources cover the family's whole address space
    public_addresses: int  # how many public (globally reachable) addresses the sources hold
    rule_ids: tuple[str, ...]  # the allow rules that contribute sources of this family

    def describe(self) -> str:
        who = (
            f"everyone ({self.family})" if self.everyone else f"{self.public_addresses} public {self.family} addresses"
        )
        rules = ", ".join(self.rule_ids)
        return f"{self.protocol}/{self.port} is open to {who} (rules {rules})"


# ---- intervals --------------------------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1][1] = high
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Both sorted and merged."""
    result = []
    for low, high in intervals:
        for hole_low, hole_high in holes:
            if hole_high < low or hole_low > high:
                continue
            if hole_low > low:
                result.append((low, hole_low - 1))
            low = hole_high + 1
            if low > high:
                break
        if low <= high:
            result.append((low, high))
    return result


def _overlap(intervals: list[Interval], others: list[Interval]) -> int:
    """How many integers two sorted, merged interval lists share (two-pointer sweep)."""
    total, i, j = 0, 0, 0
    while i < len(intervals) and j < len(others):
        low = max(intervals[i][0], others[j][0])
        high = min(intervals[i][1], others[j][1])
        if low <= high:
            total += high - low + 1
        if intervals[i][1] < others[j][1]:
            i += 1
        else:
            j += 1
    return total


def _net(text: str) -> Interval:
    network = ipaddress.ip_network(text)
    return int(network.network_address), int(network.broadcast_address)


# IANA special-purpose registries, entries not globally reachable (what ipaddress.is_global of
# Python 3.13 implements), minus the registry's globally reachable exceptions inside them.
_NON_GLOBAL: dict[str, list[Interval]] = {
    "IPv4": _subtract(
        _merge(
            _net(n)
            for n in (
                "0.0.0.0/8",
                "10.0.0.0/8",
                "100.64.0.0/10",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.0.0.0/24",
                "192.0.2.0/24",
                "192.168.0.0/16",
                "198.18.0.0/15",
                "198.51.100.0/24",
                "203.0.113.0/24",
                "240.0.0.0/4",
                "255.255.255.255/32",
            )
        ),
        _merge(_net(n) for n in ("192.0.0.9/32", "192.0.0.10/32")),
    ),
    "IPv6": _subtract(
        _merge(
            _net(n)
            for n in (
                "::/128",
                "::1/128",
                "::ffff:0:0/96",
                "64:ff9b:1::/48",
                "100::/64",
                "2001::/23",
                "2001:db8::/32",
                "2002::/16",
                "fc00::/7",
                "fe80::/10",
            )
        ),
        _merge(
            _net(n)
            for n in (
                "2001:1::1/128",
                "2001:1::2/128",
                "2001:3::/32",
                "2001:4:112::/48",
                "2001:20::/28",
                "2001:30::/28",
            )
        ),
    ),
}


def _public_count(intervals: list[Interval], family: str) -> int:
    total = sum(high - low + 1 for low, high in intervals)
    return total - _overlap(intervals, _NON_GLOBAL[family])


# ---- sources ------------------------------------------------------------------------------------


def _field(rule: Any, name: str) -> Any:
    if isinstance(rule, Mapping):
        return rule.get(name)
    return getattr(rule, name, None)


def _rule_families(ethertype: Any) -> tuple[str, ...]:
    text = str(ethertype or "").strip().lower()
    if text in ("ipv4", "4"):
        return ("IPv4",)
    if text in ("ipv6", "6"):
        return ("IPv6",)
    return _FAMILIES


def _add_whole(sources: dict[str, list[Interval]], families: Iterable[str]) -> None:
    for family in families:
        if family == "IPv4":
            sources.setdefault("IPv4", []).append((0, 2**32 - 1))
        else:  # all of IPv6 holds the IPv4-mapped block: all of IPv4 too
            _add_v6(sources, 0, 2**128 - 1)


def _add_v6(sources: dict[str, list[Interval]], low: int, high: int) -> None:
    sources.setdefault("IPv6", []).append((low, high))
    mapped_low, mapped_high = max(low, _MAPPED_BASE), min(high, _MAPPED_BASE + 2**32 - 1)
    if mapped_low <= mapped_high:  # IPv4-mapped addresses: the IPv4 hosts they stand for
        sources.setdefault("IPv4", []).append((mapped_low - _MAPPED_BASE, mapped_high - _MAPPED_BASE))


def _add_entry(sources: dict[str, list[Interval]], entry: Any, families: tuple[str, ...]) -> None:
    """One prefix, address or "a-b" range; unreadable = the rule's whole families."""
    try:
        text = str(entry).strip()
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            if first.version != last.version or int(first) > int(last):
                raise ValueError(text)
            low, high, version = int(first), int(last), first.version
        else:
            network = ipaddress.ip_network(text, strict=False)
            low, high, version = int(network.network_address), int(network.broadcast_address), network.version
    except ValueError:
        _add_whole(sources, families)
        return
    if version == 4:
        sources.setdefault("IPv4", []).append((low, high))
    else:
        _add_v6(sources, low, high)


def _rule_sources(rule: Any, address_groups: Mapping[str, Any]) -> dict[str, list[Interval]]:
    """Family -> (unmerged) source intervals of one rule."""
    families = _rule_families(_field(rule, "ethertype"))
    prefix = _field(rule, "remote_ip_prefix")
    group = _field(rule, "remote_group_id")
    address_group = _field(rule, "remote_address_group_id")
    sources: dict[str, list[Interval]] = {}
    if prefix in (None, "") and address_group in (None, ""):
        if group in (None, ""):
            _add_whole(sources, families)
        return sources
    if prefix not in (None, ""):
        _add_entry(sources, prefix, families)
    if address_group not in (None, ""):
        ip_set = address_groups.get(address_group)
        if ip_set is None:  # unknown or unreadable: anyone
            _add_whole(sources, families)
        else:
            for entry in [ip_set] if isinstance(ip_set, str) else ip_set:
                _add_entry(sources, entry, families)
    return sources


def _is_inbound_allow(rule: Any) -> bool:
    direction = str(_field(rule, "direction") or "").strip().lower()
    action = str(_field(rule, "action") or "allow").strip().lower()
    return direction != "egress" and action != "deny"


# ---- the verdict ----------------------------------------------------------------------------------


def risky_exposures(
    rules: Iterable[Any],
    risky_ports: Iterable[int],
    *,
    address_groups: Mapping[str, Any] | None = None,
    max_public_addresses: int | None = None,
) -> list[Exposure]:
    """Every (risky port, port-carrying protocol, family) that the inbound allow rules open to
    everyone, or to more than ``max_public_addresses`` public addresses when that is given.

    ``rules``: objects with the attributes of :class:`shared.model.Rule` (or mappings with those
    keys), typically the rules of every group on one interface. ``address_groups``: address
    group id -> its ``ip_set`` (None = could not be read). Sorted by port, protocol, family.
    """
    address_groups = address_groups or {}
    ports = sorted({int(port) for port in risky_ports})
    prepared = []
    for rule in rules:
        if not _is_inbound_allow(rule):
            continue
        sources = {family: intervals for family, intervals in _rule_sources(rule, address_groups).items() if intervals}
        if sources:
            prepared.append(
                (
                    str(_field(rule, "id") or ""),
                    normalise_protocol(_field(rule, "protocol")),
                    parse_ports(_field(rule, "multiport")),
                    sources,
                )
            )
    found = []
    for port in ports:
        for number, name in sorted(PORT_PROTOCOLS.items(), key=lambda item: item[1]):
            reaching = [
                (rule_id, sources)
                for rule_id, protocols, port_ranges, sources in prepared
                if (protocols is None or number in protocols) and any(low <= port <= high for low, high in port_ranges)
            ]
            for family in _FAMILIES:
                contributors = [(rule_id, sources[family]) for rule_id, sources in reaching if family in sources]
                if not contributors:
                    continue
                union = _merge(interval for _, intervals in contributors for interval in intervals)
                everyone = union == [(0, 2 ** _BITS[family] - 1)]
                public = _public_count(union, family)
                if everyone or (max_public_addresses is not None and public > max_public_addresses):
                    rule_ids = tuple(dict.fromkeys(rule_id for rule_id, _ in contributors))
                    found.append(Exposure(port, name, family, everyone, public, rule_ids))
    return found

"""How the rails say what they found: one readable sentence per error, pure text functions.

Every sentence names the group (name quoted and escaped, then its id: the id is the truth, the
name may be a look-alike), the protocol and port in words (``TCP port 22 (SSH)``) and the sources
in words (``everyone on the internet over IPv4``, ``256 public IPv4 addresses (203.0.113.0-...)``).
Names come from whoever can create a group, so they are escaped and cut (:func:`group_label`):
no control, bidi or zero-width character and no megabyte reaches a log line or a ticket.

Pure and stdlib-only; imported by :mod:`shared.rails.guardrails`, :mod:`shared.rails.access`
and sg_drift's findings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from shared.errors import excerpt
from shared.model import SecurityGroup

__all__ = [
    "SERVICES",
    "count_words",
    "exposure_sentence",
    "group_label",
    "id_words",
    "port_words",
    "reach_words",
    "sources_words",
]

NAME_LIMIT = 66  # quoted and escaped name characters shown; the id follows anyway

# Well-known services on the ports people mark risky; a port not listed is shown as a number only.
SERVICES: dict[tuple[str, int], str] = {
    **{
        ("tcp", port): name
        for port, name in (
            (21, "FTP"),
            (22, "SSH"),
            (23, "Telnet"),
            (25, "SMTP"),
            (135, "Windows RPC"),
            (139, "NetBIOS"),
            (445, "SMB"),
            (1433, "SQL Server"),
            (1521, "Oracle"),
            (2375, "Docker API"),
            (3306, "MySQL"),
            (3389, "RDP"),
            (5432, "PostgreSQL"),
            (5900, "VNC"),
            (6379, "Redis"),
            (9200, "Elasticsearch"),
            (11211, "Memcached"),
            (27017, "MongoDB"),
        )
    },
    **{("udp", port): name for port, name in ((53, "DNS"), (161, "SNMP"), (3389, "RDP"), (11211, "Memcached"))},
}
_PROTOCOL_WORDS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "dccp": "DCCP", "udplite": "UDP-Lite"}
_HOW = {
    "attached": "Attaching group {group} to interface {port}",
    "removed": "Removing group {group}, which denies this traffic, from interface {port}",
    "moved": "Moving group {group} up the list of interface {port}",
}


class _Opening(Protocol):
    """What :class:`shared.rails.access.Widening` carries that a sentence needs."""

    @property
    def port(self) -> int: ...
    @property
    def protocol(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def reading(self) -> str: ...
    @property
    def new_public(self) -> int: ...
    @property
    def after_public(self) -> int: ...
    @property
    def everyone(self) -> bool: ...
    def new_ranges(self) -> str: ...


def group_label(group: SecurityGroup) -> str:
    """``'ssh-open' (0f3c...)``: the name escaped (``repr`` rules: no control or bidi character
    passes raw) and cut, then the id; ``(unnamed)`` when the group has no name."""
    name = excerpt(group.name, NAME_LIMIT) if group.name else "(unnamed)"
    return f"{name} ({id_words(group.id)})"


def id_words(value: str) -> str:
    """An id as it reads in a sentence: as it is when plain ASCII, else quoted and escaped."""
    plain = len(value) <= 64 and all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value)
    return value if plain else excerpt(value, 64)


def port_words(protocol: str, port: int) -> str:
    """``TCP port 22 (SSH)``; an unknown protocol or service is named as given."""
    words = _PROTOCOL_WORDS.get(protocol.lower(), protocol.upper())
    service = SERVICES.get((protocol.lower(), port))
    return f"{words} port {port}" + (f" ({service})" if service else "")


def count_words(number: int) -> str:
    """A count as people read it: ``2^24``, ``3,702,258,431``, ``about 2^124.3``."""
    if number >= 2**16 and number & (number - 1) == 0:
        return f"2^{number.bit_length() - 1}"
    if number < 10**12:
        return f"{number:,}"
    return f"about 2^{math.log2(number):.1f}"


def sources_words(family: str, count: int, everyone: bool, ranges: str = "") -> str:
    """Who could connect: ``everyone on the internet over IPv4`` or ``256 public IPv4 addresses (...)``."""
    if everyone:
        return f"everyone on the internet over {family}"
    plural = "address" if count == 1 else "addresses"
    return f"{count_words(count)} public {family} {plural}" + (f" ({ranges})" if ranges else "")


def reach_words(protocol: str, port: int, family: str, count: int, everyone: bool, rule_ids: Sequence[str]) -> str:
    """``TCP port 22 (SSH) is open to everyone on the internet over IPv4 (rule b7d8...)``."""
    rules = f" (rule{'s' if len(rule_ids) != 1 else ''} {', '.join(rule_ids)})" if rule_ids else ""
    return f"{port_words(protocol, port)} is open to {sources_words(family, count, everyone)}{rules}"


def _opening_words(items: Sequence[_Opening]) -> str:
    """One port's openings over both families: ``everyone on the internet over IPv4 and IPv6``."""
    if all(item.everyone and item.new_public == item.after_public for item in items):
        families = " and ".join(dict.fromkeys(item.family for item in items))
        return f"everyone on the internet over {families}"
    parts = []
    for item in items:
        if item.new_public == item.after_public:  # all of it new: the ranges say which
            parts.append(sources_words(item.family, item.after_public, item.everyone, item.new_ranges()))
        else:
            who = sources_words(item.family, item.after_public, item.everyone)
            parts.append(f"{who} ({count_words(item.new_public)} of those addresses new: {item.new_ranges()})")
    return " and ".join(parts)


def exposure_sentence(
    how: str,
    group: SecurityGroup,
    interface_id: str,
    openings: Iterable[_Opening],
    thresholds: Mapping[str, int],
    verdict: str,
) -> str:
    """One sentence for one exposure rail finding: who does what, what it opens, to whom, verdict.

    ``how`` is ``attached`` / ``removed`` / ``moved`` (how the group is to blame); ``verdict`` ends
    the sentence (``refused because ...`` / ``allowed as an approved exception``).
    """
    by_port: dict[tuple[int, str], list[_Opening]] = {}
    for item in openings:
        by_port.setdefault((item.port, item.protocol), []).append(item)
    opened = []
    for (port, protocol), items in sorted(by_port.items()):
        text = f"{port_words(protocol, port)} to {_opening_words(items)}"
        if all(item.reading == "global" for item in items):
            text += " (when rules of all groups are matched by priority alone)"
        opened.append(text)
    families = sorted({item.family for items in by_port.values() for item in items if not item.everyone})
    limits = " / ".join(f"{count_words(thresholds[f])} public {f} addresses" for f in families if f in thresholds)
    over = f", more than the {limits} allowed without approval" if limits else ""
    subject = _HOW.get(how, "Changing interface {port} with group {group}").format(
        group=group_label(group), port=interface_id
    )
    return f"{subject} would open {'; and '.join(opened)}{over}: {verdict}."

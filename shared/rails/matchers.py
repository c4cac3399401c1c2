"""Does a security-group rule match a packet's protocol and port: every spelling the API accepts.

* protocol: names in any case, IP protocol numbers ("6", 17), and None / "" / "any" / "all" /
  "-1" / "0" (Neutron's "any") mean every protocol. ICMP, GRE... carry no ports.
* ports: ``multiport`` "22", "1-30", "22, 3389,80"; None / "" = all ports; v1's
  ``port_range_min/max`` through :func:`multiport_from_range`.
* ethertype: "IPv4" / "IPv6" in any case ("4", "6"); anything else = both families.

A value that cannot be read has two readings: the *wide* one (every protocol, every port, both
families), used where over-matching is the safe error (an allow rule when bounding what may be
reachable), and the *narrow* one (matches nothing), used where under-matching is (a deny rule,
or any rule when bounding what surely was reachable): :func:`read_protocol`, :func:`read_ports`.

Pure and stdlib-only.
"""

from __future__ import annotations

from typing import Any

from shared.rails.addresses import merge

__all__ = [
    "PORT_PROTOCOLS",
    "normalise_protocol",
    "parse_ports",
    "multiport_from_range",
    "read_protocol",
    "read_ports",
    "rule_families",
    "ALL_PORTS",
]

Interval = tuple[int, int]  # inclusive bounds
ALL_PORTS: tuple[Interval, ...] = ((1, 65535),)
_ALL_PORTS = [(1, 65535)]
_FAMILIES = ("IPv4", "IPv6")

# IP protocol number -> name, for the protocols that carry ports.
PORT_PROTOCOLS: dict[int, str] = {6: "tcp", 17: "udp", 33: "dccp", 132: "sctp", 136: "udplite"}

_PROTOCOL_NUMBERS: dict[str, int] = {
    "icmp": 1,
    "igmp": 2,
    "ipip": 4,
    "ipv4": 4,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "udp": 17,
    "dccp": 33,
    "ipv6": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "icmp6": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "eigrp": 88,
    "ospf": 89,
    "pim": 103,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
    "udplite": 136,
    "udp-lite": 136,
    "mpls-in-ip": 137,
}
_ANY_PROTOCOL = {"", "any", "all", "*", "-1", "0", "ip"}

# ---- protocols and ports ----------------------------------------------------------------------


def normalise_protocol(value: Any) -> frozenset[int] | None:
    """The IP protocol numbers a rule's ``protocol`` names; None = every protocol.

    Names in any case, numbers as int or string; empty, "any", "-1", "0" and anything
    unrecognised mean every protocol (conservative).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return frozenset({value}) if 0 < value <= 255 else None
    text = str(value).strip().lower()
    if text in _ANY_PROTOCOL:
        return None
    if text.isdigit():
        number = int(text)
        return frozenset({number}) if 0 < number <= 255 else None
    known = _PROTOCOL_NUMBERS.get(text)
    return None if known is None else frozenset({known})


def parse_ports(multiport: Any) -> list[Interval]:
    """Sorted, merged (low, high) port ranges of a ``multiport`` value; None / "" = all ports.

    Unparseable values, ports outside 1-65535 and descending ranges count as all ports.
    """
    if multiport is None or isinstance(multiport, bool):
        return list(_ALL_PORTS)
    if isinstance(multiport, int):
        return [(multiport, multiport)] if 1 <= multiport <= 65535 else list(_ALL_PORTS)
    text = str(multiport).strip()
    if not text:
        return list(_ALL_PORTS)
    ranges = []
    for part in text.split(","):
        bounds = [bound.strip() for bound in part.split("-")]
        if len(bounds) > 2 or not all(bound.isdigit() for bound in bounds):
            return list(_ALL_PORTS)
        low, high = int(bounds[0]), int(bounds[-1])
        if not 1 <= low <= high <= 65535:
            return list(_ALL_PORTS)
        ranges.append((low, high))
    return _merge(ranges)


def multiport_from_range(port_min: Any, port_max: Any) -> str | None:
    """v1's ``port_range_min/max`` as a ``multiport`` string; None/None = all ports (None).

    One bound missing: the other end is open (1 or 65535). Values are not validated here:
    ``parse_ports`` reads anything odd as all ports.
    """
    if port_min in (None, "") and port_max in (None, ""):
        return None
    low = 1 if port_min in (None, "") else port_min
    high = 65535 if port_max in (None, "") else port_max
    return f"{low}" if str(low) == str(high) else f"{low}-{high}"


def _merge(intervals: Any) -> list[Interval]:
    """Sorted, disjoint, adjacent ones joined: the same interval arithmetic as the address sets."""
    return list(merge(intervals))


def read_protocol(value: Any) -> tuple[frozenset[int] | None, bool]:
    """(protocol numbers or None = every protocol, whether the value was understood)."""
    understood = value is None or (
        not isinstance(value, bool)
        and (
            (isinstance(value, int) and 0 <= value <= 255)
            or (not isinstance(value, int) and str(value).strip().lower() in _ANY_PROTOCOL)
            or (not isinstance(value, int) and str(value).strip().isdigit() and int(str(value).strip()) <= 255)
            or (not isinstance(value, int) and str(value).strip().lower() in _PROTOCOL_NUMBERS)
        )
    )
    return normalise_protocol(value), understood


def read_ports(multiport: Any) -> tuple[list[Interval], bool]:
    """(port ranges, whether the value was understood); not understood = all ports (wide)."""
    ranges = parse_ports(multiport)
    if multiport is None or (isinstance(multiport, str) and not multiport.strip()):
        return ranges, True
    if isinstance(multiport, bool):
        return ranges, False
    if isinstance(multiport, int):
        return ranges, 1 <= multiport <= 65535
    text = str(multiport).strip()
    understood = all(
        len(bounds := [b.strip() for b in part.split("-")]) <= 2
        and all(b.isdigit() for b in bounds)
        and 1 <= int(bounds[0]) <= int(bounds[-1]) <= 65535
        for part in text.split(",")
    )
    return ranges, understood


def rule_families(ethertype: Any) -> tuple[tuple[str, ...], bool]:
    """(families, whether the ethertype was understood); an unknown one = both families (wide)."""
    text = str(ethertype or "").strip().lower()
    if text in ("ipv4", "4"):
        return ("IPv4",), True
    if text in ("ipv6", "6"):
        return ("IPv6",), True
    return _FAMILIES, False

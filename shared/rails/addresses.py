"""Address sets as sorted, disjoint integer intervals per family: never one address at a time.

An :class:`AddressSet` holds IPv4 and IPv6 addresses as inclusive ``(low, high)`` intervals, so
that "all of IPv6 but one /128" costs two intervals, not 2**128 addresses. Union, intersection,
difference and size are linear sweeps over the interval lists.

**Public** addresses (:data:`PUBLIC`) are each family's whole space minus the IANA special-purpose
ranges that are not globally reachable: private (RFC 1918, ULA ``fc00::/7``...), shared
(``100.64.0.0/10``), loopback, link-local, multicast, reserved, documentation, benchmarking and
the other entries of the registries. The ranges come from the ``ipaddress`` module's own tables
(the data behind ``is_global`` / ``is_private``), not from a hand list; where a Python version
carries globally reachable exceptions inside a private range (``_private_networks_exceptions``,
3.13) they are public again. Python 3.10-3.13 differ in a few small entries; the sets here follow
the interpreter they run on.

Pure and stdlib-only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["AddressSet", "Interval", "EMPTY", "EVERYONE", "PUBLIC", "NON_PUBLIC", "FAMILIES", "BITS", "parse_entry"]

Interval = tuple[int, int]  # inclusive bounds
Intervals = tuple[Interval, ...]
FAMILIES = ("IPv4", "IPv6")
BITS = {"IPv4": 32, "IPv6": 128}
_MAPPED_BASE = 0xFFFF << 32  # ::ffff:0:0/96, IPv4-mapped IPv6 addresses


def merge(intervals: Iterable[Interval]) -> Intervals:
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1][1] = high
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


def _intersect(left: Intervals, right: Intervals) -> Intervals:
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        low, high = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if low <= high:
            out.append((low, high))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(left: Intervals, holes: Intervals) -> Intervals:
    out: list[Interval] = []
    j = 0
    for low, high in left:
        while j < len(holes) and holes[j][1] < low:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] <= high:
            if holes[k][0] > low:
                out.append((low, holes[k][0] - 1))
            low = max(low, holes[k][1] + 1)
            if low > high:
                break
            k += 1
        if low <= high:
            out.append((low, high))
    return tuple(out)


@dataclass(frozen=True)
class AddressSet:
    """Addresses of both families; build with :meth:`of`, :func:`parse_entry` or the constants."""

    v4: Intervals = ()
    v6: Intervals = ()

    @classmethod
    def of(cls, v4: Iterable[Interval] = (), v6: Iterable[Interval] = ()) -> AddressSet:
        return cls(merge(v4), merge(v6))

    @classmethod
    def whole(cls, families: Iterable[str] = FAMILIES) -> AddressSet:
        wanted = set(families)
        return cls(
            ((0, 2**32 - 1),) if "IPv4" in wanted else (),
            ((0, 2**128 - 1),) if "IPv6" in wanted else (),
        )

    def family(self, family: str) -> Intervals:
        return self.v4 if family == "IPv4" else self.v6

    def __bool__(self) -> bool:
        return bool(self.v4 or self.v6)

    def __or__(self, other: AddressSet) -> AddressSet:
        if not other:
            return self
        if not self:
            return other
        return AddressSet(merge(self.v4 + other.v4), merge(self.v6 + other.v6))

    def __and__(self, other: AddressSet) -> AddressSet:
        return AddressSet(_intersect(self.v4, other.v4), _intersect(self.v6, other.v6))

    def __sub__(self, other: AddressSet) -> AddressSet:
        if not self or not other:
            return self
        return AddressSet(_subtract(self.v4, other.v4), _subtract(self.v6, other.v6))

    def size(self, family: str) -> int:
        return sum(high - low + 1 for low, high in self.family(family))

    def public_size(self, family: str) -> int:
        """How many of this set's addresses of ``family`` are public (globally reachable)."""
        return (self & PUBLIC).size(family)

    def is_whole(self, family: str) -> bool:
        return self.family(family) == ((0, 2 ** BITS[family] - 1),)

    def __contains__(self, address: object) -> bool:
        ip = address if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else None
        if ip is None:
            ip = ipaddress.ip_address(str(address))
        value = int(ip)
        intervals = self.v4 if ip.version == 4 else self.v6
        return any(low <= value <= high for low, high in intervals)

    def describe(self, family: str, limit: int = 3) -> str:
        intervals = self.family(family)
        make = ipaddress.IPv4Address if family == "IPv4" else ipaddress.IPv6Address
        shown = [f"{make(low)}" if low == high else f"{make(low)}-{make(high)}" for low, high in intervals[:limit]]
        return ", ".join(shown) + (f" and {len(intervals) - limit} more ranges" if len(intervals) > limit else "")


EMPTY = AddressSet()
EVERYONE = AddressSet.whole()


def _network_interval(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Interval:
    return int(network.network_address), int(network.broadcast_address)


def _as_networks(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return [value]
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return [ipaddress.ip_network(value)]
    return [network for item in value for network in _as_networks(item)]


def _special(constants: Any, names: tuple[str, ...]) -> tuple[Intervals, Intervals]:
    """(not globally reachable, globally reachable exceptions inside them) from ``ipaddress``'s tables."""
    special = [_network_interval(n) for name in names for n in _as_networks(getattr(constants, name, None))]
    exceptions = [_network_interval(n) for n in _as_networks(getattr(constants, "_private_networks_exceptions", None))]
    return merge(special), merge(exceptions)


def _public() -> AddressSet:
    v4_special, v4_exceptions = _special(
        ipaddress._IPv4Constants,  # type: ignore[attr-defined]
        (
            "_private_networks",
            "_reserved_network",
            "_multicast_network",
            "_linklocal_network",
            "_loopback_network",
            "_public_network",  # 100.64.0.0/10, shared address space (ipaddress's own misnomer)
            "_unspecified_address",
        ),
    )
    v6_special, v6_exceptions = _special(
        ipaddress._IPv6Constants,  # type: ignore[attr-defined]
        (
            "_private_networks",
            "_reserved_networks",
            "_multicast_network",
            "_linklocal_network",
            "_sitelocal_network",
        ),
    )
    v4_special = _subtract(v4_special, v4_exceptions)
    v6_special = _subtract(v6_special, v6_exceptions)
    return AddressSet(_subtract(((0, 2**32 - 1),), v4_special), _subtract(((0, 2**128 - 1),), v6_special))


PUBLIC = _public()
NON_PUBLIC = EVERYONE - PUBLIC


def _mapped_v4(low: int, high: int) -> Intervals:
    mapped_low, mapped_high = max(low, _MAPPED_BASE), min(high, _MAPPED_BASE + 2**32 - 1)
    return ((mapped_low - _MAPPED_BASE, mapped_high - _MAPPED_BASE),) if mapped_low <= mapped_high else ()


def parse_entry(entry: Any, *, mapped: bool = True) -> AddressSet | None:
    """See :func:`_parse_entry`; strings are parsed once per process (the same rules recur in every message)."""
    if isinstance(entry, str):
        return _parse_cached(entry, mapped)
    return _parse_entry(entry, mapped=mapped)


@lru_cache(maxsize=4096)
def _parse_cached(entry: str, mapped: bool) -> AddressSet | None:
    return _parse_entry(entry, mapped=mapped)


def _parse_entry(entry: Any, *, mapped: bool = True) -> AddressSet | None:
    """One prefix (any spelling ``ip_network(strict=False)`` reads), bare address or ``a-b`` range;
    None when it cannot be read. With ``mapped``, IPv6 addresses of ``::ffff:0:0/96`` also stand for
    the IPv4 addresses they map (what a packet from them may look like to the platform)."""
    try:
        text = str(entry).strip()
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
            if first.version != last.version or int(first) > int(last):
                return None
            low, high, version = int(first), int(last), first.version
        else:
            network = ipaddress.ip_network(text, strict=False)
            low, high, version = int(network.network_address), int(network.broadcast_address), network.version
    except ValueError:
        return None
    if version == 4:
        return AddressSet(((low, high),))
    return AddressSet(_mapped_v4(low, high) if mapped else (), ((low, high),))

"""Address sets are interval arithmetic: checked against Python sets on small spaces, and the
public set against the ``ipaddress`` module's own predicates."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rails.addresses import EMPTY, EVERYONE, NON_PUBLIC, PUBLIC, AddressSet, parse_entry

SMALL = 64  # a tiny "family": every integer can be enumerated

intervals = st.lists(st.tuples(st.integers(0, SMALL - 1), st.integers(0, SMALL - 1)).map(sorted), max_size=6)


def as_set(pairs):
    return {value for low, high in pairs for value in range(low, high + 1)}


def as_python(address_set):
    return as_set(address_set.v4), as_set(address_set.v6)


@settings(max_examples=300, deadline=None)
@given(intervals, intervals, intervals, intervals)
def test_set_operations_agree_with_python_sets(a4, a6, b4, b6):
    a, b = AddressSet.of(a4, a6), AddressSet.of(b4, b6)
    sa4, sa6, sb4, sb6 = as_set(a4), as_set(a6), as_set(b4), as_set(b6)
    assert as_python(a | b) == (sa4 | sb4, sa6 | sb6)
    assert as_python(a & b) == (sa4 & sb4, sa6 & sb6)
    assert as_python(a - b) == (sa4 - sb4, sa6 - sb6)
    assert (a.size("IPv4"), a.size("IPv6")) == (len(sa4), len(sa6))
    for result in (a | b, a & b, a - b):  # sorted, disjoint, not even adjacent: a canonical form
        for family in (result.v4, result.v6):
            assert all(family[i][1] + 1 < family[i + 1][0] for i in range(len(family) - 1))
            assert all(low <= high for low, high in family)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.255.255",
        "100.64.0.1",  # shared address space
        "127.0.0.1",
        "169.254.169.254",
        "224.0.0.251",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "0.0.0.0",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "::1",
        "::",
        "fe80::1",
        "fd00::1",  # ULA
        "ff02::1",
        "2001:db8::1",
        "::ffff:8.8.8.8",  # IPv4-mapped: not itself a public IPv6 address
        "4000::1",  # reserved by IETF
        "fec0::1",  # site-local
    ],
)
def test_special_purpose_addresses_are_not_public(address):
    assert address not in PUBLIC
    assert address in NON_PUBLIC


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "11.0.0.1", "223.255.255.254", "2606:4700::1", "2a00::1"])
def test_ordinary_internet_addresses_are_public(address):
    assert address in PUBLIC


def test_public_follows_the_ipaddress_predicates_on_every_range_boundary():
    constants = (ipaddress._IPv4Constants, ipaddress._IPv6Constants)
    networks = []
    for holder in constants:
        for value in vars(holder).values():
            items = value if isinstance(value, list) else [value]
            networks += [n for n in items if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))]
    for network in networks:
        for address in (network.network_address, network.broadcast_address):
            special = (
                address.is_private
                or address.is_multicast
                or address.is_reserved
                or address.is_link_local
                or address.is_loopback
                or address.is_unspecified
                or getattr(address, "is_site_local", False)
                or (address.version == 4 and address in ipaddress.ip_network("100.64.0.0/10"))
            )
            assert (address in PUBLIC) == (not special), address


def test_sizes_are_exact_and_cheap_on_huge_sets():
    all_but_one = EVERYONE - parse_entry("8.8.8.8")
    assert all_but_one.size("IPv4") == 2**32 - 1
    assert all_but_one.public_size("IPv4") == PUBLIC.size("IPv4") - 1
    assert parse_entry("2000::/3").public_size("IPv6") > 2**124
    assert parse_entry("11.22.33.0/24").public_size("IPv4") == 256
    assert parse_entry("10.0.0.0/8").public_size("IPv4") == 0
    rfc1918 = parse_entry("10.0.0.0/8") | parse_entry("172.16.0.0/12") | parse_entry("192.168.0.0/16")
    assert (AddressSet.whole(("IPv4",)) - rfc1918).public_size("IPv4") == PUBLIC.size("IPv4")


@pytest.mark.parametrize(
    "entry, v4, v6",
    [
        ("10.0.0.0/8", [(0x0A000000, 0x0AFFFFFF)], []),
        ("10.1.2.3/8", [(0x0A000000, 0x0AFFFFFF)], []),  # host bits set
        ("10.0.0.0/255.0.0.0", [(0x0A000000, 0x0AFFFFFF)], []),  # netmask spelling
        ("1.2.3.4", [(0x01020304, 0x01020304)], []),
        (" 1.0.0.0 - 1.0.0.255 ", [(0x01000000, 0x010000FF)], []),
        ("0::/0", [(0, 2**32 - 1)], [(0, 2**128 - 1)]),  # all of IPv6 holds every IPv4-mapped address
        ("::ffff:10.0.0.0/104", [(0x0A000000, 0x0AFFFFFF)], [(0xFFFF0A000000, 0xFFFF0AFFFFFF)]),
    ],
)
def test_parse_entry(entry, v4, v6):
    assert parse_entry(entry) == AddressSet.of(v4, v6)


@pytest.mark.parametrize("entry", ["", "x", "1.2.3.4-1.2.3.3", "1.2.3.4-::1", "300.0.0.0/8", "10.0.0.0/33", None])
def test_unreadable_entries_are_none(entry):
    assert parse_entry(entry) is None


def test_mapped_addresses_can_be_left_out():
    assert parse_entry("::/0", mapped=False) == AddressSet.whole(("IPv6",))
    assert not EMPTY and EVERYONE.is_whole("IPv4") and EVERYONE.is_whole("IPv6")

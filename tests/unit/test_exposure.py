"""Exposure is computed over address intervals: every spelling that fooled the old pattern match.

Each attack example also asserts that the old per-group check (``risky_rules`` below, as it was)
misses it. The property test compares ``risky_exposures`` with a brute-force oracle that decides
per port and protocol by sampling one address per cell between every boundary in play.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.model import Rule, SecurityGroup
from shared.rails.exposure import Exposure, multiport_from_range, normalise_protocol, parse_ports, risky_exposures

RISKY = (22, 3389)
V4_ALL = 2**32
V6_ALL = 2**128


def rule(
    rule_id="r",
    *,
    prefix=None,
    protocol="tcp",
    ports="22",
    ethertype="IPv4",
    direction="ingress",
    action="allow",
    group=None,
    address_group=None,
):
    return Rule(
        id=rule_id,
        direction=direction,
        ethertype=ethertype,
        protocol=protocol,
        multiport=ports,
        remote_ip_prefix=prefix,
        remote_group_id=group,
        remote_address_group_id=address_group,
        action=action,
    )


def risky_rules(group, ports):
    """The pattern-matching check this module replaced (before issue 10), kept to show what it missed."""

    def ranges(rule):
        if not rule.multiport:
            return [(1, 65535)]
        out = []
        for part in str(rule.multiport).split(","):
            low, _, high = part.strip().partition("-")
            try:
                out.append((int(low), int(high or low)))
            except ValueError:
                return [(1, 65535)]
        return out or [(1, 65535)]

    found = []
    for r in group.rules or []:
        if r.direction != "ingress" or r.action != "allow" or r.remote_group_id or r.remote_address_group_id:
            continue
        if r.remote_ip_prefix not in (None, "", "0.0.0.0/0", "::/0"):
            continue
        if r.protocol not in (None, "", "any", "tcp", "udp"):
            continue
        found.extend((port, r.id) for port in ports if any(lo <= port <= hi for lo, hi in ranges(r)))
    return found


def old_misses(*groups_of_rules) -> bool:
    """The old check, applied group by group as check_plans does, finds nothing."""
    return all(
        risky_rules(SecurityGroup(f"g{i}", f"g{i}", rules=list(rules)), RISKY) == []
        for i, rules in enumerate(groups_of_rules)
    )


def verdicts(rules, **kwargs):
    return {(e.port, e.protocol, e.family, e.everyone) for e in risky_exposures(rules, RISKY, **kwargs)}


# ---- the attacks ----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol, name", [("6", "tcp"), ("17", "udp"), (6, "tcp"), ("132", "sctp")])
def test_protocol_numbers_without_ports_open_every_port(protocol, name):
    rules = [rule(prefix="0.0.0.0/0", protocol=protocol, ports=None)]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, name, "IPv4", True), (3389, name, "IPv4", True)}


@pytest.mark.parametrize("protocol", ["TCP", "Tcp", " tcp "])
def test_protocol_names_in_any_case(protocol):
    rules = [rule(prefix="0.0.0.0/0", protocol=protocol)]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


@pytest.mark.parametrize("prefix", ["0::/0", "::0/0", "0:0:0:0:0:0:0:0/0", "::1/0", "2001:db8::1/0"])
def test_ipv6_any_address_in_other_spellings(prefix):
    rules = [rule(prefix=prefix, ethertype="IPv6")]
    assert old_misses(rules)
    # ::/0 holds ::ffff:0:0/96 too: the IPv4-mapped addresses count as all of IPv4 (conservative)
    assert verdicts(rules) == {(22, "tcp", "IPv6", True), (22, "tcp", "IPv4", True)}


def test_ssh_from_two_halves_in_two_groups_is_everyone():
    first, second = [rule("low", prefix="0.0.0.0/1")], [rule("high", prefix="128.0.0.0/1", ports="20-30")]
    assert old_misses(first, second)
    exposures = risky_exposures(first + second, RISKY)
    assert [(e.port, e.protocol, e.family, e.everyone, e.rule_ids) for e in exposures] == [
        (22, "tcp", "IPv4", True, ("low", "high"))
    ]


def test_one_half_alone_is_not_everyone_but_counts_public_addresses():
    rules = [rule(prefix="0.0.0.0/1")]
    assert verdicts(rules) == set()
    [exposure] = risky_exposures(rules, RISKY, max_public_addresses=1000)
    assert not exposure.everyone
    # 0.0.0.0/1 minus 0/8, 10/8, 100.64/10, 127/8
    assert exposure.public_addresses == 2**31 - 3 * 2**24 - 2**22


@pytest.mark.parametrize("prefix", ["1.2.3.4/0", "255.255.255.255/0", "10.0.0.1/0"])
def test_host_bits_set(prefix):
    rules = [rule(prefix=prefix)]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


@pytest.mark.parametrize("prefix", ["0.0.0.0/0.0.0.0", "9.9.9.9/0.0.0.0"])
def test_netmask_spellings(prefix):
    rules = [rule(prefix=prefix)]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


def test_netmask_spelling_of_a_half_plus_the_other_half():
    rules = [rule("a", prefix="1.2.3.4/128.0.0.0"), rule("b", prefix="200.0.0.0/1")]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


@pytest.mark.parametrize("prefix", ["::ffff:0:0/96", "::ffff:0.0.0.0/96", "0:0:0:0:0:ffff:0:0/96"])
def test_ipv4_mapped_ipv6_prefix_covers_all_ipv4(prefix):
    rules = [rule(prefix=prefix, ethertype="IPv6")]
    assert old_misses(rules)
    # the mapped block itself holds no public IPv6 address: only the IPv4 family is exposed
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


def test_mapped_half_plus_plain_half():
    rules = [rule("v6", prefix="::ffff:0:0/97", ethertype="IPv6"), rule("v4", prefix="128.0.0.0/1")]
    assert old_misses(rules)
    assert verdicts(rules) == {(22, "tcp", "IPv4", True)}


def test_address_group_that_holds_everyone():
    rules = [rule("ag-rule", address_group="ag1")]
    groups = {"ag1": ["0.0.0.0/1", "128.0.0.0-255.255.255.255"]}
    assert old_misses(rules)
    assert verdicts(rules, address_groups=groups) == {(22, "tcp", "IPv4", True)}


@pytest.mark.parametrize("groups", [{}, {"ag1": None}])
def test_unreadable_or_unknown_address_group_is_everyone(groups):
    rules = [rule(address_group="ag1")]
    assert old_misses(rules)
    assert verdicts(rules, address_groups=groups) == {(22, "tcp", "IPv4", True)}


def test_address_group_with_a_few_addresses_is_not_exposed():
    groups = {"ag1": ["203.0.113.9", "198.51.100.0/24", "192.0.2.1-192.0.2.200", "8.8.8.8"]}
    assert verdicts([rule(address_group="ag1")], address_groups=groups) == set()
    assert verdicts([rule(address_group="ag1")], address_groups=groups, max_public_addresses=0) == {
        (22, "tcp", "IPv4", False)
    }
    [exposure] = risky_exposures([rule(address_group="ag1")], RISKY, address_groups=groups, max_public_addresses=0)
    assert exposure.public_addresses == 1  # documentation ranges are not public: 8.8.8.8 only


def test_all_protocols_reach_every_port_carrying_protocol():
    rules = [rule("all", protocol=None, ports=None, prefix="::/0", ethertype="IPv6")]
    protocols = {(e.protocol, e.port) for e in risky_exposures(rules, RISKY)}
    assert protocols == {(p, port) for p in ("tcp", "udp", "sctp", "dccp", "udplite") for port in RISKY}


def test_unparseable_values_are_read_conservatively():
    rules = [rule("bad-ports", ports="22;80", prefix="0.0.0.0/0", protocol="bogus")]
    assert ("udp", 3389) in {(e.protocol, e.port) for e in risky_exposures(rules, RISKY)}
    assert verdicts([rule(prefix="not-a-cidr")]) == {(22, "tcp", "IPv4", True)}
    assert verdicts([rule(prefix="nope", ethertype=None)]) == {(22, "tcp", "IPv4", True), (22, "tcp", "IPv6", True)}


# ---- what is not an exposure ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prefix": None, "group": "other-sg"},
        {"prefix": "0.0.0.0/0", "action": "deny"},
        {"prefix": "0.0.0.0/0", "direction": "egress"},
        {"prefix": "0.0.0.0/0", "protocol": "icmp", "ports": None},
        {"prefix": "0.0.0.0/0", "protocol": "1", "ports": None},
        {"prefix": "0.0.0.0/0", "protocol": "gre", "ports": None},
        {"prefix": "0.0.0.0/0", "ports": "23-3388,3390"},
        {"prefix": "10.0.0.0/8"},
    ],
)
def test_not_exposed(kwargs):
    assert risky_exposures([rule(**kwargs)], RISKY, max_public_addresses=0) == []


def test_private_space_is_never_public_but_a_public_slash8_is():
    private = [
        rule("p1", prefix="10.0.0.0/8"),
        rule("p2", prefix="192.168.0.0/16"),
        rule("p3", prefix="fc00::/7", ethertype="IPv6"),
    ]
    assert risky_exposures(private, RISKY, max_public_addresses=0) == []
    [exposure] = risky_exposures([rule("pub", prefix="11.0.0.0/8")], RISKY, max_public_addresses=2**24 - 1)
    assert exposure == Exposure(22, "tcp", "IPv4", False, 2**24, ("pub",))
    assert risky_exposures([rule("pub", prefix="11.0.0.0/8")], RISKY, max_public_addresses=2**24) == []


def test_no_rule_means_no_remote_means_the_whole_ethertype():
    # all of IPv6 holds the IPv4-mapped block: all of IPv4 too
    assert verdicts([rule(prefix=None, ethertype="IPv6")]) == {(22, "tcp", "IPv6", True), (22, "tcp", "IPv4", True)}
    assert verdicts([rule(prefix=None, ethertype=None)]) == {(22, "tcp", "IPv4", True), (22, "tcp", "IPv6", True)}


def test_sorted_and_described():
    rules = [rule("b", prefix="::/0", ethertype="IPv6", ports="22,3389"), rule("a", prefix="0.0.0.0/0", protocol="udp")]
    exposures = risky_exposures(rules, [3389, 22])
    assert [(e.port, e.protocol, e.family) for e in exposures] == [
        (22, "tcp", "IPv4"),
        (22, "tcp", "IPv6"),
        (22, "udp", "IPv4"),
        (3389, "tcp", "IPv4"),
        (3389, "tcp", "IPv6"),
    ]
    assert exposures[1].describe() == "tcp/22 is open to everyone (IPv6) (rules b)"
    partial = risky_exposures([rule("c", prefix="11.0.0.0/24")], RISKY, max_public_addresses=10)[0]
    assert partial.describe() == "tcp/22 is open to 256 public IPv4 addresses (rules c)"


def test_rules_as_mappings():
    rules = [{"id": "m", "direction": "ingress", "protocol": "TCP", "remote_ip_prefix": "0::/0", "ethertype": "IPv6"}]
    assert verdicts(rules) == {(port, "tcp", family, True) for port in RISKY for family in ("IPv4", "IPv6")}


# ---- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("any", None),
        ("ANY", None),
        ("-1", None),
        ("0", None),
        (0, None),
        ("bogus", None),
        ("256", None),
        ("tcp", {6}),
        ("TCP", {6}),
        ("6", {6}),
        (6, {6}),
        ("UDP", {17}),
        ("17", {17}),
        ("icmp", {1}),
        ("ICMPv6", {58}),
        ("sctp", {132}),
        ("gre", {47}),
        ("47", {47}),
        ("dccp", {33}),
        ("udplite", {136}),
        (" 132 ", {132}),
    ],
)
def test_normalise_protocol(value, expected):
    assert normalise_protocol(value) == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, [(1, 65535)]),
        ("", [(1, 65535)]),
        ("22", [(22, 22)]),
        ("1-30", [(1, 30)]),
        ("22,3389,80", [(22, 22), (80, 80), (3389, 3389)]),
        (" 22 , 80 - 90 ,85-100", [(22, 22), (80, 100)]),
        ("21,22,23", [(21, 23)]),
        (22, [(22, 22)]),
        ("x", [(1, 65535)]),
        ("30-1", [(1, 65535)]),
        ("0", [(1, 65535)]),
        ("70000", [(1, 65535)]),
        ("22,", [(1, 65535)]),
        ("1-2-3", [(1, 65535)]),
    ],
)
def test_parse_ports(value, expected):
    assert parse_ports(value) == expected


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (None, None, None),
        (22, 22, "22"),
        (20, 30, "20-30"),
        (None, 30, "1-30"),
        (3000, None, "3000-65535"),
    ],
)
def test_multiport_from_range(low, high, expected):
    assert multiport_from_range(low, high) == expected


def test_cheap_import():
    code = (
        "import sys, shared.rails.exposure; bad = [m for m in ('jsonschema', 'huaweicloudsdkcore', 'yaml') "
        "if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_non_global_tables_agree_with_is_global_on_ranges_every_python_agrees_on():
    checks = [
        "8.8.8.8",
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "203.0.113.7",
        "2001:db8::1",
        "fe80::1",
        "fc00::1",
        "2606:4700::1111",
        "::1",
    ]
    for address in checks:
        expected = ipaddress.ip_address(address).is_global
        family = "IPv4" if ipaddress.ip_address(address).version == 4 else "IPv6"
        [exposure] = risky_exposures([rule(prefix=address, ethertype=family)], [22], max_public_addresses=-1)
        assert exposure.public_addresses == int(expected), address


# ---- property: the module against a brute-force oracle -------------------------------------------

O_PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "dccp": 33, "udplite": 136, "icmp": 1, "icmpv6": 58, "gre": 47}
O_PORT_PROTOCOLS = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp", 136: "udplite"}
O_MAPPED = 0xFFFF << 32
O_SIZE = {4: V4_ALL, 6: V6_ALL}
O_FAMILY = {4: "IPv4", 6: "IPv6"}
# IANA "not globally reachable", written out independently of the module
O_NON_GLOBAL = [
    ipaddress.ip_network(n)
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
]
O_GLOBAL_EXCEPTIONS = [
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.9/32",
        "192.0.0.10/32",
        "2001:1::1/128",
        "2001:1::2/128",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:20::/28",
        "2001:30::/28",
    )
]


def o_protocols(value):
    if value is None:
        return None
    if isinstance(value, int):
        return {value} if 1 <= value <= 255 else None
    text = value.strip().lower()
    if text.isdigit():
        return {int(text)} if 1 <= int(text) <= 255 else None
    return {O_PROTOCOLS[text]} if text in O_PROTOCOLS else None


def o_port_in(multiport, port):
    if multiport is None or not multiport.strip():
        return True
    allowed = set()
    for part in multiport.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            return True
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= low <= high <= 65535:
            return True
        if low <= port <= high:
            allowed.add(port)
    return port in allowed


def o_families(ethertype):
    return {"IPv4": [4], "IPv6": [6]}.get(ethertype, [4, 6])


def o_entry(entry, families):
    """[(version, first, last)] for one prefix / address / range; unreadable = whole families."""
    try:
        if "-" in entry:
            first, last = (ipaddress.ip_address(p.strip()) for p in entry.split("-", 1))
            if first.version != last.version or first > last:
                raise ValueError(entry)
            return [(first.version, int(first), int(last))]
        net = ipaddress.ip_network(entry.strip(), strict=False)
        return [(net.version, int(net.network_address), int(net.broadcast_address))]
    except ValueError:
        return [(v, 0, O_SIZE[v] - 1) for v in families]


def o_sources(r, groups):
    families = o_families(r.ethertype)
    if not r.remote_ip_prefix and not r.remote_address_group_id:
        return [] if r.remote_group_id else [(v, 0, O_SIZE[v] - 1) for v in families]
    found = []
    if r.remote_ip_prefix:
        found += o_entry(r.remote_ip_prefix, families)
    if r.remote_address_group_id:
        ip_set = groups.get(r.remote_address_group_id)
        if ip_set is None:
            found += [(v, 0, O_SIZE[v] - 1) for v in families]
        else:
            for entry in ip_set:
                found += o_entry(entry, families)
    return found


def o_covers(sources, version, address):
    for v, first, last in sources:
        if v == version and first <= address <= last:
            return True
        if version == 4 and v == 6 and first <= O_MAPPED + address <= last:
            return True
    return False


def o_public(version, address):
    ip = ipaddress.IPv4Address(address) if version == 4 else ipaddress.IPv6Address(address)
    if any(ip in net for net in O_GLOBAL_EXCEPTIONS):
        return True
    return not any(ip.version == net.version and ip in net for net in O_NON_GLOBAL)


def oracle(rules, risky_ports, groups, max_public):
    inbound = [r for r in rules if r.direction == "ingress" and r.action == "allow"]
    expected = set()
    for port in risky_ports:
        for number, name in O_PORT_PROTOCOLS.items():
            reaching = []
            for r in inbound:
                protocols = o_protocols(r.protocol)
                if (protocols is None or number in protocols) and o_port_in(r.multiport, port):
                    reaching.append((r.id, o_sources(r, groups)))
            for version in (4, 6):
                size = O_SIZE[version]
                cuts = {0, size}
                for net in O_NON_GLOBAL + O_GLOBAL_EXCEPTIONS:
                    if net.version == version:
                        cuts |= {int(net.network_address), int(net.broadcast_address) + 1}
                contributors = []
                for rule_id, sources in reaching:
                    mine = False
                    for v, first, last in sources:
                        if v == version:
                            cuts |= {first, last + 1}
                            mine = True
                        elif version == 4 and v == 6:
                            low, high = max(first, O_MAPPED), min(last, O_MAPPED + V4_ALL - 1)
                            if low <= high:
                                cuts |= {low - O_MAPPED, high + 1 - O_MAPPED}
                                mine = True
                    if mine and rule_id not in contributors:
                        contributors.append(rule_id)
                if not contributors:
                    continue
                all_sources = [s for _, sources in reaching for s in sources]
                cells = sorted(cuts)
                everyone, public = True, 0
                for start, end in zip(cells, cells[1:]):
                    if o_covers(all_sources, version, start):
                        if o_public(version, start):
                            public += end - start
                    else:
                        everyone = False
                if everyone or (max_public is not None and public > max_public):
                    expected.add((port, name, O_FAMILY[version], everyone, public, frozenset(contributors)))
    return expected


def v4_text(address, length, draw):
    net = ipaddress.ip_network((address, length), strict=False)
    spelling = draw(st.sampled_from(["host", "net", "mask", "bare"]))
    if spelling == "host":
        return f"{ipaddress.IPv4Address(address)}/{length}"
    if spelling == "mask":
        return f"{ipaddress.IPv4Address(address)}/{net.netmask}"
    if spelling == "bare" and length == 32:
        return str(ipaddress.IPv4Address(address))
    return str(net)


def v6_text(address, length, draw):
    net = ipaddress.ip_network((address, length), strict=False)
    spelling = draw(st.sampled_from(["host", "net", "exploded", "bare"]))
    if spelling == "host":
        return f"{ipaddress.IPv6Address(address)}/{length}"
    if spelling == "exploded":
        return net.exploded
    if spelling == "bare" and length == 128:
        return ipaddress.IPv6Address(address).exploded
    return str(net)


@st.composite
def prefixes(draw):
    """One or two (a split) prefixes, in one of several spellings."""
    if draw(st.booleans()):
        bits = 32
        address = draw(
            st.one_of(
                st.integers(0, V4_ALL - 1),
                st.sampled_from([0, 2**31, 10 << 24, (192 << 24) | (168 << 16), (100 << 24) | (64 << 16), 0xFFFFFFFF]),
            )
        )
        length = draw(st.one_of(st.sampled_from([0, 0, 1, 1, 2, 4, 8, 10, 16, 24, 32]), st.integers(0, 32)))
        text = v4_text
    else:
        bits = 128
        if draw(st.integers(0, 9)) == 0:
            return [draw(st.sampled_from(["::/0", "0::/0", "::0/0", "0:0:0:0:0:0:0:0/0"]))]
        address = draw(
            st.one_of(
                st.integers(0, V6_ALL - 1),
                st.integers(0, V4_ALL - 1).map(lambda a: O_MAPPED + a),
                st.sampled_from([0, 1, 2**127, 0x20010DB8 << 96, 0xFC << 120, 0xFE80 << 112, O_MAPPED]),
            )
        )
        length = draw(st.one_of(st.sampled_from([0, 1, 1, 2, 64, 96, 97, 127, 128]), st.integers(0, 128)))
        text = v6_text
    if length < bits and draw(st.integers(0, 3)) == 0:  # split into its two halves
        net = ipaddress.ip_network((address, length), strict=False)
        return [
            text(int(half.network_address) | draw(st.integers(0, 2 ** (bits - length - 1) - 1)), length + 1, draw)
            for half in net.subnets()
        ]
    return [text(address, length, draw)]


@st.composite
def ip_set_entries(draw):
    kind = draw(st.sampled_from(["prefix", "range", "range6", "garbage"]))
    if kind == "prefix":
        return draw(prefixes())[0]
    if kind == "range":
        a, b = sorted(draw(st.lists(st.integers(0, V4_ALL - 1), min_size=2, max_size=2)))
        return f"{ipaddress.IPv4Address(a)}-{ipaddress.IPv4Address(b)}"
    if kind == "range6":
        a, b = sorted(draw(st.lists(st.integers(0, V6_ALL - 1), min_size=2, max_size=2)))
        return f"{ipaddress.IPv6Address(a)} - {ipaddress.IPv6Address(b)}"
    return "garbage"


PROTOCOL_VALUES = [
    None,
    "",
    "any",
    "tcp",
    "TCP",
    "Tcp",
    "udp",
    "UDP",
    "6",
    "17",
    "icmp",
    "ICMP",
    "1",
    "58",
    "icmpv6",
    "sctp",
    "SCTP",
    "132",
    "gre",
    "47",
    "33",
    "DCCP",
    "136",
    "udplite",
    "bogus",
    "0",
    "-1",
    6,
    17,
    1,
]


@st.composite
def multiports(draw):
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return draw(st.sampled_from([None, ""]))
    if choice == 6:
        return draw(st.sampled_from(["x", "22;80", "30-1", "0", "1-2-3"]))
    interesting = st.one_of(st.sampled_from([21, 22, 23, 3388, 3389, 3390, 1, 65535]), st.integers(1, 65535))
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        low = draw(interesting)
        if draw(st.booleans()):
            high = draw(st.one_of(st.integers(low, min(65535, low + 40)), st.integers(low, 65535)))
            parts.append(f"{low}{draw(st.sampled_from(['-', ' - ']))}{high}")
        else:
            parts.append(str(low))
    return draw(st.sampled_from([",", ", ", " ,"])).join(parts)


@st.composite
def rule_sets(draw):
    groups = {}
    for group_id in ("ag1", "ag2", "ag3"):
        state = draw(st.integers(0, 5))
        if state == 0:
            continue  # absent from the mapping
        groups[group_id] = None if state == 1 else draw(st.lists(ip_set_entries(), max_size=4))
    rules = []
    for index in range(draw(st.integers(0, 7))):
        remote = draw(st.sampled_from(["prefix", "prefix", "prefix", "none", "group", "address_group"]))
        sources = [None]
        group = address_group = None
        if remote == "prefix":
            sources = draw(prefixes()) if draw(st.integers(0, 15)) else ["not-a-cidr"]
        elif remote == "group":
            group = "some-sg"
        elif remote == "address_group":
            address_group = draw(st.sampled_from(["ag1", "ag2", "ag3", "ag-missing"]))
        protocol, ports = draw(st.sampled_from(PROTOCOL_VALUES)), draw(multiports())
        direction = draw(st.sampled_from(["ingress", "ingress", "ingress", "egress"]))
        action = draw(st.sampled_from(["allow", "allow", "allow", "deny"]))
        for part, source in enumerate(sources):
            if source is None:
                ethertype = draw(st.sampled_from(["IPv4", "IPv6", None]))
            elif source == "not-a-cidr":
                ethertype = draw(st.sampled_from(["IPv4", "IPv6", None, "bogus"]))
            else:
                ethertype = "IPv6" if ":" in source else "IPv4"
            rules.append(
                Rule(
                    id=f"r{index}.{part}",
                    direction=direction,
                    ethertype=ethertype,
                    protocol=protocol,
                    multiport=ports,
                    remote_ip_prefix=source,
                    remote_group_id=group,
                    remote_address_group_id=address_group,
                    action=action,
                )
            )
    return rules, groups


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rule_sets(), st.sampled_from([None, None, 0, 1000, 2**24, 2**31, 2**100]))
def test_matches_the_brute_force_oracle(case, max_public):
    rules, groups = case
    got = {
        (e.port, e.protocol, e.family, e.everyone, e.public_addresses, frozenset(e.rule_ids))
        for e in risky_exposures(rules, RISKY, address_groups=groups, max_public_addresses=max_public)
    }
    assert got == oracle(rules, RISKY, groups, max_public)

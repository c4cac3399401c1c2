"""Exposure is computed over address intervals: every spelling that fooled the old pattern match.

Each attack example also asserts that the old per-group check (``risky_rules`` below, as it was)
misses it. Since issue 19 the verdicts come from the effective-access model
(:func:`shared.rails.access.reach`); its brute-force oracle lives in ``test_access.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.model import Rule, SecurityGroup
from shared.rails.access import AccessModel, reach
from shared.rails.addresses import PUBLIC
from shared.rails.matchers import multiport_from_range, normalise_protocol, parse_ports

RISKY = (22, 3389)


def risky_exposures(rules, ports, *, address_groups=None, max_public_addresses=None):
    """The rules as one group: what it opens; without a maximum, only all of the public space counts."""
    group = SecurityGroup("g", "g", rules=list(rules))
    thresholds = {
        family: PUBLIC.size(family) - 1 if max_public_addresses is None else max_public_addresses
        for family in ("IPv4", "IPv6")
    }
    return reach(AccessModel(["g"], {"g": group}, address_groups or {}), ports, thresholds)


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
    assert (exposure.port, exposure.protocol, exposure.family, exposure.everyone) == (22, "tcp", "IPv4", False)
    assert (exposure.public_addresses, exposure.rule_ids) == (2**24, ("pub",))
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
    assert exposures[1].describe() == "TCP port 22 (SSH) is open to everyone on the internet over IPv6 (rule b)"
    partial = risky_exposures([rule("c", prefix="11.0.0.0/24")], RISKY, max_public_addresses=10)[0]
    assert partial.describe() == "TCP port 22 (SSH) is open to 256 public IPv4 addresses (rule c)"


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
        "import sys, shared.rails.access; bad = [m for m in ('jsonschema', 'huaweicloudsdkcore', 'yaml') "
        "if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

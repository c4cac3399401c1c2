"""Effective access (:mod:`shared.rails.access`) against a brute-force oracle written here.

The oracle knows nothing of intervals: it takes one packet (protocol, port, source address) and
walks the rules in the platform's order - groups in interface order then rule priority
("ordered"), or all rules pooled by priority ("global"), a deny before an allow at the same
priority - and the first rule that matches decides. Addresses are sampled from every
special-purpose range of the ``ipaddress`` module, a few public ones, and both ends (and
neighbours) of every prefix in play, so that every cell of the interval arithmetic is visited.
"""

from __future__ import annotations

import ipaddress
import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.model import Rule, SecurityGroup
from shared.rails.access import LOWER, READINGS, UPPER, AccessModel, widenings
from shared.rails.addresses import PUBLIC

PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "dccp": 33, "udplite": 136}
PORTS = list(range(18, 27)) + [3389, 65535]
MAPPED = ipaddress.ip_network("::ffff:0:0/96")
SHARED = ipaddress.ip_network("100.64.0.0/10")


# ---- the oracle -------------------------------------------------------------------------------
def o_protocols(value):
    if value in (None, "", "any"):
        return None
    text = str(value).strip().lower()
    return {int(text)} if text.isdigit() else {{"tcp": 6, "udp": 17, "icmp": 1}[text]}


def o_ports(value):
    if value in (None, ""):
        return lambda port: True
    spans = []
    for part in str(value).split(","):
        low, _, high = part.strip().partition("-")
        spans.append((int(low), int(high or low)))
    return lambda port: any(low <= port <= high for low, high in spans)


def o_in(entry, address, wide):
    """Whether ``address`` is one of ``entry``'s sources (a prefix or "a-b" range)."""
    if "-" in entry:
        first, last = (ipaddress.ip_address(p.strip()) for p in entry.split("-"))
        candidates = [address]
        if wide and address.version == 4 and first.version == 6:
            candidates.append(ipaddress.IPv6Address(int(MAPPED.network_address) + int(address)))
        return any(c.version == first.version and first <= c <= last for c in candidates)
    network = ipaddress.ip_network(entry, strict=False)
    if address.version == network.version:
        return address in network
    # an IPv6 source in ::ffff:0:0/96 may stand for the IPv4 host it maps (read wide only)
    mapped = ipaddress.IPv6Address(int(MAPPED.network_address) + int(address)) if address.version == 4 else None
    return wide and mapped is not None and mapped in network


def o_public(address):
    return not (
        address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_link_local
        or address.is_loopback
        or address.is_unspecified
        or getattr(address, "is_site_local", False)
        or (address.version == 4 and address in SHARED)
    )


def o_source(rule, address, address_groups, wide):
    family = 4 if rule.ethertype == "IPv4" else 6
    of_family = address.version == family or (wide and family == 6 and address.version == 4)
    if rule.remote_ip_prefix is None and rule.remote_address_group_id is None:
        if rule.remote_group_id is None:
            return of_family
        return wide and of_family and not o_public(address)  # members of a group: private addresses
    if rule.remote_ip_prefix is not None:
        return o_in(rule.remote_ip_prefix, address, wide) and (wide or address.version == family)
    ip_set = address_groups.get(rule.remote_address_group_id)
    if ip_set is None:
        return wide and of_family
    return any(o_in(e, address, wide) for e in ip_set) and (wide or address.version == family)


def o_allowed(group_ids, groups, address_groups, protocol, port, address, reading, bound):
    pooled = []
    for index, gid in enumerate(group_ids):
        group = groups.get(gid)
        if group is None or group.rules is None:
            if bound == UPPER:
                pooled.append((index, -math.inf, False, None))  # not read: may allow anything
            continue
        for rule in group.rules:
            pooled.append((index, rule.priority, rule.action == "deny", rule))
    if reading == "ordered":
        pooled.sort(key=lambda item: (item[0], item[1], not item[2]))
    else:
        pooled.sort(key=lambda item: (item[1], not item[2], item[0]))
    for _, _, deny, rule in pooled:
        if rule is None:
            return True
        wide = deny == (bound == LOWER)
        if rule.direction != "ingress" or (not rule.enabled and not wide):
            continue
        protocols = o_protocols(rule.protocol)
        if protocols is not None and protocol not in protocols:
            continue
        if not o_ports(rule.multiport)(port):
            continue
        if o_source(rule, address, address_groups, wide):
            return not deny
    return False


def samples(groups, address_groups):
    points = {ipaddress.ip_address(a) for a in ("8.8.8.8", "1.1.1.1", "11.0.0.1", "2606:4700::1", "2a00::1")}
    networks = []
    for holder in (ipaddress._IPv4Constants, ipaddress._IPv6Constants):
        for value in vars(holder).values():
            items = value if isinstance(value, list) else [value]
            networks += [n for n in items if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))]
    entries = [r.remote_ip_prefix for g in groups.values() for r in g.rules or [] if r.remote_ip_prefix]
    entries += [e for ip_set in address_groups.values() if ip_set for e in ip_set]
    bounds = []
    for entry in entries:
        if "-" in entry:
            bounds.append(tuple(ipaddress.ip_address(p.strip()) for p in entry.split("-")))
        else:
            network = ipaddress.ip_network(entry, strict=False)
            bounds.append((network.network_address, network.broadcast_address))
    bounds += [(n.network_address, n.broadcast_address) for n in networks]
    for low, high in bounds:
        for value in (int(low), int(high) + 1):
            for address in (value - 1, value):
                limit = 2**32 if low.version == 4 else 2**128
                if 0 <= address < limit:
                    points.add(ipaddress.ip_address(address) if low.version == 4 else ipaddress.IPv6Address(address))
        if low.version == 6:  # the IPv4 hosts an IPv4-mapped range stands for
            base = int(MAPPED.network_address)
            for value in (int(low) - base, int(high) - base + 1):
                for address in (value - 1, value):
                    if 0 <= address < 2**32:
                        points.add(ipaddress.IPv4Address(address))
    return sorted(points, key=lambda a: (a.version, int(a)))


# ---- random group lists -----------------------------------------------------------------------
V4 = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "11.0.0.0/8", "8.8.8.0/24", "100.64.0.0/10"]
V4 += ["192.168.0.0/16", "1.0.0.0-223.255.255.255", "0.0.0.1-255.255.255.254", "8.8.8.8"]
V6 = ["::/0", "2000::/3", "fc00::/7", "::ffff:0:0/96", "2001:db8::/32", "fe80::/10", "2606:4700::/32"]


@st.composite
def prefixes(draw, family):
    if draw(st.booleans()):
        return draw(st.sampled_from(V4 if family == "IPv4" else V6))
    bits = 32 if family == "IPv4" else 128
    value = draw(st.integers(0, 2**bits - 1))
    length = draw(st.integers(0, bits))
    network = ipaddress.ip_network((value, length), strict=False)
    return str(network)


@st.composite
def rules(draw, index):
    family = draw(st.sampled_from(["IPv4", "IPv4", "IPv6"]))
    source = draw(st.sampled_from(["prefix", "prefix", "prefix", "none", "group", "address_group"]))
    return Rule(
        id=f"r{index}",
        direction=draw(st.sampled_from(["ingress", "ingress", "ingress", "egress"])),
        ethertype=family,
        protocol=draw(st.sampled_from([None, "tcp", "6", "udp", "17", "TCP", "icmp", "any"])),
        multiport=draw(st.sampled_from([None, "22", "20-25", "22,80", "1-21", "23-65535", "3389", "19,24-26"])),
        remote_ip_prefix=draw(prefixes(family)) if source == "prefix" else None,
        remote_group_id="other-sg" if source == "group" else None,
        remote_address_group_id=draw(st.sampled_from(["ag-known", "ag-unread"])) if source == "address_group" else None,
        action=draw(st.sampled_from(["allow", "allow", "deny"])),
        priority=draw(st.integers(1, 4)),
        enabled=draw(st.sampled_from([True, True, True, False])),
    )


@st.composite
def estates(draw):
    count = draw(st.integers(1, 4))
    groups = {}
    serial = 0
    for g in range(count):
        if draw(st.integers(0, 9)) == 0:
            groups[f"g{g}"] = SecurityGroup(f"g{g}", f"g{g}", rules=None)  # rules not read
            continue
        items = []
        for _ in range(draw(st.integers(0, 4))):
            items.append(draw(rules(serial)))
            serial += 1
        groups[f"g{g}"] = SecurityGroup(f"g{g}", f"g{g}", rules=items)
    ids = list(groups)
    before = draw(st.permutations(ids).map(lambda p: p[: draw(st.integers(1, len(p)))]))
    after = draw(st.permutations(ids).map(lambda p: p[: draw(st.integers(1, len(p)))]))
    if len(before) > 1 and draw(st.booleans()):  # drop the first group, add the others: laundering's shape
        after = list(before[1:]) + [g for g in ids if g not in before]
    address_groups = {"ag-known": draw(st.lists(prefixes("IPv4"), min_size=1, max_size=2)), "ag-unread": None}
    return groups, address_groups, list(before), list(after)


# the attack shapes of issue 19, always tried besides the random ones
def _group(gid, *rules):
    return SecurityGroup(gid, gid, rules=list(rules))


def _ssh(rid, prefix, action="allow", priority=1):
    return Rule(rid, "ingress", "IPv4", "tcp", "22", prefix, action=action, priority=priority)


LAUNDERING = (
    {
        "world": _group("world", _ssh("w", "0.0.0.0/0")),
        "half-a": _group("half-a", _ssh("a", "0.0.0.0/1")),
        "half-b": _group("half-b", _ssh("b", "128.0.0.0/1")),
    },
    {},
    ["world", "half-a"],
    ["half-a", "half-b"],
)
DENY_STRIP = (
    {"deny": _group("deny", _ssh("d", "0.0.0.0/0", "deny", 1)), "open": _group("open", _ssh("o", "0.0.0.0/0"))},
    {},
    ["deny", "open"],
    ["open"],
)
REORDER = (DENY_STRIP[0], {}, ["deny", "open"], ["open", "deny"])


# ---- properties -------------------------------------------------------------------------------
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
@example(LAUNDERING)
@example(DENY_STRIP)
def test_the_model_agrees_with_first_match_on_every_sampled_packet(estate):
    groups, address_groups, order, _ = estate
    points = samples(groups, address_groups)
    for bound in (UPPER, LOWER):
        model = AccessModel(order, groups, address_groups, bound=bound)
        for reading in READINGS:
            for protocol in (6, 17, 132):
                for port in PORTS:
                    allowed = model.allowed(protocol, port, reading)
                    for address in points:
                        expected = o_allowed(order, groups, address_groups, protocol, port, address, reading, bound)
                        assert (address in allowed) == expected, (bound, reading, protocol, port, str(address))
        # the cut-down model the rail uses (one port, public sources only) is the full one, cut
        cut = AccessModel(order, groups, address_groups, bound=bound, ports=[22], within=PUBLIC)
        for reading in READINGS:
            for protocol in (6, 17, 132):
                assert cut.allowed(protocol, 22, reading) == model.allowed(protocol, 22, reading) & PUBLIC


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
@example(LAUNDERING)
@example(DENY_STRIP)
@example(REORDER)
def test_a_change_widens_exactly_where_a_public_source_gains_access(estate):
    groups, address_groups, before, after = estate
    kept = [g for g in before if g in after]
    points = [a for a in samples(groups, address_groups) if o_public(a)]
    gained = {}  # (reading, protocol, family) -> the sampled public sources that gain access
    for reading in READINGS:
        for name, number in PROTOCOLS.items():
            for a in points:
                if o_allowed(after, groups, address_groups, number, 22, a, reading, UPPER) and not (
                    o_allowed(before, groups, address_groups, number, 22, a, reading, LOWER)
                    and o_allowed(kept, groups, address_groups, number, 22, a, reading, LOWER)
                ):
                    gained.setdefault((reading, name, f"IPv{a.version}"), set()).add(a)
    found = widenings(before, after, groups, address_groups, [22], {"IPv4": 0, "IPv6": 0})
    assert {(w.reading, w.protocol, w.family) for w in found} == set(gained)
    for w in found:
        family = [a for a in points if f"IPv{a.version}" == w.family]
        assert {a for a in family if a in w.new} == gained[(w.reading, w.protocol, w.family)]


# ---- the documented semantics, one at a time --------------------------------------------------
def ssh(rule_id, prefix="0.0.0.0/0", action="allow", priority=1, **extra):
    return Rule(rule_id, "ingress", "IPv4", "tcp", "22", prefix, action=action, priority=priority, **extra)


def model_of(*group_rules, bound=UPPER):
    groups = {f"g{i}": SecurityGroup(f"g{i}", f"g{i}", rules=list(rs)) for i, rs in enumerate(group_rules)}
    return AccessModel(list(groups), groups, {}, bound=bound)


def reachable(model, reading):
    return model.allowed(6, 22, reading).public_size("IPv4")


def test_a_deny_wins_over_an_allow_of_the_same_priority_in_one_group():
    model = model_of([ssh("a"), ssh("d", action="deny")])
    assert reachable(model, "ordered") == reachable(model, "global") == 0


def test_a_smaller_priority_number_is_matched_first():
    model = model_of([ssh("a", priority=1), ssh("d", action="deny", priority=2)])
    assert reachable(model, "ordered") > 2**31


def test_the_first_group_decides_in_the_ordered_reading_and_priority_in_the_global_one():
    model = model_of([ssh("d", action="deny", priority=100)], [ssh("a", priority=1)])
    assert reachable(model, "ordered") == 0
    assert reachable(model, "global") > 2**31


def test_a_disabled_deny_protects_nothing_in_the_upper_bound():
    model = model_of([ssh("d", action="deny", enabled=False)], [ssh("a")])
    assert reachable(model, "ordered") > 2**31
    assert reachable(model_of([ssh("d", action="deny", enabled=False)], [ssh("a")], bound=LOWER), "ordered") == 0


def test_a_group_whose_rules_were_not_read_may_allow_anything():
    groups = {"g": SecurityGroup("g", "g", rules=None)}
    assert AccessModel(["g"], groups).allowed(6, 22, "ordered").is_whole("IPv4")
    assert not AccessModel(["g"], groups, bound=LOWER).allowed(6, 22, "ordered")
    assert AccessModel(["missing"], {}).allowed(17, 3389, "global").is_whole("IPv6")


def test_a_remote_group_is_private_members_only():
    rule = Rule("g", "ingress", "IPv4", "tcp", "22", remote_group_id="other")
    allowed = model_of([rule]).allowed(6, 22, "ordered")
    assert allowed and allowed.public_size("IPv4") == 0


@pytest.mark.parametrize("protocol, number", [("6", 6), ("TCP", 6), ("17", 17), (None, 132), ("any", 33)])
def test_protocols_by_number_name_and_any(protocol, number):
    rule = Rule("r", "ingress", "IPv4", protocol, "22", "0.0.0.0/0")
    assert model_of([rule]).allowed(number, 22, "ordered").is_whole("IPv4")


def test_unreadable_values_are_wide_in_an_allow_and_narrow_in_a_deny():
    odd = {"protocol": "tcp?", "multiport": "22-", "remote_ip_prefix": "0.0.0.0/0"}
    allow = Rule("a", "ingress", "IPv4", odd["protocol"], "22", "0.0.0.0/0")
    deny = Rule("d", "ingress", "IPv4", "tcp", odd["multiport"], "0.0.0.0/0", action="deny")
    assert model_of([allow]).allowed(17, 22, "ordered").is_whole("IPv4")  # an unknown protocol: any
    assert model_of([deny, ssh("a", priority=2)]).allowed(6, 22, "ordered").is_whole("IPv4")  # an odd deny: none
    bad_prefix = Rule("d", "ingress", "IPv4", "tcp", "22", "0.0.0.0/x", action="deny")
    assert model_of([bad_prefix], [ssh("a")]).allowed(6, 22, "ordered").is_whole("IPv4")

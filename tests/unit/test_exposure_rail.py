"""Issue 19: the exposure rail compares effective access before and after, for every action.

Each attack here got through the rail of issue 10 (the union of allow rules, "everyone" only,
removals and reorders never checked); each safe control must still pass.
"""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from shared.changes.planning import plan_nic
from shared.errors import ErrorCode
from shared.model import Port, Rule, SecurityGroup
from shared.rails.addresses import PUBLIC
from shared.rails.guardrails import GroupFacts, GuardRails, check_plans

SERVER = "c0000000-0000-4000-8000-000000000001"


def rule(prefix="0.0.0.0/0", ports="22", *, action="allow", priority=1, protocol="tcp", ethertype=None, **extra):
    family = ethertype or ("IPv6" if ":" in (prefix or "") else "IPv4")
    return Rule(
        id=f"r-{action}-{ports}-{prefix}-{priority}",
        direction="ingress",
        ethertype=family,
        protocol=protocol,
        multiport=ports,
        remote_ip_prefix=prefix,
        action=action,
        priority=priority,
        **extra,
    )


def excluding(whole, *holes):
    """``whole`` minus ``holes`` as prefixes, the way an attacker would write "all but these"."""
    parts = [ipaddress.ip_network(whole)]
    for hole in map(ipaddress.ip_network, holes):
        parts = [q for p in parts for q in (p.address_exclude(hole) if hole.subnet_of(p) else [p])]
    return [str(p) for p in parts]


def sg(gid, *rules):
    return SecurityGroup(gid, gid, rules=list(rules))


GROUPS = {
    "base": sg("base", rule("10.0.9.0/24", "9100")),
    "web": sg("web", rule("0.0.0.0/0", "80,443"), rule("::/0", "80,443")),
    "world-ssh": sg("world-ssh", rule()),
    "half-a": sg("half-a", rule("0.0.0.0/1")),
    "half-b": sg("half-b", rule("128.0.0.0/1")),
    "deny22": sg("deny22", rule(action="deny", priority=1)),
    "deny-all": sg("deny-all", rule(None, None, action="deny", priority=100, protocol=None)),
    "open22": sg("open22", rule()),
    "partner24": sg("partner24", rule("203.0.114.0/24")),
    "company16": sg("company16", rule("141.20.0.0/16")),
    "rfc1918": sg("rfc1918", rule("10.0.0.0/8"), rule("172.16.0.0/12"), rule("192.168.0.0/16")),
    "ula": sg("ula", rule("fd12:3456:789a::/48")),
    "peers": sg("peers", Rule("r-peers", "ingress", "IPv4", "tcp", "22", remote_group_id="base")),
    "https-world": sg("https-world", rule("0.0.0.0/0", "443")),
    # "almost everyone"
    "all-but-one": sg("all-but-one", *[rule(n) for n in excluding("0.0.0.0/0", "8.8.8.8/32")]),
    "to-223": sg("to-223", rule("0.0.0.0/1"), rule("128.0.0.0/2"), rule("192.0.0.0/3")),
    "not-rfc1918": sg(
        "not-rfc1918", *[rule(n) for n in excluding("0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    ),
    "global-v6": sg("global-v6", rule("2000::/3")),
    "rdp-udp-v6": sg("rdp-udp-v6", rule("2000::/3", "3389", protocol="udp")),
    "ag-odd": sg("ag-odd", Rule("r-ag1", "ingress", "IPv4", "tcp", "22", remote_address_group_id="ag-1")),
    "ag-to-223": sg("ag-to-223", Rule("r-ag2", "ingress", "IPv4", "tcp", "22", remote_address_group_id="ag-2")),
    "disabled-deny": sg("disabled-deny", rule(action="deny", priority=1, enabled=False)),
}
ADDRESS_GROUPS = {"ag-1": ["0.0.0.1-255.255.255.254"], "ag-2": ["1.0.0.0-223.255.255.255"]}


def check(before, action, groups, *, rails=GuardRails(), approved=False):
    port = Port("p1", SERVER, "compute:az", "n", [("s", "10.0.0.1")], list(before))
    plan, errors, _ = plan_nic(port, action, list(groups))
    assert not errors and plan is not None
    facts = GroupFacts(dict(GROUPS), Counter(g.name for g in GROUPS.values()), dict(ADDRESS_GROUPS))
    return check_plans(
        [plan],
        rails=rails,
        facts=facts,
        path_of=lambda g: f"$.change.security_groups[{list(groups).index(g)}]" if g in groups else "$.change",
        approved=approved,
    )


def refused(before, action, groups, **kwargs):
    errors, _ = check(before, action, groups, **kwargs)
    return [e for e in errors if e.code == ErrorCode.RISKY_RULE]


# ---- almost everyone is not "everyone", and still too many --------------------------------------
@pytest.mark.parametrize(
    "group", ["all-but-one", "to-223", "not-rfc1918", "global-v6", "rdp-udp-v6", "ag-odd", "ag-to-223", "half-a"]
)
def test_almost_everyone_is_refused(group):
    [error] = refused(["base"], "add", [group])
    assert group in error.message and "Attaching" in error.message
    assert error.path == "$.change.security_groups[0]"


def test_the_count_and_the_port_are_named():
    [error] = refused(["base"], "add", ["all-but-one"])
    assert (
        "TCP port 22 (SSH)" in error.message and f"{PUBLIC.size('IPv4') - 1:,} public IPv4 addresses" in error.message
    )


# ---- exposure laundering ------------------------------------------------------------------------
def test_laundering_through_the_groups_that_stay_is_refused():
    [error] = refused(["world-ssh", "half-a"], "replace", ["half-a", "half-b"])
    assert "half-b" in error.message and "Attaching" in error.message


def test_keeping_an_existing_exposure_and_adding_https_passes():
    assert refused(["world-ssh"], "replace", ["world-ssh", "web"]) == []
    assert refused(["world-ssh"], "add", ["https-world"]) == []


# ---- deny rules and group order; removal can widen ----------------------------------------------
def test_removing_a_deny_guard_is_refused():
    [error] = refused(["deny22", "open22"], "remove", ["deny22"])
    assert "deny22" in error.message and "Removing" in error.message


def test_reordering_the_open_group_ahead_of_the_deny_guard_is_refused():
    [error] = refused(["deny22", "open22"], "reorder", ["open22", "deny22"])
    assert "open22" in error.message and "Moving" in error.message


def test_a_replace_without_the_deny_guard_is_refused():
    assert refused(["deny22", "open22"], "replace", ["open22"])
    assert refused(["deny22", "open22", "base"], "replace", ["base", "open22"])


def test_a_deny_of_lower_priority_in_the_first_group_protects_only_in_the_ordered_reading():
    # deny-all (priority 100) ahead of an allow of priority 1: pooled by priority the allow wins
    assert refused(["deny-all"], "add", ["open22"])


def test_a_disabled_deny_does_not_protect():
    assert refused(["disabled-deny"], "add", ["open22"])


# ---- safe controls --------------------------------------------------------------------------------
@pytest.mark.parametrize("group", ["partner24", "company16", "rfc1918", "ula", "peers", "https-world", "web"])
def test_safe_additions_pass(group):
    assert refused(["base"], "add", [group]) == []


def test_removing_the_group_that_exposes_passes():
    assert refused(["base", "world-ssh"], "remove", ["world-ssh"]) == []
    assert refused(["base", "world-ssh"], "replace", ["base"]) == []


def test_adding_https_or_even_ssh_behind_a_deny_guard_passes():
    assert refused(["deny22"], "add", ["web"]) == []
    assert refused(["deny22"], "add", ["open22"]) == []  # deny first, and first at equal priority


def test_an_approved_widening_is_a_warning():
    errors, warnings = check(["base"], "add", ["all-but-one"], approved=True)
    assert errors == [] and [w.code for w in warnings] == [ErrorCode.RISKY_RULE]


def test_thresholds_are_per_family_and_tunable():
    rails = GuardRails(risky_max_public_ipv4=2**8 - 1)
    assert refused(["base"], "add", ["partner24"], rails=rails)
    assert refused(["base"], "add", ["global-v6"], rails=GuardRails(risky_max_public_ipv6=2**126)) == []


# ---- settings ---------------------------------------------------------------------------------------
def test_thresholds_from_settings_and_the_old_name():
    from shared.config import ConfigError, load_settings

    defaults = GuardRails.from_settings(load_settings(None, {}))
    assert defaults.public_thresholds == {"IPv4": 2**24, "IPv6": 2**96}
    legacy = GuardRails.from_settings(load_settings(None, {"RISKY_MAX_ADDRESSES": "1000"}))
    assert legacy.public_thresholds == {"IPv4": 1000, "IPv6": 1000}
    both = load_settings(None, {"RISKY_MAX_ADDRESSES": "1000", "RISKY_MAX_PUBLIC_IPV4": "65536"})
    assert GuardRails.from_settings(both).public_thresholds == {"IPv4": 65536, "IPv6": 1000}
    for name, value in (
        ("RISKY_MAX_PUBLIC_IPV4", "2e9"),
        ("RISKY_MAX_PUBLIC_IPV6", "-1"),
        ("RISKY_MAX_PUBLIC_IPV4", str(2**33)),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings(None, {name: value})

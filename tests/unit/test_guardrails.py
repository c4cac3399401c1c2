"""Guard rails are pure: each rail has its own code and names the request field."""

from collections import Counter

import pytest

from shared.changes.planning import plan_nic
from shared.errors import ErrorCode
from shared.model import Port, Rule, SecurityGroup
from shared.rails.access import AccessModel, reach
from shared.rails.guardrails import GroupFacts, GuardRails, ambiguous_references, check_plans

SERVER = "c0000000-0000-4000-8000-000000000001"


def sg(gid, name, *rules):
    return SecurityGroup(gid, name, rules=list(rules))


def rule(ports=None, prefix="0.0.0.0/0", action="allow", direction="ingress", protocol="tcp", remote_group=None):
    return Rule(
        id=f"r-{ports}-{prefix}",
        direction=direction,
        protocol=protocol,
        multiport=ports,
        remote_ip_prefix=prefix,
        remote_group_id=remote_group,
        action=action,
    )


GROUPS = {
    "base": sg("base", "baseline"),
    "web": sg("web", "web", rule("80,443")),
    "ssh": sg("ssh", "ssh-open", rule("22")),
    "rdp": sg("rdp", "rdp-range", rule("3380-3390")),
    "any": sg("any", "all-open", rule(None, protocol=None)),
    "ssh6": sg("ssh6", "ssh6", rule("22", prefix="::/0")),
    "sshmgmt": sg("sshmgmt", "mgmt", rule("22", prefix="10.0.9.0/24")),
    "sshdeny": sg("sshdeny", "deny", rule("22", action="deny")),
    "sshgrp": sg("sshgrp", "grp", rule("22", prefix=None, remote_group="base")),
    "egress": sg("egress", "eg", rule("22", direction="egress")),
    "icmp": sg("icmp", "icmp", rule(None, protocol="icmp")),
}


def plans_for(before, action, groups):
    port = Port("p1", SERVER, "compute:az", "n", [("s", "10.0.0.1")], list(before))
    plan, errors, _ = plan_nic(port, action, groups)
    assert not errors
    return [plan]


def facts(groups=None):
    groups = groups or GROUPS
    return GroupFacts(dict(groups), Counter(g.name for g in groups.values()))


def check(before, action, groups, rails=GuardRails(), approved=False, known=None):
    return check_plans(
        plans_for(before, action, groups),
        rails=rails,
        facts=known or facts(),
        path_of=lambda g: f"$.change.security_groups[{groups.index(g)}]" if g in groups else "$.x",
        approved=approved,
    )


@pytest.mark.parametrize(
    "gid,risky",
    [
        ("ssh", True),
        ("rdp", True),
        ("any", True),
        ("ssh6", True),
        ("web", False),
        ("sshmgmt", False),
        ("sshdeny", False),
        ("sshgrp", False),
        ("egress", False),
        ("icmp", False),
    ],
)
def test_risky_exposures_of_one_group(gid, risky):
    model = AccessModel([gid], GROUPS)
    assert bool(reach(model, (22, 3389), GuardRails().public_thresholds)) is risky


def test_risky_group_refused_without_approval():
    errors, _ = check(["base"], "add", ["ssh"])
    assert [(e.code, e.path) for e in errors] == [(ErrorCode.RISKY_RULE, "$.change.security_groups[0]")]


def test_risky_group_allowed_with_approval_as_warning():
    errors, warnings = check(["base"], "add", ["ssh"], approved=True)
    assert errors == [] and [w.code for w in warnings] == [ErrorCode.RISKY_RULE]


def test_risky_group_refused_when_policy_allows_no_exception():
    errors, _ = check(["base"], "add", ["ssh"], rails=GuardRails(allow_approved_risky=False), approved=True)
    assert [e.code for e in errors] == [ErrorCode.RISKY_RULE]


def test_risky_group_already_attached_is_not_reported():
    errors, warnings = check(["ssh", "base"], "reorder", ["base", "ssh"])
    assert errors == [] and warnings == []


def test_protected_group_cannot_be_removed_by_name_or_id():
    for protected in (("baseline",), ("base",)):
        errors, _ = check(["base", "web"], "remove", ["base"], rails=GuardRails(protected_groups=protected))
        assert [(e.code, e.path) for e in errors] == [(ErrorCode.PROTECTED_GROUP, "$.change.security_groups[0]")]


def test_protected_group_cannot_be_replaced_away():
    errors, _ = check(["base"], "replace", ["web"], rails=GuardRails(protected_groups=("baseline",)))
    assert [e.code for e in errors] == [ErrorCode.PROTECTED_GROUP]


def test_allowed_list_by_glob_and_id():
    rails = GuardRails(allowed_groups=("web*", "base"))
    assert check(["base"], "add", ["web"], rails=rails)[0] == []
    errors, _ = check(["base"], "add", ["sshmgmt"], rails=rails)
    assert [e.code for e in errors] == [ErrorCode.GROUP_NOT_ALLOWED]


def test_group_limits():
    many = ["base", "web", "sshmgmt", "sshdeny", "sshgrp", "egress"]
    errors, warnings = check(["base"], "replace", many)
    assert errors == [] and [w.code for w in warnings] == [ErrorCode.SOFT_LIMIT_EXCEEDED]
    errors, _ = check(["base"], "replace", many, rails=GuardRails(soft_max_groups=2, hard_max_groups=5))
    assert [e.code for e in errors] == [ErrorCode.TOO_MANY_GROUPS]


def test_an_interface_already_over_the_limit_can_still_be_cleaned_up():
    rails = GuardRails(soft_max_groups=1, hard_max_groups=2)
    errors, _ = check(["base", "web", "sshmgmt"], "remove", ["web"], rails=rails)
    assert errors == []
    errors, _ = check(["base", "web", "sshmgmt"], "add", ["sshdeny"], rails=rails)
    assert [e.code for e in errors] == [ErrorCode.TOO_MANY_GROUPS]


# --- attacks (issue 10): each got through the old pattern-matching rail ---------------------------


def _with(*extra):
    return facts({**GROUPS, **{g.id: g for g in extra}})


@pytest.mark.parametrize(
    "spelling",
    [
        dict(protocol="6", ports=None),  # TCP by IP protocol number, no ports
        dict(protocol="17", ports=None),  # UDP: RDP also listens on UDP 3389
        dict(protocol="TCP", ports="22"),  # upper case
        dict(protocol="tcp", ports="22", prefix="0::/0"),
        dict(protocol="tcp", ports="22", prefix="0:0:0:0:0:0:0:0/0"),
        dict(protocol="tcp", ports="22", prefix="1.2.3.4/0"),
        dict(protocol=None, ports=None, prefix=None),
    ],
)
def test_exposure_spelled_differently_is_refused(spelling):
    rule_args = {
        "ports": spelling["ports"],
        "protocol": spelling["protocol"],
        "prefix": spelling.get("prefix", "0.0.0.0/0"),
    }
    odd = sg("odd", "odd", rule(**rule_args))
    errors, _ = check(["base"], "add", ["odd"], known=_with(odd))
    assert [e.code for e in errors] == [ErrorCode.RISKY_RULE]


def test_split_ranges_in_two_groups_are_everyone():
    low = sg("low", "low", rule("22", prefix="0.0.0.0/1"))
    high = sg("high", "high", rule("22", prefix="128.0.0.0/1"))
    known = _with(low, high)
    # Issue 19: half the internet is not "everyone", but far more than the public threshold.
    assert [e.code for e in check(["base"], "add", ["low"], known=known)[0]] == [ErrorCode.RISKY_RULE]
    errors, _ = check(["base", "low"], "add", ["high"], known=known)  # the second half completes it
    assert [e.code for e in errors] == [ErrorCode.RISKY_RULE]
    errors, _ = check(["base"], "add", ["low", "high"], known=known)
    assert [e.code for e in errors] == [ErrorCode.RISKY_RULE]


def test_splitting_a_wide_range_over_several_changes_is_refused_once_past_the_threshold():
    # Each change adds 2**22 public addresses; the threshold (2**24) is about the total after the change.
    quarters = [sg(f"q{i}", f"q{i}", rule("22", prefix=f"{11 + i}.0.0.0/10")) for i in range(5)]
    known = _with(*quarters)
    attached = ["base"]
    verdicts = []
    for group in quarters:
        errors, _ = check(attached, "add", [group.id], known=known)
        verdicts.append([e.code for e in errors])
        attached.append(group.id)
    assert verdicts == [[], [], [], [], [ErrorCode.RISKY_RULE]]


def test_max_public_addresses_flags_a_wide_but_partial_range():
    wide = sg("wide", "wide", rule("22", prefix="8.0.0.0/8"))
    assert check(["base"], "add", ["wide"], known=_with(wide))[0] == []
    errors, _ = check(["base"], "add", ["wide"], rails=GuardRails(risky_max_public_ipv4=256), known=_with(wide))
    assert [e.code for e in errors] == [ErrorCode.RISKY_RULE]


def test_unreadable_address_group_counts_as_everyone():
    by_group = sg(
        "ag",
        "ag",
        Rule(
            id="r-ag",
            direction="ingress",
            protocol="tcp",
            multiport="22",
            remote_address_group_id="a0000000-0000-4000-8000-0000000000aa",
        ),
    )
    known = _with(by_group)
    known.address_groups = {"a0000000-0000-4000-8000-0000000000aa": None}
    assert [e.code for e in check(["base"], "add", ["ag"], known=known)[0]] == [ErrorCode.RISKY_RULE]
    known.address_groups = {"a0000000-0000-4000-8000-0000000000aa": ["10.0.0.0/8"]}
    assert check(["base"], "add", ["ag"], known=known)[0] == []


def test_a_missing_group_is_not_found_not_allowed_by_default():
    errors, _ = check(["base"], "add", ["ghost"])
    assert [e.code for e in errors] == [ErrorCode.SECURITY_GROUP_NOT_FOUND]


def test_allowed_name_shared_by_a_second_group_needs_the_id():
    twin = sg("web2", "web", rule("22"))  # same name as the allowed "web", other rules
    known = _with(twin)
    rails = GuardRails(allowed_groups=("web",))
    errors, _ = check(["base"], "add", ["web2"], rails=rails, known=known)
    assert [e.code for e in errors] == [ErrorCode.GROUP_NOT_ALLOWED, ErrorCode.RISKY_RULE]
    assert "shared by 2 groups" in errors[0].message
    assert (
        check(["base"], "add", ["web2"], rails=GuardRails(allowed_groups=("web2",)), known=known, approved=True)[0]
        == []
    )


def test_protected_by_current_name_even_if_created_after_the_cache():
    edr = sg("edr1", "edr")  # read fresh for the decision: its name is what counts
    errors, _ = check(
        ["base", "edr1"], "replace", ["base"], rails=GuardRails(protected_groups=("baseline", "edr")), known=_with(edr)
    )
    assert [e.code for e in errors] == [ErrorCode.PROTECTED_GROUP]


def test_pin_protected_first_refuses_a_reorder_that_demotes_the_baseline():
    rails = GuardRails(protected_groups=("baseline",), pin_protected_first=True)
    errors, _ = check(["base", "web"], "reorder", ["web", "base"], rails=rails)
    assert [e.code for e in errors] == [ErrorCode.PROTECTED_GROUP] and "pinned" in errors[0].message
    errors, _ = check(["base", "web"], "add", ["sshmgmt"], rails=rails)
    assert errors == []
    errors, _ = check(
        ["base", "web"], "add", ["sshmgmt"], rails=GuardRails(protected_groups=("baseline",), pin_protected_first=False)
    )
    assert errors == []
    assert check(["base", "web"], "reorder", ["web", "base"], rails=GuardRails(protected_groups=("baseline",)))[0] == []


def test_ambiguous_rail_names_are_a_configuration_error():
    groups = [sg("a", "edr"), sg("b", "edr"), sg("c", "web")]
    rails = GuardRails(protected_groups=("edr", "c"), allowed_groups=("web", "e*"))
    assert ambiguous_references(rails, groups) == ["PROTECTED_GROUPS: 2 security groups are named 'edr'; list it by id"]

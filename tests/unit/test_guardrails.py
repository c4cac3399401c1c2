"""Guard rails are pure: each rail has its own code and names the request field."""

import pytest

from shared.errors import ErrorCode
from shared.guardrails import GuardRails, check_plans, risky_rules
from shared.model import Port, Rule, SecurityGroup
from shared.planning import plan_nic

SERVER = "c0000000-0000-4000-8000-000000000001"


def sg(gid, name, *rules):
    return SecurityGroup(gid, name, rules=list(rules))


def rule(ports=None, prefix="0.0.0.0/0", action="allow", direction="ingress", protocol="tcp", remote_group=None):
    return Rule(id=f"r-{ports}-{prefix}", direction=direction, protocol=protocol, multiport=ports,
                remote_ip_prefix=prefix, remote_group_id=remote_group, action=action)


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


def check(before, action, groups, rails=GuardRails(), approved=False):
    return check_plans(plans_for(before, action, groups), rails=rails, groups=GROUPS,
                       path_of=lambda g: f"$.change.security_groups[{groups.index(g)}]" if g in groups else "$.x",
                       approved=approved)


@pytest.mark.parametrize("gid,risky", [("ssh", True), ("rdp", True), ("any", True), ("ssh6", True),
                                       ("web", False), ("sshmgmt", False), ("sshdeny", False), ("sshgrp", False),
                                       ("egress", False), ("icmp", False)])
def test_risky_rules(gid, risky):
    assert bool(risky_rules(GROUPS[gid], (22, 3389))) is risky


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

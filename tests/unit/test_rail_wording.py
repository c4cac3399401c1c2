"""Issue 22 item 9: every rail error is one sentence naming the group, the protocol/port and the sources in words.

The texts are judged through :func:`check_plans` (the rails as the flows call them), and the
wording helpers alone for the attack spellings: names with control, bidi and zero-width
characters, look-alike and numeric names, huge names, odd ports and protocols, IPv6.
"""

from __future__ import annotations

from collections import Counter

import pytest

from shared.changes.planning import plan_nic
from shared.errors import ErrorCode
from shared.model import Port, Rule, SecurityGroup
from shared.rails.guardrails import GroupFacts, GuardRails, check_plans
from shared.rails.wording import count_words, group_label, id_words, port_words, sources_words

SERVER = "c0000000-0000-4000-8000-000000000001"
PORT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
IDS = {
    "base": "0f000000-0000-4000-8000-000000000001",
    "web": "0f000000-0000-4000-8000-000000000002",
    "ssh-open": "0f000000-0000-4000-8000-000000000003",
    "ssh-v6": "0f000000-0000-4000-8000-000000000004",
    "ssh-both": "0f000000-0000-4000-8000-000000000005",
    "deny-ssh": "0f000000-0000-4000-8000-000000000006",
    "partner": "0f000000-0000-4000-8000-000000000007",
}


def rule(prefix="0.0.0.0/0", ports="22", *, action="allow", priority=1, protocol="tcp"):
    family = "IPv6" if ":" in prefix else "IPv4"
    return Rule(f"r-{prefix}-{ports}-{action}", "ingress", family, protocol, ports, remote_ip_prefix=prefix,
                action=action, priority=priority)  # fmt: skip


def group(name, *rules, gid=None):
    return SecurityGroup(gid or IDS[name], name, rules=list(rules))


GROUPS = {
    g.id: g
    for g in (
        group("base", rule("10.0.0.0/8", "9100")),
        group("web", rule("0.0.0.0/0", "443")),
        group("ssh-open", rule()),
        group("ssh-v6", rule("2000::/3")),  # ::/0 also holds the IPv4-mapped range: IPv4 too
        group("ssh-both", rule(), rule("::/0"), rule("0.0.0.0/0", "3389", protocol="udp")),
        group("deny-ssh", rule(action="deny")),
        group("partner", rule("0.0.0.0/1", "22")),
    )
}


def check(before, action, names, *, rails=GuardRails(), approved=False, groups=None):
    groups = dict(GROUPS if groups is None else groups)
    port = Port(PORT, SERVER, "compute:az", "n", [("s", "10.0.0.1")], [IDS.get(b, b) for b in before])
    wanted = [IDS.get(n, n) for n in names]
    plan, errors, _ = plan_nic(port, action, wanted)
    assert not errors and plan is not None
    facts = GroupFacts(groups, Counter(g.name for g in groups.values()))
    return check_plans(
        [plan], rails=rails, facts=facts, path_of=lambda g: f"$.change.security_groups[{wanted.index(g)}]"
        if g in wanted else "$.change", approved=approved,
    )  # fmt: skip


def one_sentence(text):
    assert text[0].isupper() and text.endswith(".") and "\n" not in text, text
    assert ". " not in text.rstrip("."), text  # one sentence, not two glued together


# ---- exposure: who does what, what it opens, to whom, the verdict ----------------------------------
def test_attaching_an_ssh_group_reads_as_one_sentence():
    [error] = check(["base"], "add", ["ssh-open"])[0]
    assert (error.code, error.path) == (ErrorCode.RISKY_RULE, "$.change.security_groups[0]")
    assert error.message == (
        f"Attaching group 'ssh-open' ({IDS['ssh-open']}) to interface {PORT} would open TCP port 22 (SSH) to "
        "everyone on the internet over IPv4: refused, because the change is not approved by a second person."
    )
    one_sentence(error.message)


def test_the_old_garbled_form_is_gone():
    [error] = check(["base"], "add", ["ssh-open"])[0]
    # issue 22: "would expose tcp/22 is open to everyone (IPv4) (rules ...) with group ... attached (rules ...)"
    assert "tcp/22" not in error.message and "is open to" not in error.message and error.message.count("(rules") == 0


def test_ipv6_udp_and_both_families_are_named():
    [error] = check(["base"], "add", ["ssh-both"])[0]
    assert "TCP port 22 (SSH) to everyone on the internet over IPv4 and IPv6" in error.message
    assert "UDP port 3389 (RDP) to everyone on the internet over IPv4" in error.message
    one_sentence(error.message)
    [v6] = check(["base"], "add", ["ssh-v6"])[0]
    assert "TCP port 22 (SSH) to everyone on the internet over IPv6" in v6.message


def test_part_of_the_internet_is_counted_with_ranges_and_the_threshold():
    [error] = check(["base"], "add", ["partner"])[0]
    assert "TCP port 22 (SSH) to 2,092,957,696 public IPv4 addresses (1.0.0.0-9.255.255.255, " in error.message
    assert "more than the 2^24 public IPv4 addresses allowed without approval" in error.message
    one_sentence(error.message)


def test_removing_a_deny_guard_and_moving_a_group_say_so():
    [removed] = check(["deny-ssh", "ssh-open"], "remove", ["deny-ssh"])[0]
    assert removed.message.startswith(
        f"Removing group 'deny-ssh' ({IDS['deny-ssh']}), which denies this traffic, from interface {PORT} would open"
    )
    [moved] = check(["deny-ssh", "ssh-open"], "reorder", ["ssh-open", "deny-ssh"])[0]
    assert moved.message.startswith(f"Moving group 'ssh-open' ({IDS['ssh-open']}) up the list of interface {PORT}")


def test_the_verdict_ends_the_sentence():
    errors, [warning] = check(["base"], "add", ["ssh-open"], approved=True)
    assert errors == [] and warning.message.endswith(": allowed as an approved exception.")
    [off] = check(["base"], "add", ["ssh-open"], approved=True, rails=GuardRails(allow_approved_risky=False))[0]
    assert off.message.endswith("refused, because approved exceptions are switched off (ALLOW_APPROVED_RISKY=false).")


# ---- the other rails ---------------------------------------------------------------------------------
def test_protected_not_allowed_missing_and_limits_read_as_sentences():
    rails = GuardRails(protected_groups=("base",), allowed_groups=("base", "ssh-*"), hard_max_groups=2)
    [protected] = check(["base", "web"], "remove", ["base"], rails=rails)[0]
    assert (
        protected.message == f"Group 'base' ({IDS['base']}) is protected and may not be removed from interface {PORT}."
    )
    errors, _ = check(["base"], "add", ["web", "ffffffff-0000-4000-8000-000000000000"], rails=rails)
    by_code = {e.code: e.message for e in errors}
    assert by_code[ErrorCode.GROUP_NOT_ALLOWED] == (
        f"Group 'web' ({IDS['web']}) may not be attached to interface {PORT}: it is not in ALLOWED_GROUPS."
    )
    assert by_code[ErrorCode.SECURITY_GROUP_NOT_FOUND] == (
        f"No security group with id ffffffff-0000-4000-8000-000000000000 exists, so it cannot be attached to "
        f"interface {PORT}."
    )
    assert by_code[ErrorCode.TOO_MANY_GROUPS] == (
        f"Interface {PORT} would have 3 security groups; at most 2 are allowed (MAX_GROUPS_PER_NIC_HARD)."
    )
    for message in by_code.values():
        one_sentence(message)


def test_pinned_names_the_group_ahead_by_name_and_id():
    rails = GuardRails(protected_groups=("base",), pin_protected_first=True)
    [error] = check(["base", "web"], "reorder", ["web", "base"], rails=rails)[0]
    assert error.message == (
        f"Group 'base' ({IDS['base']}) is protected and pinned first on interface {PORT} (PIN_PROTECTED_FIRST), "
        f"but group 'web' ({IDS['web']}) would be ahead of it."
    )


# ---- attack spellings in names: nothing raw reaches the sentence ------------------------------------
@pytest.mark.parametrize(
    "name, shown",
    [
        ("ssh\u202eneprg", "'ssh\\u202eneprg'"),  # a bidi override would reverse the rest of the line
        ("web\nALLOWED by admin", "'web\\nALLOWED by admin'"),  # a forged second log line
        ("w\u200beb", "'w\\u200beb'"),  # zero-width space: looks like "web"
        ("\u0455sh-open", "'\u0455sh-open'"),  # Cyrillic dze: printable, quoted, and the id follows
        ("22", "'22'"),  # a number for a name stays a quoted name
        ("", "(unnamed)"),
    ],
)
def test_group_names_are_escaped_quoted_and_followed_by_the_id(name, shown):
    assert group_label(SecurityGroup("sg-1", name)) == f"{shown} (sg-1)"


def test_a_huge_name_is_cut_and_a_hostile_id_is_escaped():
    label = group_label(SecurityGroup("sg-1", "x" * 100_000))
    assert len(label) < 90 and label.endswith("... (sg-1)")
    assert id_words("sg\u202e1") == "'sg\\u202e1'" and id_words("a" * 65).startswith("'aaa")


def test_a_hostile_name_reaches_the_rail_sentence_escaped():
    hostile = SecurityGroup(IDS["ssh-open"], "ok\u202e\nrefused: no", rules=[rule()])
    [error] = check(["base"], "add", [hostile.id], groups={**GROUPS, hostile.id: hostile})[0]
    assert "\u202e" not in error.message and "\n" not in error.message and "'ok\\u202e\\nrefused: no'" in error.message


@pytest.mark.parametrize(
    "protocol, port, words",
    [
        ("tcp", 22, "TCP port 22 (SSH)"),
        ("TCP", 3389, "TCP port 3389 (RDP)"),
        ("udp", 3389, "UDP port 3389 (RDP)"),
        ("udp", 22, "UDP port 22"),  # no service claimed where there is none
        ("sctp", 65535, "SCTP port 65535"),
        ("udplite", 1, "UDP-Lite port 1"),
        ("tcp", 10**12, "TCP port 1000000000000"),  # a huge number is shown as it is, never wrapped
    ],
)
def test_ports_in_words(protocol, port, words):
    assert port_words(protocol, port) == words


@pytest.mark.parametrize(
    "number, words",
    [(1, "1"), (256, "256"), (65535, "65,535"), (2**24, "2^24"), (2**96, "2^96"), (2**125 - 1, "about 2^125.0")],
)
def test_counts_in_words(number, words):
    assert count_words(number) == words


def test_sources_in_words():
    assert sources_words("IPv6", 2**128, True) == "everyone on the internet over IPv6"
    assert sources_words("IPv4", 1, False, "203.0.113.7") == "1 public IPv4 address (203.0.113.7)"
    assert sources_words("IPv6", 2**80, False) == "2^80 public IPv6 addresses"

"""TARGETS ``discover`` (pure): the rules of the shape, and which listed accounts become members."""

from __future__ import annotations

import pytest

from shared.targets import ListedAccount, TargetsError, parse_targets

HOME = "10" * 16
A, B, C, D = "a1" * 16, "b2" * 16, "c3" * 16, "d4" * 16


def targets(**document):
    base = {
        "home": {"domain_id": HOME, "name": "security"},
        "defaults": {"agency": "sgguard-member", "regions": ["cn-north-4", "ap-southeast-1"], "projects": "all"},
        "discover": {"organizations": True},
    }
    base.update(document)
    return parse_targets(base, home_region="cn-north-4")


def listed(*rows):
    return [ListedAccount(domain_id, name, status) for domain_id, name, status in rows]


def test_discovered_members_are_the_active_accounts_but_home_with_the_defaults():
    found = targets().with_discovered(
        listed(
            (HOME, "security", "active"),
            (A, "prod", "active"),
            (B, "closed", "suspended"),
            (C, "closing", "pending_closure"),
            (D, "Dev", "ACTIVE"),  # a case variant of the status is not "active": skipped
        )
    )
    assert set(found.accounts) == {A} and found.discovered == {A}
    member = found.accounts[A]
    assert member.name == "prod" and member.agency_urn == f"iam::{A}:agency:sgguard-member"
    assert member.regions == ("cn-north-4", "ap-southeast-1") and member.projects is None
    assert member.external_id is None


def test_an_account_targets_lists_keeps_its_own_entry_over_the_discovered_one():
    document = {"accounts": [{"domain_id": A, "name": "prod", "external_id": "ext-a-0001", "regions": ["cn-north-4"]}]}
    found = targets(**document).with_discovered(listed((A, "renamed", "active"), (B, "dev", "active")))
    assert found.accounts[A].external_id == "ext-a-0001" and found.accounts[A].regions == ("cn-north-4",)
    assert found.accounts[A].name == "prod" and found.discovered == {B}


def test_an_explicit_account_is_kept_even_when_organizations_lists_it_suspended():
    found = targets(accounts=[{"domain_id": A}]).with_discovered(listed((A, "prod", "suspended")))
    assert set(found.accounts) == {A}  # explicit: the operator's word; discovery only adds


def test_excluded_accounts_are_not_members():
    found = targets(discover={"organizations": True, "exclude_accounts": [A]}).with_discovered(
        listed((A, "prod", "active"), (B, "dev", "active"))
    )
    assert set(found.accounts) == {B}


def test_ou_ids_and_exclude_accounts_go_together():
    parsed = targets(discover={"organizations": True, "ou_ids": ["ou-prod00001"], "exclude_accounts": [A]})
    assert parsed.discovery is not None
    assert parsed.discovery.ou_ids == ("ou-prod00001",) and parsed.discovery.exclude_accounts == {A}


def test_without_discover_nothing_is_added():
    parsed = parse_targets({"accounts": [{"domain_id": A}]}, home_region="cn-north-4")
    assert parsed.discovery is None and parsed.with_discovered(listed((B, "dev", "active"))) is parsed


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"home": {}}, "$.home.domain_id"),  # schema: domain_id required in home
        ({"home": None}, "$.home"),
        ({"discover": {"organizations": "true"}}, "$.discover.organizations"),
        ({"discover": {"organizations": True, "ou_ids": ["OU-PROD00001"]}}, "$.discover.ou_ids[0]"),
        (
            {"discover": {"organizations": True, "exclude_accounts": [A]}, "accounts": [{"domain_id": A}]},
            "$.accounts[0].domain_id",
        ),
    ],
)
def test_malformed_discovery_names_the_path(document, path):
    with pytest.raises(TargetsError) as error:
        targets(**document)
    assert any(d.path == path for d in error.value.details), error.value.details


def test_discovery_needs_the_home_account_id():
    with pytest.raises(TargetsError) as error:
        parse_targets({"discover": {"organizations": True}}, home_region="cn-north-4")
    assert [d.path for d in error.value.details] == ["$.home.domain_id"]


def test_a_listed_id_that_is_not_32_lowercase_hex_is_no_member():
    found = targets().with_discovered(
        listed(
            (A.upper(), "upper", "active"),  # a case variant
            (A + "\n", "newline", "active"),
            ("../" + A[3:], "path", "active"),
            ("\uff10" + A[1:], "fullwidth digit", "active"),
            (B, "dev", "active"),
        )
    )
    assert set(found.accounts) == {B}

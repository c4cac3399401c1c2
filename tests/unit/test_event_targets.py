"""Routing an event to its target (shared/flows/event_targets.py): strict, pure, before any call."""

from __future__ import annotations

import pytest

from shared.errors import ErrorCode
from shared.flows.event_targets import route_event
from shared.targets import parse_targets

HOME_ACCOUNT = "1c" * 16
HOME_PROJECT = "1001" + "ab" * 14
GOOD = "2a" * 16
GOOD_PROJECT = "2001" + "ab" * 14
OTHER = "50" * 16

TARGETS = parse_targets(
    {
        "home": {"domain_id": HOME_ACCOUNT},
        "defaults": {"regions": ["cn-north-4", "ap-southeast-1"]},
        "accounts": [{"domain_id": GOOD, "exclude_projects": ["2002" + "ab" * 14]}],
    },
    home_region="cn-north-4",
)
ANONYMOUS_HOME = parse_targets({"accounts": [{"domain_id": GOOD}]}, home_region="cn-north-4")


def trace(account=None, project=None, **fields):
    body = {"trace_name": "createServer", "service_type": "ECS", **fields}
    if account is not None:
        body["user"] = {"domain": {"id": account, "name": "x"}, "account_id": account}
    if project is not None:
        body["project_id"] = project
    return body


def route(body, targets=TARGETS, *, via_cts=False):
    return route_event(body, targets, HOME_PROJECT, via_cts=via_cts)


def test_without_targets_every_event_is_the_home_projects():
    assert route(trace(OTHER, GOOD_PROJECT), None).home


def test_a_members_event_names_its_account_and_project():
    routed = route(trace(GOOD, GOOD_PROJECT))
    assert (routed.home, routed.account, routed.project_id, routed.skip) == (False, GOOD, GOOD_PROJECT, None)


def test_the_home_projects_event_is_home():
    assert route(trace(HOME_ACCOUNT, HOME_PROJECT)).home
    assert route(trace(HOME_ACCOUNT), via_cts=True).home  # the CTS trigger delivers its own project's traces
    assert route(trace(None, HOME_PROJECT), via_cts=True).home
    # without home.domain_id in TARGETS: an account that is not a member, with the home project
    assert route(trace(OTHER, HOME_PROJECT), ANONYMOUS_HOME).home


@pytest.mark.parametrize(
    ("body", "via_cts", "path"),
    [
        (trace(OTHER, "5001" + "ab" * 14), False, "$.user.domain.id"),  # an account outside TARGETS
        (trace(HOME_ACCOUNT, GOOD_PROJECT), False, "$.user.domain.id"),  # the home account, another project
        (trace(GOOD, HOME_PROJECT), False, "$.project_id"),  # a member naming the home project
        (trace(GOOD, "2002" + "ab" * 14), False, "$.project_id"),  # an excluded project
    ],
)
def test_outside_targets_is_not_allowed(body, via_cts, path):
    skip = route(body, via_cts=via_cts).skip
    assert skip is not None and (skip.code, skip.path) == (ErrorCode.TARGET_NOT_ALLOWED, path)


@pytest.mark.parametrize(
    "account",
    [
        GOOD.upper(),  # upper-case hex
        " " + GOOD[1:],
        GOOD + " ",
        GOOD[:-1] + "\u0664",  # ARABIC-INDIC DIGIT FOUR
        GOOD[:-1] + "\uff10",  # FULLWIDTH DIGIT ZERO
        GOOD[:-1],  # 31 characters
        GOOD + "0",
        "",
        20202020,
        ["x"],
    ],
)
def test_a_misspelt_account_is_never_routed(account):
    for via_cts in (False, True):
        routed = route(trace(account, GOOD_PROJECT), via_cts=via_cts)
        assert not routed.home and routed.account is None
        assert routed.skip is not None and routed.skip.code == ErrorCode.EVENT_TARGET_UNKNOWN
        # the home project named with a misspelt account is not the home project's event either
        routed = route(trace(account, HOME_PROJECT), via_cts=via_cts)
        assert not routed.home and routed.skip is not None


@pytest.mark.parametrize("project", [HOME_PROJECT.upper(), HOME_PROJECT + "\n", HOME_PROJECT[:-1] + "\u0661", 7])
def test_a_misspelt_project_is_never_routed(project):
    routed = route(trace(HOME_ACCOUNT, project), via_cts=True)
    assert not routed.home
    assert routed.skip is not None and (routed.skip.code, routed.skip.path) == (
        ErrorCode.EVENT_TARGET_UNKNOWN,
        "$.project_id",
    )


def test_missing_fields_are_not_the_home_projects_on_eventgrid():
    for body in (trace(), trace(HOME_ACCOUNT), trace(None, HOME_PROJECT), trace(GOOD)):
        routed = route(body, via_cts=False)
        assert not routed.home and routed.skip is not None
        assert routed.skip.code == ErrorCode.EVENT_TARGET_UNKNOWN
    assert route(trace(), via_cts=True).skip.code == ErrorCode.EVENT_TARGET_UNKNOWN
    # without home.domain_id nothing says the home account is the home account's: no guess
    assert route(trace(OTHER), ANONYMOUS_HOME, via_cts=True).skip is not None


def test_account_fields_must_agree_and_the_resources_account_decides():
    body = trace(GOOD, GOOD_PROJECT)
    body["user"]["account_id"] = HOME_ACCOUNT
    skip = route(body).skip
    assert skip is not None and (skip.code, skip.path) == (ErrorCode.EVENT_TARGET_UNKNOWN, "$.user.account_id")
    body = trace(GOOD, GOOD_PROJECT, domain_id=HOME_ACCOUNT)
    assert route(body).skip.code == ErrorCode.EVENT_TARGET_UNKNOWN
    # the home account operating on a member's resource (CTS: resource_account_id names the owner)
    routed = route(trace(HOME_ACCOUNT, GOOD_PROJECT, resource_account_id=GOOD))
    assert (routed.account, routed.skip) == (GOOD, None)
    # ...and a member naming itself while the resource is another account's: that account decides
    assert route(trace(GOOD, GOOD_PROJECT, resource_account_id=OTHER)).skip.code == ErrorCode.TARGET_NOT_ALLOWED
    assert route(trace(GOOD, GOOD_PROJECT, resource_account_id=GOOD.upper())).skip.code == (
        ErrorCode.EVENT_TARGET_UNKNOWN
    )


def test_not_a_trace_object():
    assert route("text").skip.code == ErrorCode.EVENT_TARGET_UNKNOWN
    assert route({"user": "x", "project_id": GOOD_PROJECT}).skip.code == ErrorCode.EVENT_TARGET_UNKNOWN

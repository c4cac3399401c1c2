"""Is a server new? ECS ``created`` parsed robustly, judged against CREATION_MAX_AGE_S; the settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.config import ConfigError, load_settings
from shared.flows.ecs_created.readiness import FUTURE_SKEW_S, not_new_because
from shared.model import Server
from shared.timestamps import parse_cloud_time

NOW = datetime(2026, 12, 2, 8, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2019-05-22T03:19:19Z", datetime(2019, 5, 22, 3, 19, 19, tzinfo=timezone.utc)),  # the SDK's example
        ("2019-05-22T03:23:59.000000", datetime(2019, 5, 22, 3, 23, 59, tzinfo=timezone.utc)),  # no offset: UTC
        ("2025-03-01T10:00:00+08:00", datetime(2025, 3, 1, 2, 0, 0, tzinfo=timezone.utc)),
        ("2025-03-01T10:00:00-0130", datetime(2025, 3, 1, 11, 30, 0, tzinfo=timezone.utc)),
        ("2025-03-01T10:00:00.123456789Z", datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)),
    ],
)
def test_cloud_times_parse_to_utc(text, expected):
    assert parse_cloud_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", 1764662400, "yesterday", "2025-02-30T00:00:00Z", "2025-03-01T10:00:00+24:00", "2025-03-01T10:00Z",
     "2025-03-01T10:00:00+08:61", "２０２５-03-01T10:00:00Z", "2025-03-01T10:00:00Z junk"],
)  # fmt: skip
def test_anything_else_is_no_time(text):
    assert parse_cloud_time(text) is None


def _server(created):
    return Server(id="c0000000-0000-4000-8000-000000000001", name="s", status="ACTIVE", created=created)


@pytest.mark.parametrize(
    "age_s, new",
    [(0, True), (419, True), (420, True), (421, False), (30 * 86400, False), (-FUTURE_SKEW_S, True),
     (-FUTURE_SKEW_S - 1, False), (-86400 * 365, False)],
)  # fmt: skip
def test_new_within_the_window_only_and_never_from_the_future(age_s, new):
    why = not_new_because(_server(NOW - timedelta(seconds=age_s)), NOW, 420)
    assert (why is None) == new, why


def test_an_unknown_creation_time_is_not_new():
    why = not_new_because(_server(None), NOW, 420)
    assert why is not None and "missing or unreadable" in why


def test_creation_max_age_defaults_to_readiness_plus_five_minutes():
    assert load_settings(environ={}).creation_max_age_s == 420
    assert load_settings(environ={"READINESS_MAX_WAIT_S": "600"}).creation_max_age_s == 900
    assert load_settings(environ={"CREATION_MAX_AGE_S": "3600"}).creation_max_age_s == 3600


@pytest.mark.parametrize(
    "name, raw",
    [
        ("CREATION_MAX_AGE_S", "0"),
        ("CREATION_MAX_AGE_S", "soon"),
        ("MAX_MESSAGES_PER_INVOCATION", "-1"),
        ("MAX_MESSAGES_PER_INVOCATION", "1.5"),
    ],
)
def test_bad_values_fail_with_their_name(name, raw):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={name: raw})
    assert caught.value.name == name


def test_max_messages_per_invocation_is_unbounded_by_default():
    assert load_settings(environ={}).max_messages_per_invocation == 0
    assert load_settings(environ={"MAX_MESSAGES_PER_INVOCATION": "3"}).max_messages_per_invocation == 3

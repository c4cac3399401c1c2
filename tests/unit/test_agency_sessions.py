"""The member-session cache (shared/cloud/agencies.py), pure: one assume per (account, agency) at
once, renewal shortly before expiry, refusals remembered, session names in STS's alphabet."""

from __future__ import annotations

import threading

import pytest

from shared.cloud.agencies import (
    REFRESH_BEFORE_S,
    REFUSAL_TTL_S,
    AssumeFailed,
    MemberSession,
    SessionCache,
    session_name,
)
from shared.errors import ErrorCode
from shared.targets import MemberAccount

GOOD = MemberAccount("20" * 16, "prod", "sgguard-member")
OTHER = MemberAccount("30" * 16, "dev", "sgguard-member")


def session(expires_at: float, n: int = 0) -> MemberSession:
    return MemberSession(f"AK{n}", f"sk-{n}", f"token-{n}", expires_at)


def test_single_flight_one_assume_for_many_concurrent_callers():
    cache = SessionCache()
    entered, release = threading.Event(), threading.Event()
    calls = []

    def assume():
        calls.append(1)
        entered.set()
        release.wait(5)  # a slow STS: everyone else arrives meanwhile
        return session(10_000)

    got = []
    workers = [threading.Thread(target=lambda: got.append(cache.session(GOOD, 0.0, assume))) for _ in range(8)]
    for worker in workers:
        worker.start()
    assert entered.wait(5)
    release.set()
    for worker in workers:
        worker.join(5)
    assert len(calls) == 1 and cache.assumed == 1
    assert len(got) == 8 and len({id(s) for s in got}) == 1


def test_reused_until_shortly_before_expiry_then_renewed():
    cache = SessionCache()
    made = iter(range(1, 10))
    assume = lambda: session(1000.0, next(made))  # noqa: E731
    first = cache.session(GOOD, 0.0, assume)
    assert cache.session(GOOD, 1000.0 - REFRESH_BEFORE_S - 1, assume) is first
    renewed = cache.session(GOOD, 1000.0 - REFRESH_BEFORE_S, assume)
    assert renewed.ak != first.ak and cache.assumed == 2
    cache.session(OTHER, 0.0, assume)  # another account: its own session
    assert cache.assumed == 3


def test_a_refusal_is_remembered_a_transient_failure_is_not():
    cache = SessionCache()
    denied = AssumeFailed(ErrorCode.ACCESS_DENIED, "no", retryable=False)
    transient = AssumeFailed(ErrorCode.ASSUME_FAILED, "busy", retryable=True)

    def refuse():
        raise denied

    def busy():
        raise transient

    for now in (0.0, REFUSAL_TTL_S - 1):
        with pytest.raises(AssumeFailed) as caught:
            cache.session(GOOD, now, refuse)
        assert caught.value is denied
    assert cache.assumed == 1
    assert cache.session(GOOD, REFUSAL_TTL_S, lambda: session(10_000)).ak == "AK0"  # tried again after
    for _ in range(2):
        with pytest.raises(AssumeFailed):
            cache.session(OTHER, 0.0, busy)
    assert cache.assumed == 4


def test_sessions_never_show_their_credentials():
    shown = repr(session(1.0)) + repr(SessionCache())
    assert "sk-0" not in shown and "token-0" not in shown and "AK0" not in shown


@pytest.mark.parametrize(
    ("function", "request_id", "expected"),
    [
        ("change_request", "3f1c-99", "sgguard-change_request-3f1c-99"),
        ("change_request", "a b/c:d", "sgguard-change_request-a-b-c-d"),
        ("sg_drift", "é" * 200, "sgguard-sg_drift-" + "-" * 111),
    ],
)
def test_session_names_use_the_sts_alphabet_and_length(function, request_id, expected):
    name = session_name(function, request_id)
    assert name == expected and 2 <= len(name) <= 128

"""Retries and deadlines with an injected clock: deterministic, no real sleeping."""

import pytest
from huaweicloudsdkcore.exceptions import exceptions as sdk

from shared.clock import Clock, Deadline
from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
from shared.cloud.retry import RetryPolicy, backoff_delay, call_with_retry, translate
from tests.support.clock import FakeTime


def clock_for(fake, jitter=1.0):
    clock = Clock(monotonic=fake.monotonic, sleep=fake.sleep)
    clock.random = lambda: jitter
    return clock


def service_error(status, code="X", message="m"):
    error = sdk.SdkError(request_id="rid", error_code=code, error_msg=message)
    cls = sdk.ClientRequestException if status < 500 else sdk.ServerResponseException
    return cls(status, error)


@pytest.mark.parametrize(
    "raw,transient,code",
    [
        (service_error(429, "APIGW.0308"), True, "APIGW.0308"),
        (service_error(429, "APIG.0308"), True, "APIG.0308"),
        (service_error(429, "429"), True, "429"),
        (service_error(500), True, "X"),
        (service_error(503), True, "X"),
        (service_error(400, "VPC.2500"), False, "VPC.2500"),
        (service_error(404, "VPC.2504"), False, "VPC.2504"),
        (sdk.ConnectionException("read timed out"), True, "ConnectionException"),
    ],
)
def test_translate_classifies(raw, transient, code):
    error = translate("op", raw)
    assert (error.transient, error.code) == (transient, code)


def test_backoff_is_exponential_capped_and_jittered():
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=10, base_s=0.2, max_s=1.0)
    assert [backoff_delay(n, policy, clock_for(fake)) for n in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff_delay(3, policy, clock_for(fake, jitter=0.5)) == 0.5


def test_transient_failures_are_retried_until_success():
    fake = FakeTime()
    outcomes = [service_error(429, "APIGW.0308"), service_error(503), "ok"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    clock = clock_for(fake)
    assert call_with_retry("op", call, clock=clock, deadline=Deadline(clock, 60), policy=RetryPolicy(5, 0.2, 5)) == "ok"
    assert fake.sleeps == [0.2, 0.4]


def test_permanent_failure_is_not_retried():
    fake = FakeTime()
    calls = []

    def call():
        calls.append(1)
        raise service_error(400, "VPC.2500")

    clock = clock_for(fake)
    with pytest.raises(CloudCallError) as raised:
        call_with_retry("op", call, clock=clock, deadline=Deadline(clock, 60), policy=RetryPolicy(5, 0.2, 5))
    assert raised.value.code == "VPC.2500" and len(calls) == 1 and fake.sleeps == []


def test_attempts_are_bounded():
    fake = FakeTime()
    clock = clock_for(fake)

    def call():
        raise service_error(503)

    with pytest.raises(CloudCallError):
        call_with_retry("op", call, clock=clock, deadline=Deadline(clock, 600), policy=RetryPolicy(3, 0.1, 5))
    assert len(fake.sleeps) == 2


def test_no_sleep_past_the_deadline():
    fake = FakeTime()
    clock = clock_for(fake)

    def call():
        raise service_error(503)

    with pytest.raises(DeadlineExceeded) as raised:
        call_with_retry("op", call, clock=clock, deadline=Deadline(clock, 1.0), policy=RetryPolicy(20, 0.2, 5))
    assert sum(fake.sleeps) <= 1.0
    assert raised.value.last_error.status == 503


def test_deadline_from_context_keeps_the_margin():
    class Context:
        def getRemainingTimeInMilliSeconds(self):
            return 10_000

    fake = FakeTime()
    deadline = Deadline.from_context(Context(), clock_for(fake), margin_ms=1500)
    assert deadline.remaining() == 8.5
    fake.now = 9
    assert deadline.expired()

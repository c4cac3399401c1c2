"""The log's redaction decides a key is secret exactly as its pattern does, ASCII or not."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import results

PATTERN = re.compile(results._SECRET_NAME_PART, re.IGNORECASE)


def _by_pattern(name: str) -> bool:
    lowered = name.lower()
    return lowered in results._SECRET_NAME_EXACT or lowered.endswith("_sk") or bool(PATTERN.search(lowered))


NAMES = [
    "secret",
    "SECRET_VALUE",
    "password",
    "x-passwd",
    "ak_sk",
    "my_sk",
    "token",
    "AccessToken",
    "credentials",
    "private_key",
    "PrivateKey",
    "private-key",
    "api_key",
    "ApiKey",
    "api-key",
    "key_id",
    "timestamp",
    "value",
    "\u017fecret",
    "api_\u212aey",
    "tok\u0435n",
    "s\u0435cret",
    "",
    "server_id",
    "security_groups",
]


def test_known_names():
    for name in NAMES:
        results._is_secret_name.cache_clear()
        assert results._is_secret_name(name) == _by_pattern(name), name


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from("secrtpaswokndilvyk_-ASKTP\u017f\u212a\u0435\u00e9"), max_size=14))
def test_any_name(name):
    assert results._is_secret_name(name) == _by_pattern(name)


def test_a_long_s_still_counts():
    assert results.redact({"\u017fecret": "x"}) == {"\u017fecret": results.REDACTED}

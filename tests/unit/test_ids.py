"""The id checks (string methods, nothing compiled at import) accept exactly what their patterns do."""

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import ids

UUID = re.compile(ids.UUID_PATTERN)
SAFE = re.compile(ids.SAFE_ID_PATTERN)
GOOD_UUID = "e0000000-0000-4000-8000-0000000000b7"


def _near_uuids(rng: random.Random, count: int) -> list[str]:
    alphabet = "0123456789abcdefABCDEF-gz\n \u0660\uff10\u00e9_"
    out = []
    for _ in range(count):
        chars = list(GOOD_UUID)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.5 and i < len(chars):
                chars[i] = rng.choice(alphabet)
            elif op < 0.75:
                chars.insert(i, rng.choice(alphabet))
            elif i < len(chars):
                del chars[i]
        out.append("".join(chars))
    return out


def test_is_uuid_is_the_pattern():
    values = _near_uuids(random.Random(7), 3000) + [GOOD_UUID, GOOD_UUID + "\n", GOOD_UUID.upper()]
    disagree = [v for v in values if ids.is_uuid(v) != bool(UUID.match(v))]
    assert not disagree
    assert sum(ids.is_uuid(v) for v in values) >= 10  # some near misses are still uuids: both branches run


def test_dashes_must_be_where_the_pattern_puts_them():
    assert ids.is_uuid(GOOD_UUID)
    assert not ids.is_uuid("e0000000-0000-4000-8000-0000000000--")
    assert not ids.is_uuid("e00000000000-4000-8000-0000000000b7-")
    assert not ids.is_uuid(GOOD_UUID.replace("e", "E"))


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09._:-/ \n\u00e9\u0661\uff21"), max_size=140))
def test_is_safe_id_is_the_pattern(value):
    assert ids.is_safe_id(value) == bool(SAFE.match(value))


@pytest.mark.parametrize("value", ["a" * 128, "a" * 129, "", "-a", "a\n", "1.2:3-x", None, 12, b"abc"])
def test_safe_id_edges(value):
    expected = isinstance(value, str) and bool(SAFE.match(value))
    assert ids.is_safe_id(value) == expected


def test_the_patterns_are_still_there_compiled_on_first_use():
    assert ids.UUID_RE.match(GOOD_UUID) and ids.SAFE_ID_RE.pattern == ids.SAFE_ID_PATTERN
    with pytest.raises(AttributeError):
        _ = ids.NOT_A_NAME

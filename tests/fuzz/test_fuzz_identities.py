"""Fuzzing identities (issue 19): every way to dress a name up is refused, or still the same person.

Properties over generated identities of every script: the grammar and the comparison never raise
on any text; an invisible, space, control or format character anywhere, and any display-name,
bracket, quote or comment wrapping, is refused; case changes, ``+tags``, a root dot and
replacing a character by one of its look-alikes from Unicode's own confusables table (the data
the rail ships) never make a second person.
"""

from __future__ import annotations

import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from shared import confusables
from shared.person import identity_keys, identity_problem, same_person
from shared.rails.identity import is_second_person
from tests.fuzz.corpus import SETTINGS
from tests.support.identities import addresses, identities

_HIDDEN = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180E, 0x2800, 0x3164, 0xFE0F, 0xFFA0, 0xE0100]
hidden = st.one_of(
    st.characters(categories=("Zs", "Zl", "Zp", "Cc", "Cf")),
    st.sampled_from([chr(code) for code in _HIDDEN]),
)


def _lookalikes() -> dict[str, list[str]]:
    """prototype -> the single characters Unicode maps to it (no marks: they would reorder under NFD)."""
    found: dict[str, list[str]] = {}
    for source, target in confusables.prototypes().items():
        char = chr(source)
        if unicodedata.category(char)[0] != "M":
            found.setdefault(target, []).append(char)
    return found


LOOKALIKES = _lookalikes()


@SETTINGS
@given(st.text(max_size=140))
def test_any_text_is_judged_without_raising(text):
    problem = identity_problem(text)
    assert problem is None or isinstance(problem, str)
    identity_keys(text)
    assert is_second_person(text, "bob@example.com") in (True, False)
    assert not is_second_person("bob@example.com", text) or problem is None


@SETTINGS
@given(identities())
def test_every_generated_identity_is_valid_and_itself(identity):
    assert identity_problem(identity) is None
    assert same_person(identity, identity)
    assert not is_second_person(identity, identity)


@SETTINGS
@given(identities(), hidden, st.data())
def test_a_hidden_character_anywhere_is_refused(identity, char, data):
    at = data.draw(st.integers(0, len(identity)))
    assert identity_problem(identity[:at] + char + identity[at:]) is not None


@SETTINGS
@given(addresses, st.sampled_from(["Alice {} ", "Alice <{}>", "<{}>", "{} (Alice)", "mailto:{}", '"{}"', "'{}'"]))
def test_a_wrapped_address_is_refused(address, wrapping):
    assert identity_problem(wrapping.format(address)) is not None


@SETTINGS
@given(addresses)
def test_a_quoted_local_part_is_refused(address):
    local, _, domain = address.rpartition("@")
    assert identity_problem(f'"{local}"@{domain}') is not None


@SETTINGS
@given(identities(), st.sampled_from(["upper", "lower", "title", "swapcase"]))
def test_case_never_makes_a_second_person(identity, how):
    other = getattr(identity, how)()
    assume(identity_problem(other) is None)
    assert not is_second_person(identity, other)


@SETTINGS
@given(addresses, st.sampled_from(["+x", "+approved", ""]), st.booleans())
def test_a_tag_or_a_root_dot_never_makes_a_second_person(address, tag, root_dot):
    local, _, domain = address.rpartition("@")
    other = f"{local.partition('+')[0]}{tag}@{domain.rstrip('.')}{'.' if root_dot else ''}"
    assert not is_second_person(address, other)


@SETTINGS
@given(identities(), st.data())
def test_a_lookalike_from_unicodes_table_never_makes_a_second_person(identity, data):
    candidates = [
        (at, LOOKALIKES[confusables.skeleton(char)])
        for at, char in enumerate(identity)
        if confusables.skeleton(char) in LOOKALIKES
    ]
    assume(candidates)
    at, choices = data.draw(st.sampled_from(candidates))
    disguise = identity[:at] + data.draw(st.sampled_from(choices)) + identity[at + 1 :]
    assume(identity_problem(disguise) is None)  # a look-alike symbol or space is refused outright
    assert not is_second_person(identity, disguise), disguise

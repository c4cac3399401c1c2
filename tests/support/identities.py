"""Identities for tests: hypothesis strategies of valid ones, and the requester in disguise.

``identities()`` draws what the schema must accept (``shared.person``'s grammar): principal names
and bare addresses, letters of any script. ``SELF_APPROVAL_DISGUISES`` is ``alice@example.com``
dressed up every way issue 19 lists (and those caught before it), keyed by a test id; each is
either refused by the schema or compared equal to Alice.
"""

from __future__ import annotations

from hypothesis import strategies as st

REQUESTER = "alice@example.com"

# Letters and digits of every script, less the letters that show nothing (default-ignorable).
_SHOW_NOTHING = "\u115f\u1160\u3164\uffa0"
letters = st.characters(categories=("Lu", "Ll", "Lt", "Lo", "Nd"), exclude_characters=_SHOW_NOTHING)
_atoms = st.text(alphabet=letters, min_size=1, max_size=10)
principal_names = st.builds(
    lambda atoms, joiner: joiner.join(atoms), st.lists(_atoms, min_size=1, max_size=3), st.sampled_from("._-")
)
_domains = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z]{2,6}){1,2}\.?", fullmatch=True)
addresses = st.builds(
    lambda local, tag, domain: f"{local}{tag}@{domain}",
    principal_names,
    st.sampled_from(["", "+ops", "+x.1"]),
    _domains,
)


def identities() -> st.SearchStrategy[str]:
    """Valid identities: a principal name or a bare address."""
    return st.one_of(principal_names, addresses)


# Everything the schema refuses is also a disguise the rail must never count as a second person.
REFUSED_DISGUISES = {
    "hair-space": "alice\u200a@example.com",
    "no-break-space": "alice\u00a0@example.com",
    "ideographic-space": "ali\u3000ce@example.com",
    "braille-blank": "alice@example.com\u2800",
    "display-name": "Alice <alice@example.com>",
    "angle-brackets": "<alice@example.com>",
    "quoted-local": '"alice"@example.com',
    "comment": "alice(me)@example.com",
    "mailto": "MAILTO:alice@example.com",
    "spaces": " alice@example.com ",
    "zero-width": "alice\u200b@example.com",
    "variation-selector": "alice\ufe0f@example.com",
    "hangul-filler": "alice\u3164@example.com",
    "soft-hyphen": "ali\u00adce@example.com",
}
# Valid identities that are Alice all the same.
EQUAL_DISGUISES = {
    "case": "Alice@Example.COM",
    "full-width": "\uff41lice@example.com",
    "cyrillic-a": "\u0430lice@example.com",
    "palochka": "a\u04cfice@example.com",
    "mathematical": "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e@example.com",
    "trailing-dot": "alice@example.com.",
    "sub-address": "alice+ok@example.com",
    "latin-iota": "al\u0269ce@example.com",
    "armenian-o": "alice@example.c\u0585m",
    "capital-i-for-l": "aIice@example.com",
    "dotless-i-with-dot": "al\u0131\u0307ce@example.com",
    "principal-name": "alice",
}
SELF_APPROVAL_DISGUISES = {**REFUSED_DISGUISES, **EQUAL_DISGUISES}
# The same requester at an internationalised domain, and the approver at its punycode.
IDN_REQUESTER = "alice@bücher.example"
IDN_DISGUISES = {"punycode": "alice@xn--bcher-kva.example", "punycode-upper": "Alice@XN--BCHER-KVA.EXAMPLE"}
# Different people who must stay different.
DISTINCT_PEOPLE = [
    ("jose", "josé"),
    ("jose@example.com", "josé@example.com"),
    ("hoba", "\u043d\u043e\u0432\u0430"),  # Latin hoba, Cyrillic нова
    ("alice@example.com", "bob@example.com"),
    ("alice@example.com", "alice@example.org"),
    ("alice@bücher.example", "alice@bucher.example"),
    ("zoë@example.com", "zoe@example.com"),
    ("alice", "alicia"),
]

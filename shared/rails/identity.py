"""Who is who: people named in tickets, compared so that a disguise does not make a second person.

An approval only counts when the approver is someone other than the requester. The two names come
from a ticket, typed by people: ``Alice@Example.com``, `` alice@example.com ``, ``alice\u200b@…``,
a full-width ``ａlice`` or a Cyrillic ``а`` must all be Alice. :func:`identity_key` folds a name to
one comparable form: Unicode NFKC, invisible and format characters removed, white space trimmed
and collapsed, case-folded, common Latin look-alikes from Cyrillic and Greek mapped to Latin, and
for e-mail addresses a ``+tag`` sub-address dropped (it reaches the same mailbox).

This stops self-approval by spelling; it does not prove who typed the name. That is the ticketing
system's job, and the request signature proves the ticket came through it (README, threat model).
"""

from __future__ import annotations

import unicodedata

__all__ = ["identity_key", "is_second_person"]

# Letters that render like Latin ones (Unicode TR39 confusables, the common subset in names).
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "һ": "h",
        "і": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "х": "x",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ү": "y",
        "ӏ": "l",
        "ɑ": "a",
        "ı": "i",
        "ɡ": "g",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "ι": "i",
        "κ": "k",
        "χ": "x",
        "ϲ": "c",
        "ϳ": "j",
        "ѵ": "v",
        "ԍ": "g",
        "ꓲ": "l",
        "ℓ": "l",
    }
)
# Characters that take no space or show nothing but are not of category Cf.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")


def _visible(char: str) -> bool:
    if char in _INVISIBLE or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef":
        return False  # variation selectors
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Me")


def identity_key(name: object) -> str:
    """The comparable form of a person's name or address ("" for nothing usable)."""
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKC", name)
    # Decompose so that combining marks (an accent added to disguise a letter) can be dropped.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if _visible(ch))
    text = " ".join(text.split())  # trim, and any run of spaces of any kind is one space
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOOKALIKES)
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    local, at, domain = text.rpartition("@")
    if at and local:
        text = f"{local.partition('+')[0]}@{domain.rstrip('.')}"
    return text


def is_second_person(requested_by: object, approved_by: object) -> bool:
    """True when ``approved_by`` names someone, and not the requester under any spelling."""
    approver = identity_key(approved_by)
    return bool(approver) and approver != identity_key(requested_by)

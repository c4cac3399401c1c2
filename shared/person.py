"""Who is who: the grammar of an identity (``requested_by``, ``approved_by``) and when two are one.

**Grammar.** An identity is a bare e-mail address ``local@domain`` or a plain principal name:

* a *principal name* is letters, digits and combining marks (any script) in runs joined by
  ``.``, ``_`` or ``-``; it begins with a letter or a digit (``alice``, ``svc-deploy``, ``j.doe``,
  ``josé``, ``нова``);
* an *address* is a local part of the same characters plus ``+`` (a sub-address tag), in
  dot-separated runs (no leading, trailing or double dot), ``@``, and a domain: dot-separated
  labels of letters, digits, marks and inner hyphens, one final root dot allowed. A domain with a
  non-ASCII character or an ``xn--`` label must pass IDNA (UTS #46, the ``idna`` package).

Everything else is refused, each with its reason: display names and angle brackets
(``Alice <alice@example.com>``, ``<alice@example.com>``), quotes (``"alice"@example.com``),
comments, any white space (Unicode Z*: hair, no-break, ideographic space...), control (Cc),
format (Cf) characters, the invisible letters and marks that Unicode lists as default-ignorable
(Hangul fillers, CGJ, variation selectors...), U+2800 BRAILLE PATTERN BLANK, unassigned and
private-use code points, symbols and other punctuation (``mailto:``), a mark with no letter
before it, the same mark twice in a row or more than four in a row (UTS #39 section 5.4).

**Comparison.** Two valid identities name one person when one of their comparison keys agrees.
The keys come from the text as written, after NFKC, and with the domain in IDNA (UTS #46) form
decoded back to Unicode (``xn--bcher-kva.example`` is ``bücher.example``); each is put through
the UTS #39 confusable skeleton (:mod:`shared.confusables`, Unicode's data file) with case folded,
in both orders (fold case, then skeleton; skeleton, fold case, skeleton again: ``AIice`` with a
capital I looks like ``Alice``, and ``НОВА`` is ``нова`` in capitals); a dot above on ``i`` or
``j`` is dropped (it shows as the letter's own dot). Only then is a key split into local part and
domain, the ``+tag`` and the root dot dropped, so that a look-alike of ``+`` or of a final dot
counts as what it looks like. A principal name and an address with that local part are one
person too (``alice`` and ``alice@example.com``).

Different letters stay different people: ``jose`` and ``josé`` (an accent is not a disguise),
Latin ``hoba`` and Cyrillic ``нова`` (their skeletons differ: Cyrillic ``н`` looks like a small
capital ``ʜ``, not ``h``).

The grammar costs a character scan (validation imports this module); ``idna`` and the
confusables table are loaded only when a name needs them.
"""

from __future__ import annotations

import unicodedata

from shared.confusables import skeleton

__all__ = [
    "IDENTITY_FORMAT",
    "MAX_IDENTITY_LENGTH",
    "IdentityError",
    "check_identity",
    "identity_keys",
    "identity_problem",
    "same_person",
]

IDENTITY_FORMAT = "sgguard-identity"  # the JSON Schema ``format`` of requested_by / approved_by
MAX_IDENTITY_LENGTH = 128
_MAX_MARK_RUN = 4

_LETTER = frozenset(("Lu", "Ll", "Lt", "Lm", "Lo"))
_MARK = frozenset(("Mn", "Mc"))
_JOINERS = frozenset("._-")  # between runs of a principal name or local part
# Letters and marks that show nothing: Default_Ignorable_Code_Point (Unicode PropList /
# DerivedCoreProperties) inside the categories allowed above; the rest of that property is Cf or
# unassigned, refused by category. U+2800 is a symbol (refused) but named, being the usual trick.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164, 0xFFA0]
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class IdentityError(ValueError):
    """A string that is not an identity; the message says why (for the schema error)."""


def _describe_char(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def _char_problem(char: str) -> str | None:
    """Why one character may not appear in any identity, or None."""
    if ord(char) in _INVISIBLE:
        return "invisible characters are not allowed"
    category = unicodedata.category(char)
    if category in _LETTER or category in _MARK or category == "Nd" or char in "._-+@":
        return None
    if category[0] == "Z" or char in "\t\n\r\x0b\x0c\x85":
        return "white space is not allowed (no display name, nothing to trim)"
    if category == "Cc":
        return "control characters are not allowed"
    if category == "Cf":
        return "format (invisible) characters are not allowed"
    if category in ("Cn", "Co", "Cs"):
        return "unassigned, private-use and surrogate code points are not allowed"
    return "only letters, digits, combining marks and . _ - (+ and @ in an address) are allowed"


def _framing_problem(text: str) -> str | None:
    """The usual ways to dress an address up, named as such."""
    if "<" in text or ">" in text:
        return "a display name or angle brackets are not allowed; give the bare address (local@domain)"
    if any(quote in text for quote in "\"'`\u2018\u2019\u201c\u201d"):
        return "quotes are not allowed"
    if "(" in text or ")" in text:
        return "comments in parentheses are not allowed"
    if ":" in text:
        return "a scheme such as mailto: is not allowed; give the bare address (local@domain)"
    return None


def _marks_problem(text: str) -> str | None:
    """UTS #39 section 5.4: a mark must follow a letter, and not repeat or pile up."""
    run: list[str] = []
    previous = ""
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.category(char) in _MARK:
            if not previous or previous in _JOINERS or previous in "+@":
                return f"combining mark {_describe_char(char)} follows no letter"
            if run and run[-1] == char:
                return f"combining mark {_describe_char(char)} is repeated"
            run.append(char)
            if len(run) > _MAX_MARK_RUN:
                return f"more than {_MAX_MARK_RUN} combining marks in a row"
        else:
            run = []
        previous = char
    return None


def _runs_problem(text: str, what: str, joiners: str) -> str | None:
    """A name or local part: runs of letters/digits/marks (and ``+`` in a local part) joined by ``joiners``."""
    first = unicodedata.category(text[0])
    if first not in _LETTER and first != "Nd":
        return f"{what} must begin with a letter or a digit"
    if "." in joiners and (text.endswith(".") or ".." in text):
        return f"{what} may not end with a dot or have two dots in a row"
    return None


def _domain_problem(domain: str) -> str | None:
    name = domain[:-1] if domain.endswith(".") else domain
    if not name:
        return "the domain is empty"
    for char in name:
        if char in "_+@":
            return f"{char!r} is not allowed in a domain"
    labels = name.split(".")
    if any(not label for label in labels):
        return "the domain has an empty label (two dots in a row, or a leading dot)"
    if name.isascii() and not any(label[:4].lower() == "xn--" for label in labels):
        for label in labels:
            if label[0] not in _ASCII_ALNUM or label[-1] not in _ASCII_ALNUM or not set(label) <= _ASCII_ALNUM | {"-"}:
                return f"domain label {label!r} must be letters and digits with inner hyphens"
            if label[2:4] == "--":
                return f"domain label {label!r} has -- in positions 3-4, reserved for encoded labels"
        return None
    import idna  # only for internationalised domains (~10 ms to import)

    try:
        idna.encode(name, uts46=True)
    except (idna.IDNAError, UnicodeError) as error:
        return f"the domain is not a valid internationalised domain name ({error})"
    return None


def identity_problem(text: str) -> str | None:
    """Why ``text`` is not an identity (bare address or principal name), or None when it is one."""
    if not text:
        return "an identity may not be empty"
    if len(text) > MAX_IDENTITY_LENGTH:
        return f"an identity has at most {MAX_IDENTITY_LENGTH} characters"
    framing = _framing_problem(text)
    if framing:
        return framing
    for position, char in enumerate(text, start=1):
        problem = _char_problem(char)
        if problem:
            return f"character {position} is {_describe_char(char)}: {problem}"
    marks = _marks_problem(text)
    if marks:
        return marks
    if "@" not in text:
        if "+" in text:
            return "+ is allowed only in the local part of an address"
        return _runs_problem(text, "a name", "._-")
    local, _, domain = text.rpartition("@")
    if "@" in local:
        return "an address has exactly one @"
    if not local:
        return "the local part (before @) is empty"
    return _runs_problem(local, "the local part", "._-+") or _domain_problem(domain)


def check_identity(instance: object) -> bool:
    """JSON Schema format checker: True for a valid identity, or what ``type`` / ``m..Length`` judge.

    Raises :class:`IdentityError` with the reason otherwise, so the schema error can say it.
    """
    if not isinstance(instance, str) or not 0 < len(instance) <= MAX_IDENTITY_LENGTH:
        return True  # minLength / maxLength say it, once
    problem = identity_problem(instance)
    if problem:
        raise IdentityError(problem)
    return True


# --------------------------------------------------------------------------- comparison


def _undot(text: str) -> str:
    """A dot above on i or j dropped: it shows as the letter's own dot (``i̇`` looks like ``i``)."""
    while "i\u0307" in text or "j\u0307" in text:
        text = text.replace("i\u0307", "i").replace("j\u0307", "j")
    return text


def _looks(texts: set[str]) -> frozenset[str]:
    """The comparable forms of each text: case folded then skeleton; skeleton, case folded, skeleton."""
    forms: set[str] = set()
    for text in texts:
        forms.add(_undot(skeleton(text.casefold())))
        forms.add(_undot(skeleton(skeleton(text).casefold())))
    return frozenset(forms)


def _domain_unicode(name: str) -> str:
    """The domain in IDNA (UTS #46) form, as Unicode: ``BÜCHER.example`` and ``xn--bcher-kva.example`` agree."""
    labels = name.split(".")
    if name.isascii() and not any(label[:4].lower() == "xn--" for label in labels):
        return name.lower()  # what UTS #46 does to an ASCII letters-digits-hyphens name
    import idna

    try:
        return str(idna.decode(idna.encode(name, uts46=True)))
    except (idna.IDNAError, UnicodeError):
        return name  # refused by the grammar; compared as written


def _split(key: str) -> tuple[str, str | None]:
    """``(local part without its +tag, domain without its root dot)`` of a key; ``(name, None)``.

    Split after the skeleton, so that a look-alike of ``+``, ``@`` or a final dot (U+1429 ᐩ,
    U+06F0 ۰) counts as what it looks like.
    """
    local, at, domain = key.rpartition("@")
    if not at:
        return key, None
    return local.partition("+")[0], domain.rstrip(".")


def identity_keys(text: str) -> frozenset[tuple[str, str | None]]:
    """Comparison keys, each ``(name or local part, domain or None)``; see the module docstring.

    Keys of the text as written and after NFKC (NFKC makes ``ſ`` an ``s``, while it looks like an
    ``f``: both count), and with the domain in its IDNA form.
    """
    written = {text, unicodedata.normalize("NFKC", text)}
    for form in list(written):
        local, at, domain = form.rpartition("@")
        if at:
            written.add(f"{local}@{_domain_unicode(domain.rstrip('.'))}")
    return frozenset(_split(key) for key in _looks(written))


def same_person(first: str, second: str) -> bool:
    """True when two identities could name the same person under any spelling considered here.

    A principal name and an address with that local part are one person, too.
    """
    second_keys = identity_keys(second)
    return any(
        local == other_local and (domain is None or other_domain is None or domain == other_domain)
        for local, domain in identity_keys(first)
        for other_local, other_domain in second_keys
    )

"""Canonical JSON (RFC 8785, JCS): the bytes a signature is computed over.

Members sorted by UTF-16 code units, no whitespace, minimal string escaping, ECMAScript number
formatting. Python ints are written as-is (JCS would first turn them into IEEE doubles; our
requests carry only small integers, where both agree; the request schema refuses ``1.0`` where an
integer is meant, since it canonicalises like ``1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from json.encoder import (
    encode_basestring,
)  # what json.dumps(text, ensure_ascii=False) writes, without an encoder per call

from shared.errors import excerpt, format_json_path

__all__ = ["CanonicalJsonError", "canonical_json"]


class CanonicalJsonError(ValueError):
    """A value has no RFC 8785 form (NaN, a non-str key, a lone surrogate...)."""

    def __init__(self, reason: str, parts: tuple[str | int, ...] = ()):
        self.reason = reason
        self.path = format_json_path(parts)
        super().__init__(f"{reason} at {self.path}")


def _es6_number(value: float) -> str:
    """ECMAScript Number.prototype.toString of a finite double (RFC 8785 section 3.2.2.3).

    repr() already gives the shortest round-tripping digits; only the layout
    (where the point goes, when to switch to exponent form) differs.
    """
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exp_text = text.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = int_part + frac_part
    stripped = all_digits.lstrip("0")
    point = len(int_part) + (int(exp_text) if exp_text else 0) - (len(all_digits) - len(stripped))
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        exp_sign = "+" if exponent >= 0 else "-"
        lead = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{lead}e{exp_sign}{abs(exponent)}"
    return sign + body


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    return name.encode("utf-16-be", "surrogatepass")


def _write(value: object, out: list[str], path: tuple[str | int, ...]) -> None:
    if len(path) > 64:
        raise CanonicalJsonError("nesting too deep", path)
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        try:
            out.append(str(int(value)))
        except ValueError as exc:  # more digits than Python will print
            raise CanonicalJsonError("integer is too large", path) from exc
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJsonError("NaN and Infinity have no JSON form", path)
        out.append(_es6_number(value))
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object key {excerpt(key)} is not a string", path)
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _write(value[key], out, path + (key,))
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, path + (i,))
        out.append("]")
    else:
        raise CanonicalJsonError(f"type {type(value).__name__} has no JSON form", path)


class _NoFastForm(Exception):
    """The fast writer met something it leaves to :func:`_write` (which names the path)."""


def _write_fast(value: object, out: list[str], depth: int) -> None:
    """:func:`_write` for what decoded requests hold - str keys in ASCII (their UTF-16 order is
    ``sorted``'s), ints, strings, lists: the same text, without a path per value or a key per sort.
    Anything else (a float, a non-ASCII or non-str key, too deep) raises _NoFastForm and the whole
    value is written again by :func:`_write`, which also raises the error with its path."""
    if depth > 64:
        raise _NoFastForm
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif type(value) is int and -(10**15) < value < 10**15:  # noqa: E721 - exactly int: a subclass may print otherwise
        out.append(str(value))
    elif type(value) is dict:  # noqa: E721 - a Mapping subclass may iterate otherwise
        for key in value:
            if type(key) is not str or not key.isascii():  # noqa: E721
                raise _NoFastForm
        out.append("{")
        first = True
        for key in sorted(value):
            if first:
                first = False
            else:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _write_fast(value[key], out, depth + 1)
        out.append("}")
    elif type(value) is list:  # noqa: E721
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write_fast(item, out, depth + 1)
        out.append("]")
    else:
        raise _NoFastForm


def canonical_json(obj: object) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value. Raises CanonicalJsonError."""
    out: list[str] = []
    try:
        _write_fast(obj, out, 0)
    except _NoFastForm:
        out = []
        _write(obj, out, ())
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogate: not I-JSON
        raise CanonicalJsonError("string contains an unpaired UTF-16 surrogate") from exc
